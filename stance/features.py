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


# Frequent news words that the lexicon gives a polarity they do not carry in news text: negators
# (they flip the next polar word instead), reporting verbs ("sagte" is -1, "erklärte" +1) and
# function words ("gegen", "unter", "laut"). Counted from the news pool's most frequent lexicon
# hits; dropped from the counts when a model is configured with ``lexicon_drop_neutral``.
NEUTRAL_NEWS_WORDS = frozenset(
    "nicht nichts kein keine keinen keiner keines keinem nie niemals sagte sagt sagten erklärte erklärt erklärten betont "
    "betonte kündigte kündigt laut gegen unter ende muss müssen neuen neue neuer neu dafür beginn bekannt ergebnis stand "
    "fest ließ wies geplant gekommen erster nahen öffentlich geführt bürger aktuellen möglich möglichen fast weniger "
    "wenig kurz knapp scharf deutlich klar ja partner führung besonders große großen".split()
)


@lru_cache(maxsize=2)
def load_lexicon(drop_neutral: bool = False) -> dict[str, int]:
    """The packaged Rauh (2018) German political sentiment lexicon: word form -> -1/+1.

    ``drop_neutral`` leaves out :data:`NEUTRAL_NEWS_WORDS`.
    """
    lexicon: dict[str, int] = {}
    with lexicon_file().open(encoding="utf-8") as handle:
        next(handle)
        for line in handle:
            term, _, polarity = line.rstrip("\n").partition("\t")
            if term and polarity and not (drop_neutral and term in NEUTRAL_NEWS_WORDS):
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
                 use_structure: bool = False, drop_neutral_words: bool = False) -> None:
        self.window = window
        self.use_window = use_window
        self.use_cues = use_cues
        self.target_aware = target_aware
        self.use_structure = use_structure
        self.drop_neutral_words = drop_neutral_words

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
        lexicon = load_lexicon(self.drop_neutral_words)
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


_CLAUSE_TOKEN_RE = re.compile(r"\w+(?:-\w+)*|[,;:()\[\]„“”\"«»–—]", re.UNICODE)
_CLAUSE_BREAKS = frozenset(",;:()[]„“”\"«»–—")
# Verbs (finite forms, lower case) that make the word before or after them its speaker or actor.
SPEECH_VERBS = frozenset(
    "sagte sagt sagten erklärte erklärt betonte betont forderte fordert forderten warnte warnt kritisierte kritisiert "
    "warf wirft nannte nennt bezeichnete bezeichnet schrieb schreibt drohte droht verurteilte verurteilt lobte lobt "
    "dankte dankt sprach spricht kündigte kündigt teilte teilt behauptete behauptet äußerte äußert verlangte verlangt "
    "appellierte appelliert rief ruft beschuldigte beschuldigt attackierte attackiert bekräftigte bekräftigt "
    "versicherte versichert erinnerte erinnert meinte meint zeigte zeigt räumte räumt wies weist lehnte lehnt "
    "twitterte postete schimpfte schimpft mahnte mahnt".split()
)
ACCUSATION_STEMS = ("vorwurf", "vorwürf", "vorgeworfen", "vorwerf", "beschuldig", "kritik", "kritisier", "verurteil",
                    "anklag", "angeklagt", "beschimpf", "verspott", "attackier", "tadel", "rüge", "gerügt", "vorhalt",
                    "anprangert", "prangert", "verantwortlich")
PRAISE_STEMS = ("dank", "gedankt", "lob", "gelobt", "würdig", "gewürdigt", "gratulier", "anerkenn", "respekt", "ehrt",
                "geehrt", "gefeiert", "bewunder", "applaus", "zuspruch", "unterstütz", "rückendeckung", "beistand")
# Name-calling that the lexicon lacks; a negative lexicon word next to the target counts too.
PEJORATIVES = frozenset(
    "kriegsverbrecher verbrecher diktator despot autokrat tyrann schlächter lügner mörder massenmörder faschist "
    "kriegstreiber hetzer scharfmacher populist rechtspopulist rechtsextremist extremist terrorist terroristen "
    "aggressor kriegsherr kremlherrscher machthaber papiertiger marionette handlanger".split()
)
# Harm done (attacks, killing, destruction, blockade): by the target unless a preposition makes it the victim.
HARM_STEMS = ("beschieß", "beschoss", "bombard", "angriff", "angegriffen", "greift", "griff", "attack", "tötet", "getötet",
              "ermord", "zerstör", "besetz", "überfiel", "überfall", "blockier", "verhinder", "sabotier", "unterdrück",
              "verfolg", "inhaftier", "eingesperrt", "vertrieb", "verschlepp", "massaker", "invasion", "einmarsch",
              "annektier", "eskalier", "bedroh")
VICTIM_MARKERS = frozenset({"auf", "gegen", "gegenüber", "an", "über", "wegen"})
DISTANCING = frozenset({"angeblich", "angeblichen", "angebliche", "sogenannt", "sogenannte", "sogenannten",
                        "vermeintlich", "vermeintliche", "vermeintlichen", "selbsternannt", "selbsternannte", "selbsternannten"})


def clause_tokens(row: TargetText) -> tuple[list[str], list[int], list[int]]:
    """Lower-cased tokens of the masked sentence with punctuation kept, the clause number of
    each token (punctuation and quotes end a clause) and the positions of the target token."""
    tokens = [t.lower() for t in _CLAUSE_TOKEN_RE.findall(mask_sentence(row))]
    clauses, clause = [], 0
    for token in tokens:
        if token in _CLAUSE_BREAKS:
            clause += 1
        clauses.append(clause)
    return tokens, clauses, [i for i, t in enumerate(tokens) if t == TARGET_TOKEN]


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

    Examples
    --------
    >>> f = FrameFeatures().fit(None)
    >>> rows = [TargetText("Selenskyj warf Putin Lügen vor.", ((15, 20),), ((0, 9),)),
    ...         TargetText("Putin warf Selenskyj Lügen vor.", ((0, 5),), ((11, 20),))]
    >>> first, second = (dict(zip(f.feature_names_, row)) for row in f.transform(rows))
    >>> bool(first["accused"]), bool(first["speaker"]), bool(second["speaker"])
    (True, False, True)
    """

    def __init__(self, *, window: int = 2, drop_neutral_words: bool = False) -> None:
        self.window = window
        self.drop_neutral_words = drop_neutral_words

    def fit(self, X: Any, y: Any = None) -> FrameFeatures:
        """Fix the output columns; returns self."""
        if self.window < 1:
            raise ValueError(f"window must be >= 1, got {self.window}")
        self.feature_names_ = np.asarray(["speaker", "speaker_pos", "speaker_neg", "clause_pos", "clause_neg", "accused",
                                          "praised", "pejorative_next", "distanced", "harm_by", "harm_against"], dtype=object)
        self.n_features_in_ = 1
        return self

    def transform(self, X: Iterable[Any]) -> np.ndarray:
        """Return a dense float matrix, one row per unit (counts as log1p)."""
        check_is_fitted(self, "feature_names_")
        lexicon = load_lexicon(self.drop_neutral_words)
        rows = [self._row(row, lexicon) for row in as_target_texts(X)]
        return np.log1p(np.asarray(rows, dtype=float).reshape(len(rows), len(self.feature_names_)))

    def _row(self, row: TargetText, lexicon: Mapping[str, int]) -> list[float]:
        tokens, clauses, positions = clause_tokens(row)
        if not positions:
            return [0.0] * len(self.feature_names_)
        first = positions[0]
        own = {clauses[p] for p in positions}
        clause_words = [t for t, c in zip(tokens, clauses) if c in own and t not in _CLAUSE_BREAKS and t != TARGET_TOKEN]
        words = [t for t in tokens if t not in _CLAUSE_BREAKS]
        speaker = self._speaks(tokens, positions)
        sent_pos, sent_neg = polarity_counts(words, lexicon)
        clause_pos, clause_neg = polarity_counts(clause_words, lexicon)
        accused = any(w.startswith(ACCUSATION_STEMS) for w in clause_words) or (
            "vor" in clause_words and any(w in ("warf", "wirft", "werfen", "warfen") for w in clause_words))
        praised = any(w.startswith(PRAISE_STEMS) for w in clause_words)
        near = tokens[max(0, first - self.window):first]
        last = positions[-1]
        apposition = tokens[last + 2:last + 2 + self.window] if tokens[last + 1:last + 2] == [","] else []
        pejorative = sum(1 for w in near + apposition if lexicon.get(w) == -1 or w in PEJORATIVES)
        harm = any(w.startswith(HARM_STEMS) for w in clause_words)
        victim = any(t in VICTIM_MARKERS for t in near)
        return [float(speaker), sent_pos * speaker, sent_neg * speaker, clause_pos * (not speaker), clause_neg * (not speaker),
                float(accused and not speaker), float(praised and not speaker), float(pejorative),
                float(any(w in DISTANCING for w in clause_words)), float(harm and not victim), float(harm and victim)]

    def _speaks(self, tokens: list[str], positions: list[int]) -> bool:
        for p in positions:
            after = [t for t in tokens[p + 1:p + 1 + self.window] if t not in _CLAUSE_BREAKS]
            before = tokens[p - 1] if p > 0 else ""
            # "„...“, sagte zzziel" (inverted after a quote or comma), not "Selenskyj warf zzziel ... vor"
            inverted = before in SPEECH_VERBS and (p < 2 or tokens[p - 2] in _CLAUSE_BREAKS)
            if any(t in SPEECH_VERBS for t in after[:2]) or inverted or before in ("so", "laut") or after[:1] == ["zufolge"]:
                return True
        return False

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """Names of the output columns."""
        check_is_fitted(self, "feature_names_")
        return np.asarray([f"frame_{n}" for n in self.feature_names_], dtype=object)


def lexicon_sentence_score(sentence: str) -> int:
    """Sum of lexicon polarities in a sentence (with negation): the lexicon-only baseline."""
    words = [w.lower() for w in _WORD_RE.findall(sentence)]
    pos, neg = polarity_counts(words, load_lexicon())
    return pos - neg
