"""Stage 2, articles: inputs -> :class:`~stance.records.Article` records.

Reads files and folders (``.txt``, ``.md``, ``.html``, ``.jsonl``, ``.csv``), splits files
that hold several articles at their header lines, parses dates, flags dates that do not
fit their neighbours, and marks duplicate articles. Every input file ends up in the result
as read or skipped, with the reason.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import logging
import re
import statistics
import sys
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from .config import IngestConfig
from .dates import DATE_PATTERN, parse_date
from .errors import InputFormatError
from .records import Article, Corpus, Skipped, SourceFile
from .resources import sample_corpus_dir, sample_corpus_files
from .text import decode_bytes, html_to_text, normalize_text, strip_boilerplate

logger = logging.getLogger(__name__)

# "Title | Vitaly Portnikov. 23.10.2025."  or  "Title. Kolumne von Vitaly Portnikov. 18.10.2025"
_HEADER_RE = re.compile(
    r"^(?P<title>\S.{1,300}?)\s*(?:\|\s*|[.:]\s+(?:Eine\s+)?(?:Kolumne|Kommentar|Analyse|Essay|Gastbeitrag|Meinung)\s+von\s+)"
    rf"(?P<byline>[^|\n]{{2,80}}?)[.,]?\s+(?P<date>{DATE_PATTERN})\.?\s*$",
    re.IGNORECASE,
)
# " date 2025-10-21 Ein Treffen ..." at the very start of a file.
# A month alone (" date 2024-07") is stripped too; the article stays undated (never guessed).
_DATE_PREFIX_RE = re.compile(rf"^\s*(?:date|datum)\s*:?\s+(?P<date>{DATE_PATTERN}|\d{{4}}-\d{{1,2}}(?![\d-]))\s*", re.IGNORECASE)
_MONTH_ONLY_RE = re.compile(r"^\d{4}-\d{1,2}$")
# "Stand: 21.10.2025, 14:30 Uhr" / "Veröffentlicht am 21. Oktober 2025" near the top of a web page.
_STAND_RE = re.compile(rf"^\s*(?:Stand|Veröffentlicht(?: am)?|Aktualisiert(?: am)?|Datum)\s*:?\s*(?P<date>{DATE_PATTERN})", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class _Segment:
    title: str | None
    date: dt.date | None
    text: str
    line: int
    raw_date: str | None = None


def load_articles(*paths: str | Path, config: IngestConfig | None = None) -> Corpus:
    """Read files and folders into a :class:`~stance.records.Corpus`.

    With no path, the bundled sample corpus is read. Folders are searched recursively
    for ``*.txt``, ``*.md``, ``*.html``, ``*.jsonl`` and ``*.csv``. Nothing raises for bad
    input: unreadable, empty or binary files and bad rows are listed in ``.skipped``.

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

    Duplicates are marked against everything seen earlier in the stream, so memory
    stays flat: only a short signature per article is kept.
    """
    config = config or IngestConfig()
    detector = DuplicateDetector(config)
    seen_ids: set[str] = set()
    for path, display in _expand_inputs(paths, config):
        if path is None:
            yield from _skip_file(display, "path does not exist")
            continue
        try:
            articles, row_skips, encoding = _read_file(path, display, config)
        except InputFormatError as exc:
            yield from _skip_file(display, str(exc).removeprefix(f"{display}: "))
            continue
        except OSError as exc:
            yield from _skip_file(display, f"cannot read file: {exc.strerror or exc}")
            continue
        yield from row_skips
        articles = flag_implausible_dates(articles, config.implausible_date_days)
        count = 0
        for article in articles:
            article = _unique_id(article, seen_ids)
            original = detector.check(article)
            if original is not None:
                article = replace(article, duplicate_of=original)
            count += 1
            yield article
        status = "read" if count else "skipped"
        empty_reason = None if count else "no article text found"
        if not count and not row_skips:
            yield Skipped(display, "no article text found")
        yield SourceFile(display, status, articles=count, reason=empty_reason, encoding=encoding)


def _skip_file(display: str, reason: str) -> Iterator[Skipped | SourceFile]:
    yield Skipped(display, reason)
    yield SourceFile(display, "skipped", reason=reason)


def _date_warnings(raw_date: str | None, date: dt.date | None) -> tuple[str, ...]:
    """A warning when a date was given but is not a valid date (the article stays undated)."""
    if raw_date and date is None:
        if _MONTH_ONLY_RE.match(raw_date):
            return (f"date {raw_date!r} gives only a month; the article is treated as undated",)
        return (f"date {raw_date!r} is not a valid date; the article is treated as undated",)
    return ()


def _unique_id(article: Article, seen: set[str]) -> Article:
    new_id, n = article.id, 1
    while new_id in seen:
        n += 1
        new_id = f"{article.id}~{n}"
    seen.add(new_id)
    return article if new_id == article.id else replace(article, id=new_id)


def _expand_inputs(paths: Iterable[str | Path], config: IngestConfig) -> Iterator[tuple[Path | None, str]]:
    """Yield ``(path, display name)`` for every input file; ``None`` marks a missing path."""
    given = list(paths)
    if not given:
        base = sample_corpus_dir().parent
        for file in sample_corpus_files():
            yield file, file.relative_to(base).as_posix()
        return
    for raw in given:
        path = Path(raw)
        if path.is_dir():
            found = sorted(
                p for p in path.rglob("*")
                if p.suffix.lower() in config.suffixes and not any(part.startswith(".") for part in p.relative_to(path).parts)
            )
            for file in found:
                yield file, (Path(path.name) / file.relative_to(path)).as_posix()
        elif path.exists():
            yield path, path.name
        else:
            yield None, str(raw)


def _read_file(path: Path, display: str, config: IngestConfig) -> tuple[list[Article], list[Skipped], str]:
    size = path.stat().st_size
    if size > config.max_file_bytes:
        raise InputFormatError(f"{display}: file is {size:,} bytes, above the limit of {config.max_file_bytes:,}")
    if not path.is_file():
        raise InputFormatError(f"{display}: not a regular file")
    decoded = decode_bytes(path.read_bytes(), source=display)
    suffix = path.suffix.lower()
    if suffix == ".jsonl":
        articles, skips = _read_records(_jsonl_rows(decoded.text, display), display)
    elif suffix == ".csv":
        articles, skips = _read_records(_csv_rows(decoded.text, display), display)
    elif suffix in (".html", ".htm"):
        articles, skips = _read_html(decoded.text, display), []
    else:
        articles, skips = articles_from_text(decoded.text, display), []
    return articles, skips, decoded.encoding


def articles_from_text(raw: str, display: str) -> list[Article]:
    """Read the text of one plain-text input, as a ``.txt`` file named ``display`` is read.

    Examples
    --------
    >>> [(a.id, a.date) for a in articles_from_text(" date 2025-10-21 Putin sprach.", "x")]
    [('x#1', datetime.date(2025, 10, 21))]
    """
    segments = split_segments(normalize_text(raw))
    articles = []
    for k, seg in enumerate(segments, start=1):
        articles.append(
            Article(
                id=f"{display}#{k}", source=display, title=seg.title, date=seg.date, text=seg.text,
                warnings=_date_warnings(seg.raw_date, seg.date), path=display, location=f"line {seg.line}",
            )
        )
    return articles


def split_segments(text: str) -> list[_Segment]:
    """Split the text of one file into article segments at header lines.

    A header line (``Title | Author. 23.10.2025.``) starts a new article and gives its
    title and date; a leading ``date 2025-10-21`` gives the date of the first article.
    Text before the first header is an article of its own if it holds prose.
    """
    lines = text.split("\n")
    segments: list[_Segment] = []
    title: str | None = None
    date: dt.date | None = None
    raw_date: str | None = None
    start_line = 1
    body: list[str] = []

    prefix = _DATE_PREFIX_RE.match(lines[0]) if lines else None
    if prefix:
        raw_date = prefix.group("date")
        date = parse_date(raw_date)
        lines[0] = lines[0][prefix.end():]

    def close() -> None:
        body_text = strip_boilerplate("\n".join(body))
        if not body_text and not title:
            return
        full = f"{title}\n\n{body_text}" if title and body_text else (title or body_text)
        seg_date, seg_raw = date, raw_date
        if seg_date is None and seg_raw is None:
            seg_date, seg_raw = _date_from_top_lines(body)
        segments.append(_Segment(title or _guess_title(body_text), seg_date, full.strip(), start_line, seg_raw))

    for number, line in enumerate(lines, start=1):
        header = _HEADER_RE.match(line.strip()) if len(line) < 400 else None
        if header:
            close()
            title = header.group("title").strip().rstrip(".")
            raw_date = header.group("date")
            date = parse_date(raw_date)
            start_line = number
            body = []
        else:
            body.append(line)
    close()
    return segments


def _date_from_top_lines(lines: list[str]) -> tuple[dt.date | None, str | None]:
    for line in lines[:15]:
        match = _STAND_RE.match(line)
        if match:
            return parse_date(match.group("date")), match.group("date")
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


def _read_html(raw: str, display: str) -> list[Article]:
    date = _html_meta_date(raw)
    text, title = html_to_text(raw)
    text = strip_boilerplate(normalize_text(text))
    if not text:
        return []
    if date is None:
        date, _ = _date_from_top_lines([line.strip() for line in text.split("\n") if line.strip()])
    return [Article(id=f"{display}#1", source=display, title=title or _guess_title(text), date=date, text=text, path=display, location="line 1")]


_META_TAG_RE = re.compile(r"<meta\b[^>]*>", re.IGNORECASE)
_META_ATTR_RE = re.compile(r"""([\w:-]+)\s*=\s*["']([^"']*)["']""")
_META_DATE_KEYS = frozenset({"article:published_time", "date", "pubdate", "datepublished", "dc.date"})


def _html_meta_date(raw: str) -> dt.date | None:
    """The publication date of a ``<meta>`` tag, whatever the order of its attributes."""
    for tag in _META_TAG_RE.findall(raw):
        attrs = {k.lower(): v for k, v in _META_ATTR_RE.findall(tag)}
        key = (attrs.get("property") or attrs.get("name") or attrs.get("itemprop") or "").lower()
        if key in _META_DATE_KEYS and attrs.get("content"):
            return parse_date(attrs["content"])
    return None


def _jsonl_rows(text: str, display: str) -> Iterator[tuple[int, dict[str, object] | Skipped]]:
    for number, line in enumerate(text.split("\n"), start=1):
        line = line.strip()
        if not line:
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            yield number, Skipped(display, f"invalid JSON: {exc.msg} (column {exc.colno})", f"line {number}")
            continue
        if not isinstance(row, dict):
            yield number, Skipped(display, f"expected a JSON object, got {type(row).__name__}", f"line {number}")
            continue
        yield number, row


def _csv_rows(text: str, display: str) -> Iterator[tuple[int, dict[str, object] | Skipped]]:
    csv.field_size_limit(min(sys.maxsize, 2**31 - 1))
    reader = csv.DictReader(io.StringIO(text))
    columns = [c.strip().lower() for c in (reader.fieldnames or [])]
    if "text" not in columns:
        raise InputFormatError(f"{display}: CSV has no 'text' column (columns: {', '.join(columns) or 'none'})")
    try:
        for row in reader:
            number = reader.line_num
            clean = {(k or "").strip().lower(): v for k, v in row.items() if k is not None}
            yield number, clean
    except csv.Error as exc:
        yield reader.line_num, Skipped(display, f"CSV error: {exc}", f"line {reader.line_num}")


def _read_records(rows: Iterable[tuple[int, dict[str, object] | Skipped]], display: str) -> tuple[list[Article], list[Skipped]]:
    articles: list[Article] = []
    skips: list[Skipped] = []
    for number, row in rows:
        if isinstance(row, Skipped):
            skips.append(row)
            continue
        text = row.get("text")
        if not isinstance(text, str) or not text.strip():
            skips.append(Skipped(display, "row has no 'text' (or it is empty)", f"line {number}"))
            continue
        body = strip_boilerplate(normalize_text(text))
        if not body:
            skips.append(Skipped(display, "row text is only boilerplate", f"line {number}"))
            continue
        raw_date = _str_or_none(row.get("date"))
        date = parse_date(raw_date)
        row_id = _str_or_none(row.get("id"))
        title = _str_or_none(row.get("title"))
        articles.append(
            Article(
                id=row_id or f"{display}:{number}", source=_str_or_none(row.get("source")) or display,
                title=title or _guess_title(body), date=date, text=body, warnings=_date_warnings(raw_date, date),
                url=_str_or_none(row.get("url")), path=display, location=f"line {number}",
            )
        )
    return articles, skips


def _str_or_none(value: object) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def flag_implausible_dates(articles: list[Article], max_days: int) -> list[Article]:
    """Warn about dates far from the median date of the other articles of the same file.

    The date is kept as written; the article gets a warning that the report shows.

    Examples
    --------
    >>> a = [Article(id=str(i), source="f", title=None, date=dt.date(y, 10, 20), text="x") for i, y in enumerate((2025, 2026, 2025))]
    >>> [len(x.warnings) for x in flag_implausible_dates(a, 120)]
    [0, 1, 0]
    """
    dated = [a for a in articles if a.date is not None]
    if len(dated) < 3:
        return articles
    result = []
    for article in articles:
        if article.date is None:
            result.append(article)
            continue
        others = sorted(a.date.toordinal() for a in dated if a is not article and a.date is not None)
        median = int(statistics.median_low(others))
        gap = abs(article.date.toordinal() - median)
        if gap > max_days:
            lo, hi = dt.date.fromordinal(others[0]), dt.date.fromordinal(others[-1])
            message = (
                f"implausible date {article.date.isoformat()}: the other articles of {article.source} "
                f"are dated {lo.isoformat()} to {hi.isoformat()} ({gap} days from their median); kept as written"
            )
            logger.info("%s: %s", article.id, message)
            article = replace(article, warnings=article.warnings + (message,))
        result.append(article)
    return result


_SHINGLE_BASE = np.uint64(0x9E3779B97F4A7C15)  # odd 64-bit multiplier (golden ratio) for the shingle hash


class DuplicateDetector:
    """Mark articles whose text repeats an earlier one, exactly or nearly.

    Texts are compared after folding case, punctuation and whitespace; near-duplicates
    are found with MinHash signatures over word shingles and banded lookup, so memory is
    a few hundred bytes per article and the check is independent of corpus size.
    """

    _N_HASHES = 64
    _BANDS = 16

    def __init__(self, config: IngestConfig | None = None) -> None:
        self.config = config or IngestConfig()
        rng = np.random.default_rng(20251021)
        self._masks = rng.integers(0, 2**63 - 1, size=self._N_HASHES, dtype=np.int64).astype(np.uint64)
        self._exact: dict[str, str] = {}
        self._bands: dict[bytes, list[str]] = {}
        self._signatures: dict[str, np.ndarray] = {}

    def check(self, article: Article) -> str | None:
        """Return the id of the earlier article this one duplicates, else register it."""
        words = re.findall(r"\w+", article.text.casefold())
        key = hashlib.sha1(" ".join(words).encode("utf-8")).hexdigest()
        if key in self._exact:
            return self._exact[key]
        signature = self._signature(words)
        rows = self._N_HASHES // self._BANDS
        band_keys = [bytes([b]) + signature[b * rows:(b + 1) * rows].tobytes() for b in range(self._BANDS)]
        for band_key in band_keys:
            for other in self._bands.get(band_key, ()):
                similarity = float(np.mean(self._signatures[other] == signature))
                if similarity >= self.config.near_duplicate_jaccard:
                    return other
        self._exact[key] = article.id
        self._signatures[article.id] = signature
        for band_key in band_keys:
            self._bands.setdefault(band_key, []).append(article.id)
        return None

    def _signature(self, words: list[str]) -> np.ndarray:
        """MinHash signature of the text's word ``shingle_words``-grams, computed on arrays:
        each distinct word is hashed once (CRC-32), a shingle's hash combines its words' hashes
        (64-bit polynomial), and each of the 64 hash functions is that hash XOR a fixed mask."""
        n = self.config.shingle_words
        if not words:
            words = [""]
        unique, inverse = np.unique(np.asarray(words, dtype=str), return_inverse=True)
        word_hashes = np.fromiter((zlib.crc32(w.encode("utf-8")) for w in unique.tolist()), dtype=np.uint64,
                                  count=len(unique))[inverse.reshape(-1)]
        width = min(n, len(words))
        count = len(words) - width + 1
        with np.errstate(over="ignore"):
            hashes = np.full(count, np.uint64(width), dtype=np.uint64)
            for j in range(width):
                hashes = hashes * _SHINGLE_BASE + word_hashes[j:j + count] + np.uint64(1)
        hashes = np.unique(hashes)
        return np.bitwise_xor(hashes[:, None], self._masks[None, :]).min(axis=0)
