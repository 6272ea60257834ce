"""Date parsing for German news: ISO, ``DD.MM.YYYY`` and German month names.

Nothing is ever guessed: text that is not a complete, valid date gives ``None``.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata

GERMAN_MONTHS: dict[str, int] = {
    "januar": 1, "jänner": 1, "jan": 1, "februar": 2, "feber": 2, "feb": 2, "märz": 3, "maerz": 3,
    "mär": 3, "mrz": 3, "april": 4, "apr": 4, "mai": 5, "juni": 6, "jun": 6, "juli": 7, "jul": 7,
    "august": 8, "aug": 8, "september": 9, "sept": 9, "sep": 9, "oktober": 10, "okt": 10,
    "november": 11, "nov": 11, "dezember": 12, "dez": 12,
}
MAX_DATE_CHARS = 200
"""Longer strings are never a date: they are not searched at all."""
_MONTH_ALT = "|".join(sorted(GERMAN_MONTHS, key=len, reverse=True))

ISO_RE = re.compile(r"(?<!\d)(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ][0-9:.+\-Z]*)?(?!\d)")
NUMERIC_RE = re.compile(r"(?<![\d.])(\d{1,2})\.\s?(\d{1,2})\.\s?(\d{4})(?!\d)")
GERMAN_RE = re.compile(rf"(?<!\d)(\d{{1,2}})\.?\s+({_MONTH_ALT})\.?\s+(\d{{4}})(?!\d)", re.IGNORECASE)
DATE_PATTERN = rf"(?:\d{{4}}-\d{{1,2}}-\d{{1,2}}|\d{{1,2}}\.\s?\d{{1,2}}\.\s?\d{{4}}|\d{{1,2}}\.?\s+(?:{_MONTH_ALT})\.?\s+\d{{4}})"


def parse_date(value: str | None) -> dt.date | None:
    """Parse one date written in ISO, ``DD.MM.YYYY`` or German month-name form.

    Returns ``None`` for anything that is not one complete, valid calendar date.

    Examples
    --------
    >>> parse_date("2025-10-21"), parse_date("21.10.2025"), parse_date("21. Oktober 2025")
    (datetime.date(2025, 10, 21), datetime.date(2025, 10, 21), datetime.date(2025, 10, 21))
    >>> parse_date("3. Dez. 2025"), parse_date("31.02.2025"), parse_date("Oktober")
    (datetime.date(2025, 12, 3), None, None)

    Month names are matched after Unicode case folding, so a long s (``Auguſt``) or a
    dotted capital I (``APRİL``) still names its month; anything else gives ``None``:

    >>> parse_date("3. Auguſt 2025"), parse_date("1. APRİL 2025"), parse_date(12)
    (datetime.date(2025, 8, 3), datetime.date(2025, 4, 1), None)
    """
    if not value or not isinstance(value, str) or len(value) > MAX_DATE_CHARS:
        return None
    text = value.strip()
    for regex, order in ((ISO_RE, "ymd"), (NUMERIC_RE, "dmy"), (GERMAN_RE, "dMy")):
        match = regex.fullmatch(text) or regex.match(text)
        if match is not None:
            return _make_date(order, *match.groups())
    return None


def _make_date(order: str, first: str, second: str, third: str) -> dt.date | None:
    """The date of one regex match, or ``None`` if it is not a valid calendar date."""
    try:
        if order == "ymd":
            return dt.date(int(first), int(second), int(third))
        if order == "dmy":
            return dt.date(int(third), int(second), int(first))
        month = GERMAN_MONTHS.get(_fold_month(second))
        return None if month is None else dt.date(int(third), month, int(first))
    except (ValueError, OverflowError):
        return None


def _fold_month(name: str) -> str:
    """Case-fold a month name as the regex matched it: ``Auguſt`` -> ``august``, ``APRİL`` -> ``april``."""
    return unicodedata.normalize("NFC", name.casefold().replace("\u0307", ""))
