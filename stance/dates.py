"""Date parsing for news: ISO, ``DD.MM.YYYY`` and month names of a language pack (default German).

Nothing is ever guessed: text that is not a complete, valid date gives ``None``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
import re
import unicodedata
from functools import lru_cache

from .lang import GERMAN, LanguagePack, get_pack

GERMAN_MONTHS = GERMAN.months  # month names are the language pack's (stance.lang)
MAX_DATE_CHARS = 200
"""Longer strings are never a date: they are not searched at all."""

ISO_RE = re.compile(r"(?<!\d)(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ][0-9:.+\-Z]*)?(?!\d)")
NUMERIC_RE = re.compile(r"(?<![\d.])(\d{1,2})\.\s?(\d{1,2})\.\s?(\d{4})(?!\d)")


@lru_cache(maxsize=8)
def month_name_re(pack: LanguagePack) -> re.Pattern[str]:
    """``<day>. <month name> <year>`` with the month names of ``pack``."""
    return re.compile(rf"(?<!\d)(\d{{1,2}})\.?\s+({pack.month_alternatives})\.?\s+(\d{{4}})(?!\d)", re.IGNORECASE)


def date_pattern(language: str | LanguagePack | None = None) -> str:
    """A regular expression (no groups) of one date in any form :func:`parse_date` reads."""
    months = get_pack(language).month_alternatives
    return rf"(?:\d{{4}}-\d{{1,2}}-\d{{1,2}}|\d{{1,2}}\.\s?\d{{1,2}}\.\s?\d{{4}}|\d{{1,2}}\.?\s+(?:{months})\.?\s+\d{{4}})"


GERMAN_RE = month_name_re(GERMAN)
DATE_PATTERN = date_pattern(GERMAN)


def parse_date(value: str | None, language: str | LanguagePack | None = None) -> dt.date | None:
    """Parse one date written in ISO, ``DD.MM.YYYY`` or month-name form (month names of the
    language pack ``language``, default German).

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
    pack = get_pack(language)
    for regex, order in ((ISO_RE, "ymd"), (NUMERIC_RE, "dmy"), (month_name_re(pack), "dMy")):
        match = regex.fullmatch(text) or regex.match(text)
        if match is not None:
            return _make_date(order, *match.groups(), months=pack.months)
    return None


def _make_date(order: str, first: str, second: str, third: str, *, months: Mapping[str, int]) -> dt.date | None:
    """The date of one regex match, or ``None`` if it is not a valid calendar date."""
    try:
        if order == "ymd":
            return dt.date(int(first), int(second), int(third))
        if order == "dmy":
            return dt.date(int(third), int(second), int(first))
        month = months.get(_fold_month(second))
        return None if month is None else dt.date(int(third), month, int(first))
    except (ValueError, OverflowError):
        return None


def _fold_month(name: str) -> str:
    """Case-fold a month name as the regex matched it: ``Auguſt`` -> ``august``, ``APRİL`` -> ``april``."""
    return unicodedata.normalize("NFC", name.casefold().replace("\u0307", ""))


def as_date(value: object) -> dt.date | None:
    """A date given as a ``date``, a ``datetime`` (its date) or an ISO string; ``None`` stays ``None``.

    Raises ``ValueError`` for anything else (callers turn it into their own message).

    Examples
    --------
    >>> as_date("2025-05-06"), as_date(dt.datetime(2025, 5, 6, 12)), as_date(None)
    (datetime.date(2025, 5, 6), datetime.date(2025, 5, 6), None)
    """
    if value is None or (isinstance(value, dt.date) and not isinstance(value, dt.datetime)):
        return value
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, str):
        return dt.date.fromisoformat(value.strip())
    raise ValueError(f"not a date: {value!r}")
