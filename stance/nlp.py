"""The spaCy pipeline: ``spacy.blank("de")`` plus rule-based components.

Components, in order:

1. ``stance_paragraph_splitter``: a line break or a year ending a sentence
   ("im Jahr 2025. Danach") starts a sentence;
2. ``stance_sentencizer`` (spaCy's sentencizer rule, vectorised), which keeps German ordinals
   and abbreviations together because the German tokenizer already keeps "16." and "z." as
   one token;
3. ``stance_actor_matcher``: actor names, compounds and role aliases into
   ``doc.spans["stance_actors"]`` with ``span.id_`` = actor id (names) or role key.

Nothing is downloaded. No lemmatizer: nothing reads lemmas (it cost 120 MB of lookup tables).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from functools import lru_cache
from typing import Any

import numpy as np
import spacy
from spacy.language import Language
from spacy.matcher import Matcher, PhraseMatcher
from spacy.tokens import Doc, Span

from .actors import ActorRegistry, Role, load_actors
from .config import NlpConfig
from .errors import PipelineBuildError

SPANS_KEY = "stance_actors"
NAME_LABEL, ROLE_LABEL, EXCLUDE_LABEL = "NAME", "ROLE", "EXCLUDE"
ROLE_PREFIX = "role:"
_NAME_SUFFIXES = ("", "s", "'", "’", "'s", "’s")
_NOUN_SUFFIXES = ("", "s", "es", "n", "en")
_ADJ_ENDINGS = ("e", "er", "en", "em", "es")
# A year (1900-2099) or a full date ending with the sentence's full stop: "2025." / "21.10.2025."
_YEAR_END_RE = re.compile(r"^(?:\d{1,2}\.\d{1,2}\.)?(?:19|20)\d{2}\.$")
# Regnal numbers ("Leo XIV.", "Charles III.") whose full stop is not a sentence end before a lower-case word.
_REGNAL_RE = re.compile(r"^[IVX]{2,6}$|^[VX]$")


_BREAK_CACHE: dict[int, bool] = {}
# Per-token-string caches are cleared when they reach this size, so memory stays flat on an archive
# (real news brings new word forms without end).
CACHE_LIMIT = 1 << 17


def _bounded(cache: dict[int, Any]) -> dict[int, Any]:
    if len(cache) >= CACHE_LIMIT:
        cache.clear()
    return cache


def _starts_next_sentence(text: str) -> bool:
    """A line break (whitespace token with a newline) or a year with a full stop ("2025.")."""
    return (text.isspace() and "\n" in text) or bool(_YEAR_END_RE.match(text))


@Language.component("stance_paragraph_splitter")
def paragraph_splitter(doc: Doc) -> Doc:
    """Start a sentence after a line break and after a year that ends a sentence; keep a
    regnal number's full stop ("Papst Leo XIV. kritisierte") inside the sentence.

    A year only ends a sentence when the next token starts with a capital letter.
    """
    if len(doc) < 2:
        return doc
    orths = doc.to_array("ORTH")
    strings = doc.vocab.strings
    _keep_regnal_stops(doc, orths)
    cache = _bounded(_BREAK_CACHE)
    for orth in np.unique(orths[:-1]).tolist():
        flag = cache.get(orth)
        if flag is None:
            flag = cache[orth] = _starts_next_sentence(strings[orth])
        if not flag:
            continue
        for i in np.flatnonzero(orths[:-1] == orth).tolist():
            token, following = doc[i], doc[i + 1]
            if token.is_space or following.text[:1].isupper():
                following.is_sent_start = True
    return doc


class Sentencizer:
    """spaCy's rule-based sentencizer, computed on token arrays instead of token by token.

    Same rule and output as ``spacy.pipeline.Sentencizer`` with its default punctuation and
    ``overwrite=False``: a sentence starts at the first token that is neither punctuation nor a
    sentence-final character after a sentence-final character ("." "!" "?" ...); sentence starts
    already set (by the paragraph splitter) are kept.
    """

    def __init__(self, vocab: Any, name: str = "stance_sentencizer") -> None:
        from spacy.pipeline import Sentencizer as SpacySentencizer

        self.name = name
        self.vocab = vocab
        self.punct_chars = frozenset(SpacySentencizer.default_punct_chars)
        self._is_final: dict[int, bool] = {}

    def __call__(self, doc: Doc) -> Doc:
        if not len(doc):
            return doc
        values = doc.to_array(["ORTH", "IS_PUNCT", "SENT_START"])
        orths, punct, current = values[:, 0], values[:, 1].astype(bool), values[:, 2].astype(np.int64)
        unique, inverse = np.unique(orths, return_inverse=True)
        _bounded(self._is_final)
        final = np.asarray([self._final(int(orth)) for orth in unique.tolist()], dtype=bool)[inverse.reshape(-1)]
        word = ~(punct | final)
        positions = np.arange(len(doc))
        previous_word = np.concatenate([[-1], np.maximum.accumulate(np.where(word, positions, -1))[:-1]])
        finals = np.cumsum(final)
        finals_before = np.where(previous_word >= 0, finals[np.maximum(previous_word, 0)], 0)
        starts = word & (finals - finals_before > 0)
        starts[0] = True
        decided = np.where(current != 0, current, np.where(starts, 1, -1)).astype(np.uint64).reshape(-1, 1)
        doc.from_array(["SENT_START"], decided)  # type: ignore[arg-type]
        return doc

    def _final(self, orth: int) -> bool:
        found = self._is_final.get(orth)
        if found is None:
            found = self._is_final[orth] = self.vocab.strings[orth] in self.punct_chars
        return found


@Language.factory("stance_sentencizer", assigns=["token.is_sent_start"], default_config={})
def make_sentencizer(nlp: Language, name: str) -> Sentencizer:
    """spaCy factory of :class:`Sentencizer` (spaCy's rule, vectorised)."""
    return Sentencizer(nlp.vocab, name)


def _keep_regnal_stops(doc: Doc, orths: np.ndarray) -> None:
    dot = doc.vocab.strings["."] if "." in doc.vocab.strings else None
    if dot is None:
        return
    for i in np.flatnonzero(orths[1:-1] == dot).tolist():
        previous, following = doc[i], doc[i + 2]
        if _REGNAL_RE.match(previous.text) and following.text[:1].islower():
            following.is_sent_start = False


class ActorMatcher:
    """Find actor references: names (with inflection and compounds), role aliases, exclusions.

    Single tokens are looked up in dictionaries (fast, and a hyphenated compound such as
    "Trump-Putin-Gipfel" yields every actor it names); multi-token names and roles go
    through a :class:`spacy.matcher.PhraseMatcher` over lower-case forms; multi-word roles
    through a :class:`spacy.matcher.Matcher` with one set of inflected forms per word.
    """

    def __init__(self, nlp: Language, name: str = "stance_actor_matcher") -> None:
        self.name = name
        self.vocab = nlp.vocab
        self._tokenizer = nlp.tokenizer
        self.registry: ActorRegistry | None = None
        self._names: dict[str, str] = {}
        self._roles: dict[str, str] = {}
        self._role_table: dict[str, tuple[tuple[str, Role], ...]] = {}
        self._phrases = PhraseMatcher(nlp.vocab, attr="LOWER")
        self._role_matcher = Matcher(nlp.vocab)
        self._compiled_roles: set[str] = set()
        self._token_cache: dict[int, tuple[tuple[str, str], ...]] = {}

    def set_registry(self, registry: ActorRegistry) -> None:
        """Compile the registry into lookup tables and phrase patterns."""
        self.registry = registry
        self._names, self._roles = {}, {}
        self._token_cache = {}
        self._phrases = PhraseMatcher(self.vocab, attr="LOWER")
        self._role_matcher = Matcher(self.vocab)
        self._compiled_roles = set()
        role_table: dict[str, list[tuple[str, Role]]] = {}
        for actor in registry.actors:
            for alias in actor.aliases:
                self._add_name(alias, actor.id)
            for role in actor.roles:
                key = ROLE_PREFIX + role.alias.lower()
                role_table.setdefault(key, []).append((actor.id, role))
                self._add_role(role.alias, key)
        self._role_table = {k: tuple(v) for k, v in role_table.items()}
        for phrase in registry.exclude:
            self._add_phrases(EXCLUDE_LABEL, [phrase.lower() + suffix for suffix in _NAME_SUFFIXES])

    def resolve_role(self, key: str, date: dt.date | None) -> str | None:
        """The one actor a role key means on ``date``; None without a date or if ambiguous."""
        actors = {actor_id for actor_id, role in self._role_table.get(key, ()) if role.valid_on(date)}
        return actors.pop() if len(actors) == 1 else None

    def is_name_form(self, text: str) -> bool:
        """Whether ``text`` is a registered name form itself ("al-Scharaa", "Keller-Sutters"), not a compound."""
        return _lookup_name(self._names, text) is not None

    def role_holders(self, key: str) -> frozenset[str]:
        """Every actor a role key can mean, at any date."""
        return frozenset(actor_id for actor_id, _ in self._role_table.get(key, ()))

    def _add_name(self, alias: str, actor_id: str) -> None:
        words = [t.text for t in self._tokenizer(alias)]
        if len(words) == 1:
            for suffix in _NAME_SUFFIXES:
                self._names.setdefault(words[0] + suffix, actor_id)
            return
        variants = [" ".join(words[:-1] + [words[-1] + s]) for s in _NAME_SUFFIXES]
        self._add_phrases(f"{NAME_LABEL}|{actor_id}", [v.lower() for v in variants])

    def _add_role(self, alias: str, key: str) -> None:
        """One lookup entry per form of a one-word role; one token pattern for a longer role.

        The pattern has one ``{"LOWER": {"IN": forms}}`` per word, so its size grows linearly
        with the alias length (expanding every combination of word forms grew exponentially).
        """
        if alias in self._compiled_roles:  # the same alias held by several actors (at other times)
            return
        self._compiled_roles.add(alias)
        words = [t.text for t in self._tokenizer(alias)]
        if len(words) == 1:
            for form in _role_word_forms(words[0]):
                self._roles.setdefault(form, key)
            return
        pattern = [{"LOWER": {"IN": _role_word_forms(w)}} for w in words]
        self._role_matcher.add(f"{ROLE_LABEL}|{key}", [pattern])

    def _add_phrases(self, match_key: str, phrases: Iterable[str]) -> None:
        docs = [self._tokenizer(p) for p in dict.fromkeys(phrases)]
        self._phrases.add(match_key, docs)

    def __call__(self, doc: Doc) -> Doc:
        spans = self._token_spans(doc) + self._phrase_spans(doc)
        self.set_annotations(doc, spans)
        return doc

    def set_annotations(self, doc: Doc, spans: list[Span]) -> None:
        """Drop references inside excluded phrases and role appositions; store the rest."""
        excluded = [s for s in spans if s.label_ == EXCLUDE_LABEL]
        kept = [s for s in spans if s.label_ != EXCLUDE_LABEL and not any(_overlaps(s, e) for e in excluded)]
        kept = _drop_role_appositions(kept)
        doc.spans[SPANS_KEY] = sorted(set(kept), key=lambda s: (s.start, -s.end, s.id_))

    def _token_spans(self, doc: Doc) -> list[Span]:
        """Single-token references, looked up once per distinct token string (cached by orth id)."""
        if not len(doc):
            return []
        orths = doc.to_array("ORTH")
        cache = _bounded(self._token_cache)
        hits = []
        for orth in np.unique(orths).tolist():
            found = cache.get(orth)
            if found is None:
                found = cache[orth] = self._classify(self.vocab.strings[orth])
            if found:
                hits.append((orth, found))
        spans: list[Span] = []
        for orth, found in hits:
            for i in np.flatnonzero(orths == orth).tolist():
                spans.extend(Span(doc, i, i + 1, label=label, span_id=key) for label, key in found)
        return spans

    def _classify(self, text: str) -> tuple[tuple[str, str], ...]:
        """``(label, key)`` pairs a token string stands for (a role, or one or more names)."""
        if not text[:1].isalpha():
            return ()
        role_key = self._roles.get(text.lower())
        if role_key is not None:
            return ((ROLE_LABEL, role_key),)
        found = dict.fromkeys(_names_in_compound(self._names, text))
        return tuple((NAME_LABEL, actor_id) for actor_id in found)

    def _phrase_spans(self, doc: Doc) -> list[Span]:
        spans = []
        roles = self._role_matcher(doc) if len(self._role_matcher) else []  # an empty Matcher warns (W036)
        for match_id, start, end in [*self._phrases(doc), *roles]:
            label, _, key = self.vocab.strings[match_id].partition("|")
            spans.append(Span(doc, start, end, label=label, span_id=key or label))
        return spans


def _names_in_compound(names: dict[str, str], text: str) -> list[str]:
    """Actor ids named in one token, left to right: the whole token ("Keller-Sutter"), else the
    longest hyphen-joined runs of its parts ("Meinl-Reisinger-Plan", "Trump-Putin-Gipfel")."""
    whole = _lookup_name(names, text)
    if whole is not None or ("-" not in text and "–" not in text):
        return [whole] if whole else []
    parts = re.split(r"([-–])", text)
    words, found, i = parts[::2], [], 0
    while i < len(words):
        for j in range(len(words), i, -1):
            actor = _lookup_name(names, "".join(parts[2 * i:2 * j - 1]))
            if actor is not None:
                found.append(actor)
                i = j
                break
        else:
            i += 1
    return found


def _lookup_name(names: dict[str, str], text: str) -> str | None:
    found = names.get(text)
    if found is None and len(text) > 2 and text.isupper():
        found = names.get(text.capitalize())
    return found


def _role_word_forms(word: str) -> list[str]:
    lower = word.lower()
    if word[:1].islower() and lower.endswith("e") and len(lower) > 3:
        stem = lower[:-1]
        return [stem + e for e in _ADJ_ENDINGS]
    if word[:1].isupper():
        return [lower + s for s in _NOUN_SUFFIXES]
    return [lower]


def _overlaps(a: Span, b: Span) -> bool:
    return a.start < b.end and b.start < a.end


def _drop_role_appositions(spans: list[Span]) -> list[Span]:
    """A role directly followed by a name ("US-Präsident Joe Biden") is that name's title."""
    names = [s for s in spans if s.label_ == NAME_LABEL]
    kept = []
    for span in spans:
        if span.label_ == ROLE_LABEL:
            doc = span.doc
            nxt = span.end + 1 if span.end < len(doc) and doc[span.end].text == "," else span.end
            if any(n.start == nxt for n in names) or any(n.start < span.end <= n.end for n in names):
                continue
        kept.append(span)
    return kept


@Language.factory("stance_actor_matcher", assigns=["doc.spans"], default_config={})
def make_actor_matcher(nlp: Language, name: str) -> ActorMatcher:
    """spaCy factory of :class:`ActorMatcher` (give it a registry with ``set_registry``)."""
    return ActorMatcher(nlp, name)


def load_nlp(config: NlpConfig | None = None, registry: ActorRegistry | None = None) -> Language:
    """Build (once per config and registry) the German pipeline.

    Raises
    ------
    PipelineBuildError
        If spaCy's German language data cannot be loaded.
    """
    return _build_nlp(config or NlpConfig(), registry if registry is not None else load_actors())


@lru_cache(maxsize=8)
def _build_nlp(config: NlpConfig, registry: ActorRegistry) -> Language:
    try:
        nlp = spacy.blank(config.lang)
    except Exception as exc:  # spaCy raises plain ImportError/ValueError here
        raise PipelineBuildError(f"cannot build spacy.blank({config.lang!r}): {exc}. Reinstall with `pip install spacy`.") from exc
    nlp.max_length = config.max_length
    nlp.add_pipe("stance_paragraph_splitter")
    nlp.add_pipe("stance_sentencizer")
    matcher = nlp.add_pipe("stance_actor_matcher")
    try:
        nlp.initialize()
    except Exception as exc:  # spaCy raises many types when its language data is broken
        raise PipelineBuildError(f"cannot initialise the German pipeline: {exc}. Reinstall with `pip install spacy`.") from exc
    assert isinstance(matcher, ActorMatcher)
    matcher.set_registry(registry)
    return nlp
