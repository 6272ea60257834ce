"""Stage 2, articles: inputs -> :class:`~stance.records.Article` records.

Reads files and folders (``.txt``, ``.md``, ``.html``, ``.jsonl``, ``.json``, ``.csv``, and the
archive kinds ``.jsonl.gz``, ``.csv.gz``, ``.parquet``), splits
files that hold several articles at their header lines, parses dates, flags dates that do
not fit their neighbours, and marks duplicate articles. Every input ends up in the result
as read or skipped, with the reason: each file, row and HTML document is read under one
guard, so a failure on one of them (whatever the exception) becomes a
:class:`~stance.records.Skipped` naming the file and line, and the other inputs still load.

JSONL and CSV files are streamed line by line: a first pass over the bytes finds the
encoding, a second keeps only the date of each row (for the implausible-date check), and
the third yields the articles one at a time, so memory stays near one row plus a few bytes
per row. Plain text, HTML and ``.json`` files are read whole.

A gzip file (found by its magic bytes, whatever its name) is read decompressed by the same
passes, each re-opening it; damaged data or more than
:attr:`~stance.config.IngestConfig.max_decompressed_bytes` stop the file there with the
reason, keeping the articles before. A Parquet file is read in record batches, each row
through the same row path as JSONL (location ``row N``); a first pass reads only the text
and date columns.
"""

from __future__ import annotations

import bisect
import csv
import datetime as dt
import hashlib
import json
import logging
import os
import re
import sys
import zlib
from array import array
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from .config import IngestConfig
from .dates import date_pattern, parse_date
from .errors import InputFormatError, StreamStoppedError
from .io import OUTPUT_MARKER
from .lang import LanguagePack, get_pack
from .records import Article, Corpus, Skipped, SourceFile
from .resources import sample_corpus_dir, sample_corpus_files
from .text import (
    FileEncoding,
    clean_field,
    decode_bytes,
    detect_file_encoding,
    html_to_text,
    is_gzip,
    iter_text_lines,
    normalize_text,
    open_input,
    replaced_warnings,
    strip_boilerplate,
)

if TYPE_CHECKING:
    import pyarrow.parquet as pq

logger = logging.getLogger(__name__)
_PACK = get_pack()

"""A folder holding a file of this name was written by ``stance`` and is never read as input."""

KNOWN_COLUMNS = frozenset({"text", "id", "title", "date", "source", "url"})
"""Input columns read into :class:`~stance.records.Article` fields; any other goes to ``extra``."""

# "Title | Vitaly Portnikov. 23.10.2025."  or  "Title. Kolumne von Vitaly Portnikov. 18.10.2025"
# " date 2025-10-21 Ein Treffen ..." at the very start of a file.
# A month alone (" date 2024-07") is stripped too; the article stays undated (never guessed).
# "Stand: 21.10.2025, 14:30 Uhr" / "Veröffentlicht am 21. Oktober 2025" near the top of a web page.
# The header, date-label and "published" words and the month names are the language pack's (stance.lang).


@lru_cache(maxsize=8)
def _reader_res(pack: LanguagePack) -> tuple[re.Pattern[str], re.Pattern[str], re.Pattern[str]]:
    """The header line, leading date and "published" line expressions of ``pack``."""
    dates = date_pattern(pack)
    header = re.compile(
        rf"^(?P<title>\S.{{1,300}}?)\s*(?:\|\s*|[.:]\s+(?:{pack.byline_kinds})\s+(?:{pack.byline_by})\s+)"
        rf"(?P<byline>[^|\n]{{2,80}}?)[.,]?\s+(?P<date>{dates})\.?\s*$",
        re.IGNORECASE,
    )
    prefix = re.compile(rf"^\s*(?:{pack.date_labels})\s*:?\s+(?P<date>{dates}|\d{{4}}-\d{{1,2}}(?![\d-]))\s*", re.IGNORECASE)
    stand = re.compile(rf"^\s*(?:{pack.published_labels})\s*:?\s*(?P<date>{dates})", re.IGNORECASE)
    return header, prefix, stand


_HEADER_RE, _DATE_PREFIX_RE, _STAND_RE = _reader_res(_PACK)
_MONTH_ONLY_RE = re.compile(r"^\d{4}-\d{1,2}$")
_MAX_REASON_CHARS = 300


@dataclass(frozen=True, slots=True)
class _Segment:
    title: str | None
    date: dt.date | None
    text: str
    line: int
    raw_date: str | None = None


@dataclass(frozen=True, slots=True)
class _Input:
    """One input file (``path``), or an input that is skipped (``path`` is ``None``)."""

    path: Path | None
    display: str
    skip_reason: str | None = None


@dataclass(frozen=True, slots=True)
class _Row:
    """One row of a JSONL, JSON or CSV file, before it becomes an article."""

    number: int
    location: str
    values: dict[str, object]
    replaced: int = 0
    warnings: tuple[str, ...] = ()


@dataclass(slots=True)
class _FileInfo:
    """What is known about the file being read, for its :class:`~stance.records.SourceFile`."""

    encoding: str | None = None
    warnings: tuple[str, ...] = ()
    reason: str | None = None


def load_articles(*paths: str | Path, config: IngestConfig | None = None) -> Corpus:
    """Read files and folders into a :class:`~stance.records.Corpus`.

    With no path, the bundled sample corpus is read. Folders are searched recursively
    for ``*.txt``, ``*.md``, ``*.html``, ``*.jsonl``, ``*.json``, ``*.csv``, ``*.jsonl.gz``,
    ``*.csv.gz`` and ``*.parquet`` (:attr:`IngestConfig.suffixes`). Nothing raises
    for bad input: unreadable, empty or binary files, bad rows, hidden files, symbolic
    links to folders and ``stance`` output folders are listed in ``.skipped``.

    Parameters
    ----------
    *paths : str or Path
        Files and folders to read.
    config : IngestConfig, optional
        Accepted suffixes, limits, duplicate policy and excluded paths.

    Returns
    -------
    Corpus
        Articles in input order, skipped inputs, the status of each file and all warnings.

    Examples
    --------
    >>> corpus = load_articles()
    >>> len(corpus.articles), len(corpus.unique_articles)
    (14, 13)
    """
    articles: list[Article] = []
    skipped: list[Skipped] = []
    files: list[SourceFile] = []
    for item in iter_corpus(*paths, config=config):
        if isinstance(item, Article):
            articles.append(item)
        elif isinstance(item, Skipped):
            skipped.append(item)
        else:
            files.append(item)
    warnings = tuple(f"{a.id}: {w}" for a in articles for w in a.warnings)
    return Corpus(tuple(articles), tuple(skipped), tuple(files), warnings)


def iter_corpus(*paths: str | Path, config: IngestConfig | None = None) -> Iterator[Article | Skipped | SourceFile]:
    """Stream articles, skipped inputs and file statuses, one file at a time.

    Duplicates are marked against everything seen earlier in the stream (or earlier in
    the same source, see :attr:`IngestConfig.duplicates`), so memory stays flat: only a
    short signature per article is kept. After the items of a file comes its
    :class:`~stance.records.SourceFile`.

    Examples
    --------
    >>> items = list(iter_corpus())
    >>> sum(isinstance(i, Article) for i in items), sum(isinstance(i, SourceFile) for i in items)
    (14, 5)
    """
    config = config or IngestConfig()
    get_pack(config.language)  # an unknown language fails here, not once per file
    state = _StreamState(config)
    for item in _expand_inputs(paths, config):
        if item.path is None:
            yield from _skip_file(item.display, item.skip_reason or "skipped")
        else:
            yield from _read_input(item.path, item.display, config, state)


class _StreamState:
    """Ids and duplicate signatures seen so far in one stream."""

    def __init__(self, config: IngestConfig) -> None:
        self.config = config
        self._detectors: dict[str, DuplicateDetector] = {}
        self._seen_ids: set[str] = set()
        self._id_counters: dict[str, int] = {}

    def finish(self, article: Article) -> Article:
        """Give the article a unique id and mark it if it duplicates an earlier one."""
        article = self._unique_id(article)
        if self.config.duplicates == "keep":
            return article
        key = article.source if self.config.duplicates == "per-source" else ""
        detector = self._detectors.get(key)
        if detector is None:
            detector = self._detectors[key] = DuplicateDetector(self.config)
        try:
            original = detector.check(article)
        except Exception as exc:  # noqa: BLE001 - one article never stops the stream
            logger.warning("%s: duplicate check failed: %s", article.id, _describe(exc))
            return _with_warnings(article, (f"duplicate check failed ({_describe(exc)}); the article is kept",))
        return article if original is None else replace(article, duplicate_of=original)

    def _unique_id(self, article: Article) -> Article:
        """The article, renamed ``<id>~<n>`` with a warning if its id was seen before."""
        new_id = unique_id(article.id, self._seen_ids, self._id_counters)
        if new_id == article.id:
            return article
        return _with_warnings(replace(article, id=new_id), (renamed_id_warning(article.id, new_id),))


def unique_id(article_id: str, seen: set[str], counters: dict[str, int]) -> str:
    """``article_id``, or ``<id>~<n>`` (the first free ``n`` from 2) if it was seen before; records it in ``seen``.

    Examples
    --------
    >>> seen, counters = set(), {}
    >>> [unique_id(i, seen, counters) for i in ("a", "a", "a~2", "a")]
    ['a', 'a~2', 'a~2~2', 'a~3']
    """
    if article_id not in seen:
        seen.add(article_id)
        return article_id
    n = counters.get(article_id, 1) + 1
    while f"{article_id}~{n}" in seen:
        n += 1
    counters[article_id] = n
    new_id = f"{article_id}~{n}"
    seen.add(new_id)
    return new_id


def renamed_id_warning(article_id: str, new_id: str) -> str:
    """The warning of an article whose id was taken: one wording for every reader."""
    return f"id {article_id!r} occurs more than once; renamed to {new_id!r}"


def _with_warnings(article: Article, warnings: tuple[str, ...]) -> Article:
    return replace(article, warnings=article.warnings + warnings) if warnings else article


def _skip_file(display: str, reason: str) -> Iterator[Skipped | SourceFile]:
    yield Skipped(display, reason)
    yield SourceFile(display, "skipped", reason=reason)


def _describe(exc: BaseException) -> str:
    """``Type: message`` of an exception, cut to a readable length."""
    text = f"{type(exc).__name__}: {exc}"
    return text if len(text) <= _MAX_REASON_CHARS else text[:_MAX_REASON_CHARS - 1] + "…"


def _failure_reason(exc: Exception, display: str) -> str:
    if isinstance(exc, InputFormatError):
        return str(exc).removeprefix(f"{display}: ")
    if isinstance(exc, OSError):
        return f"cannot read file: {exc.strerror or exc}"
    return f"cannot read file: {_describe(exc)}"


def _read_input(path: Path, display: str, config: IngestConfig, state: _StreamState) -> Iterator[Article | Skipped | SourceFile]:
    """Read one file under one guard: any failure becomes a skip naming the file."""
    info = _FileInfo()
    count = skips = 0
    try:
        for item in _file_items(path, display, config, info):
            if isinstance(item, Skipped):
                skips += 1
                yield item
            elif len(item.text) > config.max_article_chars:
                skips += 1
                yield Skipped(display, f"article of {len(item.text):,} characters is longer than the limit of "
                                       f"{config.max_article_chars:,} (IngestConfig.max_article_chars); split it into "
                                       "its articles", item.location)
            else:
                count += 1
                yield state.finish(item)
    except Exception as exc:  # noqa: BLE001 - the guard: one file never stops the run
        reason = _failure_reason(exc, display)
        if not count and not skips:
            yield from _skip_file(display, reason)
            return
        info.reason = f"reading stopped after {count} article(s): {reason}"
        skips += 1
        yield Skipped(display, info.reason)
    if not count and not skips:
        yield Skipped(display, "no article text found")
    status_reason = info.reason or (None if count else "no article text found")
    yield SourceFile(display, "read" if count else "skipped", articles=count, reason=status_reason,
                     encoding=info.encoding, warnings=info.warnings)


def _date_warnings(raw_date: str | None, date: dt.date | None) -> tuple[str, ...]:
    """A warning when a date was given but is not a valid date (the article stays undated)."""
    if raw_date and date is None:
        if _MONTH_ONLY_RE.match(raw_date):
            return (f"date {raw_date!r} gives only a month; the article is treated as undated",)
        return (f"date {raw_date!r} is not a valid date; the article is treated as undated",)
    return ()


def _expand_inputs(paths: Iterable[str | Path], config: IngestConfig) -> Iterator[_Input]:
    """Yield every input file, and every input that is skipped with its reason."""
    given = list(paths)
    if not given:
        base = sample_corpus_dir().parent
        for file in sample_corpus_files():
            yield _Input(file, file.relative_to(base).as_posix())
        return
    excluded = frozenset(os.path.realpath(p) for p in config.exclude)
    for raw in given:
        path = Path(raw)
        display = _display(path.name or str(raw))
        if excluded and os.path.realpath(path) in excluded:
            yield _Input(None, display, "excluded (the output folder or a path given to exclude)")
        elif path.is_dir():
            yield from _walk(path, display, config, excluded)
        elif path.exists():
            yield _Input(path, display)
        else:
            yield _Input(None, _display(str(raw)), "path does not exist")


def input_files(*paths: str | Path, config: IngestConfig | None = None) -> list[Path]:
    """The files :func:`iter_corpus` reads for ``paths``, in reading order (excluded paths,
    ``stance`` output folders and hidden files left out, as the reader leaves them out)."""
    return [item.path for item in _expand_inputs(paths, config or IngestConfig()) if item.path is not None]


def _display(name: str) -> str:
    """A path as shown in ids and reports: control characters and escape sequences removed."""
    return name if name.isprintable() else clean_field(name) or "?"


def _walk(folder: Path, display: str, config: IngestConfig, excluded: frozenset[str]) -> Iterator[_Input]:
    """Files of a folder and its subfolders in sorted order; what is not read is listed with the reason."""
    try:
        if os.path.lexists(folder / OUTPUT_MARKER):
            yield _Input(None, display, "stance output folder")
            return
        with os.scandir(folder) as scan:
            entries = sorted(scan, key=lambda e: e.name)
    except OSError as exc:
        yield _Input(None, display, f"cannot read folder: {exc.strerror or exc}")
        return
    for entry in entries:
        if excluded and os.path.realpath(entry.path) in excluded:
            continue  # stance's own output, lock and staging files are not inputs: not listed
        child = f"{display}/{_display(entry.name)}"
        try:
            reason = _entry_skip_reason(entry, config)
        except OSError as exc:  # an entry that vanished or cannot be inspected
            yield _Input(None, child, f"cannot read: {exc.strerror or exc}")
            continue
        if reason is not None:
            yield _Input(None, child, reason)
        elif entry.is_dir(follow_symlinks=False):
            yield from _walk(Path(entry.path), child, config, excluded)
        elif input_suffix(entry.name) in config.suffixes:
            yield _Input(Path(entry.path), child)


def _entry_skip_reason(entry: os.DirEntry[str], config: IngestConfig) -> str | None:
    """Why a folder entry is not read (``None``: read it, or ignore it for its suffix)."""
    is_dir = entry.is_dir()
    accepted = is_dir or input_suffix(entry.name) in config.suffixes
    if entry.name.startswith(".") and accepted:
        return "hidden folder" if is_dir else "hidden file"
    if is_dir and entry.is_symlink():
        return "symbolic link to a folder (not followed)"
    return None


def input_suffix(name: str) -> str:
    """The suffix a file is matched by: the last one, or the last two for a ``.gz`` file.

    Examples
    --------
    >>> input_suffix("a.b.JSONL.gz"), input_suffix("a.csv"), input_suffix("a.gz"), input_suffix("README")
    ('.jsonl.gz', '.csv', '.gz', '')
    """
    suffixes = Path(name).suffixes
    if len(suffixes) >= 2 and suffixes[-1].lower() == ".gz":
        return (suffixes[-2] + suffixes[-1]).lower()
    return suffixes[-1].lower() if suffixes else ""


def _file_items(path: Path, display: str, config: IngestConfig, info: _FileInfo) -> Iterator[Article | Skipped]:
    """Articles and skipped rows of one file, in file order."""
    size = path.stat().st_size
    if size > config.max_file_bytes:
        raise InputFormatError(f"{display}: file is {size:,} bytes, above the limit of {config.max_file_bytes:,}")
    if not path.is_file():
        raise InputFormatError(f"{display}: not a regular file")
    named = input_suffix(path.name)
    suffix = named.removesuffix(".gz")
    if suffix == ".parquet":
        yield from _parquet_items(path, display, config, info)
        return
    compressed = is_gzip(path)
    notes: tuple[str, ...] = ()
    if named.endswith(".gz") and not compressed:
        notes = ("named .gz but not gzip-compressed; read as plain text",)
        logger.warning("%s: %s", display, notes[0])
    if suffix in (".jsonl", ".csv"):
        yield from _stream_rows(path, display, config, info, csv_file=suffix == ".csv", compressed=compressed, notes=notes)
    else:
        yield from _whole_file_items(path, display, config, info, suffix, compressed=compressed, notes=notes)


def _read_bytes(path: Path, display: str, config: IngestConfig, *, compressed: bool) -> bytes:
    """The bytes of a whole file (decompressed for a gzip file, at most ``max_decompressed_bytes``)."""
    if not compressed:
        return path.read_bytes()
    with open_input(path, compressed=True, limit=config.max_decompressed_bytes, source=display) as handle:
        try:
            return handle.read()
        except StreamStoppedError as exc:  # nothing of a whole-read file is kept: the file is skipped
            raise InputFormatError(str(exc)) from exc


def _whole_file_items(path: Path, display: str, config: IngestConfig, info: _FileInfo, suffix: str, *,
                      compressed: bool = False, notes: tuple[str, ...] = ()) -> Iterator[Article | Skipped]:
    decoded = decode_bytes(_read_bytes(path, display, config, compressed=compressed), source=display)
    info.encoding, info.warnings = decoded.encoding, notes + decoded.warnings
    pack = get_pack(config.language)
    items: list[Article | Skipped]
    if suffix == ".json":
        items = [_row_item(row, display, pack) if isinstance(row, _Row) else row for row in _json_document_rows(decoded.text, display)]
    elif suffix in (".html", ".htm"):
        items = list(_read_html(decoded.text, display, pack))
    else:
        items = list(articles_from_text(decoded.text, display, language=pack))
    del decoded
    flagged = iter(flag_implausible_dates([i for i in items if isinstance(i, Article)], config.implausible_date_days))
    file_warnings = info.warnings  # said once, on the file's first article (and on the file's status row)
    for item in items:
        if isinstance(item, Article):
            article = next(flagged)
            yield _with_warnings(replace(article, encoding=info.encoding), file_warnings)
            file_warnings = ()
        else:
            yield item


def _stream_rows(path: Path, display: str, config: IngestConfig, info: _FileInfo, *, csv_file: bool,
                 compressed: bool = False, notes: tuple[str, ...] = ()) -> Iterator[Article | Skipped]:
    """Read a JSONL or CSV file row by row (three passes: encoding, dates, articles).

    A gzip file (``compressed``) is decompressed by each pass; where its data is damaged or
    too large, the first two passes end and the third stops with the reason.
    """
    limit = config.max_decompressed_bytes
    if compressed:
        found = detect_file_encoding(path, source=display, compressed=True, limit=limit)
    else:
        found = detect_file_encoding(path, source=display)
    info.encoding, info.warnings = found.encoding, notes + found.warnings

    def rows() -> Iterator[_Row | Skipped]:
        if compressed:
            lines = iter_text_lines(path, found, compressed=True, limit=limit, source=display)
        else:
            lines = iter_text_lines(path, found)
        return _csv_rows(lines, display) if csv_file else _jsonl_rows(lines, display)

    pack = get_pack(config.language)
    flags = _plausibility_flags(_until_stopped(rows()), config.implausible_date_days, pack)
    for row in rows():
        if isinstance(row, Skipped):
            yield row
            continue
        item = _row_item(row, display, pack)
        if isinstance(item, Article):
            item = _finish_row_article(item, row, found, flags.get(row.number))
        yield item


def _until_stopped(rows: Iterator[_Row | Skipped]) -> Iterator[_Row | Skipped]:
    """The rows up to where the file's data stops (the pass that yields articles reports it)."""
    try:
        yield from rows
    except StreamStoppedError:
        return


def _finish_row_article(article: Article, row: _Row, found: FileEncoding | None, flag: tuple[int, int, int] | None) -> Article:
    warnings = row.warnings + replaced_warnings(row.replaced)
    if flag is not None and article.date is not None:
        warnings += (_implausible_message(article, *flag),)
    encoding = found.encoding if found is not None else article.encoding
    return _with_warnings(replace(article, encoding=encoding), warnings)


_PARQUET_BATCH_ROWS = 256  # rows converted to Python at a time (an article may be up to max_article_chars)


def _parquet_items(path: Path, display: str, config: IngestConfig, info: _FileInfo) -> Iterator[Article | Skipped]:
    """Read a Parquet file in record batches: a first pass over text and date, then the articles."""
    columns = _parquet_columns(path, display)
    info.encoding = "utf-8"
    pack = get_pack(config.language)
    dates_pass = [name for name, key in columns.items() if key in ("text", "date")]
    flags = _plausibility_flags(_until_stopped(_parquet_rows(path, display, columns, dates_pass)),
                                config.implausible_date_days, pack)
    for row in _parquet_rows(path, display, columns, list(columns)):
        if isinstance(row, Skipped):
            yield row
            continue
        item = _row_item(row, display, pack)
        if isinstance(item, Article):
            item = _finish_row_article(replace(item, encoding="utf-8"), row, None, flags.get(row.number))
        yield item


def _parquet_file(path: Path, display: str) -> pq.ParquetFile:
    """The opened Parquet file (its footer read); a file that is not one is skipped with the reason."""
    import pyarrow.parquet as pq

    try:
        return pq.ParquetFile(path)
    except Exception as exc:  # noqa: BLE001 - a truncated or foreign file: the reason names it
        raise InputFormatError(f"{display}: not a readable Parquet file ({_describe(exc)})") from exc


def _parquet_columns(path: Path, display: str) -> dict[str, str]:
    """The file's column names, mapped to the names rows use (lower case, as for CSV headers)."""
    parquet = _parquet_file(path, display)
    try:
        names = list(parquet.schema_arrow.names)
    finally:
        _close(parquet)
    columns: dict[str, str] = {}
    for name in names:
        columns.setdefault(name, str(name).strip().lower())
    if "text" not in columns.values():
        raise InputFormatError(f"{display}: Parquet file has no 'text' column (columns: {', '.join(names) or 'none'})")
    return columns


def _parquet_rows(path: Path, display: str, columns: dict[str, str], read: list[str]) -> Iterator[_Row | Skipped]:
    """Rows of the ``read`` columns, one batch in memory at a time; damaged data stops with the reason."""
    parquet = _parquet_file(path, display)
    number = 0
    try:
        batches = iter(parquet.iter_batches(batch_size=_PARQUET_BATCH_ROWS, columns=read))
        while True:
            try:
                batch = next(batches)
            except StopIteration:
                return
            records = batch.to_pylist()
            del batch
            for record in records:
                number += 1
                yield _Row(number, f"row {number}", {columns[k]: _parquet_value(v) for k, v in record.items()})
    except Exception as exc:  # noqa: BLE001 - pyarrow's errors for damaged pages and columns
        raise StreamStoppedError(f"{display}: cannot read Parquet data after row {number:,} ({_describe(exc)})") from exc
    finally:
        _close(parquet)


def _close(parquet: pq.ParquetFile) -> None:
    close = getattr(parquet, "close", None)  # ParquetFile.close: pyarrow >= 15
    if close is not None:
        close()


def _parquet_value(value: object) -> object:
    """A Parquet cell as a row value: dates and timestamps as ISO dates."""
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def articles_from_records(records: Iterable[dict[str, object]], display: str, *, language: str | LanguagePack | None = None,
                          first_row: int = 1) -> Iterator[Article | Skipped]:
    """Rows of a table as articles, made as the readers make them from a JSONL, CSV or Parquet row.

    A row has ``text`` and optional ``id`` (default ``<display>:<row number>``), ``title``,
    ``date``, ``source``, ``url``; other columns are kept as extra columns. Missing values
    (None, NaN, NaT, ``pandas.NA``) count as absent; dates and timestamps as their calendar
    date. A row that cannot be an article is a :class:`Skipped` with the reason.

    Examples
    --------
    >>> article, skipped = articles_from_records([{"text": "Merz lobt Macron.", "date": None}, {"text": float("nan")}], "frame")
    >>> article.id, article.date, skipped.reason, skipped.location
    ('frame:1', None, "row has no 'text' (or it is empty)", 'row 2')
    """
    pack = language if isinstance(language, LanguagePack) else get_pack(language) if language else _PACK
    for number, values in enumerate(records, start=first_row):
        row = _Row(number, f"row {number}", {str(k): _record_value(v) for k, v in values.items()})
        yield _row_item(row, display, pack)


def _record_value(value: object) -> object:
    """A table cell as a row value: missing values as None, dates and timestamps as ISO dates."""
    if value is None or type(value).__name__ in ("NAType", "NaTType") or (isinstance(value, float) and value != value):
        return None
    return _parquet_value(value)


def _row_item(row: _Row, display: str, pack: LanguagePack = _PACK) -> Article | Skipped:
    """The article of one row, or the row skipped with the reason; never raises."""
    try:
        return _row_to_article(row, display, pack)
    except Exception as exc:  # noqa: BLE001 - one row never stops the file
        return Skipped(display, f"cannot read row: {_describe(exc)}", row.location)


def _row_to_article(row: _Row, display: str, pack: LanguagePack = _PACK) -> Article | Skipped:
    values = row.values
    text = values.get("text")
    if not isinstance(text, str) or not text.strip():
        return Skipped(display, "row has no 'text' (or it is empty)", row.location)
    body = strip_boilerplate(normalize_text(text), pack)
    if not body:
        return Skipped(display, "row text is only boilerplate", row.location)
    raw_date = _field(values.get("date"))
    date = parse_date(raw_date, pack)
    return Article(
        id=_field(values.get("id")) or f"{display}:{row.number}", source=_field(values.get("source")) or display,
        title=_field(values.get("title")) or _guess_title(body), date=date, text=body,
        warnings=_date_warnings(raw_date, date), url=_field(values.get("url")), path=display,
        location=row.location, extra=extra_columns(values),
    )


def _field(value: object) -> str | None:
    """A one-line field as clean text (control characters and escapes removed), or ``None``."""
    if value is None:
        return None
    return clean_field(value if isinstance(value, str) else str(value)) or None


MAX_EXTRA_CHARS = 1_000
MAX_EXTRA_COLUMNS = 50
MAX_EXTRA_NAME_CHARS = 100


def extra_columns(values: dict[str, object]) -> tuple[tuple[str, str], ...]:
    """The columns of a row that are not :data:`KNOWN_COLUMNS`, as sorted ``(name, value)`` pairs.

    Values become text (JSON for lists and objects); control characters are removed. A value
    is cut to :data:`MAX_EXTRA_CHARS` characters (ending in "…"; a raw page in an ``html``
    column must not fill the tables), and a row keeps at most :data:`MAX_EXTRA_COLUMNS`
    extra columns (the first by name).

    Examples
    --------
    >>> extra_columns({"text": "x", "section": "Politik", "author": "A\\x1b[31mB", "pages": [1, 2], "n": None})
    (('author', 'AB'), ('pages', '[1, 2]'), ('section', 'Politik'))
    """
    pairs: dict[str, str] = {}
    for key, value in values.items():
        name = clean_field(str(key))[:MAX_EXTRA_NAME_CHARS]
        if not name or name in KNOWN_COLUMNS or value is None:
            continue
        text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
        text = normalize_text(text[:MAX_EXTRA_CHARS + 1]).strip()
        pairs[name] = text if len(text) <= MAX_EXTRA_CHARS else text[:MAX_EXTRA_CHARS - 1] + "…"
    return tuple(sorted(pairs.items())[:MAX_EXTRA_COLUMNS])


def articles_from_text(raw: str, display: str, *, language: str | LanguagePack | None = None) -> list[Article]:
    """Read the text of one plain-text input, as a ``.txt`` file named ``display`` is read
    (header, date and boilerplate words of the language pack ``language``, default German).

    Examples
    --------
    >>> [(a.id, a.date) for a in articles_from_text(" date 2025-10-21 Putin sprach.", "x")]
    [('x#1', datetime.date(2025, 10, 21))]
    """
    segments = split_segments(normalize_text(raw), language)
    articles = []
    for k, seg in enumerate(segments, start=1):
        articles.append(
            Article(
                id=f"{display}#{k}", source=display, title=seg.title, date=seg.date, text=seg.text,
                warnings=_date_warnings(seg.raw_date, seg.date), path=display, location=f"line {seg.line}",
            )
        )
    return articles


def split_segments(text: str, language: str | LanguagePack | None = None) -> list[_Segment]:
    """Split the text of one file into article segments at header lines (words of the pack ``language``).

    A header line (``Title | Author. 23.10.2025.``) starts a new article and gives its
    title and date; a leading ``date 2025-10-21`` gives the date of the first article.
    Text before the first header is an article of its own if it holds prose.
    """
    pack = get_pack(language)
    header_re, prefix_re, _ = _reader_res(pack)
    lines = text.split("\n")
    segments: list[_Segment] = []
    title: str | None = None
    date: dt.date | None = None
    raw_date: str | None = None
    start_line = 1
    body: list[str] = []

    prefix = prefix_re.match(lines[0]) if lines else None
    if prefix:
        raw_date = prefix.group("date")
        date = parse_date(raw_date, pack)
        lines[0] = lines[0][prefix.end():]

    def close() -> None:
        body_text = strip_boilerplate("\n".join(body), pack)
        if not body_text and not title:
            return
        full = f"{title}\n\n{body_text}" if title and body_text else (title or body_text)
        seg_date, seg_raw = date, raw_date
        if seg_date is None and seg_raw is None:
            seg_date, seg_raw = _date_from_top_lines(body, pack)
        segments.append(_Segment(title or _guess_title(body_text), seg_date, full.strip(), start_line, seg_raw))

    for number, line in enumerate(lines, start=1):
        header = header_re.match(line.strip()) if len(line) < 400 else None
        if header:
            close()
            title = header.group("title").strip().rstrip(".")
            raw_date = header.group("date")
            date = parse_date(raw_date, pack)
            start_line = number
            body = []
        else:
            body.append(line)
    close()
    return segments


def _date_from_top_lines(lines: list[str], pack: LanguagePack = _PACK) -> tuple[dt.date | None, str | None]:
    stand_re = _reader_res(pack)[2]
    for line in lines[:15]:
        match = stand_re.match(line)
        if match:
            return parse_date(match.group("date"), pack), match.group("date")
    return None, None


def _guess_title(text: str) -> str | None:
    """The first short line without a final full stop (a headline), else the first line cut."""
    lines = [ln.strip() for ln in text.split("\n") if ln.strip()]
    for line in lines[:2]:
        if len(line) <= 200 and not line.endswith((".", "!", "?", ":")) and len(line.split()) >= 3:
            return line
    if not lines:
        return None
    first = lines[0]
    return first if len(first) <= 120 else first[:117].rsplit(" ", 1)[0] + " …"


def _read_html(raw: str, display: str, pack: LanguagePack = _PACK) -> list[Article]:
    """The article of one HTML page (none when it has no text)."""
    date = _html_meta_date(raw)
    text, title = html_to_text(raw)
    text = strip_boilerplate(normalize_text(text), pack)
    if not text:
        return []
    if date is None:
        date, _ = _date_from_top_lines([line.strip() for line in text.split("\n") if line.strip()], pack)
    return [Article(id=f"{display}#1", source=display, title=title or _guess_title(text), date=date, text=text, path=display, location="line 1")]


# Both searched in linear time: a tag stops at the next "<", an attribute name starts a run of name characters.
_META_TAG_RE = re.compile(r"<meta\b[^<>]*>", re.IGNORECASE)
_META_ATTR_RE = re.compile(r"""(?<![\w:-])([\w:-]+)\s*=\s*["']([^"']*)["']""")
_META_DATE_KEYS = frozenset({"article:published_time", "date", "pubdate", "datepublished", "dc.date"})


def _html_meta_date(raw: str) -> dt.date | None:
    """The publication date of a ``<meta>`` tag, whatever the order of its attributes."""
    for tag in _META_TAG_RE.findall(raw):
        attrs = {k.lower(): v for k, v in _META_ATTR_RE.findall(tag)}
        key = (attrs.get("property") or attrs.get("name") or attrs.get("itemprop") or "").lower()
        if key in _META_DATE_KEYS and attrs.get("content"):
            return parse_date(attrs["content"])
    return None


def _jsonl_rows(lines: Iterable[tuple[str, int]], display: str) -> Iterator[_Row | Skipped]:
    """One :class:`_Row` per JSON object line; a line that is not one is skipped with the reason."""
    for number, (line, replaced) in enumerate(lines, start=1):
        line = line.strip()
        if not line:
            continue
        location = f"line {number}"
        try:
            value = json.loads(line)
        except json.JSONDecodeError as exc:
            yield Skipped(display, f"invalid JSON: {exc.msg} (column {exc.colno})", location)
            continue
        except RecursionError:
            yield Skipped(display, "invalid JSON: nested too deeply", location)
            continue
        except Exception as exc:  # noqa: BLE001 - e.g. ValueError for an integer of thousands of digits
            yield Skipped(display, f"invalid JSON: {_describe(exc)}", location)
            continue
        if not isinstance(value, dict):
            yield Skipped(display, f"expected a JSON object, got {type(value).__name__}", location)
            continue
        yield _Row(number, location, value, replaced)


def _json_document_rows(text: str, display: str) -> Iterator[_Row | Skipped]:
    """Rows of a ``.json`` file: an array of article objects, an object with an ``articles`` list, or one article."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputFormatError(f"{display}: invalid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})") from exc
    except RecursionError as exc:
        raise InputFormatError(f"{display}: invalid JSON: nested too deeply") from exc
    items: object = value
    if isinstance(value, dict):
        items = value.get("articles") if isinstance(value.get("articles"), list) else [value] if "text" in value else None
    if not isinstance(items, list):
        raise InputFormatError(f"{display}: expected a JSON array of article objects or an object with an "
                               f"'articles' list, got {type(value).__name__}")
    for number, item in enumerate(items, start=1):
        location = f"item {number}"
        if isinstance(item, dict):
            yield _Row(number, location, item)
        else:
            yield Skipped(display, f"expected a JSON object, got {type(item).__name__}", location)


_CSV_DELIMITERS = (",", ";", "\t", "|")
_MAX_RECORD_LINES = 10_000  # a quoted field spanning more lines is taken for an unterminated quote


class _RecordTooLongError(csv.Error):
    """Raised by :class:`_LineSource` to stop a quoted field that never ends."""


class _LineSource:
    """The lines of a CSV file for :func:`csv.reader`, with push-back and the lines of each record."""

    def __init__(self, lines: Iterable[tuple[str, int]]) -> None:
        self._lines = iter(lines)
        self._pending: deque[tuple[int, str, int]] = deque()
        self._count = 0
        self.used: list[tuple[int, str, int]] = []
        self.hit_end = False
        self.delimiter = ","

    def __iter__(self) -> _LineSource:
        return self

    def __next__(self) -> str:
        if self._pending:
            item = self._pending.popleft()
        else:
            try:
                line, replaced = next(self._lines)
            except StopIteration:
                self.hit_end = True
                raise
            self._count += 1
            item = (self._count, line, replaced)
        if len(self.used) >= _MAX_RECORD_LINES:
            raise _RecordTooLongError(f"a quoted field spans more than {_MAX_RECORD_LINES:,} lines")
        self.used.append(item)
        return item[1]

    def take(self) -> tuple[list[tuple[int, str, int]], bool]:
        """The lines used since the last call, and whether the end of the file was reached."""
        used, hit_end = self.used, self.hit_end
        self.used, self.hit_end = [], False
        return used, hit_end

    def push_back(self, items: Sequence[tuple[int, str, int]]) -> None:
        self._pending.extendleft(reversed(items))


def _csv_rows(lines: Iterable[tuple[str, int]], display: str) -> Iterator[_Row | Skipped]:
    """Rows of a CSV file, recovered one by one: a bad row is skipped and reading goes on.

    A ``csv.Error`` (a lone CR in an unquoted field) skips that row. When a quote joins
    lines that are not one row (see :func:`_multiline_problem`), only the line where the
    quote opened is skipped and the lines after it are read again as rows, so rows never
    merge silently and every line is a row, part of a row or a skip.
    """
    csv.field_size_limit(min(sys.maxsize, 2**31 - 1))
    source = _LineSource(lines)
    source.delimiter, columns = _csv_header(source, display)
    reader = csv.reader(source, delimiter=source.delimiter)
    while True:
        try:
            fields = next(reader)
        except StopIteration:
            return
        except _RecordTooLongError as exc:
            used, _ = source.take()
            source.push_back(used[1:])
            yield Skipped(display, f"{exc}; only this line is skipped, the next lines are read as rows", _lines_location(used[:1]))
            continue
        except csv.Error as exc:
            used, _ = source.take()
            yield Skipped(display, f"CSV error: {exc}; the row is skipped", _lines_location(used))
            continue
        used, hit_end = source.take()
        if fields and used:
            yield _csv_record(fields, used, hit_end, columns, display, source)


def _csv_record(fields: list[str], used: list[tuple[int, str, int]], hit_end: bool, columns: list[str],
                display: str, source: _LineSource) -> _Row | Skipped:
    first = used[0][0]
    if len(used) > 1:
        problem = _multiline_problem(used, hit_end, columns, len(fields), source.delimiter)
        if problem is not None:
            source.push_back(used[1:])
            return Skipped(display, f"{problem}; only this line is skipped, the next lines are read as rows", f"line {first}")
    warnings: tuple[str, ...] = ()
    if len(fields) > len(columns):
        warnings = (f"row has {len(fields)} fields, the header has {len(columns)}; the extra fields are ignored",)
    values: dict[str, object] = dict(zip(columns, fields))
    return _Row(first, _lines_location(used), values, sum(u[2] for u in used), warnings)


def _multiline_problem(used: list[tuple[int, str, int]], hit_end: bool, columns: list[str], n_fields: int,
                       delimiter: str) -> str | None:
    """Why a row that spans several lines is not one row (``None`` if it is one).

    A quoted field may hold line breaks, and a row may have fewer or more fields than the
    header, or spaces after a closing quote, as single-line rows may. A stray quote that
    joined rows shows as a quote running to the end of the file, or as a quote closed in the
    middle of a field (invalid in strict CSV).
    """
    if hit_end:
        return "unterminated quote (a quoted field runs to the end of the file)"
    after_quote = re.compile(rf'"[ \t]+(?={re.escape(delimiter)}|\r?\n?$)')
    try:
        list(csv.reader([after_quote.sub('"', line) for _, line, _ in used], delimiter=delimiter, strict=True))
    except csv.Error:
        return (f"a quote opened on this line closes inside a field on line {used[-1][0]} and joins "
                f"{_lines_location(used)} into a row of {n_fields} fields (a stray quote)")
    return None


def _lines_location(used: Sequence[tuple[int, str, int]]) -> str:
    if not used:
        return "end of file"
    first, last = used[0][0], used[-1][0]
    return f"line {first}" if first == last else f"lines {first}-{last}"


def _csv_header(source: _LineSource, display: str) -> tuple[str, list[str]]:
    """Find the delimiter (``,``, ``;``, tab or ``|``) as the one whose header has a ``text`` column."""
    try:
        first = next(source)
    except StopIteration:
        first = ""
    source.take()
    for delimiter in _CSV_DELIMITERS:
        columns = [c.strip().lower() for c in next(csv.reader([first], delimiter=delimiter), [])]
        if "text" in columns:
            return delimiter, columns
    columns = [c.strip().lower() for c in next(csv.reader([first]), [])]
    raise InputFormatError(f"{display}: CSV has no 'text' column (columns: {', '.join(columns) or 'none'})")


def _plausibility_flags(rows: Iterable[_Row | Skipped], max_days: int, pack: LanguagePack = _PACK) -> dict[int, tuple[int, int, int]]:
    """First pass over a streamed file: keep only each row's date, return the implausible ones.

    Maps a row number to ``(gap, lo, hi)``; rows with text and a valid date take part, as
    the articles of a file do in :func:`flag_implausible_dates`.
    """
    numbers: array[int] = array("q")
    ordinals: array[int] = array("q")
    for row in rows:
        if not isinstance(row, _Row):
            continue
        ordinal = _row_ordinal(row, pack)
        if ordinal is not None:
            numbers.append(row.number)
            ordinals.append(ordinal)
    return {numbers[i]: flag for i, flag in _implausible(ordinals, max_days).items()}


def _row_ordinal(row: _Row, pack: LanguagePack = _PACK) -> int | None:
    text = row.values.get("text")
    if not isinstance(text, str) or not text.strip():
        return None
    try:
        date = parse_date(_field(row.values.get("date")), pack)
    except Exception:  # noqa: BLE001 - the row is reported in the second pass
        return None
    return None if date is None else date.toordinal()


def flag_implausible_dates(articles: list[Article], max_days: int) -> list[Article]:
    """Warn about dates far from the median date of the other articles of the same file.

    The date is kept as written; the article gets a warning that the report shows. The
    dates are sorted once, so a file of n articles takes O(n log n) time.

    Examples
    --------
    >>> a = [Article(id=str(i), source="f", title=None, date=dt.date(y, 10, 20), text="x") for i, y in enumerate((2025, 2026, 2025))]
    >>> [len(x.warnings) for x in flag_implausible_dates(a, 120)]
    [0, 1, 0]
    """
    dated = [(k, a.date.toordinal()) for k, a in enumerate(articles) if a.date is not None]
    flags = _implausible([ordinal for _, ordinal in dated], max_days)
    if not flags:
        return articles
    result = list(articles)
    for index, (gap, lo, hi) in flags.items():
        position = dated[index][0]
        message = _implausible_message(articles[position], gap, lo, hi)
        logger.info("%s: %s", articles[position].id, message)
        result[position] = _with_warnings(articles[position], (message,))
    return result


def _implausible(ordinals: Sequence[int], max_days: int) -> dict[int, tuple[int, int, int]]:
    """Positions whose date lies more than ``max_days`` from the median of the others.

    Returns ``{position: (gap, lo, hi)}``: the gap in days and the range of the other
    dates. The median of "all but one" is read off one sorted copy, so this is O(n log n).
    """
    m = len(ordinals)
    if m < 3:
        return {}
    ordered = sorted(ordinals)
    k = (m - 2) // 2  # index of the low median among the m - 1 others
    flags: dict[int, tuple[int, int, int]] = {}
    for position, value in enumerate(ordinals):
        removed = bisect.bisect_left(ordered, value)
        median = ordered[k] if k < removed else ordered[k + 1]
        gap = abs(value - median)
        if gap > max_days:
            lo = ordered[1] if removed == 0 else ordered[0]
            hi = ordered[-2] if removed == m - 1 else ordered[-1]
            flags[position] = (gap, lo, hi)
    return flags


def _implausible_message(article: Article, gap: int, lo: int, hi: int) -> str:
    date = article.date.isoformat() if article.date else "?"
    first, last = dt.date.fromordinal(lo).isoformat(), dt.date.fromordinal(hi).isoformat()
    return (f"implausible date {date}: the other articles of {article.source} "
            f"are dated {first} to {last} ({gap} days from their median); kept as written")


_SHINGLE_BASE = np.uint64(0x9E3779B97F4A7C15)  # odd 64-bit multiplier (golden ratio) for the shingle hash
_WORD_RE = re.compile(r"\w+")
_SPACE_RE = re.compile(r"\s")
_CHUNK_CHARS = 1 << 20  # text is hashed in slices of about this many characters
_CUT_SEARCH = 1 << 16  # how far past a slice end to look for a space to cut at
_XOR_ROWS = 16384  # shingles combined with the 64 masks at a time (8 MB)


def _word_chunks(text: str) -> Iterator[list[str]]:
    """The case-folded words of a text, slice by slice (cut at a space), so memory stays bounded."""
    start = 0
    while start < len(text):
        end = start + _CHUNK_CHARS
        if end < len(text):
            space = _SPACE_RE.search(text, end, end + _CUT_SEARCH)
            end = space.start() if space else end
        yield _WORD_RE.findall(text[start:end].casefold())
        start = end


def _word_hashes(words: list[str]) -> np.ndarray:
    """CRC-32 of each word (each distinct word hashed once)."""
    table = {word: zlib.crc32(word.encode("utf-8")) for word in set(words)}
    return np.fromiter(map(table.__getitem__, words), dtype=np.uint64, count=len(words))


def _shingle_hashes(word_hashes: np.ndarray, width: int) -> np.ndarray:
    """Distinct hashes of the ``width``-word shingles (64-bit polynomial of the word hashes)."""
    count = len(word_hashes) - width + 1
    with np.errstate(over="ignore"):
        hashes = np.full(count, np.uint64(width), dtype=np.uint64)
        for j in range(width):
            hashes = hashes * _SHINGLE_BASE + word_hashes[j:j + count] + np.uint64(1)
    return np.unique(hashes)


class DuplicateDetector:
    """Mark articles whose text repeats an earlier one, exactly or nearly.

    Texts are compared after folding case, punctuation and whitespace; near-duplicates
    are found with MinHash signatures over word shingles and banded lookup, so memory is
    a few hundred bytes per article and the check is independent of corpus size. A long
    text is hashed slice by slice, so even a 200 MB article needs only a few MB.

    Examples
    --------
    >>> detector = DuplicateDetector()
    >>> make = lambda i, text: Article(id=i, source="s", title=None, date=None, text=text)
    >>> detector.check(make("a", "Putin sprach lange mit Trump über die Ukraine.")) is None
    True
    >>> detector.check(make("b", "PUTIN sprach lange mit Trump über die Ukraine!"))
    'a'
    """

    _N_HASHES = 64
    _BANDS = 16

    def __init__(self, config: IngestConfig | None = None) -> None:
        self.config = config or IngestConfig()
        rng = np.random.default_rng(20251021)
        self._masks = rng.integers(0, 2**63 - 1, size=self._N_HASHES, dtype=np.int64).astype(np.uint64)
        # Compact per article (about 2 KB): ids by number, signatures as rows of one array,
        # band keys as 64-bit integers (a collision only adds a candidate that is then compared).
        self._ids: list[str] = []
        self._exact: dict[bytes, int] = {}
        self._bands: dict[int, int | list[int]] = {}
        self._signatures = np.empty((0, self._N_HASHES), dtype=np.uint64)
        mix = rng.integers(0, 2**63 - 1, size=(2, self._N_HASHES // self._BANDS), dtype=np.int64).astype(np.uint64)
        self._band_mix = mix[0] | np.uint64(1)
        self._band_salt = np.arange(self._BANDS, dtype=np.uint64) * mix[1][0]

    def check(self, article: Article) -> str | None:
        """Return the id of the earlier article this one duplicates, else register it."""
        key, signature = self._fingerprint(article.text)
        exact = bytes.fromhex(key)
        if exact in self._exact:
            return self._ids[self._exact[exact]]
        band_keys = self._band_keys(signature)
        for band_key in band_keys:
            found = self._bands.get(band_key)
            for other in (found,) if isinstance(found, int) else found or ():
                similarity = float(np.mean(self._signatures[other] == signature))
                if similarity >= self.config.near_duplicate_jaccard:
                    return self._ids[other]
        number = len(self._ids)
        self._ids.append(article.id)
        self._exact[exact] = number
        if number == len(self._signatures):  # grow by doubling
            grown = np.empty((max(64, 2 * number), self._N_HASHES), dtype=np.uint64)
            grown[:number] = self._signatures
            self._signatures = grown
        self._signatures[number] = signature
        for band_key in band_keys:
            found = self._bands.get(band_key)
            if found is None:
                self._bands[band_key] = number
            elif isinstance(found, int):
                self._bands[band_key] = [found, number]
            else:
                found.append(number)
        return None

    def _band_keys(self, signature: np.ndarray) -> list[int]:
        """One 64-bit key per band: its hashes mixed by fixed odd multipliers (wrapping), plus the band."""
        bands = signature.reshape(self._BANDS, -1) * self._band_mix  # uint64 arithmetic wraps
        keys: list[int] = (bands.sum(axis=1, dtype=np.uint64) ^ self._band_salt).tolist()
        return keys

    def exact_key(self, text: str) -> str:
        """The key of exact duplicates: SHA-1 of the folded words (as :meth:`check` compares them).

        Examples
        --------
        >>> detector = DuplicateDetector()
        >>> detector.exact_key("Putin sprach.") == detector.exact_key("PUTIN  sprach!")
        True
        """
        digest = hashlib.sha1()
        total = 0
        for words in _word_chunks(text):
            if words:
                digest.update(((" " if total else "") + " ".join(words)).encode("utf-8"))
                total += len(words)
        return digest.hexdigest()

    def _fingerprint(self, text: str) -> tuple[str, np.ndarray]:
        """SHA-1 of the folded words, and the MinHash signature of their ``shingle_words``-grams.

        Each distinct word is hashed once (CRC-32), a shingle's hash combines its words'
        hashes (64-bit polynomial), and each of the 64 hash functions is that hash XOR a
        fixed mask. Slices carry their last words over, so no shingle is lost at a cut.
        """
        n = self.config.shingle_words
        digest = hashlib.sha1()
        minimum = np.full(self._N_HASHES, np.iinfo(np.uint64).max, dtype=np.uint64)
        carry = np.empty(0, dtype=np.uint64)
        total = 0
        for words in _word_chunks(text):
            if not words:
                continue
            digest.update(((" " if total else "") + " ".join(words)).encode("utf-8"))
            total += len(words)
            hashes = np.concatenate([carry, _word_hashes(words)])
            if len(hashes) >= n:
                self._lower(minimum, _shingle_hashes(hashes, n))
            carry = hashes[max(0, len(hashes) - (n - 1)):]
        if total < n:  # a short text is one shingle of all its words (the empty text one empty word)
            words_hashes = carry if total else np.array([zlib.crc32(b"")], dtype=np.uint64)
            self._lower(minimum, _shingle_hashes(words_hashes, len(words_hashes)))
        return digest.hexdigest(), minimum

    def _lower(self, minimum: np.ndarray, hashes: np.ndarray) -> None:
        """Lower the signature to the minimum of each masked hash, a block of shingles at a time."""
        for start in range(0, len(hashes), _XOR_ROWS):
            block = hashes[start:start + _XOR_ROWS]
            np.minimum(minimum, np.bitwise_xor(block[:, None], self._masks[None, :]).min(axis=0), out=minimum)
