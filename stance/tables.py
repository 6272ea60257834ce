"""The output tables: their schemas, how records become rows, and how tables are written and read.

Scoring (:func:`stance.pipeline.score_articles`) yields records; this module owns what they
become: the ``mentions`` table (one row per scored unit, :data:`MENTION_COLUMNS`), the
``articles`` table (one row per input article or skipped input, :data:`ARTICLE_COLUMNS`), the
files they are written to (CSV, JSONL, Parquet, or a partitioned Parquet dataset for large
runs) and the readers that ``stance plot``, ``stance sample`` and the aggregates use.

A **Parquet dataset** is a folder written part by part while a corpus is analysed::

    OUT/mentions/part-00000.parquet  OUT/articles/part-00000.parquet  ...  OUT/dataset.json

Part ``k`` holds the input items ``k * part_items`` to ``(k + 1) * part_items - 1`` (files,
articles, duplicates and skips are numbered in the order they are read), so the parts of a
run do not depend on ``--jobs``, the engine or an interruption: a resumed run writes the same
bytes. In a dataset the extra input columns (``author``, ...) are one JSON column ``extra``
of the articles table, because parts are written before every column name is known.
"""

from __future__ import annotations

import io
import json
import re
from array import array
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import InputFormatError
from .io import atomic_open, atomic_write_bytes, atomic_write_text

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

    from .actors import ActorRegistry
    from .records import Article, ArticleResult, Skipped

MENTION_COLUMNS: tuple[str, ...] = (
    "article_id", "source", "title", "date", "sentence_index", "actor", "actor_name", "surface", "kind",
    "start", "end", "stance", "stance_score", "p_negative", "p_neutral", "p_positive",
    "sentiment", "sentiment_score", "sentence",
)
ARTICLE_COLUMNS: tuple[str, ...] = (
    "article_id", "source", "path", "location", "title", "date", "status", "duplicate_of",
    "sentences", "units", "warnings", "reason", "encoding",
)
DATASET_ARTICLE_COLUMNS: tuple[str, ...] = (*ARTICLE_COLUMNS, "extra")
"""The articles table of a Parquet dataset: the extra input columns as one JSON object per row."""
RESERVED = frozenset({*MENTION_COLUMNS, *ARTICLE_COLUMNS, "_seq"})
"""Names an extra input column cannot keep: it is renamed ``input_<name>``."""
_INTEGERS = frozenset({"sentence_index", "start", "end", "sentences", "units"})
_FLOATS = frozenset({"stance_score", "p_negative", "p_neutral", "p_positive", "sentiment_score"})
_TEXT_MENTION_COLUMNS = tuple(name for name in MENTION_COLUMNS if name not in _INTEGERS | _FLOATS)
TEXT_CHUNK_ROWS = 8192
"""Rows of mention text gathered as Python strings before they move into an Arrow chunk."""
DATASET_MANIFEST = "dataset.json"
DATASET_FORMAT = 1
PART_ITEMS = 1000
"""Input items per part of a Parquet dataset (a part is written, and a resumed run restarts, at this step)."""

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER_RE = re.compile(r"[+-]?\d+(?:[.,]\d+)?(?:[eE][+-]?\d+)?\Z")  # "-1", "+0.5": text that is a number
_INTERNED: dict[str, str] = {}


# --- records -> rows -------------------------------------------------------------------------

def _intern(value: str) -> str:
    """Share one string object for values that repeat across many rows (actor, date, labels)."""
    return _INTERNED.setdefault(value, value)


def mention_columns(result: ArticleResult, registry: ActorRegistry) -> dict[str, list[Any]]:
    """The units of one scored article, column by column (:data:`MENTION_COLUMNS`).

    Scores are rounded to 6 decimals, so a table does not depend on the batch it was scored in.
    """
    article, scored = result.article, result.mentions
    date = _intern(article.date.isoformat()) if article.date else None
    n = len(scored)
    return {
        "article_id": [article.id] * n, "source": [article.source] * n, "title": [article.title] * n, "date": [date] * n,
        "sentence_index": [m.sentence_index for m in scored],
        "actor": [_intern(m.actor) for m in scored],
        "actor_name": [_intern(registry.display_name(m.actor)) for m in scored],
        "surface": [_intern(m.surface) for m in scored], "kind": [_intern(m.kind) for m in scored],
        "start": [m.start for m in scored], "end": [m.end for m in scored],
        "stance": [_intern(m.stance) for m in scored],
        "stance_score": [round(m.stance_score, 6) for m in scored],
        "p_negative": [round(m.stance_proba["negative"], 6) for m in scored],
        "p_neutral": [round(m.stance_proba["neutral"], 6) for m in scored],
        "p_positive": [round(m.stance_proba["positive"], 6) for m in scored],
        "sentiment": [_intern(m.sentiment) for m in scored],
        "sentiment_score": [round(m.sentiment_score, 6) for m in scored],
        "sentence": [m.sentence for m in scored],
    }


def article_row(article: Article, status: str, sentences: int = 0, units: int = 0, reason: str | None = None,
                seq: int = 0) -> dict[str, Any]:
    """The articles-table row of an article (``status``: ok, duplicate or skipped), extra input columns last."""
    return {
        "_seq": seq,
        "article_id": article.id, "source": article.source, "path": article.path, "location": article.location,
        "title": article.title, "date": article.date.isoformat() if article.date else None, "status": status,
        "duplicate_of": article.duplicate_of, "sentences": sentences, "units": units,
        "warnings": "; ".join(article.warnings), "reason": reason, "encoding": article.encoding,
        **{name if name not in RESERVED else f"input_{name}": value for name, value in article.extra},
    }


def skipped_row(skip: Skipped, seq: int = 0) -> dict[str, Any]:
    """The articles-table row of an input that was not read as an article (a bad file or row)."""
    return {
        "_seq": seq, "article_id": f"{skip.source}:{skip.location}" if skip.location else skip.source,
        "source": skip.source, "path": skip.source, "location": skip.location, "title": None, "date": None,
        "status": "skipped", "duplicate_of": None, "sentences": 0, "units": 0, "warnings": "", "reason": skip.reason,
        "encoding": None,
    }


class MentionColumns:
    """The mention table as it grows: numbers in typed arrays (8 bytes a value), text moved into
    Arrow string arrays every :data:`TEXT_CHUNK_ROWS` rows, so a large corpus costs about the
    table's own size (no Python string per row stays alive until the frame is built)."""

    def __init__(self) -> None:
        self._columns: dict[str, Any] = {
            name: array("q") if name in _INTEGERS else array("d") if name in _FLOATS else []
            for name in MENTION_COLUMNS
        }
        self._text_chunks: dict[str, list[pa.Array]] = {name: [] for name in _TEXT_MENTION_COLUMNS}
        self._sealed = 0  # rows already moved into the text chunks

    def __len__(self) -> int:
        return self._sealed + len(self._columns["actor"])

    def extend(self, rows: dict[str, list[Any]]) -> None:
        """Append the columns of one article (:func:`mention_columns`)."""
        for name, values in rows.items():
            self._columns[name].extend(values)
        if len(self._columns["actor"]) >= TEXT_CHUNK_ROWS:
            self._seal_text()

    def _seal_text(self) -> None:
        import pyarrow as pa

        if not self._columns["actor"]:
            return
        for name in _TEXT_MENTION_COLUMNS:
            values, self._columns[name] = self._columns[name], []
            self._text_chunks[name].append(pa.array(values, type=pa.large_string(), memory_pool=pa.system_memory_pool()))
        self._sealed += len(values)

    def _text(self, name: str) -> pa.ChunkedArray:
        import pyarrow as pa

        return pa.chunked_array(self._text_chunks[name], type=pa.large_string())

    def frame(self) -> pd.DataFrame:
        """The table (:data:`MENTION_COLUMNS`), emptying the builder; an empty table has object columns.

        Text columns get the dtype pandas gives a list of strings (``str`` from pandas 3 on,
        ``object`` before or without string inference; ``object`` for a column without any
        value); Arrow-backed ones wrap the chunks without copying them.
        """
        import numpy as np
        import pandas as pd

        if not len(self):
            return pd.DataFrame({c: pd.Series(dtype=object) for c in MENTION_COLUMNS})
        self._seal_text()
        inferred = pd.Series(["text"]).dtype  # what this pandas (and its options) makes of a list of strings
        as_objects = not isinstance(inferred, pd.api.extensions.ExtensionDtype)
        data: dict[str, Any] = {}
        for name in MENTION_COLUMNS:
            values = self._columns[name]
            if isinstance(values, array):
                data[name] = np.frombuffer(values, dtype=np.int64 if values.typecode == "q" else np.float64).copy()
                continue
            text = self._text(name)
            if text.null_count == len(text) or as_objects:
                data[name] = pd.Series(text.to_numpy(zero_copy_only=False), dtype=object)
            else:
                data[name] = pd.Series(inferred.__from_arrow__(text), copy=False)
            self._text_chunks[name] = []
        self.__init__()  # type: ignore[misc]
        return pd.DataFrame(data, columns=list(MENTION_COLUMNS))

    def arrow(self) -> pa.Table:
        """The table as Arrow with the dataset schema (:func:`mention_schema`), emptying the builder."""
        import pyarrow as pa

        schema = mention_schema()
        self._seal_text()
        data = {name: self._text(name).cast(schema.field(name).type).combine_chunks() if name in self._text_chunks
                else pa.array(self._columns[name], type=schema.field(name).type) for name in MENTION_COLUMNS}
        self.__init__()  # type: ignore[misc]
        return pa.table(data, schema=schema)


def extra_column_names(article_rows: Iterable[dict[str, Any]], warnings: list[str], limit: int | None = None) -> list[str]:
    """The extra input columns of the articles table: the ``limit`` most frequent, by name.

    Columns beyond the limit are left out with one warning appended to ``warnings``.
    """
    from .articles import MAX_EXTRA_COLUMNS

    limit = MAX_EXTRA_COLUMNS if limit is None else limit
    counts = Counter(name for row in article_rows for name in row if name not in RESERVED)
    kept = sorted(counts, key=lambda name: (-counts[name], name))[:limit]
    if len(counts) > len(kept):
        warnings.append(f"{len(counts) - len(kept)} extra input column(s) beyond the {limit} most frequent "
                        "are left out of the tables")
    return sorted(kept)


def articles_frame(article_rows: list[dict[str, Any]], warnings: list[str]) -> pd.DataFrame:
    """The articles table: rows in input order, :data:`ARTICLE_COLUMNS`, then the extra input columns."""
    import pandas as pd

    rows = sorted(article_rows, key=lambda row: row["_seq"])
    extras = extra_column_names(rows, warnings)
    return pd.DataFrame(rows, columns=[*ARTICLE_COLUMNS, *extras])


# --- Parquet dataset --------------------------------------------------------------------------

def mention_schema() -> pa.Schema:
    """Arrow schema of the mentions table in a Parquet dataset (every part has it)."""
    import pyarrow as pa

    return pa.schema([(name, pa.int64() if name in _INTEGERS else pa.float64() if name in _FLOATS else pa.string())
                      for name in MENTION_COLUMNS])


def article_schema() -> pa.Schema:
    """Arrow schema of the articles table in a Parquet dataset."""
    import pyarrow as pa

    return pa.schema([(name, pa.int64() if name in _INTEGERS else pa.string()) for name in DATASET_ARTICLE_COLUMNS])


def dataset_article_table(article_rows: Sequence[dict[str, Any]]) -> pa.Table:
    """Rows of :func:`article_row`/:func:`skipped_row` as Arrow, in input order, extras as JSON."""
    import pyarrow as pa

    rows = sorted(article_rows, key=lambda row: row["_seq"])
    data: dict[str, list[Any]] = {name: [row.get(name) for row in rows] for name in ARTICLE_COLUMNS}
    data["extra"] = [_extra_json(row) for row in rows]
    schema = article_schema()
    return pa.table({name: pa.array(values, type=schema.field(name).type) for name, values in data.items()}, schema=schema)


def _extra_json(row: dict[str, Any]) -> str | None:
    extra = {name: value for name, value in row.items() if name not in RESERVED}
    return json.dumps(extra, ensure_ascii=False, sort_keys=True) if extra else None


def part_name(index: int) -> str:
    """File name of part ``index`` of a dataset table."""
    return f"part-{index:05d}.parquet"


def write_part(folder: str | Path, index: int, mentions: pa.Table, articles: pa.Table) -> None:
    """Write part ``index`` of a dataset (mentions and articles), each file atomically.

    The articles part is written last: a part counts as done when its articles file exists.
    """
    import pyarrow.parquet as pq

    folder = Path(folder)
    for table, name in ((mentions, "mentions"), (articles, "articles")):
        buffer = io.BytesIO()
        pq.write_table(table, buffer, compression="zstd")
        atomic_write_bytes(folder / name / part_name(index), buffer.getvalue())


def done_parts(folder: str | Path) -> int:
    """Number of consecutive complete parts (0, 1, ...) in a dataset folder."""
    folder = Path(folder)
    count = 0
    while (folder / "articles" / part_name(count)).is_file() and (folder / "mentions" / part_name(count)).is_file():
        count += 1
    return count


def remove_unfinished_writes(folder: str | Path) -> list[Path]:
    """Remove the temporary files of part writes that were killed (a worker or run killed while
    writing leaves a hidden ``.part-*.tmp``; the part itself is written again)."""
    removed = []
    for table in ("mentions", "articles"):
        for path in sorted((Path(folder) / table).glob(".part-*.tmp")):
            path.unlink(missing_ok=True)
            removed.append(path)
    return removed


def write_manifest(folder: str | Path, data: dict[str, Any]) -> None:
    """Write ``dataset.json`` (what was analysed, how, and how many parts)."""
    atomic_write_text(Path(folder) / DATASET_MANIFEST, json.dumps({"format": DATASET_FORMAT, **data}, indent=2, sort_keys=True) + "\n")


def read_manifest(folder: str | Path) -> dict[str, Any] | None:
    """The ``dataset.json`` of a dataset folder, or None if there is none (or it cannot be read)."""
    try:
        data = json.loads((Path(folder) / DATASET_MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def is_dataset(path: str | Path) -> bool:
    """True if ``path`` is a Parquet dataset folder written by ``stance analyze --out-format parquet``."""
    path = Path(path)
    return path.is_dir() and (path / "mentions").is_dir() and (path / "articles").is_dir()


def read_dataset(folder: str | Path, table: str = "mentions", columns: Sequence[str] | None = None) -> pd.DataFrame:
    """One table of a Parquet dataset (``mentions`` or ``articles``), parts in order, optionally only ``columns``."""
    import pandas as pd
    import pyarrow as pa
    import pyarrow.parquet as pq

    parts = sorted((Path(folder) / table).glob("part-*.parquet"), key=lambda path: int(path.stem.partition("-")[2]))
    schema = mention_schema() if table == "mentions" else article_schema()
    if columns is not None:
        schema = pa.schema([schema.field(name) for name in columns])
    # part by part, each Arrow table released as it becomes pandas: never the whole table twice
    frames = [pq.read_table(part, columns=list(schema.names)).to_pandas(self_destruct=True, split_blocks=True)
              for part in parts]
    frames = [frame for frame in frames if len(frame)]
    if not frames:
        return pd.DataFrame({name: pd.Series(dtype=object) for name in schema.names})
    return pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]


# --- CSV / JSONL / Parquet files ------------------------------------------------------------------

def neutralise_formulas(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` whose text cells cannot run as spreadsheet formulas (OWASP).

    A text cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return gets
    a leading ``'``; numbers (a negative score too, also as text: ``"-1"``) and missing values
    are left as they are.

    Examples
    --------
    >>> import pandas as pd
    >>> frame = pd.DataFrame({"id": ["=1+1", "@SUM(A1)", "-x", "-1"], "score": [-0.5, 0.1, 0.2, 0.3]})
    >>> neutralise_formulas(frame).to_dict("list")
    {'id': ["'=1+1", "'@SUM(A1)", "'-x", '-1'], 'score': [-0.5, 0.1, 0.2, 0.3]}
    """
    import pandas as pd

    result = frame.copy(deep=False)
    for name in frame.columns:
        column = frame[name]
        if not (pd.api.types.is_object_dtype(column) or pd.api.types.is_string_dtype(column)):
            continue
        risky = column.map(_is_formula_like).astype(bool)
        if risky.any():
            fixed = column.copy()
            fixed[risky] = "'" + column[risky].astype(str)
            result[name] = fixed
    return result


def _is_formula_like(value: object) -> bool:
    """A text cell a spreadsheet could run: starts with a formula character and is not a plain number."""
    return isinstance(value, str) and value.startswith(FORMULA_PREFIXES) and not _PLAIN_NUMBER_RE.match(value)


def write_table(frame: pd.DataFrame, path: Path) -> Path:
    """Write a DataFrame as CSV (UTF-8, ``\\n``, fixed float format), atomically.

    Text cells that a spreadsheet would run as a formula are neutralised first
    (:func:`neutralise_formulas`).
    """
    with atomic_open(path, "w") as handle:
        neutralise_formulas(frame).to_csv(handle, index=False, lineterminator="\n", float_format="%.6g")
    return path


def write_mentions(frame: pd.DataFrame, path: Path) -> Path:
    """Write the mentions table as ``.csv``, ``.jsonl`` or ``.parquet`` (atomically)."""
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return write_table(frame, path)
    if suffix == ".jsonl":
        with atomic_open(path, "w") as handle:
            frame.to_json(handle, orient="records", lines=True, force_ascii=False)
        return path
    if suffix == ".parquet":
        buffer = io.BytesIO()
        frame.to_parquet(buffer, index=False)
        atomic_write_bytes(path, buffer.getvalue())
        return path
    raise ValueError(f"output format of {path.name}: expected .csv, .jsonl or .parquet")


def read_mentions(path: str | Path, *, sentences: bool = True) -> pd.DataFrame:
    """A saved mentions table (``.csv``, ``.jsonl``, ``.parquet`` or a Parquet dataset folder),
    checked for the columns the plots need; a missing, unreadable or empty table is an
    :class:`~stance.errors.InputFormatError` naming the file. ``sentences=False`` leaves the
    ``sentence`` column of a dataset folder unread (the plots do not need it)."""
    import pandas as pd

    path = Path(path)
    if not (path.is_file() or is_dataset(path)):
        raise InputFormatError(f"{path}: no such file (or Parquet dataset folder)")
    try:
        if is_dataset(path):
            frame = read_dataset(path, "mentions", columns=None if sentences else
                                 [name for name in MENTION_COLUMNS if name != "sentence"])
        elif path.suffix == ".parquet":
            frame = pd.read_parquet(path)
        elif path.suffix == ".jsonl":
            frame = pd.read_json(path, lines=True, dtype={"date": str})
        else:
            frame = pd.read_csv(path, dtype={"date": str, "article_id": str})
    except Exception as exc:
        raise InputFormatError(f"{path}: cannot read the mentions table: {exc}") from exc
    needed = {"article_id", "actor", "stance", "stance_score", "sentiment_score", "date"}
    missing = sorted(needed - set(frame.columns))
    if missing:
        raise InputFormatError(f"{path}: not a mentions table, missing column(s) {', '.join(missing)}")
    if frame.empty:
        raise InputFormatError(f"{path}: the mentions table has no rows")
    frame["date"] = frame["date"].where(frame["date"].notna() & (frame["date"] != "None"), None)
    return frame


def read_article_warnings(mentions: str | Path) -> pd.DataFrame | None:
    """``article_id`` and ``warnings`` of the articles table next to a mentions table (articles.csv
    beside it, or the articles of a dataset folder); None if there is none."""
    import pandas as pd

    mentions = Path(mentions)
    if is_dataset(mentions):
        return read_dataset(mentions, "articles", columns=["article_id", "warnings"])
    articles = mentions.parent / "articles.csv"
    if not articles.is_file():
        return None
    return pd.read_csv(articles, dtype=str, usecols=["article_id", "warnings"])
