"""Stage 5, features: scikit-learn transformers that turn (sentence, target) units into features.

Inputs are sequences of :class:`TargetText` (or objects/mappings with ``sentence``,
``target_spans`` and ``other_spans``). The transformers follow scikit-learn's conventions:
keyword-only ``__init__`` that only stores parameters, ``fit`` returns ``self``, learned
state ends in ``_``; the lexicon is read from the package, never pickled into a model.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from .records import split_target_and_others
from .resources import lexicon_file

TARGET_TOKEN = "zzziel"
OTHER_TOKEN = "zzzakteur"
NEGATORS = frozenset({"nicht", "nichts", "kein", "keine", "keinen", "keinem", "keiner", "keines", "nie", "niemals", "ohne", "weder"})
NEGATION_SCOPE = 3
_WORD_RE = re.compile(r"\w+(?:-\w+)*", re.UNICODE)


@dataclass(frozen=True, slots=True)
class TargetText:
    """A sentence with the character spans of its target and of other actors."""

    sentence: str
    target_spans: tuple[tuple[int, int], ...]
    other_spans: tuple[tuple[int, int], ...] = ()


def as_target_texts(X: Iterable[Any]) -> list[TargetText]:
    """Accept TargetText, Mention-like objects or mappings and return TargetText records."""
    rows: list[TargetText] = []
    for item in X:
        if isinstance(item, TargetText):
            rows.append(item)
            continue
        get = item.get if isinstance(item, Mapping) else lambda k, d=None, _i=item: getattr(_i, k, d)
        sentence = get("sentence")
        spans = get("target_spans") or ((get("start"), get("end")),)
        rows.append(TargetText(str(sentence), tuple(tuple(s) for s in spans), tuple(tuple(s) for s in (get("other_spans") or ()))))
    return rows


def mask_sentence(row: TargetText, *, mask_target: bool = True, mask_others: bool = True) -> str:
    """Replace target references with a placeholder token and other actors with another.

    Overlapping spans ("Wladimir Putin" and "Putin") are merged first, and an other-actor
    span that overlaps the target is left to the target.

    Examples
    --------
    >>> mask_sentence(TargetText("Trump lobt Putin.", ((11, 16),), ((0, 5),)))
    'zzzakteur lobt zzziel.'
    """
    target, others = split_target_and_others(row.target_spans, row.other_spans)
    edits = [(s, e, TARGET_TOKEN) for s, e in target] if mask_target else []
    if mask_others:
        edits += [(s, e, OTHER_TOKEN) for s, e in others]
    text = row.sentence
    for start, end, token in sorted(edits, reverse=True):
        text = text[:start] + token + text[end:]
    return text


class TargetMasker(TransformerMixin, BaseEstimator):
    """Sentences with the target masked as ``zzziel`` and other actors as ``zzzakteur``."""

    def __init__(self, *, mask_target: bool = True, mask_others: bool = True) -> None:
        self.mask_target = mask_target
        self.mask_others = mask_others

    def fit(self, X: Iterable[Any], y: Any = None) -> TargetMasker:
        """Nothing to learn; returns self."""
        self.n_features_in_ = 1
        return self

    def transform(self, X: Iterable[Any]) -> list[str]:
        """Return the masked sentences."""
        check_is_fitted(self, "n_features_in_")
        return [mask_sentence(r, mask_target=self.mask_target, mask_others=self.mask_others) for r in as_target_texts(X)]

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """One text column (the masked sentence)."""
        return np.asarray(["masked_sentence"], dtype=object)


def tokens_with_target(row: TargetText) -> tuple[list[str], list[int]]:
    """Lower-cased word tokens of the masked sentence and the positions of the target token."""
    words = [w.lower() for w in _WORD_RE.findall(mask_sentence(row))]
    return words, [i for i, w in enumerate(words) if w == TARGET_TOKEN]


class ContextWindow(TransformerMixin, BaseEstimator):
    """Words left and right of the target, prefixed ``l_``/``r_``, as text for a vectorizer."""

    def __init__(self, *, window: int = 6) -> None:
        self.window = window

    def fit(self, X: Iterable[Any], y: Any = None) -> ContextWindow:
        """Validate the window size; returns self."""
        if self.window < 1:
            raise ValueError(f"window must be >= 1, got {self.window}")
        self.n_features_in_ = 1
        return self

    def transform(self, X: Iterable[Any]) -> list[str]:
        """Return one string of prefixed window words per unit."""
        check_is_fitted(self, "n_features_in_")
        out = []
        for row in as_target_texts(X):
            words, positions = tokens_with_target(row)
            if not positions:
                out.append("")
                continue
            first, last = positions[0], positions[-1]
            left = words[max(0, first - self.window):first]
            right = words[last + 1:last + 1 + self.window]
            out.append(" ".join([f"l_{w}" for w in left] + [f"r_{w}" for w in right]))
        return out

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """One text column (the window words)."""
        return np.asarray(["window_text"], dtype=object)


@lru_cache(maxsize=1)
def load_lexicon() -> dict[str, int]:
    """The packaged Rauh (2018) German political sentiment lexicon: word form -> -1/+1."""
    lexicon: dict[str, int] = {}
    with lexicon_file().open(encoding="utf-8") as handle:
        next(handle)
        for line in handle:
            term, _, polarity = line.rstrip("\n").partition("\t")
            if term and polarity:
                lexicon[term] = int(polarity)
    return lexicon


def polarity_counts(words: Sequence[str], lexicon: Mapping[str, int]) -> tuple[int, int]:
    """Positive and negative lexicon hits in ``words``, a negator within 3 words flips one.

    Examples
    --------
    >>> polarity_counts(["ein", "erfolg"], {"erfolg": 1}), polarity_counts(["kein", "erfolg"], {"erfolg": 1})
    ((1, 0), (0, 1))
    """
    pos = neg = 0
    for i, word in enumerate(words):
        value = lexicon.get(word)
        if value is None:
            continue
        if any(w in NEGATORS for w in words[max(0, i - NEGATION_SCOPE):i]):
            value = -value
        if value > 0:
            pos += 1
        else:
            neg += 1
    return pos, neg


# Cue patterns over the masked, lower-cased sentence; "zzziel" is the target.
_OBJ = r"(?:\w+ ){0,3}?"
CUE_PATTERNS: dict[str, str] = {
    "cue_target_criticised": (
        rf"\b(?:kritisier|verurteil|attackier|beschuldig|prangert|verhöhn|verspott|warnt?e?n? vor|beschimpf|greift|griff|angriff auf|kritik an|vorwürfe gegen|vorwurf gegen|wirft|warf|werfen|vorgeworfen)\w* {_OBJ}zzziel"
        r"|zzziel\w* (?:\w+ ){0,3}?(?:wird|wurde|werden|ist|steht) (?:\w+ ){0,2}?(?:kritisiert|verurteilt|vorgeworfen|beschuldigt|angegriffen|isoliert|gedemütigt|blamiert)"
    ),
    "cue_target_praised": (
        rf"\b(?:dank|lob|würdig|gratulier|ehrt|ehrte|preist|pries|unterstütz|stellt\w* sich hinter|lob für|dank an|respekt für|anerkennung für)\w* {_OBJ}zzziel"
        r"|zzziel\w* (?:\w+ ){0,3}?(?:wird|wurde|werden) (?:\w+ ){0,2}?(?:gelobt|gewürdigt|geehrt|gefeiert|ausgezeichnet|unterstützt)"
    ),
    "cue_target_speaks": r"zzziel\w* (?:\w+ ){0,2}?(?:kritisiert|kritisierte|warf|wirft|verurteilt|verurteilte|sagte|sagt|erklärte|betonte|forderte|warnte|lobte|dankte|nannte)\b",
    "cue_distancing": r"\b(?:angeblich|sogenannt|vermeintlich|selbsternannt|selbst ernannt)\w*",
}
# A short-quote cue (scare quotes, „Friedensplan“) was tested and dropped: it lowered GerNTSA dev
# macro-F1 from 0.457 to 0.447 with no gain in-domain (0.478 vs 0.477).
_CUE_RES = {name: re.compile(p) for name, p in CUE_PATTERNS.items()}


class LexiconFeatures(TransformerMixin, BaseEstimator):
    """Lexicon polarity counts (sentence and target window, with negation) and cue patterns.

    Columns: ``sent_pos``, ``sent_neg``, ``win_pos``, ``win_neg`` (log1p counts); with
    ``use_structure`` also ``oth_pos``, ``oth_neg`` (polarity near the other actors) and 0/1
    columns ``has_other``, ``target_first`` (the target precedes every other actor) and
    ``target_opens`` (the target is among the first three words); and one 0/1 column per cue
    pattern in :data:`CUE_PATTERNS` when ``use_cues``.
    """

    def __init__(self, *, window: int = 6, use_window: bool = True, use_cues: bool = True, target_aware: bool = True,
                 use_structure: bool = False) -> None:
        self.window = window
        self.use_window = use_window
        self.use_cues = use_cues
        self.target_aware = target_aware
        self.use_structure = use_structure

    def fit(self, X: Iterable[Any], y: Any = None) -> LexiconFeatures:
        """Fix the output columns; returns self."""
        if not self.target_aware and (self.use_window or self.use_cues or self.use_structure):
            raise ValueError("use_window, use_cues and use_structure need target_aware=True")
        names = ["sent_pos", "sent_neg"]
        if self.use_window:
            names += ["win_pos", "win_neg"]
        if self.use_structure:
            names += ["oth_pos", "oth_neg", "has_other", "target_first", "target_opens"]
        if self.use_cues:
            names += list(CUE_PATTERNS)
        self.feature_names_ = np.asarray(names, dtype=object)
        self.n_features_in_ = 1
        return self

    def transform(self, X: Iterable[Any]) -> np.ndarray:
        """Return a dense float matrix, one row per unit."""
        check_is_fitted(self, "feature_names_")
        lexicon = load_lexicon()
        rows = []
        for row in as_target_texts(X):
            if self.target_aware:
                words, positions = tokens_with_target(row)
            else:
                words, positions = [w.lower() for w in _WORD_RE.findall(row.sentence)], []
            values: list[float] = list(polarity_counts(words, lexicon))
            if self.use_window:
                if positions:
                    lo, hi = max(0, positions[0] - self.window), positions[-1] + 1 + self.window
                    values += list(polarity_counts(words[lo:hi], lexicon))
                else:
                    values += [0, 0]
            if self.use_structure:
                values += self._structure(words, positions, lexicon)
            if self.use_cues:
                masked = " ".join(words)
                values += [1.0 if _CUE_RES[name].search(masked) else 0.0 for name in CUE_PATTERNS]
            rows.append(values)
        matrix = np.asarray(rows, dtype=float).reshape(len(rows), len(self.feature_names_))
        counts = [i for i, n in enumerate(self.feature_names_) if n.endswith(("_pos", "_neg"))]
        matrix[:, counts] = np.log1p(matrix[:, counts])
        return matrix

    def _structure(self, words: list[str], positions: list[int], lexicon: Mapping[str, int]) -> list[float]:
        others = [i for i, w in enumerate(words) if w == OTHER_TOKEN]
        pos = neg = 0
        for i in others:
            p, n = polarity_counts(words[max(0, i - self.window):i + 1 + self.window], lexicon)
            pos, neg = pos + p, neg + n
        first = positions[0] if positions else len(words)
        return [pos, neg, float(bool(others)), float(not others or first < others[0]), float(first < 3)]

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """Names of the output columns."""
        check_is_fitted(self, "feature_names_")
        return np.asarray([f"lex_{n}" for n in self.feature_names_], dtype=object)


def lexicon_sentence_score(sentence: str) -> int:
    """Sum of lexicon polarities in a sentence (with negation): the lexicon-only baseline."""
    words = [w.lower() for w in _WORD_RE.findall(sentence)]
    pos, neg = polarity_counts(words, load_lexicon())
    return pos - neg
