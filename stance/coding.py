"""Hand-coding sheets: draw units for human coding, write the sheet and its key, read them back.

A researcher validates the automatic coder on their own corpus in three steps:
``stance sample`` draws (sentence, actor) units into a *coding sheet*, coders fill its
``stance`` and ``sentiment`` cells, and ``stance validate`` compares the coded sheet with
the model (:mod:`stance.validation`).

The sheet (:data:`SHEET_COLUMNS`) holds one row per unit: the sentence with the target
marked once as ``[[Putin]]``, one sentence of context on each side (from the same article,
``''`` at its edges) and empty ``stance``, ``sentiment`` and ``note`` cells. The model's
labels are **not** in the sheet, so coders cannot see them: they are in the *key file*
beside it (:func:`key_path`: ``coding.csv`` -> ``coding.key.jsonl``), one JSON line per
unit with the model's stance, stance score, stance probabilities, their maximum, sentiment,
sentiment score, the unit's offsets (``sentence_index``, ``start``/``end`` in the sentence),
how it was drawn (``draw``, ``stratum`` and ``by``, the field a ``--by`` draw stratified by),
the file name of the sheet it was written with (``sheet``) and the model that labelled it
(``model_path`` and ``model_sha256``, the ``model_sha256`` of the model's ``model.json``;
``null`` when the sample was drawn from a saved mentions table, whose model is not known).
These are repeated in every record, so every line stays a self-contained unit record that
older readers of the key accept.

Unit ids are ``u`` + the first 10 hex digits of the SHA-1 of ``article_id``,
``sentence_index``, ``actor`` and the target's offsets in the article: the same unit gets
the same id in every sample of the same corpus, a second coder's copy of a sheet matches by
id, and the leading ``u`` keeps spreadsheets from reading an id as a number.

Sampling (:func:`draw_sample`), deterministic for a seed:

1. ``round(uncertain * n)`` units with the lowest maximum stance probability (ties in a
   seeded random order) are taken first (``draw = "uncertain"``);
2. the rest is a simple random sample without replacement (``draw = "random"``) or, with
   ``by``, a stratified one (``draw = "stratified"``): strata are the actor, the source or
   the calendar month of the date (``undated`` for units without a date); each stratum
   gets at least one unit when there are at least as many draws as strata, the rest is
   allocated in proportion to the strata's sizes (largest deficit first, ties by stratum
   size then name), never more than a stratum holds. With fewer draws than strata there is
   no minimum: all draws are allocated in proportion, so a large stratum can take several
   and small strata none (:func:`allocate`).

Rows of the sheet follow the corpus order (article, sentence, position), so coders read
the units of one article together; the order does not show why a unit was drawn.

Reading (:func:`read_coding_sheet`) accepts CSV in UTF-8 (with or without BOM), UTF-16 with
a byte order mark (Excel's "Unicode Text"), or Windows-1252 (as saved by older Excel
versions, with a warning) separated by ``,``, ``;`` (German Excel) or tabs, and JSONL. Labels are read ignoring case and surrounding spaces; accepted are
``negative``/``neutral``/``positive``, the short forms ``neg``/``neu``/``pos``, the German
``negativ``/``positiv`` and ``-1``/``0``/``+1``. An empty cell means "not coded". A unit
that does not refer to the actor (a detection error) is left empty and explained in ``note``.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import logging
import math
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .config import RANDOM_STATE
from .errors import CodingSheetError, bad_value
from .io import atomic_open, write_jsonl
from .records import LABELS, Sentence

if TYPE_CHECKING:
    from .actors import ActorRegistry
    from .config import IngestConfig

logger = logging.getLogger(__name__)
logger.addHandler(logging.NullHandler())

SHEET_COLUMNS: tuple[str, ...] = (
    "unit_id", "article_id", "date", "source", "actor", "actor_name",
    "context_before", "sentence", "context_after", "stance", "sentiment", "note",
)
"""The columns of a coding sheet, in order."""

REQUIRED_COLUMNS: tuple[str, ...] = ("unit_id", "article_id", "source", "actor", "sentence", "stance", "sentiment")
"""Columns a coded sheet must still have; the others (date, actor_name, context, note) may be deleted."""

STRATA: tuple[str, ...] = ("actor", "source", "date")
"""Fields ``draw_sample`` can stratify by (``date`` stratifies by calendar month)."""

MARK_OPEN, MARK_CLOSE = "[[", "]]"
UNDATED_STRATUM = "undated"
SAMPLE_COLUMNS: tuple[str, ...] = ("article_id", "sentence_index", "actor", "start", "end", "sentence")
"""Columns a mentions table needs to be sampled from (``source``, ``date``, scores are used when present)."""
PROBA_COLUMNS: tuple[str, ...] = tuple(f"p_{label}" for label in LABELS)

LABEL_ALIASES: dict[str, str] = {
    **{label: label for label in LABELS},
    "neg": "negative", "negativ": "negative", "-1": "negative",
    "neu": "neutral", "0": "neutral",
    "pos": "positive", "positiv": "positive", "1": "positive", "+1": "positive",
}
"""Accepted spellings of a label (compared after stripping spaces and lower-casing)."""

_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True, slots=True)
class CodedUnit:
    """One row of a coding sheet as read back.

    ``sentence`` is the plain sentence (marker removed); ``start``/``end`` are the offsets of
    the marked target in it. ``stance``/``sentiment`` are ``"negative"``, ``"neutral"``,
    ``"positive"`` or ``None`` when the cell is empty (not coded). ``line`` is the 1-based
    line of the sheet the row starts on, for messages.
    """

    unit_id: str
    article_id: str
    date: str | None
    source: str
    actor: str
    sentence: str
    start: int
    end: int
    stance: str | None
    sentiment: str | None
    note: str
    line: int

    def __post_init__(self) -> None:
        if not 0 <= self.start < self.end <= len(self.sentence):
            raise ValueError(f"CodedUnit needs 0 <= start < end <= len(sentence), got {self.start}..{self.end}")
        for label in (self.stance, self.sentiment):
            if label is not None and label not in LABELS:
                raise ValueError(f"label must be one of {LABELS} or None, got {label!r}")

    @property
    def coded(self) -> bool:
        """Whether the row carries a stance or a sentiment label."""
        return self.stance is not None or self.sentiment is not None


# --- unit ids, markers, labels, cells ---------------------------------------------------------------------------

def unit_id(article_id: str, sentence_index: int, actor: str, start: int, end: int) -> str:
    """The stable id of a unit: ``u`` + 10 hex digits of a SHA-1 of its location.

    Examples
    --------
    >>> unit_id("a.txt#1", 0, "putin", 4, 9)
    'u375b2db207'
    """
    key = "\x1f".join((str(article_id), str(int(sentence_index)), str(actor), str(int(start)), str(int(end))))
    return "u" + hashlib.sha1(key.encode("utf-8")).hexdigest()[:10]


def mark_target(sentence: str, start: int, end: int) -> str:
    """The sentence with ``sentence[start:end]`` marked as ``[[...]]``.

    Examples
    --------
    >>> mark_target("Heute sprach Putin.", 13, 18)
    'Heute sprach [[Putin]].'
    """
    if not 0 <= start < end <= len(sentence):
        raise ValueError(f"target {start}..{end} is not inside the sentence of length {len(sentence)}")
    return f"{sentence[:start]}{MARK_OPEN}{sentence[start:end]}{MARK_CLOSE}{sentence[end:]}"


def parse_marker(marked: str) -> tuple[str, int, int]:
    """The plain sentence and the target offsets of a sentence marked with ``[[...]]``.

    Raises
    ------
    ValueError
        Unless the sentence holds exactly one non-empty ``[[...]]`` marker.

    Examples
    --------
    >>> parse_marker("Heute sprach [[Putin]].")
    ('Heute sprach Putin.', 13, 18)
    """
    opens, closes = marked.count(MARK_OPEN), marked.count(MARK_CLOSE)
    if opens != 1 or closes != 1:
        raise ValueError(f"the sentence must mark the target exactly once as {MARK_OPEN}...{MARK_CLOSE}; "
                         f"found {opens} '{MARK_OPEN}' and {closes} '{MARK_CLOSE}'")
    start = marked.index(MARK_OPEN)
    close = marked.index(MARK_CLOSE)
    end = close - len(MARK_OPEN)
    if close < start or end <= start:
        raise ValueError(f"the marker must enclose the target, as in {MARK_OPEN}Putin{MARK_CLOSE}")
    plain = marked[:start] + marked[start + len(MARK_OPEN):close] + marked[close + len(MARK_CLOSE):]
    return plain, start, end


def parse_label(value: object) -> str | None:
    """A label cell as ``"negative"``/``"neutral"``/``"positive"``, or ``None`` when empty.

    Raises
    ------
    ValueError
        For any other value.

    Examples
    --------
    >>> parse_label(" Negative "), parse_label("pos"), parse_label(""), parse_label("-1")
    ('negative', 'positive', None, 'negative')
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    text = str(value).strip().lower()
    if text.startswith("'") and text[1:].startswith(_FORMULA_PREFIXES):
        text = text[1:].strip()
    if not text:
        return None
    if text in LABEL_ALIASES:
        return LABEL_ALIASES[text]
    if text in ("1.0", "-1.0", "0.0", "+1.0"):  # a spreadsheet turned -1/0/1 into a number
        return LABEL_ALIASES[text[:-2]]
    raise ValueError(bad_value("label", str(value), LABELS, hint="Also accepted: neg/neu/pos, negativ/positiv, -1/0/+1; "
                                                                 "leave the cell empty if the unit is not coded."))


def _needs_quote(text: str) -> bool:
    """Whether a cell needs a leading ``'`` so a spreadsheet shows it as text, not a formula.

    Cells that start with ``'`` before a formula character are quoted too, so that reading
    (:func:`_unprotect`) gives back exactly what was written.
    """
    return text.lstrip("'").startswith(_FORMULA_PREFIXES)


def _protect(value: object) -> str:
    """A sheet cell: text with a leading ``'`` when a spreadsheet could run it as a formula
    (as :func:`stance.tables.neutralise_formulas` does for the report's CSV files)."""
    text = "" if value is None else str(value)
    return "'" + text if _needs_quote(text) else text


def _unprotect(text: str) -> str:
    """Undo :func:`_protect`; a cell whose ``'`` the spreadsheet dropped is taken as it is."""
    return text[1:] if text.startswith("'") and _needs_quote(text[1:]) else text


# --- sampling -----------------------------------------------------------------------------------------------------

def allocate(sizes: Mapping[str, int], draws: int) -> dict[str, int]:
    """How many units to draw from each stratum.

    At least one per stratum when ``draws`` is at least the number of (non-empty) strata;
    the rest in proportion to the sizes, given one at a time to the stratum furthest below
    its proportional share (ties: the larger stratum, then the name); never more than a
    stratum holds. With fewer draws than strata there is no minimum of one: every draw goes
    by the proportional rule, so a large stratum can take several draws and small strata
    none (not "one each to the largest strata").

    Examples
    --------
    >>> allocate({"a": 90, "b": 9, "c": 1}, 10)
    {'a': 8, 'b': 1, 'c': 1}
    >>> allocate({"a": 5, "b": 3, "c": 2}, 2)
    {'a': 1, 'b': 1, 'c': 0}
    >>> allocate({"a": 100, "b": 1, "c": 1}, 2)
    {'a': 2, 'b': 0, 'c': 0}
    """
    total = sum(sizes.values())
    draws = min(draws, total)
    names = sorted(sizes)
    alloc = {name: 0 for name in names}
    if draws >= len([n for n in names if sizes[n] > 0]):
        alloc = {name: min(1, sizes[name]) for name in names}
    quota = {name: draws * sizes[name] / total if total else 0.0 for name in names}
    # Every stratum below floor(quota) has a deficit >= 1 and is served before any fractional one,
    # so starting from floor(quota) gives the same result as one-at-a-time from the start.
    floors = {name: max(alloc[name], min(sizes[name], math.floor(quota[name]))) for name in names}
    if sum(floors.values()) <= draws:
        alloc = floors
    for _ in range(draws - sum(alloc.values())):
        open_ = [n for n in names if alloc[n] < sizes[n]]
        best = min(open_, key=lambda n: (-(quota[n] - alloc[n]), -sizes[n], n))
        alloc[best] += 1
    return alloc


def _stratum(frame: pd.DataFrame, by: str) -> pd.Series:
    if by == "date":
        dates = frame["date"] if "date" in frame else pd.Series([None] * len(frame), index=frame.index)
        return dates.map(lambda d: str(d)[:7] if _present(d) else UNDATED_STRATUM)
    if by not in frame:
        raise CodingSheetError(f"cannot stratify by {by!r}: the mentions table has no {by!r} column")
    return frame[by].map(lambda v: str(v) if _present(v) else "")


def _present(value: object) -> bool:
    """Not None, NaN or the text 'None'/'' that a CSV round trip leaves for a missing value."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return False
    return str(value) not in ("", "None", "nan", "NaT")


def draw_sample(mentions: pd.DataFrame, n: int, *, by: str | None = None, seed: int = RANDOM_STATE,
                uncertain: float = 0.0) -> pd.DataFrame:
    """Draw ``n`` units of a mentions table for hand coding (see the module docstring for the rule).

    Parameters
    ----------
    mentions : DataFrame
        The units: the mentions table of :func:`stance.analyze_corpus` or ``stance report``
        (columns :data:`SAMPLE_COLUMNS`; ``p_negative``/``p_neutral``/``p_positive`` are
        needed for ``uncertain > 0``).
    n : int
        Units to draw; all units when the table has fewer.
    by : {"actor", "source", "date"}, optional
        Stratify the random part by this field (``date``: by calendar month).
    seed : int
        Seed of the draw: the same table and seed give the same sample.
    uncertain : float
        Share of ``n`` taken from the units with the lowest maximum stance probability.

    Returns
    -------
    DataFrame
        The drawn rows in corpus order, with the added columns ``unit_id``, ``max_proba``,
        ``draw`` (``uncertain``, ``stratified`` or ``random``), ``stratum`` and
        ``stratified_by`` (``by``, or ``""``).

    Raises
    ------
    CodingSheetError
        If ``n < 1``, ``uncertain`` is outside [0, 1], ``by`` is unknown or columns are missing.

    Examples
    --------
    >>> table = pd.DataFrame({"article_id": ["a", "a", "b", "c"], "sentence_index": [0, 1, 0, 0],
    ...                       "actor": ["putin", "merz", "putin", "putin"], "start": [0, 0, 0, 0], "end": [5, 4, 5, 5],
    ...                       "sentence": ["Putin kam.", "Merz ging.", "Putin sprach.", "Putin log."]})
    >>> sample = draw_sample(table, 2, by="actor", seed=1)
    >>> sorted(sample["actor"]), list(sample["draw"])
    (['merz', 'putin'], ['stratified', 'stratified'])
    """
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise CodingSheetError(bad_value("n", n, "a whole number >= 1"))
    if not 0.0 <= uncertain <= 1.0:
        raise CodingSheetError(bad_value("uncertain", uncertain, "a share between 0 and 1"))
    if by is not None and by not in STRATA:
        raise CodingSheetError(bad_value("by", by, STRATA))
    missing = [c for c in SAMPLE_COLUMNS if c not in mentions]
    if missing:
        raise CodingSheetError(f"the mentions table lacks the column(s) {', '.join(missing)}")
    pool = mentions.reset_index(drop=True).copy()
    pool["unit_id"] = [unit_id(a, s, act, b, e) for a, s, act, b, e in
                       zip(pool["article_id"], pool["sentence_index"], pool["actor"], pool["start"], pool["end"])]
    marked = pool["sentence"].astype(str).str.contains(r"\[\[|\]\]", regex=True)
    if marked.any():
        logger.warning("%d unit(s) whose sentence already contains '[[' or ']]' cannot be marked and are not drawn",
                       int(marked.sum()))
    repeated = pool["unit_id"].duplicated()
    if repeated.any():
        logger.warning("%d repeated unit(s) (same article, sentence, actor and offsets) are drawn at most once", int(repeated.sum()))
    bad = ~np.asarray([isinstance(s, str) and int(b) < int(e) for s, b, e in zip(pool["sentence"], pool["start"], pool["end"])],
                      dtype=bool)
    if bad.any():
        logger.warning("%d unit(s) without a sentence or with empty target offsets are not drawn", int(bad.sum()))
    pool = pool[~marked & ~repeated & ~bad]
    if n > len(pool):
        logger.warning("n = %d is more than the %d units available: all units are drawn", n, len(pool))
    n = min(n, len(pool))
    rng = np.random.default_rng(seed)
    ties = rng.random(len(pool))
    if all(c in pool for c in PROBA_COLUMNS):
        pool["max_proba"] = pool[list(PROBA_COLUMNS)].astype(float).max(axis=1)
    elif uncertain > 0:
        raise CodingSheetError(f"--uncertain needs the probability columns {', '.join(PROBA_COLUMNS)} in the mentions table")
    else:
        pool["max_proba"] = np.nan
    pool["draw"] = ""
    pool["stratum"] = _stratum(pool, by) if by is not None else ""
    n_uncertain = int(round(uncertain * n))
    if n_uncertain:
        order = np.lexsort((ties, pool["max_proba"].to_numpy(dtype=float)))
        pool.iloc[order[:n_uncertain], pool.columns.get_loc("draw")] = "uncertain"
    rest = pool.index[pool["draw"] == ""]
    m = n - n_uncertain
    if by is None:
        chosen = rng.choice(np.asarray(rest), size=m, replace=False) if m else np.array([], dtype=int)
        pool.loc[chosen, "draw"] = "random"
    else:
        strata = pool.loc[rest, "stratum"]
        groups = {str(name): np.asarray(index) for name, index in strata.groupby(strata, sort=True).groups.items()}
        for name, count in allocate({k: len(v) for k, v in groups.items()}, m).items():
            if count:
                picked = rng.choice(np.sort(groups[name]), size=count, replace=False)
                pool.loc[picked, "draw"] = "stratified"
    sample = pool[pool["draw"] != ""].copy()
    sample["stratified_by"] = by or ""
    return sample.reset_index(drop=True)


def restore_text_cells(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of a mentions table read from CSV with the leading ``'`` that
    :func:`stance.tables.neutralise_formulas` added to formula-like text cells removed again,
    so sentences and offsets match the analysed text.

    Examples
    --------
    >>> restore_text_cells(pd.DataFrame({"sentence": ["'- Putin kam.", "Putin ging."], "start": [2, 0]}))["sentence"].tolist()
    ['- Putin kam.', 'Putin ging.']
    """
    result = frame.copy()
    for name in result.columns:
        column = result[name]
        if pd.api.types.is_object_dtype(column) or pd.api.types.is_string_dtype(column):
            result[name] = column.map(lambda v: v[1:] if isinstance(v, str) and v.startswith("'")
                                      and v[1:].startswith(_FORMULA_PREFIXES) else v)
    return result


# --- writing ------------------------------------------------------------------------------------------------------

def key_path(sheet: str | Path) -> Path:
    """The key file beside a coding sheet: ``<stem>.key.jsonl``.

    Examples
    --------
    >>> key_path(Path("work/coding.csv")).as_posix()
    'work/coding.key.jsonl'
    """
    sheet = Path(sheet)
    return sheet.with_name(f"{sheet.stem}.key.jsonl")


def _clean(value: Any) -> Any:
    """A JSON-ready value: numpy scalars as Python, NaN and 'None' as None."""
    if isinstance(value, np.generic):
        value = value.item()
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, str) and value in ("None", "nan", "NaT"):
        return None
    return value


def locate_targets(sample: pd.DataFrame, sentences: Mapping[str, Sequence[Sentence]] | None = None) -> pd.DataFrame:
    """The drawn units with the target located in its sentence and the context sentences.

    In a mentions table ``start``/``end`` are offsets into the article text. With the
    article's sentences (:func:`corpus_sentences`) the target's offsets in the sentence are
    exact (``start`` minus the sentence's start); without them (a saved mentions table and
    no corpus) the target is the first occurrence of ``surface`` in the sentence, and the
    context cells stay empty. A unit that cannot be located is dropped with a warning.

    Returns
    -------
    DataFrame
        ``sample`` with the added columns ``target_start``, ``target_end`` (offsets in
        ``sentence``), ``context_before`` and ``context_after`` (``''`` at an article's edges
        or when unknown).
    """
    located: list[tuple[int, int, str, str] | None] = []
    for r in sample.to_dict("records"):
        sentence, index = str(r["sentence"]), int(r["sentence_index"])
        known = (sentences or {}).get(str(r["article_id"]))
        if known is not None and 0 <= index < len(known) and known[index].text == sentence:
            start, end = int(r["start"]) - known[index].start, int(r["end"]) - known[index].start
            before = known[index - 1].text if index > 0 else ""
            after = known[index + 1].text if index + 1 < len(known) else ""
        else:
            surface = _clean(r.get("surface"))
            found = sentence.find(str(surface)) if surface else -1
            start, end = (found, found + len(str(surface))) if found >= 0 else (-1, -1)
            before = after = ""
        located.append((start, end, before, after) if 0 <= start < end <= len(sentence) else None)
    missing = sum(x is None for x in located)
    if missing:
        logger.warning("%d drawn unit(s) whose target cannot be located in its sentence are left out", missing)
    keep = [x is not None for x in located]
    result = sample[keep].copy()
    values = [x for x in located if x is not None]
    for i, name in enumerate(("target_start", "target_end", "context_before", "context_after")):
        result[name] = [v[i] for v in values]
    return result.reset_index(drop=True)


def sheet_rows(sample: pd.DataFrame) -> list[dict[str, str]]:
    """The rows of the coding sheet (:data:`SHEET_COLUMNS`, all text) for located units (:func:`locate_targets`)."""
    rows = []
    for r in sample.to_dict("records"):
        date, name = _clean(r.get("date")), _clean(r.get("actor_name"))
        rows.append({
            "unit_id": r["unit_id"], "article_id": str(r["article_id"]), "date": "" if date is None else str(date),
            "source": str(_clean(r.get("source")) or ""), "actor": str(r["actor"]),
            "actor_name": str(name if name is not None else r["actor"]),
            "context_before": str(r["context_before"]),
            "sentence": mark_target(str(r["sentence"]), int(r["target_start"]), int(r["target_end"])),
            "context_after": str(r["context_after"]), "stance": "", "sentiment": "", "note": "",
        })
    return rows


def key_records(sample: pd.DataFrame, *, sheet: str | None = None,
                model: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
    """The key file's records for located units (:func:`locate_targets`): per unit the model's
    labels and scores, the target's offsets in the sentence (``start``/``end``) and in the
    article (``article_start``/``article_end``), how it was drawn (``draw``, ``stratum``,
    ``by``), the sheet's file name (``sheet``) and the model (``model_path``,
    ``model_sha256`` from ``model["path"]``/``model["sha256"]``; ``None`` when unknown)."""
    model = model or {}
    records = []
    for r in sample.to_dict("records"):
        proba = {label: _clean(r.get(f"p_{label}")) for label in LABELS}
        date = _clean(r.get("date"))
        records.append({
            "unit_id": r["unit_id"], "article_id": str(r["article_id"]), "sentence_index": int(r["sentence_index"]),
            "start": int(r["target_start"]), "end": int(r["target_end"]),
            "article_start": int(r["start"]), "article_end": int(r["end"]), "actor": str(r["actor"]),
            "surface": _clean(r.get("surface")), "kind": _clean(r.get("kind")),
            "source": _clean(r.get("source")), "date": None if date is None else str(date),
            "stance": _clean(r.get("stance")), "stance_score": _clean(r.get("stance_score")),
            "stance_proba": proba if any(v is not None for v in proba.values()) else None,
            "max_proba": _clean(r.get("max_proba")),
            "sentiment": _clean(r.get("sentiment")), "sentiment_score": _clean(r.get("sentiment_score")),
            "draw": r["draw"], "stratum": _clean(r.get("stratum")) or None, "by": _clean(r.get("stratified_by")) or None,
            "sheet": sheet, "model_path": _clean(model.get("path")), "model_sha256": _clean(model.get("sha256")),
        })
    return records


def write_coding_sheet(sample: pd.DataFrame, path: str | Path, *, sentences: Mapping[str, Sequence[Sentence]] | None = None,
                       model: Mapping[str, Any] | None = None) -> tuple[Path, Path]:
    """Write the coding sheet and its key file (:func:`key_path`), each atomically.

    ``sample`` is a drawn sample (:func:`draw_sample`), located (:func:`locate_targets`)
    here with ``sentences`` unless it already is. ``model`` (``{"path", "sha256"}``) names
    the model whose labels the sample carries; it goes into every key record. ``.csv``: UTF-8 with BOM (opens cleanly in
    Excel and LibreOffice), ``,``-separated, ``\r\n`` line ends, with a leading ``'`` in cells a
    spreadsheet could run as a formula (undone by :func:`read_coding_sheet`). ``.jsonl``:
    the same rows as JSON lines. The key file is written first, so a sheet never exists
    without its key.

    Returns
    -------
    tuple of Path
        The sheet and the key file.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".jsonl"):
        raise CodingSheetError(bad_value("coding sheet", path.name, "a .csv or .jsonl file name"))
    if "target_start" not in sample:
        sample = locate_targets(sample, sentences)
    rows = sheet_rows(sample)
    key = key_path(path)
    write_jsonl(key, key_records(sample, sheet=path.name, model=model))
    if suffix == ".jsonl":
        write_jsonl(path, rows)
        return path, key
    with atomic_open(path, "w", encoding="utf-8-sig") as handle:
        writer = csv.writer(handle, lineterminator="\r\n")
        writer.writerow(SHEET_COLUMNS)
        for row in rows:
            writer.writerow([_protect(row[c]) for c in SHEET_COLUMNS])
    return path, key


def corpus_sentences(*paths: str | Path, article_ids: Iterable[str], ingest: IngestConfig | None = None,
                     registry: ActorRegistry | None = None, language: str | None = None) -> dict[str, tuple[Sentence, ...]]:
    """The sentences of the given articles, read again from the corpus (to locate targets and fill the context cells).

    Read with the same options as the analysis, the articles get the same ids and the same
    sentence split as in the mentions table. ``language`` is the code of the model's language
    pack (:attr:`stance.scoring.Analyzer.language`): its spaCy pipeline splits the sentences and,
    unless ``ingest`` names a language, its month names and boilerplate words read the corpus, as
    in the analysis (default: ``ingest.language``, else German).
    """
    from dataclasses import replace

    from .actors import resolve_registry
    from .articles import iter_corpus
    from .config import IngestConfig, NlpConfig
    from .lang import DEFAULT_LANGUAGE
    from .nlp import load_nlp
    from .records import Article
    from .sentences import split_sentences

    wanted = set(article_ids)
    ingest = ingest or IngestConfig()
    language = language or ingest.language or DEFAULT_LANGUAGE
    if ingest.language is None:
        ingest = replace(ingest, language=language)
    nlp = load_nlp(NlpConfig(lang=language), resolve_registry(registry, language=language))
    found: dict[str, tuple[Sentence, ...]] = {}
    for item in iter_corpus(*paths, config=ingest):
        if isinstance(item, Article) and item.id in wanted and item.id not in found:
            found[item.id] = tuple(split_sentences(item.text, nlp))
    return found


# --- reading ------------------------------------------------------------------------------------------------------

def _decode(path: Path) -> str:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise CodingSheetError(f"{path}: cannot read the coding sheet: {exc.strerror or exc}") from exc
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):  # UTF-16 with BOM: Excel's "Unicode Text" (tab separated)
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise CodingSheetError(f"{path}: starts with a UTF-16 byte order mark but is not valid UTF-16: {exc}") from exc
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        logger.warning("%s is not UTF-8; read as Windows-1252 (as older Excel versions save CSV). "
                       "Check umlauts, or save as 'CSV UTF-8'", path)
        return data.decode("cp1252", errors="replace")


def _csv_records(path: Path, text: str) -> Iterator[tuple[int, dict[str, str]]]:
    """``(line, row)`` for each non-blank data row of a CSV sheet; checks the header and the field counts."""
    first = text.split("\n", 1)[0]
    delimiter = max((",", ";", "\t"), key=first.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = [h.strip().lstrip("\ufeff").lower() for h in next(reader)]
    except StopIteration:
        raise CodingSheetError(f"{path}: the coding sheet is empty") from None
    except csv.Error as exc:
        raise CodingSheetError(f"{path}, line 1: cannot read the header: {exc}") from exc
    _check_columns(path, header)
    previous = reader.line_num
    while True:
        try:
            fields = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise CodingSheetError(f"{path}, line {previous + 1}: cannot read the row: {exc}") from exc
        line, previous = previous + 1, reader.line_num
        if not any(f.strip() for f in fields):
            continue
        if len(fields) != len(header):
            raise CodingSheetError(
                f"{path}, line {line}: {len(fields)} fields, but the header has {len(header)}; the row was edited out of "
                f"shape (a cell added or deleted, or a '{delimiter}' in a cell that is not quoted)")
        yield line, dict(zip(header, fields))


def _json_objects(path: Path, text: str) -> Iterator[tuple[int, dict[str, Any]]]:
    """``(line number, object)`` for each non-blank line of a JSONL text; anything else names the line."""
    for line, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            record = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise CodingSheetError(f"{path}, line {line}: not valid JSON: {exc.msg}") from exc
        if not isinstance(record, dict):
            raise CodingSheetError(f"{path}, line {line}: expected a JSON object, got {type(record).__name__}")
        yield line, record


def _jsonl_records(path: Path, text: str) -> Iterator[tuple[int, dict[str, str]]]:
    checked = False
    for line, record in _json_objects(path, text):
        if not checked:
            _check_columns(path, list(record), line)
            checked = True
        missing = [c for c in REQUIRED_COLUMNS if c not in record]
        if missing:
            raise CodingSheetError(f"{path}, line {line}: missing field(s) {', '.join(missing)}")
        yield line, {k: "" if v is None else str(v) for k, v in record.items()}


def _check_columns(path: Path, header: Sequence[str], line: int = 1) -> None:
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if missing:
        raise CodingSheetError(f"{path}, line {line}: missing column(s) {', '.join(missing)}; a coding sheet has the "
                               f"columns {', '.join(SHEET_COLUMNS)} (as written by `stance sample`)")
    repeated = sorted({c for c in header if c and header.count(c) > 1})
    if repeated:
        raise CodingSheetError(f"{path}, line {line}: repeated column(s) {', '.join(repeated)}")


def read_coding_sheet(path: str | Path) -> list[CodedUnit]:
    """Read a (coded) sheet written by :func:`write_coding_sheet`, checking every row.

    Parameters
    ----------
    path : str or Path
        ``.csv`` (UTF-8, BOM tolerated, or UTF-16 with BOM; ``,``, ``;`` or tab separated) or ``.jsonl``.

    Returns
    -------
    list of CodedUnit
        In sheet order; rows whose cells are all empty are skipped.

    Raises
    ------
    CodingSheetError
        Naming the file and line: missing columns, a row out of shape, an empty or repeated
        ``unit_id``, a sentence without exactly one ``[[...]]`` marker, an unknown label.

    Examples
    --------
    >>> import tempfile
    >>> sheet = Path(tempfile.mkdtemp()) / "coding.csv"
    >>> _ = sheet.write_text("unit_id;article_id;source;actor;sentence;stance;sentiment\\n"
    ...                      "u1;a#1;a.txt;putin;Heute sprach [[Putin]].; Negative ;neu\\n", encoding="utf-8")
    >>> unit = read_coding_sheet(sheet)[0]
    >>> unit.sentence, unit.start, unit.end, unit.stance, unit.sentiment, unit.line
    ('Heute sprach Putin.', 13, 18, 'negative', 'neutral', 2)
    """
    path = Path(path)
    if not path.is_file():
        raise CodingSheetError(f"{path}: no such coding sheet")
    text = _decode(path)
    jsonl = path.suffix.lower() == ".jsonl"
    records = _jsonl_records(path, text) if jsonl else _csv_records(path, text)
    units: list[CodedUnit] = []
    seen: dict[str, int] = {}
    for line, row in records:
        cells = row if jsonl else {k: _unprotect(v) for k, v in row.items()}  # JSONL keeps every value verbatim
        where = f"{path}, line {line}"
        uid = cells["unit_id"].strip()
        if not uid:
            raise CodingSheetError(f"{where}: empty unit_id")
        if uid in seen:
            raise CodingSheetError(f"{where}: unit_id {uid!r} repeats line {seen[uid]}; every unit must occur once")
        seen[uid] = line
        try:
            sentence, start, end = parse_marker(cells["sentence"])
        except ValueError as exc:
            raise CodingSheetError(f"{where} (unit {uid}): {exc}") from None
        labels = {}
        for task in ("stance", "sentiment"):
            try:
                labels[task] = parse_label(cells[task])
            except ValueError as exc:
                raise CodingSheetError(f"{where} (unit {uid}), column {task}: {exc}") from None
        date = cells.get("date", "").strip()
        units.append(CodedUnit(unit_id=uid, article_id=cells["article_id"], date=date or None, source=cells["source"],
                               actor=cells["actor"].strip(), sentence=sentence, start=start, end=end,
                               stance=labels["stance"], sentiment=labels["sentiment"], note=cells.get("note", ""), line=line))
    return units


def read_key(path: str | Path) -> dict[str, dict[str, Any]]:
    """Read a key file: ``unit_id`` -> the model's labels, scores and the unit's offsets.

    Raises
    ------
    CodingSheetError
        If the file is missing, a line is not a JSON object with a ``unit_id``, or an id repeats.
    """
    path = Path(path)
    if not path.is_file():
        raise CodingSheetError(f"{path}: no such key file (`stance sample` writes it beside the sheet; "
                               "give its path with --key)")
    key: dict[str, dict[str, Any]] = {}
    lines: dict[str, int] = {}
    for line, record in _json_objects(path, path.read_text(encoding="utf-8-sig")):
        if not isinstance(record.get("unit_id"), str):
            raise CodingSheetError(f"{path}, line {line}: expected a JSON object with a unit_id")
        uid = record["unit_id"]
        if uid in key:
            raise CodingSheetError(f"{path}, line {line}: unit_id {uid!r} repeats line {lines[uid]}")
        key[uid], lines[uid] = record, line
    return key
