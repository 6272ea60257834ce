"""The Dask engine (issue #12): a real LocalCluster gives the local tables, and survives a killed worker."""

from __future__ import annotations

import os
import signal

import pandas as pd
import pytest

from stance import tables
from stance.archive import analyze_archive
from tests.test_dataset_output import dataset_bytes, plain, varied_corpus

distributed = pytest.importorskip("distributed", reason='the Dask engine needs pip install "stance[dask]"')


@pytest.fixture(scope="module")
def cluster():
    """A real LocalCluster as ``--engine dask --workers 2`` starts it: two worker processes, one thread each."""
    import stance.dask

    with stance.dask.local_cluster(2) as local, distributed.Client(local) as client:
        yield local, client


def test_local_cluster_workers_keep_the_adaptive_malloc_thresholds(cluster):
    """Dask's MALLOC_TRIM_THRESHOLD_ would make each worker map and unmap every large array
    (seconds of system time per worker); the cluster drops it and keeps Dask's other settings."""
    import dask

    _, client = cluster
    environ = client.run(lambda: {key: os.environ.get(key) for key in ("MALLOC_TRIM_THRESHOLD_", "OMP_NUM_THREADS")})
    assert len(environ) == 2
    expected_threads = str(dask.config.get("distributed.nanny.pre-spawn-environ")["OMP_NUM_THREADS"])
    assert all(env == {"MALLOC_TRIM_THRESHOLD_": os.environ.get("MALLOC_TRIM_THRESHOLD_"),
                       "OMP_NUM_THREADS": expected_threads} for env in environ.values())
    assert "MALLOC_TRIM_THRESHOLD_" in dask.config.get("distributed.nanny.pre-spawn-environ")  # Dask's own default untouched


def test_local_cluster_drops_only_dasks_own_threshold(monkeypatch):
    import dask

    import stance.dask

    seen = []
    monkeypatch.setattr(distributed, "LocalCluster",
                        lambda **options: seen.append(dict(dask.config.get("distributed.nanny.pre-spawn-environ"))))
    stance.dask.local_cluster(2)
    with dask.config.set({"distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": 1_000_000}):
        stance.dask.local_cluster(2)  # a value the user chose is theirs
    assert "MALLOC_TRIM_THRESHOLD_" not in seen[0] and seen[0]["OMP_NUM_THREADS"] == 1
    assert seen[1]["MALLOC_TRIM_THRESHOLD_"] == 1_000_000


@pytest.mark.slow
def test_dask_gives_the_local_mentions_row_for_row(tmp_path, cluster, analyzer, sample_result, sample_files):

    import stance.dask

    _, client = cluster
    folder = tmp_path / "repeated"
    for copy in range(3):  # the sample corpus repeated: the copies are exact duplicates across the corpus
        for path in sample_files:
            target = folder / f"copy{copy}" / path.name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(path.read_bytes())
    local = stance.analyze_corpus(folder, analyzer=analyzer, jobs=1)
    result = stance.dask.analyze(folder, part_items=5, workdir=tmp_path / "work")
    mentions = client.compute(result.mentions).result()
    pd.testing.assert_frame_equal(plain(mentions), plain(local.mentions), check_dtype=False)
    assert len(local.mentions) == len(sample_result.mentions)  # every copy after the first is a duplicate
    articles = client.compute(result.articles).result()
    assert list(articles["status"].value_counts().sort_index().items()) == [("duplicate", 29), ("ok", 13)]


@pytest.mark.slow
def test_dask_survives_a_killed_worker_and_writes_the_same_dataset(tmp_path, cluster, analyzer, corpus):
    import dask

    import stance.dask

    local_cluster, client = cluster
    source = varied_corpus(tmp_path / "in", corpus, n=160)
    analyze_archive([source], tmp_path / "local", analyzer=analyzer, jobs=1, part_items=8)
    out = tmp_path / "dask"
    result = stance.dask.analyze(source, part_items=8, workdir=tmp_path / "work")
    writes = [dask.delayed(stance.dask._write_scored, pure=False)(str(out), k, part)
              for k, part in enumerate(result.parts)]
    futures = client.compute(writes)
    distributed.wait(futures, return_when="FIRST_COMPLETED")
    pids = client.run(os.getpid)
    victim = sorted(pids.values())[0]
    os.kill(victim, signal.SIGKILL)  # mid-run: most parts are not scored yet
    names = client.gather(futures)
    assert names == [tables.part_name(k) for k in range(len(result.parts))]
    tables.remove_unfinished_writes(out)  # the victim may have been killed while writing a part
    assert victim not in client.run(os.getpid).values()  # the worker really died (and its nanny started another)
    local = dataset_bytes(tmp_path / "local")
    assert {name: data for name, data in dataset_bytes(out).items()} == {
        name: data for name, data in local.items() if name.startswith(("mentions/", "articles/"))}


@pytest.mark.slow
def test_cli_engine_dask_writes_the_local_dataset(tmp_path):
    from stance.cli import main

    assert main(["analyze", "--out", str(tmp_path / "local"), "--out-format", "parquet", "--part-items", "4", "--quiet"]) == 0
    assert main(["analyze", "--out", str(tmp_path / "dask"), "--out-format", "parquet", "--part-items", "4", "--engine", "dask",
                 "--workers", "2", "--quiet"]) == 0
    local, dask = dataset_bytes(tmp_path / "local"), dataset_bytes(tmp_path / "dask")
    assert local.keys() == dask.keys() and "_input" not in str(list(dask))
    assert {k: v for k, v in local.items() if k != "dataset.json"} == {k: v for k, v in dask.items() if k != "dataset.json"}


@pytest.mark.slow
def test_dask_dataframe_input_matches_the_local_run(tmp_path, cluster, analyzer, corpus):
    """A dask DataFrame of articles: exact duplicates and repeated ids found across partitions."""
    import json

    import dask.dataframe as dd

    import stance.dask

    _, client = cluster
    source = varied_corpus(tmp_path / "in", corpus, n=40)
    rows = [json.loads(line) for line in source.read_text(encoding="utf-8").splitlines()]
    rows.append(dict(rows[30], id="v0003"))  # a repeated id (renamed v0003~2) and an exact copy of v0029
    source.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    local = stance.analyze_corpus(source, analyzer=analyzer, jobs=1)
    frame = dd.from_pandas(pd.DataFrame(rows), npartitions=4)
    result = stance.dask.analyze(frame)
    mentions, articles = client.compute([result.mentions, result.articles], sync=True)
    pd.testing.assert_frame_equal(plain(mentions), plain(local.mentions), check_dtype=False)
    columns = ["article_id", "status", "duplicate_of", "sentences", "units", "reason"]
    pd.testing.assert_frame_equal(plain(articles[columns]), plain(local.articles[columns]), check_dtype=False)
    assert set(articles.loc[articles["status"] == "duplicate", "article_id"]) == {"copy-of-v0002", "v0003~2"}
    # the dates a file reader flags as implausible against the rest of its file are not flagged in a DataFrame
    assert articles["warnings"].iloc[-1] == local.articles["warnings"].iloc[-1] == "id 'v0003' occurs more than once; renamed to 'v0003~2'"
