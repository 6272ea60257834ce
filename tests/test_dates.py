from __future__ import annotations

import datetime as dt

import pytest

from stance.dates import parse_date


@pytest.mark.parametrize("text, expected", [
    ("2025-10-21", dt.date(2025, 10, 21)),
    ("2025-10-21T08:15:00Z", dt.date(2025, 10, 21)),
    ("21.10.2025", dt.date(2025, 10, 21)),
    ("1.2.2025", dt.date(2025, 2, 1)),
    ("21. Oktober 2025", dt.date(2025, 10, 21)),
    ("3. Dez. 2025", dt.date(2025, 12, 3)),
    ("21 März 2024", dt.date(2024, 3, 21)),
    ("5. Jänner 2025", dt.date(2025, 1, 5)),
])
def test_dates_formats(text, expected):
    assert parse_date(text) == expected


@pytest.mark.parametrize("text", ["", None, "Oktober 2025", "31.02.2025", "2025-13-01", "gestern", "21.10."])
def test_dates_invalid_is_none(text):
    assert parse_date(text) is None
