"""Stage 5, features: scikit-learn transformers that turn (sentence, target) units into features.

A stance pipeline starts with :class:`TargetMasker`: units in (:class:`TargetText`, or any
object or mapping with ``sentence``, ``target_spans`` and ``other_spans``), one
:class:`MaskedUnit` out per unit. It masks the target and the other actors once and
tokenises once; every feature block after it reads the :class:`MaskedUnit`:

- :class:`NgramTfidf`: word or character n-gram TF-IDF of the masked sentence. The
  vocabulary is chosen by scikit-learn's ``CountVectorizer`` and the weighting is
  scikit-learn's ``TfidfTransformer``; counting at transform time is vectorised (every
  n-gram is an exact integer key looked up in the fitted vocabulary), so the output equals
  ``TfidfVectorizer``'s without a Python loop per n-gram;
- :class:`WindowTfidf`: the words left and right of the target;
- :class:`LexiconFeatures`: lexicon polarity counts and cue patterns;
- :class:`FrameFeatures`: who does what to the target (speaker, accused, praised, harm).

The transformers follow scikit-learn's conventions: keyword-only ``__init__`` that only
stores parameters, ``fit`` returns ``self``, learned state ends in ``_``; the lexicon is read
from the package, never stored in a model.
"""

from __future__ import annotations

import itertools
import re
import weakref
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.feature_extraction.text import CountVectorizer, TfidfTransformer
from sklearn.utils.validation import check_is_fitted

from .lang import DEFAULT_LANGUAGE, GERMAN, LanguagePack, get_pack
from .records import split_target_and_others

TARGET_TOKEN = "zzziel"
OTHER_TOKEN = "zzzakteur"
# The word lists and patterns are the language pack's (stance.lang); these names are the German ones.
NEGATORS = GERMAN.negators
CUE_PATTERNS = GERMAN.cue_patterns
NEUTRAL_NEWS_WORDS = GERMAN.neutral_news_words
NEGATION_SCOPE = 3
_WORD_RE = re.compile(r"\w+(?:-\w+)*", re.UNICODE)
_CLAUSE_TOKEN_RE = re.compile(_WORD_RE.pattern + r"|[,;:()\[\]„“”\"«»–—]", re.UNICODE)  # words first, as _WORD_RE
_CLAUSE_BREAKS = frozenset(",;:()[]„“”\"«»–—")
_SKLEARN_TOKEN_RE = re.compile(r"(?u)\b\w\w+\b")


@dataclass(frozen=True, slots=True)
class TargetText:
    """A sentence with the character spans of its target and of other actors."""

    sentence: str
    target_spans: tuple[tuple[int, int], ...]
    other_spans: tuple[tuple[int, int], ...] = ()


@dataclass(frozen=True, slots=True)
class MaskedUnit:
    """A unit masked and tokenised once, as every feature block reads it.

    ``lower`` is the masked sentence in lower case; ``words`` its word tokens and
    ``targets`` the positions of the target token among them; ``tokens`` the word and
    punctuation tokens with ``clauses`` (clause number of each token) and ``token_targets``.
    """

    lower: str
    words: tuple[str, ...]
    targets: tuple[int, ...]
    tokens: tuple[str, ...]
    clauses: tuple[int, ...]
    token_targets: tuple[int, ...]


def check_units(X: Any) -> list[TargetText]:
    """Validate model input as scikit-learn does: a sequence of units, never a bare string.

    Accepts :class:`TargetText`, objects with ``sentence`` and ``target_spans`` (or
    ``start``/``end``) attributes such as :class:`~stance.records.Mention`, and mappings
    with those keys.

    Raises
    ------
    TypeError
        If ``X`` is a string, bytes or not iterable, or an element is a string.
    ValueError
        If an element lacks a sentence or target spans.

    Examples
    --------
    >>> check_units([TargetText("Putin lügt.", ((0, 5),))])[0].sentence
    'Putin lügt.'
    >>> check_units("Putin lügt.")
    Traceback (most recent call last):
    ...
    TypeError: expected a sequence of units (TargetText, Mention or mappings with 'sentence' and 'target_spans'), got a single str
    """
    if isinstance(X, (str, bytes)) or not isinstance(X, Iterable):
        raise TypeError("expected a sequence of units (TargetText, Mention or mappings with 'sentence' and 'target_spans'), "
                        f"got a single {type(X).__name__}")
    rows: list[TargetText] = []
    for position, item in enumerate(X):
        if isinstance(item, TargetText):
            rows.append(item)
            continue
        if isinstance(item, (str, bytes)):
            raise TypeError(f"unit {position}: expected a unit with a sentence and target spans, got a {type(item).__name__}")
        get = item.get if isinstance(item, Mapping) else (lambda key, default=None, _item=item: getattr(_item, key, default))
        sentence = get("sentence")
        start, end = get("start"), get("end")
        spans: Any = get("target_spans") or (((start, end),) if start is not None and end is not None else None)
        if not isinstance(sentence, str) or not spans:
            raise ValueError(f"unit {position}: {type(item).__name__} has no sentence and target spans")
        rows.append(TargetText(sentence, tuple((int(s), int(e)) for s, e in spans),
                               tuple((int(s), int(e)) for s, e in (get("other_spans") or ()))))
    return rows


def mask_sentence(row: TargetText, *, mask_target: bool = True, mask_others: bool = True, merge_others: bool = False) -> str:
    """Replace target references with a placeholder token and other actors with another.

    Overlapping spans ("Wladimir Putin" and "Putin") are merged first, and an other-actor
    span that overlaps the target is left to the target. ``merge_others`` masks the other
    actors with the target's token (the name-blind diagnostic).

    Examples
    --------
    >>> mask_sentence(TargetText("Trump lobt Putin.", ((11, 16),), ((0, 5),)))
    'zzzakteur lobt zzziel.'
    """
    target, others = split_target_and_others(row.target_spans, row.other_spans)
    edits = [(s, e, TARGET_TOKEN) for s, e in target] if mask_target else []
    if mask_others:
        edits += [(s, e, TARGET_TOKEN if merge_others else OTHER_TOKEN) for s, e in others]
    text = row.sentence
    for start, end, token in sorted(edits, reverse=True):
        text = text[:start] + token + text[end:]
    return text


def masked_unit(text: str, anchors: str | None = None) -> MaskedUnit:
    """Tokenise a masked sentence once for every feature block.

    ``anchors``: the sentence with target and other actors masked, when ``text`` masks less
    (the target-visible and name-blind variants); words, tokens and target positions come from
    it, so the window, lexicon and frame blocks always find the target.
    """
    lower = text.lower()
    anchored = lower if anchors is None else anchors.lower()
    tokens = tuple(_CLAUSE_TOKEN_RE.findall(anchored))
    breaks = [token in _CLAUSE_BREAKS for token in tokens]
    words = tuple(itertools.compress(tokens, [not b for b in breaks]))  # what _WORD_RE finds: the tokens that are words
    clauses = tuple(itertools.accumulate(breaks, initial=0))[1:]  # a break token opens the next clause
    return MaskedUnit(lower, words, tuple(i for i, w in enumerate(words) if w == TARGET_TOKEN), tokens, clauses,
                      tuple(i for i, t in enumerate(tokens) if t == TARGET_TOKEN))


class TargetMasker(TransformerMixin, BaseEstimator):
    """Units in, :class:`MaskedUnit` out: the target masked as ``zzziel``, other actors as
    ``zzzakteur`` (or as the target with ``merge_others``), once per unit.

    Examples
    --------
    >>> TargetMasker().fit_transform([TargetText("Trump lobt Putin.", ((11, 16),), ((0, 5),))])[0].lower
    'zzzakteur lobt zzziel.'
    """

    def __init__(self, *, mask_target: bool = True, mask_others: bool = True, merge_others: bool = False) -> None:
        self.mask_target = mask_target
        self.mask_others = mask_others
        self.merge_others = merge_others

    def fit(self, X: Any, y: Any = None) -> TargetMasker:
        """Nothing to learn; checks the input and returns self."""
        check_units(X)
        self.n_features_in_ = 1
        return self

    def transform(self, X: Any) -> list[MaskedUnit]:
        """One :class:`MaskedUnit` per unit (the sentence is masked once in the default setting)."""
        check_is_fitted(self, "n_features_in_")
        if self.mask_target and self.mask_others and not self.merge_others:
            return [masked_unit(mask_sentence(row)) for row in check_units(X)]
        if not (self.mask_target or self.mask_others):  # the sentence as it is (sentiment, target-ignoring)
            return [masked_unit(row.sentence) for row in check_units(X)]
        return [masked_unit(mask_sentence(row, mask_target=self.mask_target, mask_others=self.mask_others,
                                          merge_others=self.merge_others), anchors=mask_sentence(row)) for row in check_units(X)]

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """One column: the masked unit."""
        return np.asarray(["masked_unit"], dtype=object)


def _lower_texts(X: Iterable[Any]) -> list[str]:
    return [x.lower if isinstance(x, MaskedUnit) else str(x).lower() for x in X]


class _TfidfBlock(TransformerMixin, BaseEstimator):
    """Shared TF-IDF step: counts from the subclass, weighting by scikit-learn's TfidfTransformer."""

    sublinear_tf: bool

    def _weight(self, counts: Any) -> Any:
        step = TfidfTransformer(sublinear_tf=self.sublinear_tf)
        step.idf_ = self.idf_
        step.n_features_in_ = len(self.idf_)
        return step.transform(counts)

    def _fit_idf(self, counts: Any) -> None:
        self.idf_ = np.asarray(TfidfTransformer(sublinear_tf=self.sublinear_tf).fit(counts).idf_, dtype=np.float64)

    def transform(self, X: Iterable[Any]) -> Any:
        """TF-IDF rows (CSR, L2-normalised), one per unit."""
        check_is_fitted(self, "idf_")
        return self._weight(self.count(X))

    def count(self, X: Iterable[Any]) -> Any:  # pragma: no cover - every subclass defines it
        raise NotImplementedError

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """The vocabulary terms in column order."""
        check_is_fitted(self, "vocabulary_")
        names = np.empty(len(self.vocabulary_), dtype=object)
        for term, column in self.vocabulary_.items():
            names[column] = term
        return names


class NgramTfidf(_TfidfBlock):
    """Word or character (``char_wb``) n-gram TF-IDF of the masked sentence, exact to scikit-learn.

    ``fit`` chooses the vocabulary with ``CountVectorizer`` (same ``analyzer``,
    ``ngram_range``, ``min_df``, ``max_features``; the text is already lower-cased) and
    compiles it into integer lookup tables; ``transform`` counts with numpy and weights with
    ``TfidfTransformer``, so the rows equal ``TfidfVectorizer(lowercase=True,
    sublinear_tf=...)``'s.

    Attributes
    ----------
    vocabulary_ : dict of str to int
        The fitted terms and their columns.
    idf_ : ndarray
        Inverse document frequencies, as scikit-learn computes them.
    lookup_ : dict
        Integer keys of the vocabulary (``key_bits``, ``codes``/``tokens``, and per n-gram
        length the sorted ``keys`` with their ``columns``), computed at fit time and saved
        with the model.

    Examples
    --------
    >>> docs = ["Putin lügt wieder.", "Putin schwieg.", "Merz lügt nicht."]
    >>> fast = NgramTfidf(analyzer="char_wb", ngram_range=(2, 4)).fit(docs).transform(docs)
    >>> from sklearn.feature_extraction.text import TfidfVectorizer
    >>> slow = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4), sublinear_tf=True).fit_transform(docs)
    >>> bool(abs(fast - slow).max() < 1e-12)
    True
    """

    def __init__(self, *, analyzer: str = "word", ngram_range: tuple[int, int] = (1, 1), min_df: int = 1,
                 max_features: int | None = None, sublinear_tf: bool = True) -> None:
        self.analyzer = analyzer
        self.ngram_range = ngram_range
        self.min_df = min_df
        self.max_features = max_features
        self.sublinear_tf = sublinear_tf

    def fit(self, X: Iterable[Any], y: Any = None) -> NgramTfidf:
        """Choose the vocabulary, compute the idf and compile the lookup tables."""
        if self.analyzer not in ("word", "char_wb"):
            raise ValueError(f"analyzer must be 'word' or 'char_wb', got {self.analyzer!r}")
        low, high = self.ngram_range
        if not 1 <= low <= high:
            raise ValueError(f"ngram_range must be (min, max) with 1 <= min <= max, got {self.ngram_range!r}")
        vectorizer = CountVectorizer(analyzer=self.analyzer, ngram_range=tuple(self.ngram_range), min_df=self.min_df,
                                     max_features=self.max_features, lowercase=False, dtype=np.int64)
        counts = vectorizer.fit_transform(_lower_texts(X))
        self.vocabulary_ = {str(term): int(column) for term, column in vectorizer.vocabulary_.items()}
        self._fit_idf(counts)
        self.lookup_ = _compile_chars(self.vocabulary_) if self.analyzer == "char_wb" else _compile_words(self.vocabulary_)
        return self

    def count(self, X: Iterable[Any]) -> Any:
        """Term counts (CSR, int64, sorted indices), as ``CountVectorizer.transform`` gives them."""
        check_is_fitted(self, "lookup_")
        docs = _lower_texts(X)
        if self.lookup_.get("fallback"):
            vectorizer = CountVectorizer(analyzer=self.analyzer, ngram_range=tuple(self.ngram_range), lowercase=False,
                                         vocabulary=self.vocabulary_, dtype=np.int64)
            return vectorizer.transform(docs)
        if self.analyzer == "char_wb":
            rows, cols = _char_hits(docs, self.lookup_, (self.ngram_range[0], self.ngram_range[1]), self.vocabulary_)
        else:
            rows, cols = _word_hits(docs, self.lookup_, (self.ngram_range[0], self.ngram_range[1]),
                                    _token_ids(self.lookup_["tokens"]))
        return _count_matrix(rows, cols, len(docs), len(self.vocabulary_))


_TOKEN_IDS: dict[int, tuple[weakref.ref[np.ndarray], dict[str, int]]] = {}


def _token_ids(tokens: np.ndarray) -> dict[str, int]:
    """Word -> position in the sorted word array of a word lookup table; built once per array and
    dropped with it (kept beside the estimator, so ``transform`` leaves the estimator unchanged)."""
    key = id(tokens)
    cached = _TOKEN_IDS.get(key)
    if cached is None or cached[0]() is not tokens:

        def forget(_: object) -> None:
            _TOKEN_IDS.pop(key, None)

        cached = _TOKEN_IDS[key] = (weakref.ref(tokens, forget), {token: i for i, token in enumerate(tokens.tolist())})
    return cached[1]


def _count_matrix(rows: np.ndarray, cols: np.ndarray, n_rows: int, n_cols: int) -> Any:
    """Counts of (row, column) hits as a canonical CSR matrix (sorted indices, no duplicates):
    one sort of the packed keys instead of scipy's COO conversion, duplicate sum and per-row sort.

    Examples
    --------
    >>> _count_matrix(np.array([1, 0, 1, 1]), np.array([2, 1, 0, 2]), 3, 4).toarray().tolist()
    [[0, 1, 0, 0], [1, 0, 2, 0], [0, 0, 0, 0]]
    """
    keys = np.sort(np.asarray(rows, dtype=np.int64) * n_cols + np.asarray(cols, dtype=np.int64))
    first = np.ones(len(keys), dtype=bool)
    np.not_equal(keys[1:], keys[:-1], out=first[1:])
    starts = np.flatnonzero(first)
    counts = np.diff(np.append(starts, len(keys))).astype(np.int64)
    unique = keys[starts]
    indptr = np.zeros(n_rows + 1, dtype=np.int64)
    np.cumsum(np.bincount(unique // n_cols, minlength=n_rows), out=indptr[1:])
    matrix = sp.csr_array((counts, unique % n_cols, indptr), shape=(n_rows, n_cols))
    matrix.has_canonical_format = True
    return matrix


_HASH_MULTIPLIER = np.uint64(0x9E3779B97F4A7C15)


def hash_table(keys: np.ndarray, columns: np.ndarray) -> dict[str, Any]:
    """An open-addressing hash table (linear probing, load factor at most 1/4) of positive
    integer keys, for exact vectorised lookup with :func:`hash_lookup`; 0 marks an empty slot."""
    bits = max(4, int(max(len(keys), 1) * 4 - 1).bit_length())
    size = 1 << bits
    table_keys = np.zeros(size, dtype=np.uint64)
    table_columns = np.full(size, -1, dtype=np.int64)
    slots = _slots(keys.astype(np.uint64), bits)
    longest = 0
    for key, column, slot in zip(keys.tolist(), columns.tolist(), slots.tolist()):
        probe = 0
        while table_keys[(slot + probe) & (size - 1)] != 0:
            probe += 1
        table_keys[(slot + probe) & (size - 1)] = key
        table_columns[(slot + probe) & (size - 1)] = column
        longest = max(longest, probe)
    return {"bits": bits, "keys": table_keys, "columns": table_columns, "probes": longest + 1}


def _slots(keys: np.ndarray, bits: int) -> np.ndarray:
    with np.errstate(over="ignore"):
        return ((keys * _HASH_MULTIPLIER) >> np.uint64(64 - bits)).astype(np.int64)


def hash_lookup(table: Mapping[str, Any], queries: np.ndarray) -> np.ndarray:
    """The column of each query key in ``table``, -1 where the key is absent.

    Examples
    --------
    >>> table = hash_table(np.array([5, 17, 99]), np.array([0, 1, 2]))
    >>> hash_lookup(table, np.array([17, 4, 99, 5])).tolist()
    [1, -1, 2, 0]
    """
    size = 1 << table["bits"]
    keys = queries.astype(np.uint64)
    result = np.full(len(keys), -1, dtype=np.int64)
    pending = np.arange(len(keys))
    slots = _slots(keys, table["bits"])
    for probe in range(table["probes"]):
        where = (slots[pending] + probe) & (size - 1)
        found = table["keys"][where]
        hit = found == keys[pending]
        result[pending[hit]] = table["columns"][where[hit]]
        pending = pending[~hit & (found != 0)]
        if not len(pending):
            break
    return result


def _group_keys(keyed: Iterable[tuple[int, int, int]]) -> dict[int, tuple[np.ndarray, np.ndarray]]:
    """``(length, key, column)`` triples -> per length the sorted keys and their columns."""
    by_length: dict[int, list[tuple[int, int]]] = {}
    for length, key, column in keyed:
        by_length.setdefault(length, []).append((key, column))
    tables = {}
    for length, pairs in by_length.items():
        pairs.sort()
        tables[length] = (np.asarray([k for k, _ in pairs], dtype=np.int64), np.asarray([c for _, c in pairs], dtype=np.int64))
    return tables


def _compile_chars(vocabulary: Mapping[str, int]) -> dict[str, Any]:
    """Character n-grams as exact integer keys: each known character gets an id >= 1 and a
    term of n characters is its ids packed into ``bits`` bits each (id 0: unknown character)."""
    codes = np.asarray(sorted({ord(ch) for term in vocabulary for ch in term}), dtype=np.int64)
    ids = {int(code): i + 1 for i, code in enumerate(codes)}
    bits = max(1, len(codes).bit_length())
    longest = max((len(term) for term in vocabulary), default=1)
    if bits * longest > 63:
        return {"fallback": True}
    keyed = []
    for term, column in vocabulary.items():
        key = 0
        for ch in term:
            key = (key << bits) | ids[ord(ch)]
        keyed.append((len(term), key, column))
    tables = _group_keys(keyed)
    table = hash_table(np.concatenate([tables[n][0] for n in sorted(tables)]), np.concatenate([tables[n][1] for n in sorted(tables)]))
    return {"fallback": False, "bits": bits, "codes": codes, "lengths": np.asarray(sorted(tables), dtype=np.int64),
            "table": table}


def _char_hits(docs: Sequence[str], lookup: Mapping[str, Any], ngram_range: tuple[int, int],
               vocabulary: Mapping[str, int]) -> tuple[np.ndarray, np.ndarray]:
    """(row, column) of every vocabulary n-gram of every document, ``char_wb`` style: n-grams
    of each whitespace-separated word padded with one space on each side, never across words."""
    words = [doc.split() for doc in docs]
    word_doc = np.repeat(np.arange(len(docs), dtype=np.int64), [len(w) for w in words])
    flat = [w for ws in words for w in ws]
    if not flat:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    padded = np.asarray([len(w) + 2 for w in flat], dtype=np.int64)
    # One string for the batch: padded words separated by one extra position that is never a known character.
    text = "".join(f" {w}  " for w in flat)
    points = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32).astype(np.int64)
    codes = lookup["codes"]
    where = np.searchsorted(codes, points)
    where[where >= len(codes)] = 0
    ids = np.where(codes[where] == points, where + 1, 0)
    ends = np.cumsum(padded + 1)
    ids[ends - 1] = 0
    owner = np.repeat(word_doc, padded + 1)
    zeros = np.concatenate([[0], np.cumsum(ids == 0)])
    bits = lookup["bits"]
    rows, cols = [], []
    low, high = ngram_range
    for n in lookup["lengths"].tolist():
        if not low <= n <= high:
            continue
        span = len(ids) - n + 1
        if span <= 0:
            continue
        key = ids[:span].copy()
        for j in range(1, n):
            key = (key << bits) | ids[j:j + span]
        valid = np.flatnonzero((zeros[n:n + span] - zeros[:span]) == 0)
        found = hash_lookup(lookup["table"], key[valid])
        hit = found >= 0
        rows.append(owner[valid[hit]])
        cols.append(found[hit])
    if low > 3:  # a padded word shorter than the smallest n counts once as a whole (scikit-learn's rule)
        for k in np.flatnonzero(padded < low).tolist():
            column = vocabulary.get(f" {flat[k]} ")
            if column is not None:
                rows.append(np.asarray([word_doc[k]]))
                cols.append(np.asarray([column]))
    return (np.concatenate(rows) if rows else np.zeros(0, dtype=np.int64),
            np.concatenate(cols) if cols else np.zeros(0, dtype=np.int64))


def _compile_words(vocabulary: Mapping[str, int]) -> dict[str, Any]:
    """Word n-grams as integer keys: every word of the vocabulary gets an id, an n-gram is
    its ids in base (number of words)."""
    tokens = sorted({token for term in vocabulary for token in term.split(" ")})
    ids = {token: i for i, token in enumerate(tokens)}
    base = max(len(tokens), 1)
    longest = max((len(term.split(" ")) for term in vocabulary), default=1)
    if base ** longest >= 2 ** 62:
        return {"fallback": True}
    keyed = []
    for term, column in vocabulary.items():
        key = 0
        for token in term.split(" "):
            key = key * base + ids[token]
        keyed.append((len(term.split(" ")), key, column))
    tables = _group_keys(keyed)
    return {"fallback": False, "tokens": np.asarray(tokens, dtype=str), "base": base,
            "lengths": np.asarray(sorted(tables), dtype=np.int64),
            "tables": [hash_table(tables[n][0] + 1, tables[n][1]) for n in sorted(tables)]}


def _word_hits(docs: Sequence[str], lookup: Mapping[str, Any], ngram_range: tuple[int, int],
               token_ids: Mapping[str, int]) -> tuple[np.ndarray, np.ndarray]:
    """(row, column) of every vocabulary word n-gram (scikit-learn's default token pattern);
    ``token_ids``: the id of each word of ``lookup["tokens"]``."""
    tokens = [_SKLEARN_TOKEN_RE.findall(doc) for doc in docs]
    doc_of = np.repeat(np.arange(len(docs), dtype=np.int64), [len(ts) for ts in tokens])
    if not len(doc_of):
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    ids = np.fromiter((token_ids.get(t, -1) for ts in tokens for t in ts), dtype=np.int64, count=len(doc_of))
    base = lookup["base"]
    rows, cols = [], []
    for n, table in zip(lookup["lengths"].tolist(), lookup["tables"]):
        if not ngram_range[0] <= n <= ngram_range[1] or len(ids) < n:
            continue
        span = len(ids) - n + 1
        key = ids[:span].copy()
        valid = (ids[:span] >= 0) & (doc_of[:span] == doc_of[n - 1:n - 1 + span])
        for j in range(1, n):
            key = key * base + ids[j:j + span]
            valid &= ids[j:j + span] >= 0
        where = np.flatnonzero(valid)
        found = hash_lookup(table, key[where] + 1)  # +1: key 0 marks an empty slot
        hit = found >= 0
        rows.append(doc_of[where[hit]])
        cols.append(found[hit])
    return (np.concatenate(rows) if rows else np.zeros(0, dtype=np.int64),
            np.concatenate(cols) if cols else np.zeros(0, dtype=np.int64))


def window_tokens(unit: MaskedUnit, window: int) -> list[str]:
    """The words left (``l_``) and right (``r_``) of the target, ``window`` on each side.

    Examples
    --------
    >>> window_tokens(masked_unit("Heute lobt zzziel den Plan."), 2)
    ['l_heute', 'l_lobt', 'r_den', 'r_plan']
    """
    if not unit.targets:
        return []
    first, last = unit.targets[0], unit.targets[-1]
    left = unit.words[max(0, first - window):first]
    right = unit.words[last + 1:last + 1 + window]
    return [f"l_{w}" for w in left] + [f"r_{w}" for w in right]


class WindowTfidf(_TfidfBlock):
    """TF-IDF of the words around the target (prefixed ``l_``/``r_``).

    Attributes
    ----------
    vocabulary_ : dict of str to int
    idf_ : ndarray
    """

    def __init__(self, *, window: int = 6, min_df: int = 2, sublinear_tf: bool = True) -> None:
        self.window = window
        self.min_df = min_df
        self.sublinear_tf = sublinear_tf

    def fit(self, X: Iterable[Any], y: Any = None) -> WindowTfidf:
        """Choose the window vocabulary and compute the idf."""
        if self.window < 1:
            raise ValueError(f"window must be >= 1, got {self.window}")
        vectorizer = CountVectorizer(analyzer=_identity, min_df=self.min_df, dtype=np.int64)
        counts = vectorizer.fit_transform([window_tokens(unit, self.window) for unit in X])
        self.vocabulary_ = {str(term): int(column) for term, column in vectorizer.vocabulary_.items()}
        self._fit_idf(counts)
        return self

    def count(self, X: Iterable[Any]) -> Any:
        """Window-word counts (CSR, int64, sorted indices)."""
        check_is_fitted(self, "vocabulary_")
        rows, cols = [], []
        units = list(X)
        for row, unit in enumerate(units):
            for token in window_tokens(unit, self.window):
                column = self.vocabulary_.get(token)
                if column is not None:
                    rows.append(row)
                    cols.append(column)
        return _count_matrix(np.asarray(rows, dtype=np.int64), np.asarray(cols, dtype=np.int64), len(units), len(self.vocabulary_))


def _identity(tokens: list[str]) -> list[str]:
    return tokens


def load_lexicon(drop_neutral: bool = False, language: str | LanguagePack | None = None) -> dict[str, int]:
    """The polarity lexicon of a language pack: word form -> -1/+1 (German: the packaged Rauh
    (2018) political sentiment lexicon).

    ``drop_neutral`` leaves out the pack's ``neutral_news_words``. Read once per pack.
    """
    return _read_lexicon(get_pack(language), drop_neutral)


@lru_cache(maxsize=8)
def _read_lexicon(pack: LanguagePack, drop_neutral: bool) -> dict[str, int]:
    lexicon: dict[str, int] = {}
    with pack.lexicon_file.open(encoding="utf-8") as handle:
        next(handle, None)
        for line in handle:
            term, _, polarity = line.rstrip("\n").partition("\t")
            if term and polarity and not (drop_neutral and term in pack.neutral_news_words):
                lexicon[term] = int(polarity)
    return lexicon


def polarity_counts(words: Sequence[str], lexicon: Mapping[str, int], negators: frozenset[str] = NEGATORS) -> tuple[int, int]:
    """Positive and negative lexicon hits in ``words``, a negator (of the language pack) within 3 words flips one.

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
        if any(w in negators for w in words[max(0, i - NEGATION_SCOPE):i]):
            value = -value
        if value > 0:
            pos += 1
        else:
            neg += 1
    return pos, neg




class LexiconFeatures(TransformerMixin, BaseEstimator):
    """Lexicon polarity counts (sentence and target window, with negation) and cue patterns.

    Columns: ``sent_pos``, ``sent_neg``, ``win_pos``, ``win_neg`` (log1p counts); with
    ``use_structure`` also ``oth_pos``, ``oth_neg`` (polarity near the other actors) and 0/1
    columns ``has_other``, ``target_first`` (the target precedes every other actor) and
    ``target_opens`` (the target is among the first three words); and one 0/1 column per cue
    pattern of the language pack (:attr:`~stance.lang.LanguagePack.cue_patterns`) when
    ``use_cues``. Reads :class:`MaskedUnit` rows. ``language``: the code of the
    :class:`~stance.lang.LanguagePack` whose lexicon, negators and cues are used.

    Attributes
    ----------
    feature_names_ : ndarray of str
        The output columns.
    """

    def __init__(self, *, window: int = 6, use_window: bool = True, use_cues: bool = True, target_aware: bool = True,
                 use_structure: bool = False, drop_neutral_words: bool = False, language: str = DEFAULT_LANGUAGE) -> None:
        self.window = window
        self.use_window = use_window
        self.use_cues = use_cues
        self.target_aware = target_aware
        self.use_structure = use_structure
        self.drop_neutral_words = drop_neutral_words
        self.language = language

    def fit(self, X: Any, y: Any = None) -> LexiconFeatures:
        """Fix the output columns; returns self."""
        if not self.target_aware and (self.use_window or self.use_cues or self.use_structure):
            raise ValueError("use_window, use_cues and use_structure need target_aware=True")
        names = ["sent_pos", "sent_neg"]
        if self.use_window:
            names += ["win_pos", "win_neg"]
        if self.use_structure:
            names += ["oth_pos", "oth_neg", "has_other", "target_first", "target_opens"]
        if self.use_cues:
            names += list(get_pack(self.language).cue_patterns)
        self.feature_names_ = np.asarray(names, dtype=object)
        self.n_features_in_ = 1
        return self

    def transform(self, X: Iterable[MaskedUnit]) -> np.ndarray:
        """Return a dense float matrix, one row per unit."""
        check_is_fitted(self, "feature_names_")
        pack = get_pack(self.language)
        lexicon, negators, cues = load_lexicon(self.drop_neutral_words, pack), pack.negators, pack.cue_res
        rows = []
        for unit in X:
            words, positions = unit.words, (unit.targets if self.target_aware else ())
            values: list[float] = list(polarity_counts(words, lexicon, negators))
            if self.use_window:
                if positions:
                    lo, hi = max(0, positions[0] - self.window), positions[-1] + 1 + self.window
                    values += list(polarity_counts(words[lo:hi], lexicon, negators))
                else:
                    values += [0, 0]
            if self.use_structure:
                values += self._structure(words, positions, lexicon, negators)
            if self.use_cues:
                masked = " ".join(words)
                values += [1.0 if cue.search(masked) else 0.0 for cue in cues.values()]
            rows.append(values)
        matrix = np.asarray(rows, dtype=float).reshape(len(rows), len(self.feature_names_))
        counts = [i for i, n in enumerate(self.feature_names_) if n.endswith(("_pos", "_neg"))]
        matrix[:, counts] = np.log1p(matrix[:, counts])
        return matrix

    def _structure(self, words: Sequence[str], positions: Sequence[int], lexicon: Mapping[str, int],
                   negators: frozenset[str]) -> list[float]:
        others = [i for i, w in enumerate(words) if w == OTHER_TOKEN]
        pos = neg = 0
        for i in others:
            p, n = polarity_counts(words[max(0, i - self.window):i + 1 + self.window], lexicon, negators)
            pos, neg = pos + p, neg + n
        first = positions[0] if positions else len(words)
        return [pos, neg, float(bool(others)), float(not others or first < others[0]), float(first < 3)]

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """Names of the output columns."""
        check_is_fitted(self, "feature_names_")
        return np.asarray([f"lex_{n}" for n in self.feature_names_], dtype=object)


class FrameFeatures(TransformerMixin, BaseEstimator):
    """Who does what to the target, from the target's clause and word order.

    A linear model cannot tell "Selenskyj warf Putin Lügen vor" (Putin accused) from
    "Putin warf Selenskyj Lügen vor" (Putin the critic) with bag-of-words features. These
    columns separate the error types seen on real news:

    - ``speaker``: the target is the one who speaks or acts (a speech verb right after it,
      or "sagte/so/laut" right before it), and ``speaker_pos``/``speaker_neg``: the
      sentence's lexicon counts when the target speaks (the criticism is not about it);
    - ``clause_pos``/``clause_neg``: lexicon counts in the target's own clause, when the
      target does not speak;
    - ``accused``/``praised``: an accusation or praise/thanks word in the target's clause,
      wherever it stands (verb at the clause end: "... Merz für die Hilfe gedankt"), when
      the target does not speak;
    - ``pejorative_next``: a negative lexicon word within two words before the target or
      right after it ("Kriegsverbrecher Putin", "Putin, der Diktator");
    - ``distanced``: a distancing word in the target's clause ("der angeblich friedliche");
    - ``harm_by``/``harm_against``: a word of harm done (attack, killing, destruction, blockade)
      in the target's clause, with the target as its doer ("Putins Truppen beschossen Kiew") or,
      after "auf/gegen/an", as its victim ("der Angriff auf Fico").

    The words (speech verbs, stems, pejoratives, distancing words) are the language pack's
    (``language``: the code of a :class:`~stance.lang.LanguagePack`).

    Attributes
    ----------
    feature_names_ : ndarray of str
        The output columns.

    Examples
    --------
    >>> f = FrameFeatures().fit(None)
    >>> masker = TargetMasker().fit([])
    >>> rows = masker.transform([TargetText("Selenskyj warf Putin Lügen vor.", ((15, 20),), ((0, 9),)),
    ...                          TargetText("Putin warf Selenskyj Lügen vor.", ((0, 5),), ((11, 20),))])
    >>> first, second = (dict(zip(f.feature_names_, row)) for row in f.transform(rows))
    >>> bool(first["accused"]), bool(first["speaker"]), bool(second["speaker"])
    (True, False, True)
    """

    def __init__(self, *, window: int = 2, drop_neutral_words: bool = False, language: str = DEFAULT_LANGUAGE) -> None:
        self.window = window
        self.drop_neutral_words = drop_neutral_words
        self.language = language

    def fit(self, X: Any, y: Any = None) -> FrameFeatures:
        """Fix the output columns; returns self."""
        if self.window < 1:
            raise ValueError(f"window must be >= 1, got {self.window}")
        self.feature_names_ = np.asarray(["speaker", "speaker_pos", "speaker_neg", "clause_pos", "clause_neg", "accused",
                                          "praised", "pejorative_next", "distanced", "harm_by", "harm_against"], dtype=object)
        self.n_features_in_ = 1
        return self

    def transform(self, X: Iterable[MaskedUnit]) -> np.ndarray:
        """Return a dense float matrix, one row per unit (counts as log1p)."""
        check_is_fitted(self, "feature_names_")
        pack = get_pack(self.language)
        lexicon = load_lexicon(self.drop_neutral_words, pack)
        rows = [self._row(unit, lexicon, pack) for unit in X]
        return np.log1p(np.asarray(rows, dtype=float).reshape(len(rows), len(self.feature_names_)))

    def _row(self, unit: MaskedUnit, lexicon: Mapping[str, int], pack: LanguagePack) -> list[float]:
        tokens, clauses, positions = unit.tokens, unit.clauses, unit.token_targets
        if not positions:
            return [0.0] * len(self.feature_names_)
        first = positions[0]
        own = {clauses[p] for p in positions}
        clause_words = [t for t, c in zip(tokens, clauses) if c in own and t not in _CLAUSE_BREAKS and t != TARGET_TOKEN]
        words = [t for t in tokens if t not in _CLAUSE_BREAKS]
        speaker = self._speaks(tokens, positions, pack)
        sent_pos, sent_neg = polarity_counts(words, lexicon, pack.negators)
        clause_pos, clause_neg = polarity_counts(clause_words, lexicon, pack.negators)
        particle, split_verbs = pack.split_accusation
        accused = any(w.startswith(pack.accusation_stems) for w in clause_words) or (
            particle in clause_words and any(w in split_verbs for w in clause_words))
        praised = any(w.startswith(pack.praise_stems) for w in clause_words)
        near = tokens[max(0, first - self.window):first]
        last = positions[-1]
        apposition = tokens[last + 2:last + 2 + self.window] if tokens[last + 1:last + 2] == (",",) else ()
        pejorative = sum(1 for w in (*near, *apposition) if lexicon.get(w) == -1 or w in pack.pejoratives)
        harm = any(w.startswith(pack.harm_stems) for w in clause_words)
        victim = any(t in pack.victim_markers for t in near)
        return [float(speaker), sent_pos * speaker, sent_neg * speaker, clause_pos * (not speaker), clause_neg * (not speaker),
                float(accused and not speaker), float(praised and not speaker), float(pejorative),
                float(any(w in pack.distancing for w in clause_words)), float(harm and not victim), float(harm and victim)]

    def _speaks(self, tokens: Sequence[str], positions: Sequence[int], pack: LanguagePack) -> bool:
        for p in positions:
            after = [t for t in tokens[p + 1:p + 1 + self.window] if t not in _CLAUSE_BREAKS]
            before = tokens[p - 1] if p > 0 else ""
            # "„...“, sagte zzziel" (inverted after a quote or comma), not "Selenskyj warf zzziel ... vor"
            inverted = before in pack.speech_verbs and (p < 2 or tokens[p - 2] in _CLAUSE_BREAKS)
            if (any(t in pack.speech_verbs for t in after[:2]) or inverted or before in pack.speaker_before
                    or (after[:1] and after[0] in pack.speaker_after)):
                return True
        return False

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """Names of the output columns."""
        check_is_fitted(self, "feature_names_")
        return np.asarray([f"frame_{n}" for n in self.feature_names_], dtype=object)


def lexicon_sentence_score(sentence: str, language: str | LanguagePack | None = None) -> int:
    """Sum of lexicon polarities in a sentence (with negation): the lexicon-only baseline."""
    pack = get_pack(language)
    words = [w.lower() for w in _WORD_RE.findall(sentence)]
    pos, neg = polarity_counts(words, load_lexicon(False, pack), pack.negators)
    return pos - neg
