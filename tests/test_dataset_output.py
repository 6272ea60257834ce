"""Archive output: the partitioned Parquet dataset, --resume, and the Dask engine (issue #12)."""

from __future__ import annotations

import json
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from stance import pipeline, tables
from stance.archive import analyze_archive
from stance.errors import InputFormatError
from stance.io import partial_path


def varied_corpus(folder: Path, corpus, n: int = 120, seed: int = 3) -> Path:
    """A JSONL corpus of ``n`` distinct articles: sentences of the sample shuffled across articles."""
    rng = random.Random(seed)
    sentences = [s.strip() + "." for a in corpus.articles for s in a.text.replace("\n", " ").split(". ") if len(s) > 40]
    rows = [{"id": f"v{i:04d}", "source": f"outlet{i % 7}", "date": f"2025-{1 + i % 12:02d}-{1 + i % 28:02d}",
             "text": " ".join(rng.sample(sentences, 6))} for i in range(n)]
    rows.insert(5, dict(rows[2], id="copy-of-v0002"))  # an exact duplicate
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "varied.jsonl"
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


def interrupt_after(monkeypatch, parts: int):
    """Make the run stop with KeyboardInterrupt after writing ``parts`` parts; the real writer is returned."""
    real_write = pipeline.write_part
    written: list[int] = []

    def interrupted(folder, index, *tables_):
        if len(written) == parts:
            raise KeyboardInterrupt
        written.append(index)
        real_write(folder, index, *tables_)

    monkeypatch.setattr(pipeline, "write_part", interrupted)
    return real_write


def dataset_bytes(folder: Path) -> dict[str, bytes]:
    """Every file of a dataset folder (the manifest without the run's own paths), by relative name."""
    files = {}
    for path in sorted(folder.rglob("*")):
        if path.is_file() and path.name != ".stance-output":
            files[str(path.relative_to(folder))] = path.read_bytes()
    return files


def plain(frame: pd.DataFrame) -> pd.DataFrame:
    """Values only: missing values as None, numbers as float, so table types do not matter."""
    out = frame.reset_index(drop=True).astype(object)
    return out.where(out.notna(), None)


def test_dataset_tables_equal_the_in_memory_tables(tmp_path, analyzer, sample_result):
    run = analyze_archive([], tmp_path / "ds", analyzer=analyzer, jobs=1, part_items=4)
    folder = tmp_path / "ds"
    assert run.parts == len(list((folder / "mentions").glob("part-*.parquet"))) > 1
    assert run.status == {"duplicate": 1, "ok": 13} and run.units == len(sample_result.mentions)
    mentions = tables.read_dataset(folder, "mentions")
    pd.testing.assert_frame_equal(plain(mentions), plain(sample_result.mentions), check_dtype=False)
    articles = tables.read_dataset(folder, "articles")
    expected = sample_result.articles[list(tables.ARTICLE_COLUMNS)]
    pd.testing.assert_frame_equal(plain(articles[list(tables.ARTICLE_COLUMNS)]), plain(expected), check_dtype=False)
    # the aggregates are computed from the dataset and equal `stance report`'s
    report = tmp_path / "report"
    from stance.report import write_report

    write_report(sample_result, report)
    for name in ("by_article.csv", "by_date.csv", "by_actor.csv", "by_source.csv"):
        assert (folder / name).read_bytes() == (report / name).read_bytes(), name
    manifest = json.loads((folder / "dataset.json").read_text(encoding="utf-8"))
    assert manifest["status"] == "complete" and manifest["units"] == len(sample_result.mentions)
    # stance plot and the mentions reader take the folder
    assert len(tables.read_mentions(folder)) == len(sample_result.mentions)
    for_plots = tables.read_mentions(folder, sentences=False)  # what stance plot reads: no sentence text
    assert list(for_plots.columns) == [c for c in tables.MENTION_COLUMNS if c != "sentence"]


def test_dataset_keeps_extra_columns_as_json(tmp_path, analyzer):
    path = tmp_path / "c.jsonl"
    path.write_text(json.dumps({"id": "a1", "text": "Putin lobt Trump.", "author": "K. Muster", "status": "draft"}) + "\n",
                    encoding="utf-8")
    analyze_archive([path], tmp_path / "ds", analyzer=analyzer, jobs=1)
    articles = tables.read_dataset(tmp_path / "ds", "articles")
    assert json.loads(articles.loc[0, "extra"]) == {"author": "K. Muster", "input_status": "draft"}


def test_resume_after_an_interrupt_gives_identical_tables(tmp_path, monkeypatch, analyzer, corpus):
    source = varied_corpus(tmp_path / "in", corpus, n=60)
    whole = tmp_path / "whole"
    analyze_archive([source], whole, analyzer=analyzer, jobs=1, part_items=10)

    out = tmp_path / "resumed"
    real_write = interrupt_after(monkeypatch, 3)
    with pytest.raises(KeyboardInterrupt):
        analyze_archive([source], out, analyzer=analyzer, jobs=1, part_items=10)
    assert not out.exists() and tables.done_parts(partial_path(out)) == 3
    monkeypatch.setattr(pipeline, "write_part", real_write)

    scored: list[str] = []
    real_score = pipeline.score_batch
    monkeypatch.setattr(pipeline, "score_batch", lambda batch, a: scored.extend(x.id for x in batch) or real_score(batch, a))
    run = analyze_archive([source], out, analyzer=analyzer, jobs=1, part_items=10, resume=True)
    assert run.resumed_parts == 3 and run.parts == 7
    assert scored and min(scored) >= "v0029"  # the 30 items of the written parts were not scored again
    assert dataset_bytes(out) == dataset_bytes(whole)
    assert not partial_path(out).exists()


def test_resume_refuses_another_run(tmp_path, monkeypatch, analyzer, corpus):
    source = varied_corpus(tmp_path / "in", corpus, n=30)
    out = tmp_path / "ds"
    monkeypatch.setattr(pipeline, "write_part", lambda *args: (_ for _ in ()).throw(KeyboardInterrupt()))
    with pytest.raises(KeyboardInterrupt):
        analyze_archive([source], out, analyzer=analyzer, jobs=1, part_items=10)
    monkeypatch.undo()
    with pytest.raises(InputFormatError, match="differs in part_items"):
        analyze_archive([source], out, analyzer=analyzer, jobs=1, part_items=5, resume=True)


@pytest.mark.slow
def test_cli_resume_after_kill_gives_identical_bytes(tmp_path, corpus):
    """A real `stance analyze` killed with SIGKILL mid-run, then `--resume`: the same dataset as one run."""
    source = varied_corpus(tmp_path / "in", corpus, n=240)
    command = [sys.executable, "-m", "stance.cli", "analyze", str(source), "--out-format", "parquet", "--part-items", "20",
               "--jobs", "1", "--quiet"]
    subprocess.run([*command, "--out", str(tmp_path / "whole")], check=True, timeout=300)
    out = tmp_path / "killed"
    partial = partial_path(out)
    process = subprocess.Popen([*command, "--out", str(out)])
    deadline = time.monotonic() + 120
    while tables.done_parts(partial) < 2 and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=60)
    assert process.returncode == -signal.SIGKILL, "the run ended before it could be killed"
    assert not out.exists() and 2 <= tables.done_parts(partial) < 13
    done = subprocess.run([*command, "--out", str(out), "--resume"], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert dataset_bytes(out) == dataset_bytes(tmp_path / "whole")


def test_cli_dataset_options_need_the_dataset_format(tmp_path, capsys):
    from stance.cli import main

    assert main(["analyze", "--out", str(tmp_path / "m.csv"), "--resume"]) == 2
    assert "only with --out-format parquet" in capsys.readouterr().err
    assert main(["analyze", "--out", str(tmp_path / "m.csv"), "--engine", "dask"]) == 2
    (tmp_path / "file").write_text("x", encoding="utf-8")
    assert main(["analyze", "--out", str(tmp_path / "file"), "--out-format", "parquet"]) == 2
    assert "is a file" in capsys.readouterr().err


def test_cli_plot_reads_a_dataset_folder(tmp_path):
    from stance.cli import main

    assert main(["analyze", "--out", str(tmp_path / "ds"), "--out-format", "parquet", "--quiet"]) == 0
    assert main(["plot", str(tmp_path / "ds"), "--quiet"]) == 0
    assert (tmp_path / "ds" / "plots" / "heatmap.png").is_file()


def test_dataset_run_with_nothing_to_analyse_leaves_nothing(tmp_path, analyzer):
    empty = tmp_path / "in"
    empty.mkdir()
    (empty / "a.jsonl").write_text('{"id": "x", "text": ""}\n', encoding="utf-8")
    with pytest.raises(InputFormatError, match="no input could be analysed"):
        analyze_archive([empty], tmp_path / "ds", analyzer=analyzer, jobs=1)
    assert not (tmp_path / "ds").exists() and not partial_path(tmp_path / "ds").exists()


def test_dataset_bytes_do_not_depend_on_jobs(tmp_path, monkeypatch, analyzer, corpus):
    source = varied_corpus(tmp_path / "in", corpus, n=40)
    analyze_archive([source], tmp_path / "one", analyzer=analyzer, jobs=1, part_items=10)
    monkeypatch.setattr(pipeline, "IN_PROCESS_BATCHES", 0)
    monkeypatch.setattr(pipeline, "BATCH_ARTICLES", 3)
    analyze_archive([source], tmp_path / "two", analyzer=analyzer, jobs=2, part_items=10)
    assert dataset_bytes(tmp_path / "two") == dataset_bytes(tmp_path / "one")


def test_dataset_parts_are_read_in_number_order(tmp_path):
    from stance.records import Article, ArticleResult

    for index in (99_999, 100_000, 7):
        columns = tables.MentionColumns()
        row = tables.article_row(Article(id=f"a{index}", source="s", title=None, date=None, text="x"), "ok", seq=index)
        columns.extend(tables.mention_columns(ArticleResult(Article(id=f"a{index}", source="s", title=None, date=None, text="x"), 1), None))
        tables.write_part(tmp_path, index, columns.arrow(), tables.dataset_article_table([row]))
    assert list(tables.read_dataset(tmp_path, "articles")["article_id"]) == ["a7", "a99999", "a100000"]


def test_cli_resume_with_the_output_inside_the_input_folder(tmp_path, monkeypatch, corpus):
    from stance.cli import main

    folder = tmp_path / "corpus"
    varied_corpus(folder, corpus, n=30)
    command = ["analyze", str(folder), "--out-format", "parquet", "--part-items", "10", "--jobs", "1", "--quiet"]
    assert main([*command, "--out", str(tmp_path / "whole")]) == 0
    real_write = interrupt_after(monkeypatch, 2)
    assert main([*command, "--out", str(folder / "ds")]) == 130
    monkeypatch.setattr(pipeline, "write_part", real_write)
    assert main([*command, "--out", str(folder / "ds"), "--resume"]) == 0
    assert dataset_bytes(folder / "ds") == dataset_bytes(tmp_path / "whole")


@pytest.mark.parametrize("infer_string", [True, False])
def test_mention_columns_in_text_chunks_give_the_plain_pandas_frame(monkeypatch, sample_result, infer_string):
    """Text moved into Arrow chunks on the way gives the frame (values and dtypes) that pandas
    builds from the Python lists, including a column with no value and one with some, with and
    without pandas' string inference."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pandas 3 deprecates the option (its value still counts)
        with pd.option_context("future.infer_string", infer_string):
            check_mention_columns_frame(monkeypatch, sample_result)


def check_mention_columns_frame(monkeypatch, sample_result):
    rows = sample_result.mentions.astype(object).where(sample_result.mentions.notna(), None)
    rows["title"] = None  # no value at all: object dtype, as pandas gives a list of None
    rows.loc[rows.index[::3], "date"] = None
    monkeypatch.setattr(tables, "TEXT_CHUNK_ROWS", 7)
    columns = tables.MentionColumns()
    for _, article in rows.groupby("article_id", sort=False):
        columns.extend({name: article[name].tolist() for name in tables.MENTION_COLUMNS})
    assert len(columns) == len(rows) and len(rows) > 7 * 20
    built = columns.frame()
    plain_lists = pd.DataFrame({name: rows[name].tolist() for name in tables.MENTION_COLUMNS}).astype(
        {name: built[name].dtype for name in ("sentence_index", "start", "end", "stance_score", "sentiment_score")})
    pd.testing.assert_frame_equal(built, plain_lists)
    assert built["title"].dtype == object and len(columns) == 0  # the builder is emptied
