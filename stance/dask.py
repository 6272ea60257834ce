"""The same analysis on a Dask cluster: ``pip install "stance[dask]"``.

How the work is split:

1. **Reading, on the client.** The corpus is read once, as by the local run: files of every
   supported kind, duplicates found across the whole corpus (exact: normalised text hash;
   near: MinHash, see :class:`stance.articles.DuplicateDetector`), the language check. Input
   items are numbered in reading order and cut into *parts* of ``part_items`` items
   (:data:`stance.tables.PART_ITEMS`), written as JSON to a work folder. On a cluster the
   work folder and the output must be on storage every worker can read and write (the usual
   shared file system of a Slurm cluster).
2. **Scoring, on the workers.** One task per part reads its part, scores its articles with
   :func:`stance.pipeline.score_articles` and returns the part's mentions and articles tables.
   Each worker process loads the analyzer once (cached per process), not per task. A worker
   that dies loses only its tasks: Dask runs them again on another worker.
3. **Tables.** :func:`analyze` returns both tables as lazy ``dask.dataframe`` objects built on
   the same per-part tasks (each part is scored once when both are computed together);
   :func:`write_dataset` writes them as the partitioned Parquet dataset that
   ``stance analyze --out-format parquet`` writes locally: same parts, same bytes.

Spark users call :func:`stance.pipeline.score_articles` in ``mapInPandas`` instead (see README,
"More than one machine").
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import pickle
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .config import IngestConfig
from .io import atomic_write_text
from .articles import DuplicateDetector, articles_from_records, renamed_id_warning, unique_id
from .pipeline import (
    ItemOutcome,
    PendingArticle,
    WorkerSpec,
    assemble_part,
    classify_item,
    iter_input_items,
    score_items,
    worker_analyzer,
)
from .records import Article, Skipped, SourceFile
from .tables import PART_ITEMS, article_schema, mention_schema, part_name, remove_unfinished_writes, write_part

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa
    from dask.dataframe import DataFrame as DaskFrame
    from dask.delayed import Delayed

    from .actors import ActorRegistry
    from .scoring import Analyzer

__all__ = ["DaskResult", "analyze", "local_cluster", "write_dataset"]

_DASK_MALLOC_TRIM_THRESHOLD = 65536  # distributed's default (distributed.yaml), dropped by local_cluster


@dataclass(frozen=True)
class DaskResult:
    """The lazy result of :func:`analyze`: both tables, the per-part tasks they share, and what
    the client saw while reading (files, and how many input items there were)."""

    mentions: DaskFrame
    articles: DaskFrame
    parts: tuple[Delayed, ...]
    files: tuple[SourceFile, ...]
    items: int


def analyze(data: DaskFrame | str | Path | Sequence[str | Path], *, model: Analyzer | str | Path | None = None,
            actors: ActorRegistry | str | Path | None = None, ingest: IngestConfig | None = None,
            check_language: bool = True, part_items: int = PART_ITEMS, workdir: str | Path | None = None,
            start_part: int = 0) -> DaskResult:
    """Build the Dask graph that scores a corpus, one task per part.

    Parameters
    ----------
    data : dask DataFrame, path or paths
        Files or folders, as for :func:`stance.analyze_corpus` (read here, cut into parts of
        ``part_items`` input items); or a dask DataFrame of articles, one row each, with the
        columns of a JSONL/Parquet input (``text``, optional ``id``, ``title``, ``date``,
        ``source``, ``url``, others kept as extra columns), scored one task per partition.
        Duplicates: from paths, exact and near-duplicates across the whole corpus, as the local
        run; from a DataFrame, exact duplicates (and repeated ids) across the whole corpus, found
        by a first pass over all partitions, and near-duplicates within each partition.
    model : Analyzer or path, optional
        The models (default: the packaged German model). A model folder is loaded by each
        worker from that path; an in-memory :class:`~stance.scoring.Analyzer` is sent to the
        workers once.
    actors : ActorRegistry or path, optional
        Actor registry (default: the model's).
    ingest, check_language
        As for :func:`stance.analyze_corpus`.
    part_items : int
        Input items per part (one task each).
    workdir : path, optional
        Where the parts of a corpus read from paths are written for the workers (default: a
        new temporary folder; on a cluster give a folder on shared storage).
    start_part : int
        Leave out the first ``start_part`` parts of a corpus read from paths (a resumed run).

    Returns
    -------
    DaskResult
        ``mentions`` and ``articles`` as lazy dask DataFrames (columns of
        :func:`stance.tables.mention_schema` and :func:`stance.tables.article_schema`).
    """
    import dask.dataframe as dd
    from dask.delayed import delayed

    analyzer, spec, shipped, ingest = _prepare(model, actors, ingest)
    files: list[SourceFile] = []
    if isinstance(data, dd.DataFrame):
        tasks, items = _frame_parts(data, analyzer, spec, shipped, ingest, check_language)
        parts = tuple(tasks)
    else:
        paths = [data] if isinstance(data, (str, Path)) else list(data)
        folder = Path(workdir) if workdir is not None else Path(tempfile.mkdtemp(prefix="stance-dask-"))
        part_files: list[tuple[int, Path]] = []
        items = 0
        for index, part in _input_parts(paths, ingest, check_language, analyzer.language, part_items, start_part, files):
            part_files.append((index, _write_input_part(folder, index, part)))
            items = max([items, *(item.seq + 1 for item in part)])
        score = delayed(_score_part, pure=True)
        parts = tuple(score(str(path), spec, shipped, dask_key_name=_part_key(index, path, analyzer, shipped))
                      for index, path in part_files)
    mentions = dd.from_delayed([delayed(_frame)(part, 0) for part in parts], meta=_meta(mention_schema()),
                               verify_meta=False) if parts else dd.from_pandas(_meta(mention_schema()), npartitions=1)
    articles = dd.from_delayed([delayed(_frame)(part, 1) for part in parts], meta=_meta(article_schema()),
                               verify_meta=False) if parts else dd.from_pandas(_meta(article_schema()), npartitions=1)
    return DaskResult(mentions, articles, parts, tuple(files), items)


def write_dataset(data: DaskFrame | str | Path | Sequence[str | Path], out: str | Path, *, client: Any = None,
                  **options: Any) -> list[str]:
    """Analyse a corpus on Dask into a Parquet dataset in ``out`` (the parts that the local
    ``write_dataset`` writes, byte for byte); the workers write the parts. ``options`` go to
    :func:`analyze`; ``client`` is a ``distributed.Client`` (default: the current scheduler).

    With a client and paths, each part is handed to the cluster as soon as it is read, so the
    workers score while the client is still reading. Returns the names of the parts written.
    """
    import dask.dataframe as dd
    from dask.base import compute
    from dask.delayed import delayed

    start_part = int(options.get("start_part", 0))
    own_workdir = options.get("workdir") is None
    if own_workdir:  # next to the output, which the workers must see anyway; removed at the end
        options["workdir"] = Path(out) / "_input"
    if client is not None and not isinstance(data, dd.DataFrame):
        names = client.gather(list(_submit_parts(data, out, client, **options)))
    else:
        result = analyze(data, **options)
        writes = [delayed(_write_scored, pure=False)(str(out), start_part + k, part) for k, part in enumerate(result.parts)]
        names = client.gather(client.compute(writes)) if client is not None else list(compute(*writes))
    remove_unfinished_writes(out)  # left by a worker killed while writing (its part was written again)
    if own_workdir:
        shutil.rmtree(Path(out) / "_input", ignore_errors=True)
    return names


def local_cluster(workers: int = 2) -> Any:
    """A ``distributed.LocalCluster`` of ``workers`` processes, one thread each, set up for
    scoring (what ``stance analyze --engine dask --workers N`` starts).

    The one difference from Dask's defaults: the workers keep glibc's adaptive memory
    thresholds. Dask's nannies set ``MALLOC_TRIM_THRESHOLD_=65536`` in every worker, which also
    switches off glibc's adaptive mmap threshold, so each of the scorer's large temporary
    arrays is mapped and unmapped again (on the benchmark archive the cluster reached 0.77 of
    the throughput of ``--jobs 2`` with it, 0.82-0.93 without; ``benchmarks/scale.py``). Only Dask's own default
    is dropped: a different value set in the Dask configuration is kept, and a value in this
    process's environment is inherited as usual (a Dask nanny started earlier in this process
    puts Dask's value there). A cluster started elsewhere gets the same by removing that key
    from its ``distributed.nanny.pre-spawn-environ`` setting.

    Parameters
    ----------
    workers : int
        Worker processes.

    Returns
    -------
    distributed.LocalCluster
        Started; close it (or use it as a context manager) when done.
    """
    import dask
    from distributed import LocalCluster

    environ = dict(dask.config.get("distributed.nanny.pre-spawn-environ", {}))
    if str(environ.get("MALLOC_TRIM_THRESHOLD_")) == str(_DASK_MALLOC_TRIM_THRESHOLD):
        del environ["MALLOC_TRIM_THRESHOLD_"]
    with dask.config.set({"distributed.nanny.pre-spawn-environ": environ}):
        return LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=":0")


def _submit_parts(paths: str | Path | Sequence[str | Path], out: str | Path, client: Any, *, model: Analyzer | str | Path | None = None,
                  actors: ActorRegistry | str | Path | None = None, ingest: IngestConfig | None = None,
                  check_language: bool = True, part_items: int = PART_ITEMS, workdir: str | Path | None = None,
                  start_part: int = 0) -> Iterator[Any]:
    """Read the corpus here and submit each part's scoring and writing as soon as it is read (futures)."""
    from dask.delayed import delayed

    analyzer, spec, shipped, ingest = _prepare(model, actors, ingest)
    warming = [client.submit(_warm, spec, workers=[address], allow_other_workers=False, pure=False)
               for address in client.scheduler_info()["workers"]] if shipped is None else []
    folder = Path(workdir) if workdir is not None else Path(tempfile.mkdtemp(prefix="stance-dask-"))
    paths = [paths] if isinstance(paths, (str, Path)) else list(paths)
    for index, part in _input_parts(paths, ingest, check_language, analyzer.language, part_items, start_part, []):
        path = _write_input_part(folder, index, part)
        scored = delayed(_score_part, pure=True)(str(path), spec, shipped, dask_key_name=_part_key(index, path, analyzer, shipped))
        yield client.compute(delayed(_write_scored, pure=False)(str(out), index, scored))
    del warming  # held until every part is submitted (a released future is cancelled)


def _prepare(model: Analyzer | str | Path | None, actors: ActorRegistry | str | Path | None,
             ingest: IngestConfig | None) -> tuple[Analyzer, WorkerSpec, Any, IngestConfig]:
    """The analyzer, what a worker loads it from (or the delayed in-memory analyzer), and the reading options."""
    from dask.delayed import delayed

    analyzer = _analyzer(model, actors)
    spec: WorkerSpec = (analyzer.model_path, analyzer.registry, analyzer.pack)
    shipped = delayed(analyzer, pure=True) if analyzer.model_path is None else None
    ingest = ingest or IngestConfig()
    if ingest.language is None:
        ingest = replace(ingest, language=analyzer.language)
    return analyzer, spec, shipped, ingest


def _analyzer(model: Analyzer | str | Path | None, actors: ActorRegistry | str | Path | None) -> Analyzer:
    from .scoring import Analyzer, load

    analyzer = model if isinstance(model, Analyzer) else load(model)
    return analyzer.with_actors(actors) if actors is not None else analyzer


def _input_parts(paths: Sequence[str | Path], ingest: IngestConfig, check_language: bool, language: str, part_items: int,
                 start_part: int, files: list[SourceFile]) -> Iterator[tuple[int, list[ItemOutcome | PendingArticle]]]:
    """The input items cut into parts of ``part_items`` (by their number), from ``start_part`` on."""
    part: list[ItemOutcome | PendingArticle] = []
    index = start_part
    for item in iter_input_items(*paths, ingest=ingest, check_language=check_language, language=language,
                                 start=start_part * part_items):
        if isinstance(item, SourceFile):
            files.append(item)
            continue
        while item.seq // part_items > index:  # a part of files only is empty, as in the local run
            yield index, part
            part, index = [], index + 1
        part.append(item)
    if part:
        yield index, part


# --- parts on disk (JSON: nothing in the work folder can run code when read) ----------------------

def _write_input_part(folder: Path, index: int, part: list[ItemOutcome | PendingArticle]) -> Path:
    path = folder / "input" / f"part-{index:05d}.json"
    data = [_encode(item) for item in part]
    atomic_write_text(path, json.dumps(data, ensure_ascii=False))
    return path


def _encode(item: ItemOutcome | PendingArticle) -> dict[str, Any]:
    if isinstance(item, PendingArticle):
        article = item.article
        return {"seq": item.seq, "warnings": list(item.warnings), "article": {
            "id": article.id, "source": article.source, "title": article.title, "text": article.text,
            "date": article.date.isoformat() if article.date else None, "duplicate_of": article.duplicate_of,
            "warnings": list(article.warnings), "url": article.url, "path": article.path, "location": article.location,
            "encoding": article.encoding, "extra": [list(pair) for pair in article.extra]}}
    skipped = item.skipped
    return {"seq": item.seq, "warnings": list(item.warnings), "row": item.row,
            "skipped": [skipped.source, skipped.reason, skipped.location] if skipped else None}


def _decode(data: dict[str, Any]) -> ItemOutcome | PendingArticle:
    warnings = tuple(data["warnings"])
    if "article" in data:
        a = data["article"]
        article = Article(id=a["id"], source=a["source"], title=a["title"], text=a["text"],
                          date=dt.date.fromisoformat(a["date"]) if a["date"] else None, duplicate_of=a["duplicate_of"],
                          warnings=tuple(a["warnings"]), url=a["url"], path=a["path"], location=a["location"],
                          encoding=a["encoding"], extra=tuple((k, v) for k, v in a["extra"]))
        return PendingArticle(data["seq"], article, warnings)
    skipped = Skipped(*data["skipped"]) if data["skipped"] else None
    return ItemOutcome(data["seq"], data["row"], skipped=skipped, warnings=warnings)


def _part_key(index: int, path: Path, analyzer: Analyzer, shipped: Any) -> str:
    """The task key of a part: its content, the model (files and registry) and the language pack,
    so another run on the same scheduler never gets this run's results."""
    from dask.base import tokenize

    content = hashlib.sha1(path.read_bytes()).hexdigest()
    model = (analyzer.model_path, analyzer.metadata.get("model_sha256"), analyzer.registry, analyzer.pack.code, shipped)
    return f"stance-part-{index}-{tokenize(content, model)}"


# --- on the workers ------------------------------------------------------------------------------

_ANALYZERS: dict[bytes, Analyzer] = {}


def _worker_analyzer(spec: WorkerSpec) -> Analyzer:
    """The analyzer of this worker process for ``spec``, loaded on its first task only."""
    key = hashlib.sha256(pickle.dumps(spec)).digest()
    if key not in _ANALYZERS:
        _ANALYZERS[key] = worker_analyzer(spec)
    return _ANALYZERS[key]


def _warm(spec: WorkerSpec) -> None:
    """Load this worker's analyzer before its first part arrives (while the client still reads)."""
    _worker_analyzer(spec)


def _score_part(path: str, spec: WorkerSpec, shipped: Analyzer | None) -> tuple[pa.Table, pa.Table]:
    """Score the articles of one input part; its mentions and articles tables."""
    items = [_decode(data) for data in json.loads(Path(path).read_text(encoding="utf-8"))]
    return assemble_part(score_items(items, shipped or _worker_analyzer(spec)))


# --- a dask DataFrame of articles -------------------------------------------------------------------

def _frame_parts(frame: DaskFrame, analyzer: Analyzer, spec: WorkerSpec, shipped: Any, ingest: IngestConfig,
                 check_language: bool) -> tuple[list[Delayed], int]:
    """One scoring task per partition of a DataFrame of articles, after one pass that finds the
    repeated ids and the exact duplicates across all partitions."""
    from dask.base import compute
    from dask.delayed import delayed

    partitions = frame.to_delayed()
    keys = compute(*[delayed(_row_keys, pure=True)(part, k, analyzer.language) for k, part in enumerate(partitions)])
    plans = _duplicate_plans(keys, ingest)
    offsets = [0]
    for rows in keys:
        offsets.append(offsets[-1] + len(rows))
    score = delayed(_score_frame_part, pure=True)
    tasks = [score(part, k, offsets[k], plans[k], spec, shipped, ingest, check_language) for k, part in enumerate(partitions)]
    return tasks, offsets[-1]


def _display(partition: int) -> str:
    return f"dataframe:partition{partition}"


def _row_keys(frame: pd.DataFrame, partition: int, language: str) -> list[tuple[str, str, bytes] | None]:
    """Per row: id, source and exact-duplicate key (None for a row that is not an article)."""
    detector = DuplicateDetector()
    return [None if isinstance(item, Skipped) else (item.id, item.source, bytes.fromhex(detector.exact_key(item.text)))
            for item in articles_from_records(frame.to_dict("records"), _display(partition), language=language)]


def _duplicate_plans(keys: Sequence[list[tuple[str, str, bytes] | None]],
                     ingest: IngestConfig) -> list[dict[int, tuple[str | None, str | None]]]:
    """Per partition and row: a new id (the id was used before: ``<id>~<n>``, as the readers do)
    and the id of the earlier article it repeats exactly, in the order of the partitions."""
    seen: set[str] = set()
    counters: dict[str, int] = {}
    first: dict[tuple[str, bytes], str] = {}
    plans: list[dict[int, tuple[str | None, str | None]]] = []
    for rows in keys:
        plan: dict[int, tuple[str | None, str | None]] = {}
        for index, row in enumerate(rows):
            if row is None:
                continue
            article_id, source, key = row
            new_id = unique_id(article_id, seen, counters)
            original = None
            if ingest.duplicates != "keep":
                scope = (source if ingest.duplicates == "per-source" else "", key)
                original = first.setdefault(scope, new_id)
                original = None if original == new_id else original
            if new_id != article_id or original is not None:
                plan[index] = (new_id if new_id != article_id else None, original)
        plans.append(plan)
    return plans


def _score_frame_part(frame: pd.DataFrame, partition: int, offset: int, plan: dict[int, tuple[str | None, str | None]],
                      spec: WorkerSpec, shipped: Analyzer | None, ingest: IngestConfig,
                      check_language: bool) -> tuple[pa.Table, pa.Table]:
    """Score one partition: exact duplicates and ids as planned, near-duplicates within the partition."""
    analyzer = shipped or _worker_analyzer(spec)
    near: dict[str, DuplicateDetector] = {}
    items: list[ItemOutcome | PendingArticle] = []
    records = articles_from_records(frame.to_dict("records"), _display(partition), language=analyzer.language)
    for index, item in enumerate(records):
        if isinstance(item, Article):
            new_id, original = plan.get(index, (None, None))
            if new_id is not None:
                item = replace(item, id=new_id, warnings=(*item.warnings, renamed_id_warning(item.id, new_id)))
            if original is None and ingest.duplicates != "keep":
                scope = item.source if ingest.duplicates == "per-source" else ""
                if scope not in near:
                    near[scope] = DuplicateDetector(ingest)
                try:
                    original = near[scope].check(item)
                except Exception as exc:  # noqa: BLE001 - one row never stops the partition (as in the reader)
                    item = replace(item, warnings=(*item.warnings, f"duplicate check failed ({type(exc).__name__}: {exc}); "
                                                   "the article is kept"))
            if original is not None:
                item = replace(item, duplicate_of=original)
        items.append(classify_item(item, offset + index, check_language, analyzer.language))
    return assemble_part(score_items(items, analyzer))


def _write_scored(out: str, index: int, part: tuple[pa.Table, pa.Table]) -> str:
    write_part(out, index, *part)
    return part_name(index)


def _frame(part: tuple[pa.Table, pa.Table], which: int) -> Any:
    return part[which].to_pandas()


def _meta(schema: pa.Schema) -> Any:
    return schema.empty_table().to_pandas()
