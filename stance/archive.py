"""Archive runs: a corpus analysed into a Parquet dataset folder, resumable, here or on Dask.

``stance analyze CORPUS --out DIR --out-format parquet`` calls :func:`analyze_archive`. The
dataset (see :mod:`stance.tables`) is written part by part into a hidden sibling of ``DIR``
(:func:`stance.io.partial_path`) while the run goes; when every part is written the
aggregates are computed from it (reading only the columns they need), ``dataset.json``
records what was analysed, and the folder is swapped in place of ``DIR``. An interrupted run
leaves its parts behind: the same command with ``resume=True`` (``--resume``) checks that
the inputs, model and options are the same and scores only the parts that are missing.
"""

from __future__ import annotations

import ctypes
import gc
import hashlib
import json
import logging
import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import __version__
from .config import IngestConfig, ReportConfig
from .errors import InputFormatError
from .io import StagedFolder, output_lock
from .tables import (
    DATASET_MANIFEST,
    PART_ITEMS,
    done_parts,
    read_dataset,
    read_manifest,
    remove_unfinished_writes,
    write_manifest,
    write_table,
)

if TYPE_CHECKING:
    import pandas as pd

    from .scoring import Analyzer

logger = logging.getLogger(__name__)

AGGREGATE_FILES = ("by_article.csv", "by_date.csv", "by_actor.csv", "by_source.csv")
DATASET_FILES = ("mentions", "articles", *AGGREGATE_FILES, DATASET_MANIFEST, "plots")
"""Every name an archive run writes into its folder (``plots`` is ``stance plot``'s default folder)."""
AGGREGATE_COLUMNS = ("article_id", "source", "title", "date", "actor", "actor_name", "stance", "stance_score", "sentiment",
                     "sentiment_score")
"""The mention columns the aggregates read (not the sentence text)."""
INPUT_PARTS = "_input"  # the Dask engine's work folder inside the partial folder


@dataclass(frozen=True)
class ArchiveRun:
    """What :func:`analyze_archive` wrote: the folder, its parts (and how many an earlier run
    had written), the status counts of all input items, the units, and the skip/warning lines."""

    folder: Path
    parts: int
    resumed_parts: int
    status: dict[str, int]
    units: int
    skipped: tuple[str, ...]
    warnings: tuple[str, ...]
    seconds: float


def analyze_archive(paths: Sequence[str | Path], out: str | Path, *, analyzer: Analyzer, jobs: int = 0,
                    ingest: IngestConfig | None = None, check_language: bool = True, part_items: int = PART_ITEMS,
                    resume: bool = False, engine: str = "local", scheduler: str | None = None, workers: int = 2,
                    actors_file: str | Path | None = None, config: ReportConfig | None = None, freq: str = "day",
                    progress: Callable[[int], None] | None = None) -> ArchiveRun:
    """Analyse ``paths`` into the Parquet dataset folder ``out`` (replaced as a whole at the end).

    ``engine`` is ``"local"`` (``jobs`` processes) or ``"dask"`` (the cluster at ``scheduler``,
    or a local cluster of ``workers`` processes); both write the same bytes. Raises
    :class:`~stance.errors.InputFormatError` when not one article could be analysed, or when
    ``resume`` finds an unfinished run of other inputs, model or options.
    """
    started = time.perf_counter()
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise InputFormatError(f"--out {out}: is a file; a Parquet dataset is a folder")
    if engine not in ("local", "dask"):
        raise InputFormatError(f"engine {engine!r}: expected 'local' or 'dask'")
    ingest = replace(ingest or IngestConfig(), language=analyzer.language)
    identity = _identity(paths, analyzer, ingest, check_language, part_items, actors_file)
    with output_lock(out):
        staging = StagedFolder(out, DATASET_FILES, kind="dataset", keep=True)  # its path follows a symlinked --out
        resumed = _resume_point(staging.path, identity, part_items) if resume else 0
        if not resume:
            shutil.rmtree(staging.path, ignore_errors=True)
        with staging as staged:
            write_manifest(staged.path, {**identity, "status": "running"})
            if engine == "dask":
                _score_on_dask(paths, staged.path, analyzer, ingest, check_language, part_items, resumed, scheduler, workers)
            else:
                from .pipeline import write_dataset

                write_dataset(*paths, out=staged.path, analyzer=analyzer, jobs=jobs, ingest=ingest,
                              check_language=check_language, part_items=part_items, resume_parts=resumed, progress=progress)
            run = _finish(staged, identity, resumed, config or ReportConfig(), freq, started)
    return run


def _identity(paths: Sequence[str | Path], analyzer: Analyzer, ingest: IngestConfig, check_language: bool, part_items: int,
              actors_file: str | Path | None) -> dict[str, Any]:
    """What makes two runs the same run (a resumed run must match it exactly)."""
    actors = hashlib.sha256(Path(actors_file).read_bytes()).hexdigest() if actors_file is not None else "model default"
    reading = {k: v for k, v in asdict(ingest).items() if k != "exclude"}
    return {
        "inputs": [str(Path(p).resolve()) for p in paths] or ["bundled sample corpus"],
        "inputs_sha256": _inputs_fingerprint(paths, ingest), "reading": json.loads(json.dumps(reading, default=str)),
        "model": analyzer.model_path or "in memory", "model_sha256": analyzer.metadata.get("model_sha256"),
        "actors_sha256": actors, "language": analyzer.language, "duplicates": ingest.duplicates,
        "check_language": check_language, "part_items": part_items, "stance_version": __version__,
    }


def _inputs_fingerprint(paths: Sequence[str | Path], ingest: IngestConfig) -> str:
    """SHA-256 over the name, size and modification time of every file the reader reads: an
    edited, added or removed input file makes another run (the output's own files do not count)."""
    from .articles import input_files

    digest = hashlib.sha256()
    for file in input_files(*paths, config=ingest):
        try:
            stat = file.stat()
        except OSError:
            continue
        digest.update(f"{file}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode("utf-8", "surrogateescape"))
    return digest.hexdigest()


def _resume_point(partial: Path, identity: dict[str, Any], part_items: int) -> int:
    """The number of parts an interrupted run of the same command left complete (0: none)."""
    manifest = read_manifest(partial)
    if manifest is None:
        logger.warning("--resume: no unfinished run of this output (%s); starting from the beginning", partial)
        return 0
    differs = sorted(key for key, value in identity.items() if manifest.get(key) != value)
    if differs:
        raise InputFormatError(f"--resume: the unfinished run in {partial} differs in {', '.join(differs)}; "
                               "run the same command as before, or without --resume to start over")
    parts = done_parts(partial)
    logger.info("--resume: %d part(s) of %d input items already written; continuing", parts, part_items)
    return parts


def _score_on_dask(paths: Sequence[str | Path], folder: Path, analyzer: Analyzer, ingest: IngestConfig, check_language: bool,
                   part_items: int, start_part: int, scheduler: str | None, workers: int) -> None:
    try:
        from distributed import Client
    except ImportError as exc:
        raise InputFormatError('--engine dask needs Dask: pip install "stance[dask]"') from exc
    from .dask import local_cluster
    from .dask import write_dataset as write_on_dask

    cluster = None if scheduler else local_cluster(workers)
    try:
        client = Client(scheduler or cluster)
    except OSError as exc:
        if cluster is not None:
            cluster.close()
        raise InputFormatError(f"--scheduler {scheduler}: cannot connect to the Dask scheduler: {exc}") from exc
    try:
        write_on_dask(paths, folder, client=client, model=analyzer, ingest=ingest, check_language=check_language,
                      part_items=part_items, workdir=folder / INPUT_PARTS, start_part=start_part)
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
    shutil.rmtree(folder / INPUT_PARTS, ignore_errors=True)


def _finish(staged: StagedFolder, identity: dict[str, Any], resumed: int, config: ReportConfig, freq: str,
            started: float) -> ArchiveRun:
    """Aggregates from the written parts, the final manifest, the swap; what the run did."""
    folder = staged.path
    remove_unfinished_writes(folder)
    shutil.rmtree(folder / INPUT_PARTS, ignore_errors=True)  # left by a Dask run that was interrupted
    _return_free_memory()
    articles = read_dataset(folder, "articles", columns=["article_id", "status", "reason", "warnings"])
    status = {str(k): int(v) for k, v in articles["status"].value_counts().sort_index().items()}
    if not status.get("ok"):
        shutil.rmtree(folder, ignore_errors=True)  # nothing to resume either
        skips = articles[articles["status"] == "skipped"]
        reasons = "; ".join(f"{a}: {r}" for a, r in zip(skips["article_id"][:3], skips["reason"][:3]))
        raise InputFormatError("no input could be analysed (every file or row was skipped, or no input files were found"
                               f"{'; ' + reasons if reasons else ''}); {staged.target} was not written")
    units = write_aggregates(folder, articles, config, freq)
    parts = done_parts(folder)
    write_manifest(folder, {**identity, "status": "complete", "parts": parts, "items": status, "units": units})
    staged.commit()
    skipped = articles[articles["status"] == "skipped"]
    return ArchiveRun(staged.target, parts, resumed, status, units,
                      tuple(f"{a}: {r}" for a, r in zip(skipped["article_id"], skipped["reason"])),
                      tuple(f"{a}: {w}" for a, w in zip(articles["article_id"], articles["warnings"]) if w),
                      time.perf_counter() - started)


def _return_free_memory() -> None:
    """Give memory freed by the scoring back to the system before the aggregates need theirs
    (glibc keeps freed small blocks otherwise; elsewhere this does nothing)."""
    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


def write_aggregates(folder: Path, articles: pd.DataFrame, config: ReportConfig, freq: str = "day") -> int:
    """Compute the four aggregate tables from a dataset's mentions and write them as CSV; the number of units."""
    from .aggregates import aggregate_by_actor, aggregate_by_article, aggregate_by_date, aggregate_by_source
    from .report import implausible_articles

    mentions = read_dataset(folder, "mentions", columns=AGGREGATE_COLUMNS)
    implausible = implausible_articles(articles)
    tables: dict[str, Callable[[], pd.DataFrame]] = {
        "by_article.csv": lambda: aggregate_by_article(mentions, config),
        "by_date.csv": lambda: aggregate_by_date(mentions, freq, config, implausible=implausible),
        "by_actor.csv": lambda: aggregate_by_actor(mentions, config),
        "by_source.csv": lambda: aggregate_by_source(mentions, config),
    }
    for name, table in tables.items():  # one table in memory at a time
        write_table(table(), folder / name)
    return len(mentions)
