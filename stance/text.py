"""Stage 1, text: read bytes robustly, decode, normalise and strip web boilerplate.

Nothing here knows about articles; it turns a file (or a field) into clean text.
"""

from __future__ import annotations

import codecs
import html
import re
import unicodedata
from dataclasses import dataclass
from html.parser import HTMLParser

from .errors import InputFormatError

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
    """Text decoded from bytes, with the encoding that worked."""

    text: str
    encoding: str


def decode_bytes(data: bytes, *, source: str = "<bytes>") -> DecodedText:
    """Decode file bytes: BOMs first, then UTF-8, then Windows-1252, then Latin-1.

    Raises
    ------
    InputFormatError
        If the bytes are empty, whitespace only, or look binary (NUL bytes, file magic).
    """
    if not data.strip():
        raise InputFormatError(f"{source}: file is empty" if not data else f"{source}: file holds only whitespace")
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                text = data.decode(encoding)
            except UnicodeDecodeError as exc:
                raise InputFormatError(f"{source}: invalid {encoding} text after its byte-order mark: {exc}") from exc
            return DecodedText(_require_text(text, source), encoding.replace("-sig", ""))
    if data.startswith(_BINARY_MAGIC) or b"\x00" in data[:65536]:
        raise InputFormatError(f"{source}: binary file, not text")
    try:
        return DecodedText(_require_text(data.decode("utf-8"), source), "utf-8")
    except UnicodeDecodeError:
        pass
    try:
        text = data.decode("cp1252")
        encoding = "cp1252"
    except UnicodeDecodeError:
        text, encoding = data.decode("latin-1"), "latin-1"
    return DecodedText(_require_text(text, source), encoding)


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


# Control characters, zero-width characters and soft hyphens (&shy;), which split words invisibly.
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u00ad\u200b-\u200d\u2060\ufeff]")


def normalize_text(text: str) -> str:
    """NFC-normalise, unify line ends to ``\\n`` and drop control and zero-width characters.

    Umlauts are kept as they are (``schon`` and ``schön`` differ).

    Examples
    --------
    >>> normalize_text("Selenskyj\\r\\nsagte\\u00a0ja")
    'Selenskyj\\nsagte ja'
    """
    text = unicodedata.normalize("NFC", text)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = text.replace("\u00a0", " ").replace("\u2028", "\n").replace("\u2029", "\n")
    return _CONTROL_RE.sub("", text)


# Whole lines that are web furniture, never article text.
_BOILERPLATE_LINE_PATTERNS: tuple[str, ...] = (
    r"zum hauptinhalt( springen)?",
    r"zur startseite",
    r"zur(ück)? (zur )?übersicht",
    r"kommentar(e)? (verfassen|schreiben|anzeigen|lesen)",
    r"\d+\s+kommentare?",
    r"kommentare?\s*\(\d+\)",
    r"stand:?",
    r"empfohlener redaktioneller inhalt",
    r"(artikel )?teilen( auf \w+)?",
    r"(jetzt )?(newsletter )?abonnieren",
    r"(mehr zum thema|lesen sie auch|auch interessant|weitere artikel|das könnte sie auch interessieren)\s*:?",
    r"anzeige",
    r"werbung",
    r"(foto|bild|fotos|quelle|grafik|video)\s*:.*",
    r"©.*",
    r"\(c\)\s.*",
    r"(true|false|null|undefined)[,;]?",
    r"[\w.$]+\s*:\s*(true|false|null|\d+)[,;]?",
    r".*\bconsole\.\w+\(.*",
    r".*\b(window|document)\.\w+.*[;=(].*",
    r"[{}\[\]();,]+",
)
_BOILERPLATE_LINE_RE = re.compile(
    r"^\s*(?:" + "|".join(_BOILERPLATE_LINE_PATTERNS) + r")\s*$", re.IGNORECASE
)
# camelCase keys of script/JSON residue ("showPaywall:", "isSubscriber: false"); case-sensitive.
_SCRIPT_KEY_RE = re.compile(r"^\s*[a-z][a-z0-9]*[A-Z][A-Za-z0-9_$]*\s*:.*$")
# Paragraphs of consent banners and embed notices: dropped when they contain one of these.
_BOILERPLATE_PARAGRAPH_RE = re.compile(
    r"(externen? inhalt|datenschutz-?einstellungen|datenschutzerklärung|cookies?\b|"
    r"personenbezogene daten an drittplattformen|einwilligung widerrufen|"
    r"mit einem klick anzeigen|javascript (aktivieren|deaktiviert)|"
    r"sie können sich hier den externen)",
    re.IGNORECASE,
)


def strip_boilerplate(text: str) -> str:
    """Remove web boilerplate lines and consent paragraphs, keep article text.

    Headlines, quotes and captions stay; photo credits, "Zur Startseite", comment
    counters, consent banners and script/JSON residue go.

    Examples
    --------
    >>> strip_boilerplate("Putin sprach.\\n\\n1 Kommentar\\n\\nKommentar verfassen")
    'Putin sprach.'
    """
    kept: list[str] = []
    for line in text.split("\n"):
        if (_BOILERPLATE_LINE_RE.match(line) or _SCRIPT_KEY_RE.match(line)) and not _looks_like_prose(line):
            continue
        if _BOILERPLATE_PARAGRAPH_RE.search(line) and len(line) < 1200 and _is_consent_like(line):
            continue
        kept.append(line.rstrip())
    cleaned = "\n".join(kept)
    cleaned = re.sub(r"\n{3,}", "\n\n", cleaned)
    return cleaned.strip()


def _looks_like_prose(line: str) -> bool:
    """A line with several words and a sentence end is prose, whatever pattern it hits."""
    words = line.split()
    return len(words) >= 8 and line.rstrip().endswith((".", "!", "?", "“", '"'))


def _is_consent_like(line: str) -> bool:
    lowered = line.lower()
    hits = sum(
        term in lowered
        for term in ("inhalt", "einverstanden", "daten", "einstellungen", "klick", "anzeigen", "cookie", "zustimm")
    )
    return hits >= 2


class _VisibleTextParser(HTMLParser):
    """Collect visible text of an HTML page, preferring ``<article>`` content."""

    _SKIP = frozenset({"script", "style", "noscript", "template", "svg", "nav", "footer", "header", "aside", "form", "button", "figure", "iframe"})
    _BLOCK = frozenset({"p", "div", "br", "li", "h1", "h2", "h3", "h4", "h5", "h6", "section", "article", "blockquote", "tr", "title", "figcaption"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.article_parts: list[str] = []
        self.title: str | None = None
        self._skip_depth = 0
        self._article_depth = 0
        self._in_title = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._SKIP:
            self._skip_depth += 1
        if tag == "article":
            self._article_depth += 1
        if tag == "title":
            self._in_title = True
        if tag in self._BLOCK:
            self._emit("\n\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self._SKIP and self._skip_depth:
            self._skip_depth -= 1
        if tag == "article" and self._article_depth:
            self._article_depth -= 1
        if tag == "title":
            self._in_title = False
        if tag in self._BLOCK:
            self._emit("\n\n")

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title = (self.title or "") + data.strip()
            return
        if self._skip_depth:
            return
        self._emit(re.sub(r"\s+", " ", data))

    def _emit(self, chunk: str) -> None:
        self.parts.append(chunk)
        if self._article_depth:
            self.article_parts.append(chunk)


def html_to_text(markup: str) -> tuple[str, str | None]:
    """Reduce an HTML page to its visible article text; return ``(text, title)``.

    Script, style, navigation, header/footer and forms are dropped; when the page has
    ``<article>`` elements only their text is kept.

    Examples
    --------
    >>> html_to_text("<html><title>T</title><body><nav>Menü</nav><p>Putin sprach.</p></body></html>")
    ('Putin sprach.', 'T')
    """
    parser = _VisibleTextParser()
    parser.feed(markup)
    parser.close()
    parts = parser.article_parts if "".join(parser.article_parts).strip() else parser.parts
    text = "".join(parts)
    text = "\n\n".join(" ".join(p.split()) for p in re.split(r"\n\s*\n", text) if p.strip())
    title = html.unescape(parser.title).strip() if parser.title else None
    return text, title or None
