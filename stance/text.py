"""Stage 1, text: read bytes robustly, decode, normalise and strip web boilerplate.

Nothing here knows about articles; it turns a file (or a field) into clean text.
"""

from __future__ import annotations

import codecs
import gzip
import html
import io
import re
import unicodedata
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import BinaryIO, Protocol

from .errors import InputFormatError, StreamStoppedError
from .lang import LanguagePack, get_pack

_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_BINARY_MAGIC: tuple[bytes, ...] = (
    b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"%PDF", b"PK\x03\x04", b"\x1f\x8b", b"\x7fELF",
    b"BZh", b"\xfd7zXZ", b"Rar!",
)


@dataclass(frozen=True, slots=True)
class DecodedText:
    """Text decoded from bytes, with the encoding that worked.

    ``replaced`` counts the invalid UTF-8 bytes that were replaced by U+FFFD (each byte
    on its own); the rest of the text is decoded as it is.
    """

    text: str
    encoding: str
    replaced: int = 0

    @property
    def warnings(self) -> tuple[str, ...]:
        """A warning when bytes were replaced, else nothing."""
        return replaced_warnings(self.replaced, self.encoding)


@dataclass(frozen=True, slots=True)
class FileEncoding:
    """The encoding of a file found by :func:`detect_file_encoding`, before it is read.

    ``codec`` is the name to open the file with (``utf-8-sig`` for a UTF-8 file with a BOM),
    ``encoding`` the name recorded with its articles.
    """

    encoding: str
    codec: str
    replaced: int = 0

    @property
    def warnings(self) -> tuple[str, ...]:
        """A warning when bytes will be replaced, else nothing."""
        return replaced_warnings(self.replaced, self.encoding)


def replaced_warnings(count: int, encoding: str = "utf-8") -> tuple[str, ...]:
    """The warning recorded when ``count`` bytes invalid in ``encoding`` were replaced.

    Examples
    --------
    >>> replaced_warnings(2), replaced_warnings(0), replaced_warnings(1, "cp1252")
    (('2 invalid UTF-8 byte(s) replaced',), (), ('1 invalid cp1252 byte(s) replaced',))
    """
    name = "UTF-8" if encoding == "utf-8" else encoding
    return (f"{count} invalid {name} byte(s) replaced",) if count else ()


_SCAN_CHUNK = 1 << 18
_HEAD_BYTES = 65536
# UTF-8 wins over Windows-1252 unless invalid bytes outnumber valid non-ASCII characters this many times.
_UTF8_MAJORITY = 4
_CP1252_UNDEFINED = re.compile(rb"[\x81\x8d\x8f\x90\x9d]")
# Windows-1252 (its undefined bytes replaced) over Latin-1 unless they are more than 1% of the high bytes.
_CP1252_MAJORITY = 100
_ESCAPED_BYTE_RE = re.compile("[\udc80-\udcff]")


class _Utf8Scan:
    """Count invalid bytes and valid non-ASCII characters of UTF-8, chunk by chunk."""

    def __init__(self) -> None:
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="surrogateescape")
        self.invalid = 0
        self.valid_non_ascii = 0
        self.cp1252_undefined = 0  # bytes that Windows-1252 does not define
        self.has_text = False

    def feed(self, chunk: bytes, *, final: bool = False) -> None:
        if chunk.strip():
            self.has_text = True
        if not chunk.isascii():
            self.cp1252_undefined += len(_CP1252_UNDEFINED.findall(chunk))
        text = self._decoder.decode(chunk, final)  # may hold a sequence cut by the previous chunk
        if text.isascii():
            return
        invalid = len(text) - len(text.encode("utf-8", "ignore").decode("utf-8"))
        self.invalid += invalid
        self.valid_non_ascii += len(text) - len(text.encode("ascii", "ignore")) - invalid

    def result(self) -> FileEncoding:
        if not self.invalid:
            return FileEncoding("utf-8", "utf-8")
        if self.valid_non_ascii and self.valid_non_ascii * _UTF8_MAJORITY >= self.invalid:
            return FileEncoding("utf-8", "utf-8", self.invalid)
        if self.cp1252_undefined * _CP1252_MAJORITY <= self.invalid:  # a cp1252 file with a few stray bytes
            return FileEncoding("cp1252", "cp1252", self.cp1252_undefined)
        return FileEncoding("latin-1", "latin-1")


def _bom_encoding(head: bytes) -> FileEncoding | None:
    for bom, encoding in _BOMS:
        if head.startswith(bom):
            return FileEncoding(encoding.replace("-sig", ""), encoding)
    return None


def _check_head(head: bytes, source: str) -> FileEncoding | None:
    """Reject empty and binary files by their first bytes; return the encoding a BOM names."""
    if not head:
        raise InputFormatError(f"{source}: file is empty")
    bom = _bom_encoding(head)
    if bom is None and (head.startswith(_BINARY_MAGIC) or b"\x00" in head):
        raise InputFormatError(f"{source}: binary file, not text")
    return bom


def decode_bytes(data: bytes, *, source: str = "<bytes>") -> DecodedText:
    """Decode file bytes: BOMs first, then UTF-8, then Windows-1252, then Latin-1.

    A file that is UTF-8 but for a few invalid bytes stays UTF-8: each invalid byte is
    replaced by U+FFFD and counted in ``replaced``. Windows-1252 is used only when the
    invalid bytes far outnumber valid UTF-8 characters (a genuine legacy file).

    Raises
    ------
    InputFormatError
        If the bytes are empty, whitespace only, or look binary (NUL bytes, file magic).

    Examples
    --------
    >>> decode_bytes("Orbán sagte: Ung".encode() + b"\\xfcltig.")
    DecodedText(text='Orbán sagte: Ung\ufffdltig.', encoding='utf-8', replaced=1)
    >>> decode_bytes("Größe".encode("cp1252")).encoding
    'cp1252'
    """
    bom = _check_head(data[:_HEAD_BYTES], source)
    if bom is not None:
        try:
            text = data.decode(bom.codec)
        except UnicodeDecodeError as exc:
            raise InputFormatError(f"{source}: invalid {bom.codec} text after its byte-order mark: {exc}") from exc
        return DecodedText(_require_text(text, source), bom.encoding)
    if not data.strip():
        raise InputFormatError(f"{source}: file holds only whitespace")
    scan = _Utf8Scan()
    scan.feed(data, final=True)
    found = scan.result()
    if found.codec == "utf-8":
        text, replaced = replace_invalid_bytes(data.decode("utf-8", "surrogateescape"))
        return DecodedText(_require_text(text, source), "utf-8", replaced)
    return DecodedText(_require_text(data.decode(found.codec, "replace"), source), found.encoding, found.replaced)


GZIP_MAGIC = b"\x1f\x8b"
_GZIP_ERRORS = (OSError, EOFError, zlib.error)


def is_gzip(path: str | Path) -> bool:
    """Whether a file starts with the gzip magic bytes (compression is chosen by content, not name)."""
    with open(path, "rb") as handle:
        return handle.read(2) == GZIP_MAGIC


class _GzipRaw(io.RawIOBase):
    """The decompressed bytes of a gzip file; damage or more than ``limit`` bytes stop it with the reason."""

    def __init__(self, path: str | Path, limit: int | None, source: str) -> None:
        super().__init__()
        self._gz: gzip.GzipFile | None = None
        self._limit, self._source, self.count = limit, source, 0
        self._gz = gzip.GzipFile(path, "rb")

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        if self._gz is None:
            raise ValueError("I/O operation on closed file")
        try:
            n = self._gz.readinto(buffer)
        except _GZIP_ERRORS as exc:
            raise StreamStoppedError(f"{self._source}: corrupt gzip data after {self.count:,} decompressed bytes "
                                     f"({type(exc).__name__}: {exc})") from exc
        self.count += n
        if self._limit is not None and self.count > self._limit:
            raise StreamStoppedError(f"{self._source}: decompressed data exceeds the limit of {self._limit:,} bytes "
                                     "(IngestConfig.max_decompressed_bytes; a gzip bomb?)")
        return n

    def close(self) -> None:
        gz, self._gz = getattr(self, "_gz", None), None
        if gz is not None:
            gz.close()
        super().close()


@contextmanager
def open_input(path: str | Path, *, compressed: bool = False, limit: int | None = None,
               source: str = "<file>") -> Iterator[BinaryIO]:
    """Open a file for reading bytes; a gzip file (``compressed``) yields its decompressed bytes.

    Reading a compressed file raises :class:`~stance.errors.StreamStoppedError` where its
    data is damaged (a corrupt or truncated gzip) or passes ``limit`` decompressed bytes.
    """
    if not compressed:
        with open(path, "rb") as handle:
            yield handle
        return
    with io.BufferedReader(_GzipRaw(path, limit, source), buffer_size=1 << 16) as buffered:
        yield buffered


class _Readable(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...


class _UntilStopped:
    """A reader that ends (returns ``b""``) where the stream stops, once some data was read."""

    def __init__(self, handle: BinaryIO) -> None:
        self._handle, self._read_any, self._stopped = handle, False, False

    def read(self, size: int = -1) -> bytes:
        if self._stopped:
            return b""
        try:
            data = self._handle.read(size)
        except StreamStoppedError:
            if not self._read_any:
                raise
            self._stopped = True
            return b""
        self._read_any = self._read_any or bool(data)
        return data


def detect_file_encoding(path: str | Path, *, source: str, compressed: bool = False,
                         limit: int | None = None) -> FileEncoding:
    """Find the encoding of a file by reading it in chunks (memory stays at one chunk).

    The same rules as :func:`decode_bytes` apply; the file is then read line by line with
    :func:`iter_text_lines`. A gzip file (``compressed``) is scanned as decompressed, up to
    where its data is damaged or exceeds ``limit`` decompressed bytes (the reading passes
    stop there with the reason, see :func:`open_input`).

    Parameters
    ----------
    path : str or Path
        The file.
    source : str
        The name of the file in error messages.
    compressed : bool
        Whether the file is gzip-compressed.
    limit : int, optional
        At most this many decompressed bytes are read from a compressed file.

    Returns
    -------
    FileEncoding
        The encoding, the codec to open the file with, and the number of invalid UTF-8
        bytes that will be replaced.

    Raises
    ------
    InputFormatError
        If the file is empty, whitespace only, binary, or invalid after its byte-order mark.
    """
    with open_input(path, compressed=compressed, limit=limit, source=source) as raw:
        handle: _Readable = _UntilStopped(raw) if compressed else raw
        head = handle.read(_HEAD_BYTES)
        bom = _check_head(head, source)
        found = _scan_bom_file(handle, head, bom, source) if bom else _scan_file(handle, head, source)
    if _control_ratio(head[:_HEAD_BYTES - 4].decode(found.codec, "replace")) > 0.05:
        raise InputFormatError(f"{source}: binary file, not text")
    return found


def _scan_bom_file(handle: _Readable, head: bytes, bom: FileEncoding, source: str) -> FileEncoding:
    decoder = codecs.getincrementaldecoder(bom.codec)()
    has_text = False
    chunk = head
    while chunk:
        try:
            has_text = bool(decoder.decode(chunk).strip()) or has_text
        except UnicodeDecodeError as exc:
            raise InputFormatError(f"{source}: invalid {bom.codec} text after its byte-order mark: {exc}") from exc
        chunk = handle.read(_SCAN_CHUNK)
    if not has_text:
        raise InputFormatError(f"{source}: file holds only whitespace")
    return bom


def _scan_file(handle: _Readable, head: bytes, source: str) -> FileEncoding:
    scan = _Utf8Scan()
    chunk = head
    while chunk:
        scan.feed(chunk)
        chunk = handle.read(_SCAN_CHUNK)
    scan.feed(b"", final=True)
    if not scan.has_text:
        raise InputFormatError(f"{source}: file holds only whitespace")
    return scan.result()


def iter_text_lines(path: str | Path, encoding: FileEncoding, *, compressed: bool = False,
                    limit: int | None = None, source: str = "<file>") -> Iterator[tuple[str, int]]:
    """Yield ``(line, replaced)`` for each line of a file, split at ``\\n`` only.

    Parameters
    ----------
    path : str or Path
        The file.
    encoding : FileEncoding
        As found by :func:`detect_file_encoding`.

    Raises
    ------
    StreamStoppedError
        When the data of a compressed file is damaged or exceeds ``limit`` decompressed
        bytes; the lines before were yielded.

    Yields
    ------
    tuple of (str, int)
        The line with its line end (a lone ``\\r`` stays inside its line), and the number
        of its invalid UTF-8 bytes that were replaced by U+FFFD.
    """
    errors = "surrogateescape" if encoding.codec.startswith("utf-8") else "replace"
    with open_input(path, compressed=compressed, limit=limit, source=source) as raw, \
            io.TextIOWrapper(raw, encoding=encoding.codec, errors=errors, newline="\n") as handle:
        for line in handle:
            if line.isascii():
                yield line, 0
            else:
                yield replace_invalid_bytes(line)


def replace_invalid_bytes(text: str) -> tuple[str, int]:
    """Replace bytes escaped by the ``surrogateescape`` handler with U+FFFD; count them.

    Examples
    --------
    >>> replace_invalid_bytes(b"Ung\\xfcltig".decode("utf-8", "surrogateescape"))
    ('Ung\ufffdltig', 1)
    """
    return _ESCAPED_BYTE_RE.subn("\ufffd", text)


def _require_text(text: str, source: str) -> str:
    if not text.strip():
        raise InputFormatError(f"{source}: file holds only whitespace")
    if _control_ratio(text) > 0.05:
        raise InputFormatError(f"{source}: binary file, not text")
    return text


def _control_ratio(text: str) -> float:
    sample = text[:20000]
    controls = sum(1 for ch in sample if unicodedata.category(ch) == "Cc" and ch not in "\n\r\t\f")
    return controls / max(len(sample), 1)


# Control characters (C0 but tab and line ends, DEL, C1), zero-width characters and soft hyphens
# (&shy;), which split words invisibly, and bidirectional embeddings/overrides/isolates, which
# reorder how a line is displayed ("Trojan source" in a terminal or spreadsheet).
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u00ad\u200b-\u200d\u202a-\u202e\u2060\u2066-\u2069\ufeff]")
# Terminal escape sequences: CSI (``ESC [ 31 m``) and terminated OSC (``ESC ] 2 ; title BEL``), bounded.
_ANSI_RE = re.compile(r"\x1b\[[0-?]{0,64}[ -/]{0,16}[@-~]|\x1b\][^\x07\x1b\n]{0,512}(?:\x07|\x1b\\)")
_SURROGATE_RE = re.compile("[\ud800-\udfff]")


def normalize_text(text: str) -> str:
    """NFC-normalise, unify line ends to ``\\n`` and drop control, zero-width and bidi override characters.

    Umlauts are kept as they are (``schon`` and ``schön`` differ). Terminal escape
    sequences are removed whole; a lone surrogate (from a ``\\ud800`` JSON escape) becomes
    U+FFFD.

    Examples
    --------
    >>> normalize_text("Selenskyj\\r\\nsagte\\u00a0ja")
    'Selenskyj\\nsagte ja'
    >>> normalize_text("\\x1b[31mPutin\\x1b[0m sprach\\x85")
    'Putin sprach'
    >>> normalize_text("\\u202eTrump\\u202c lobt")
    'Trump lobt'
    """
    text = unicodedata.normalize("NFC", text)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = text.replace("\u00a0", " ").replace("\u2028", "\n").replace("\u2029", "\n")
    if "\x1b" in text:
        text = _ANSI_RE.sub("", text)
    text = _SURROGATE_RE.sub("\ufffd", text)
    return _CONTROL_RE.sub("", text)


def clean_field(value: str) -> str:
    """Clean a one-line field (id, title, source): :func:`normalize_text`, then one space
    for each run of whitespace (tabs and line ends included).

    Examples
    --------
    >>> clean_field("\\x1b]2;pwned\\x07 Putin\\tsagt\\x1b[1m  ja\\u200b ")
    'Putin sagt ja'
    """
    return " ".join(normalize_text(value).split())


# Whole lines that are web furniture, never article text: the default language pack's (stance.lang),
# then patterns of any language (copyright lines, script residue).
_PACK = get_pack()
_BOILERPLATE_LINE_PATTERNS: tuple[str, ...] = (
    *_PACK.boilerplate_lines,
    r"©.*",
    r"\(c\)\s.*",
    r"(true|false|null|undefined)[,;]?",
    r"[\w.$]+\s*:\s*(true|false|null|\d+)[,;]?",
    r"[{}\[\]();,]+",
)
_BOILERPLATE_LINE_RE = re.compile(
    r"^\s*(?:" + "|".join(_BOILERPLATE_LINE_PATTERNS) + r")\s*$", re.IGNORECASE
)
# Script residue: "console.log(", or "window.x"/"document.x" followed later by one of ``;=(``.
# Searched without a leading ``.*`` and without nested quantifiers, so long lines take linear time.
_CONSOLE_CALL_RE = re.compile(r"\bconsole\.\w+\(", re.IGNORECASE)
_DOM_ACCESS_RE = re.compile(r"\b(?:window|document)\.\w", re.IGNORECASE)
# camelCase keys of script/JSON residue ("showPaywall:", "isSubscriber: false"); case-sensitive.
_SCRIPT_KEY_RE = re.compile(r"^\s*[a-z][a-z0-9]*[A-Z][A-Za-z0-9_$]*\s*:.*$")
# Paragraphs of consent banners and embed notices: dropped when they contain one of these.
_BOILERPLATE_PARAGRAPH_RE = re.compile(
    _PACK.boilerplate_paragraph,
    re.IGNORECASE,
)


@lru_cache(maxsize=8)
def _boilerplate_res(pack: LanguagePack) -> tuple[re.Pattern[str], re.Pattern[str]]:
    """The boilerplate line and consent paragraph expressions with the words of ``pack``."""
    if pack is _PACK:
        return _BOILERPLATE_LINE_RE, _BOILERPLATE_PARAGRAPH_RE
    lines = (*pack.boilerplate_lines, *_BOILERPLATE_LINE_PATTERNS[len(_PACK.boilerplate_lines):])
    return (re.compile(r"^\s*(?:" + "|".join(lines) + r")\s*$", re.IGNORECASE),
            re.compile(pack.boilerplate_paragraph, re.IGNORECASE))


def strip_boilerplate(text: str, language: str | LanguagePack | None = None) -> str:
    """Remove web boilerplate lines and consent paragraphs, keep article text.

    The boilerplate words are those of the language pack ``language`` (default German).

    Headlines, quotes and captions stay; photo credits, "Zur Startseite", comment
    counters, consent banners and script/JSON residue go.

    Examples
    --------
    >>> strip_boilerplate("Putin sprach.\\n\\n1 Kommentar\\n\\nKommentar verfassen")
    'Putin sprach.'
    """
    pack = get_pack(language)
    line_re, paragraph_re = _boilerplate_res(pack)
    kept: list[str] = []
    for line in text.split("\n"):
        if _is_boilerplate_line(line, line_re) and not _looks_like_prose(line):
            continue
        if len(line) < 1200 and paragraph_re.search(line) and _is_consent_like(line, pack):
            continue
        kept.append(line.rstrip())
    cleaned = "\n".join(kept)
    cleaned = re.sub(r"\n{3,}", "\n\n", cleaned)
    return cleaned.strip()


def _is_boilerplate_line(line: str, line_re: re.Pattern[str] = _BOILERPLATE_LINE_RE) -> bool:
    return bool(line_re.match(line) or _SCRIPT_KEY_RE.match(line) or _is_script_line(line))


def _is_script_line(line: str) -> bool:
    """``console.x(`` anywhere, or ``window.x``/``document.x`` with ``;``, ``=`` or ``(`` after it."""
    if _CONSOLE_CALL_RE.search(line):
        return True
    access = _DOM_ACCESS_RE.search(line)
    if access is None:
        return False
    rest = line[access.end():]
    return ";" in rest or "=" in rest or "(" in rest


def _looks_like_prose(line: str) -> bool:
    """A line with several words and a sentence end is prose, whatever pattern it hits."""
    words = line.split()
    return len(words) >= 8 and line.rstrip().endswith((".", "!", "?", "“", '"'))


def _is_consent_like(line: str, pack: LanguagePack = _PACK) -> bool:
    lowered = line.lower()
    hits = sum(
        term in lowered
        for term in pack.consent_words
    )
    return hits >= 2


class _VisibleTextParser(HTMLParser):
    """Collect visible text of an HTML page, preferring ``<article>`` content.

    Captions (``<figcaption>``) are text and stay. Title candidates are collected in
    order of preference: ``og:title``, the first ``<h1>``, ``<title>``.
    """

    _SKIP = frozenset({"script", "style", "noscript", "template", "svg", "nav", "footer", "header", "aside", "form", "button", "iframe"})
    _BLOCK = frozenset({"p", "div", "br", "li", "h1", "h2", "h3", "h4", "h5", "h6", "section", "article", "blockquote", "tr", "title", "figcaption", "figure"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.article_parts: list[str] = []
        self.title: str | None = None
        self.og_title: str | None = None
        self.h1: str | None = None
        self._skip_depth = 0
        self._article_depth = 0
        self._in_title = False
        self._in_h1 = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._SKIP:
            self._skip_depth += 1
        if tag == "article":
            self._article_depth += 1
        if tag == "title":
            self._in_title = True
        if tag == "h1" and self.h1 is None and not self._skip_depth:
            self._in_h1 = True
        if tag == "meta":
            self._meta(dict(attrs))
        if tag in self._BLOCK:
            self._emit("\n\n")

    def _meta(self, attrs: dict[str, str | None]) -> None:
        key = (attrs.get("property") or attrs.get("name") or "").strip().lower()
        content = (attrs.get("content") or "").strip()
        if key == "og:title" and content and self.og_title is None:
            self.og_title = content

    def handle_endtag(self, tag: str) -> None:
        if tag in self._SKIP and self._skip_depth:
            self._skip_depth -= 1
        if tag == "article" and self._article_depth:
            self._article_depth -= 1
        if tag == "title":
            self._in_title = False
        if tag == "h1" and self._in_h1:
            self._in_h1 = False
            self.h1 = (self.h1 or "").strip() or None
        if tag in self._BLOCK:
            self._emit("\n\n")

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title = (self.title or "") + data.strip()
            return
        if self._skip_depth:
            return
        if self._in_h1:
            self.h1 = (self.h1 or "") + data
        self._emit(re.sub(r"\s+", " ", data))

    def parse_marked_section(self, i: int, report: bool = True) -> int:
        """Treat an unknown marked section (``<![foo[ ... ]]>``) as a comment, not an error."""
        try:
            return super().parse_marked_section(i, report)
        except AssertionError:
            end = self.rawdata.find(">", i + 3)
            return -1 if end < 0 else end + 1

    def _emit(self, chunk: str) -> None:
        self.parts.append(chunk)
        if self._article_depth:
            self.article_parts.append(chunk)

    def best_title(self) -> str | None:
        """``og:title``, else the first ``<h1>``, else ``<title>``; cleaned, or ``None``."""
        for candidate in (self.og_title, self.h1, html.unescape(self.title) if self.title else None):
            cleaned = clean_field(candidate) if candidate else ""
            if cleaned:
                return cleaned
        return None


def html_to_text(markup: str) -> tuple[str, str | None]:
    """Reduce an HTML page to its visible article text; return ``(text, title)``.

    Script, style, navigation, header/footer and forms are dropped; when the page has
    ``<article>`` elements only their text is kept. Captions stay. The title is the
    ``og:title`` meta tag, else the first ``<h1>``, else ``<title>``.

    Examples
    --------
    >>> html_to_text("<html><title>T</title><body><nav>Menü</nav><p>Putin sprach.</p></body></html>")
    ('Putin sprach.', 'T')
    >>> html_to_text("<title>T</title><h1>Gipfel</h1><figure><figcaption>Merz in Kiew</figcaption></figure>")
    ('Gipfel\\n\\nMerz in Kiew', 'Gipfel')
    """
    parser = _VisibleTextParser()
    parser.feed(markup)
    parser.close()
    parts = parser.article_parts if "".join(parser.article_parts).strip() else parser.parts
    text = "".join(parts)
    text = "\n\n".join(" ".join(p.split()) for p in re.split(r"\n\s*\n", text) if p.strip())
    return text, parser.best_title()
