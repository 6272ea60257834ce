"""The spaCy pipeline: ``spacy.blank("de")`` plus rule-based components.

Components, in order:

1. ``stance_paragraph_splitter``: a line break or a year ending a sentence
   ("im Jahr 2025. Danach") starts a sentence;
2. ``stance_sentencizer`` (spaCy's sentencizer rule, vectorised), which keeps German ordinals
   and abbreviations together because the German tokenizer already keeps "16." and "z." as
   one token;
3. ``stance_actors``: actor names, compounds and role aliases into
   ``doc.spans["stance_actors"]``, ``span.id_`` = actor id.

Nothing is downloaded. No lemmatizer: nothing reads lemmas (it cost 120 MB of lookup tables).

The same factories are public spaCy components, registered through the ``spacy_factories``
entry point, so ``spacy.blank("de").add_pipe("stance_actors")`` works without importing
``stance``; ``stance_scorer`` adds stance and sentiment scores (see README, "spaCy").

Extensions (registered once, here): ``Doc._.stance_date`` (the article date that resolves
role aliases), ``Span._.stance_role_holders`` (actors an unresolved role can mean) and,
set by ``stance_scorer``, ``Span._.stance``, ``Span._.stance_score``, ``Span._.stance_proba``
on actor spans and ``Span._.stance_sentiment``, ``Span._.stance_sentiment_score``,
``Span._.stance_sentiment_proba`` on sentence spans (``doc.sents``).
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable, Iterable, Iterator
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import spacy
from spacy.language import Language
from spacy.matcher import PhraseMatcher
from spacy.tokens import Doc, Span
from spacy.util import minibatch

from .actors import ActorRegistry, Role, load_actors, registry_from_mapping, registry_to_mapping, resolve_registry
from .config import NlpConfig
from .dates import as_date
from .errors import ActorRegistryError, InputFormatError, PipelineBuildError, bad_value
from .lang import DEFAULT_LANGUAGE, LanguagePack, available_languages, get_pack

if TYPE_CHECKING:  # pragma: no cover
    from .records import Mention
    from .scoring import Analyzer

SPANS_KEY = "stance_actors"
UNRESOLVED_SUFFIX = "_unresolved"
NAME_LABEL, ROLE_LABEL, EXCLUDE_LABEL, COMPOUND_LABEL = "NAME", "ROLE", "EXCLUDE", "COMPOUND"
ROLE_PREFIX = "role:"
ACTORS_FILE = "actors.json"
_SPAN_EXTENSIONS = ("stance", "stance_score", "stance_proba", "stance_role_holders", "stance_sentiment",
                    "stance_sentiment_score", "stance_sentiment_proba")


def register_extensions() -> None:
    """Register the ``stance_*`` Doc and Span extensions once (no built-in is overwritten)."""
    if not Doc.has_extension("stance_date"):
        Doc.set_extension("stance_date", default=None)
    for name in _SPAN_EXTENSIONS:
        if not Span.has_extension(name):
            Span.set_extension(name, default=None)


register_extensions()
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
    """The ``stance_actors`` component: actor names (with inflection and compounds), role aliases, exclusions.

    Shaped like spaCy's ``SpanRuler``: the registry is given to :meth:`initialize` (default: the
    packaged registry, compiled on first use if ``initialize`` was never called), saved by
    :meth:`to_disk` as JSON and read back by :meth:`from_disk`. Found references go into
    ``doc.spans[spans_key]``.

    With ``resolve_roles=True`` (the default for spaCy users), ``span.id_`` is always an actor
    id: a role alias ("der Bundeskanzler") is resolved by the date in ``Doc._.stance_date``
    (a ``datetime.date`` or ISO string); a role the date does not resolve (no date, or several
    holders) is left out of ``doc.spans[spans_key]`` and put into
    ``doc.spans[spans_key + "_unresolved"]`` with ``span.id_ = "role:<alias>"`` and the actors
    it can mean in ``span._.stance_role_holders``. Labels: ``NAME`` (a name form), ``COMPOUND``
    (a hyphenated compound naming the actor, "Trump-Putin-Gipfel") and ``ROLE``.

    With ``resolve_roles=False`` (the internal pipeline of :func:`load_nlp`, which resolves roles
    per article in :mod:`stance.mentions`), labels are ``NAME``/``ROLE``, role spans keep
    ``span.id_ = "role:<alias>"`` and the date is not read.

    Single tokens are looked up in dictionaries (fast, and a hyphenated compound such as
    "Trump-Putin-Gipfel" yields every actor it names); multi-token names and roles go
    through a :class:`spacy.matcher.PhraseMatcher` over lower-case forms; multi-word roles
    through a table from their first word's forms to the inflected forms of the further words.

    Examples
    --------
    >>> import datetime as dt, spacy
    >>> nlp = spacy.blank("de")
    >>> ruler = nlp.add_pipe("stance_actors")
    >>> doc = nlp.make_doc("Der Bundeskanzler traf Macron.")
    >>> doc._.stance_date = dt.date(2025, 6, 1)
    >>> [(s.text, s.label_, s.id_) for s in nlp(doc).spans["stance_actors"]]
    [('Bundeskanzler', 'ROLE', 'merz'), ('Macron', 'NAME', 'macron')]
    """

    def __init__(self, nlp: Language, name: str = "stance_actors", *, spans_key: str = SPANS_KEY,
                 resolve_roles: bool = True, language: str = "") -> None:
        if not isinstance(spans_key, str) or not spans_key:
            raise InputFormatError(bad_value(f"{name}: spans_key", spans_key, "a non-empty string"))
        if not isinstance(resolve_roles, bool):
            raise InputFormatError(bad_value(f"{name}: resolve_roles", resolve_roles, "true or false"))
        self.name = name
        self.spans_key = spans_key
        self.resolve_roles = resolve_roles
        self.pack: LanguagePack = _matcher_pack(nlp, language)
        self.language = self.pack.code
        self.vocab = nlp.vocab
        self._tokenizer = nlp.tokenizer
        self._registry: ActorRegistry | None = None
        self._names: dict[str, str] = {}
        self._roles: dict[str, str] = {}
        self._role_table: dict[str, tuple[tuple[str, Role], ...]] = {}
        self._phrases = PhraseMatcher(nlp.vocab, attr="LOWER")
        # multi-word roles: first word's lower-case form (hash) -> [(forms of each further word, role key)]
        self._multiword_roles: dict[int, list[tuple[tuple[frozenset[int], ...], str]]] = {}
        self._compiled_roles: set[str] = set()
        self._token_cache: dict[int, tuple[tuple[str, str], ...]] = {}

    @property
    def registry(self) -> ActorRegistry:
        """The actor registry in use (the packaged one unless :meth:`initialize` or :meth:`from_disk` gave another)."""
        if self._registry is None:
            self._compile(load_actors(language=self.pack))
        assert self._registry is not None
        return self._registry

    @property
    def unresolved_key(self) -> str:
        """The span group of role aliases the date does not resolve (``resolve_roles=True`` only)."""
        return self.spans_key + UNRESOLVED_SUFFIX

    def initialize(self, get_examples: Callable[[], Iterable[Any]] | None = None, *, nlp: Language | None = None,
                   registry: ActorRegistry | str | Path | None = None) -> None:
        """Compile an actor registry (like ``SpanRuler.initialize(patterns=...)``).

        Parameters
        ----------
        get_examples : callable, optional
            Unused (spaCy's initialize signature).
        nlp : Language, optional
            Unused (spaCy's initialize signature).
        registry : ActorRegistry or path, optional
            An :class:`~stance.actors.ActorRegistry` or a TOML/JSON registry file (which extends
            the packaged registry unless it sets ``replace = true``); default the packaged registry.
            In a training config: ``[initialize.components.stance_actors] registry = "actors.toml"``.

        Raises
        ------
        ActorRegistryError
            If ``registry`` is of another type or the file is malformed.
        """
        if registry is not None and not isinstance(registry, (ActorRegistry, str, Path)):
            raise ActorRegistryError(bad_value(f"{self.name}: registry", type(registry).__name__,
                                               "an ActorRegistry, a path to a TOML/JSON registry file, or None"))
        self._compile(resolve_registry(registry, self.pack))

    def _compile(self, registry: ActorRegistry) -> None:
        """Compile the registry into lookup tables and phrase patterns."""
        self._registry = registry
        self._names, self._roles = {}, {}
        self._token_cache = {}
        self._phrases = PhraseMatcher(self.vocab, attr="LOWER")
        self._multiword_roles = {}
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
            self._add_phrases(EXCLUDE_LABEL, [phrase.lower() + suffix for suffix in self.pack.name_suffixes])

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
            for suffix in self.pack.name_suffixes:
                self._names.setdefault(words[0] + suffix, actor_id)
            return
        variants = [" ".join(words[:-1] + [words[-1] + s]) for s in self.pack.name_suffixes]
        self._add_phrases(f"{NAME_LABEL}|{actor_id}", [v.lower() for v in variants])

    def _add_role(self, alias: str, key: str) -> None:
        """One lookup entry per form of a one-word role; for a longer role, its first word's forms
        index the sets of forms of the further words.

        The table grows linearly with the alias length (expanding every combination of word forms
        grew exponentially), and a document is scanned once: only tokens that can start a role are
        checked further (spaCy's token Matcher with one ``IN`` pattern per role was 3x slower
        than the whole analysis).
        """
        if alias in self._compiled_roles:  # the same alias held by several actors (at other times)
            return
        self._compiled_roles.add(alias)
        words = [t.text for t in self._tokenizer(alias)]
        if len(words) == 1:
            for form in _role_word_forms(words[0], self.pack):
                self._roles.setdefault(form, key)
            return
        strings = self.vocab.strings
        forms = [frozenset(strings.add(form) for form in _role_word_forms(w, self.pack)) for w in words]
        for first in forms[0]:
            self._multiword_roles.setdefault(first, []).append((tuple(forms[1:]), key))

    def _add_phrases(self, match_key: str, phrases: Iterable[str]) -> None:
        docs = [self._tokenizer(p) for p in dict.fromkeys(phrases)]
        self._phrases.add(match_key, docs)

    def __call__(self, doc: Doc) -> Doc:
        if self._registry is None:
            self._compile(load_actors(language=self.pack))
        spans = self._token_spans(doc) + self._phrase_spans(doc)
        self.set_annotations(doc, spans)
        return doc

    def set_annotations(self, doc: Doc, spans: list[Span]) -> None:
        """Drop references inside excluded phrases and role appositions; resolve roles (if asked); store the rest."""
        excluded = [s for s in spans if s.label_ == EXCLUDE_LABEL]
        kept = [s for s in spans if s.label_ != EXCLUDE_LABEL and not any(_overlaps(s, e) for e in excluded)]
        kept = _drop_role_appositions(kept)
        if self.resolve_roles:
            kept = self._resolve(doc, kept)
        doc.spans[self.spans_key] = sorted(set(kept), key=lambda s: (s.start, -s.end, s.id_))

    def _resolve(self, doc: Doc, spans: list[Span]) -> list[Span]:
        """Role spans resolved by ``Doc._.stance_date`` (the rest into the unresolved group); compounds labelled."""
        date = _doc_date(doc)
        resolved: list[Span] = []
        unresolved: list[Span] = []
        for span in spans:
            if span.label_ == ROLE_LABEL:
                actor = self.resolve_role(span.id_, date)
                if actor is None:
                    unresolved.append(span)
                else:
                    resolved.append(Span(doc, span.start, span.end, label=ROLE_LABEL, span_id=actor))
            elif len(span) == 1 and ("-" in span.text or "–" in span.text) and not self.is_name_form(span.text):
                resolved.append(Span(doc, span.start, span.end, label=COMPOUND_LABEL, span_id=span.id_))
            else:
                resolved.append(span)
        unresolved = sorted(set(unresolved), key=lambda s: (s.start, -s.end, s.id_))
        for span in unresolved:
            span._.stance_role_holders = tuple(sorted(self.role_holders(span.id_)))
        doc.spans[self.unresolved_key] = unresolved
        return resolved

    def _token_spans(self, doc: Doc) -> list[Span]:
        """Single-token references, looked up once per distinct token string (cached by orth id)."""
        if not len(doc):
            return []
        orths = doc.to_array("ORTH").tolist()
        cache = _bounded(self._token_cache)
        hits = {}
        for orth in set(orths):
            found = cache.get(orth)
            if found is None:
                found = cache[orth] = self._classify(self.vocab.strings[orth])
            if found:
                hits[orth] = found
        if not hits:
            return []
        positions: dict[int, list[int]] = {orth: [] for orth in sorted(hits)}
        for i, orth in enumerate(orths):
            if orth in hits:
                positions[orth].append(i)
        return [Span(doc, i, i + 1, label=label, span_id=key)
                for orth, where in positions.items() for i in where for label, key in hits[orth]]

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
        for match_id, start, end in self._phrases(doc):
            label, _, key = self.vocab.strings[match_id].partition("|")
            spans.append(Span(doc, start, end, label=label, span_id=key or label))
        return spans + self._multiword_role_spans(doc)

    def _multiword_role_spans(self, doc: Doc) -> list[Span]:
        """Every occurrence of a multi-word role (each word in one of its inflected forms)."""
        if not self._multiword_roles or not len(doc):
            return []
        lowers = doc.to_array("LOWER").tolist()
        spans = []
        for i, lower in enumerate(lowers):
            for rest, key in self._multiword_roles.get(lower, ()):
                end = i + 1 + len(rest)
                if end <= len(lowers) and all(lowers[i + 1 + j] in forms for j, forms in enumerate(rest)):
                    spans.append(Span(doc, i, end, label=ROLE_LABEL, span_id=key))
        return spans

    def to_bytes(self, *, exclude: Iterable[str] = ()) -> bytes:
        """The registry as UTF-8 JSON bytes (see :meth:`to_disk`)."""
        return _registry_json(self.registry).encode("utf-8")

    def from_bytes(self, data: bytes, *, exclude: Iterable[str] = ()) -> ActorMatcher:
        """Read a registry written by :meth:`to_bytes` and compile it."""
        self._compile(_registry_from_json(data.decode("utf-8"), f"{self.name} (bytes)"))
        return self

    def to_disk(self, path: str | Path, *, exclude: Iterable[str] = ()) -> None:
        """Save the registry (actors, aliases, dated roles, exclusions) as ``actors.json`` in the folder ``path``.

        Plain JSON in the format of :func:`~stance.actors.registry_from_mapping`, never a pickle;
        ``nlp.to_disk`` calls this with the component's folder.
        """
        folder = Path(path)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / ACTORS_FILE).write_text(_registry_json(self.registry), encoding="utf-8")

    def from_disk(self, path: str | Path, *, exclude: Iterable[str] = ()) -> ActorMatcher:
        """Read and validate the registry saved by :meth:`to_disk` and compile it.

        Raises
        ------
        ActorRegistryError
            If ``actors.json`` is missing or malformed.
        """
        file = Path(path) / ACTORS_FILE
        try:
            text = file.read_text(encoding="utf-8")
        except OSError as exc:
            raise ActorRegistryError(f"{file}: cannot read the saved actor registry: {exc.strerror or exc}") from exc
        self._compile(_registry_from_json(text, str(file)))
        return self


# spaCy checks ``[initialize.components.*]`` settings against this signature with pydantic, which cannot
# resolve postponed (string) annotations naming our own classes: give it the evaluated type.
ActorMatcher.initialize.__annotations__["registry"] = ActorRegistry | str | Path | None


def _registry_json(registry: ActorRegistry) -> str:
    return json.dumps({"source": registry.source, **registry_to_mapping(registry)}, ensure_ascii=False, indent=1) + "\n"


def _registry_from_json(text: str, where: str) -> ActorRegistry:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ActorRegistryError(f"{where}: line {exc.lineno}: invalid JSON: {exc.msg}") from exc
    if not isinstance(data, dict):
        raise ActorRegistryError(f"{where}: expected a JSON object with an 'actor' list")
    source = data.pop("source", where)
    return registry_from_mapping(data, source=str(source), warn=False)


def _doc_date(doc: Doc) -> dt.date | None:
    """``Doc._.stance_date`` as a date (a datetime's date; an ISO string parsed)."""
    value = doc._.stance_date
    try:
        return as_date(value)
    except ValueError:
        raise InputFormatError(bad_value("Doc._.stance_date", value, "a datetime.date, an ISO date string (YYYY-MM-DD) or None")) from None


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


def _matcher_pack(nlp: Language, language: str) -> LanguagePack:
    """The pack ``language`` names; without one the pack of ``nlp.lang`` if registered, else the default."""
    if language:
        return get_pack(language)
    return get_pack(nlp.lang if nlp.lang in available_languages() else DEFAULT_LANGUAGE)


def _role_word_forms(word: str, pack: LanguagePack | None = None) -> list[str]:
    """Inflected forms of one role word: adjective endings for a lower-case word ending in
    "e" (the pack's ``adj_endings``, if any), noun suffixes for a capitalised word."""
    pack = pack or get_pack()
    lower = word.lower()
    if pack.adj_endings and word[:1].islower() and lower.endswith("e") and len(lower) > 3:
        stem = lower[:-1]
        return [stem + e for e in pack.adj_endings]
    if word[:1].isupper():
        return [lower + s for s in pack.noun_suffixes]
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


@Language.factory("stance_actors", assigns=["doc.spans"],
                  default_config={"spans_key": SPANS_KEY, "resolve_roles": True, "language": ""})
def make_actor_matcher(nlp: Language, name: str, *, spans_key: str, resolve_roles: bool, language: str) -> ActorMatcher:
    """spaCy factory of :class:`ActorMatcher` (``nlp.add_pipe("stance_actors")``).

    Settings: ``spans_key`` (the span group, default ``"stance_actors"``), ``resolve_roles``
    (resolve role aliases by ``Doc._.stance_date``, default true) and ``language`` (the code of
    the :class:`~stance.lang.LanguagePack` whose name and role endings are matched; default:
    the pack of ``nlp.lang``, else German). The registry is given to
    ``initialize(registry=...)``; without it the language pack's registry is used.
    """
    return ActorMatcher(nlp, name, spans_key=spans_key, resolve_roles=resolve_roles, language=language)


class StanceScorer:
    """The ``stance_scorer`` component: stance toward each actor span and sentiment of each sentence.

    Scores the (sentence, actor) units of ``doc.spans[spans_key]`` (written by a
    ``stance_actors`` component with ``resolve_roles=True``) with the same
    :class:`~stance.scoring.Analyzer` code as :meth:`Analyzer.analyze <stance.scoring.Analyzer.analyze>`,
    so the numbers are the library's. Every reference to an actor in a sentence gets its unit's
    ``Span._.stance`` (label), ``Span._.stance_score`` (P(positive) - P(negative), in [-1, 1]) and
    ``Span._.stance_proba`` (label -> probability); a span across a sentence boundary gets
    none. Every non-blank sentence span in ``doc.sents`` gets ``Span._.stance_sentiment``,
    ``Span._.stance_sentiment_score`` and ``Span._.stance_sentiment_proba`` (read them as
    ``span.sent._.stance_sentiment_score``). Needs sentence boundaries (``stance_sentencizer``).

    ``model`` is a model folder (default: the packaged German model), loaded with the
    hash-checked loader of :func:`stance.load`. ``nlp.to_disk`` stores only this setting in
    ``config.cfg``, never the model: give an absolute path, or leave it unset for the packaged model.

    Examples
    --------
    >>> import spacy
    >>> nlp = spacy.blank("de")
    >>> for name in ("stance_sentencizer", "stance_actors", "stance_scorer"):
    ...     _ = nlp.add_pipe(name)
    >>> doc = nlp("Putin ließ Kiew bombardieren. Es regnet.")
    >>> span = doc.spans["stance_actors"][0]
    >>> span.id_, span._.stance in ("negative", "neutral", "positive"), -1 <= span._.stance_score <= 1
    ('putin', True, True)
    """

    def __init__(self, nlp: Language, name: str = "stance_scorer", *, model: str | None = None,
                 spans_key: str = SPANS_KEY) -> None:
        from .scoring import load

        if model is not None and (not isinstance(model, str) or not model):
            raise InputFormatError(bad_value(f"{name}: model", model, "a model folder path (str) or None for the packaged model"))
        if not isinstance(spans_key, str) or not spans_key:
            raise InputFormatError(bad_value(f"{name}: spans_key", spans_key, "a non-empty string"))
        self.name = name
        self.model = model
        self.spans_key = spans_key
        self.analyzer: Analyzer = load(model)

    def __call__(self, doc: Doc) -> Doc:
        self.set_annotations([doc], self.predict([doc]))
        return doc

    def pipe(self, stream: Iterable[Doc], *, batch_size: int = 128) -> Iterator[Doc]:
        """Score docs in batches (one model call per batch)."""
        for batch in minibatch(stream, size=batch_size):
            docs = list(batch)
            self.set_annotations(docs, self.predict(docs))
            yield from docs

    def predict(self, docs: Iterable[Doc]) -> list[tuple[list[tuple[Span, int]], list[Mention], list[Any], list[Any]]]:
        """Per doc: (sentence span, sentence index) pairs, mentions, scored mentions, sentence sentiments."""
        from .mentions import mentions_from_doc
        from .sentences import sentences_from_docs

        docs = list(docs)
        prepared = []
        for doc in docs:
            if len(doc) and not doc.has_annotation("SENT_START"):
                raise PipelineBuildError(f"{self.name} needs sentence boundaries: add 'stance_sentencizer' "
                                         "(or spaCy's 'sentencizer') before it, e.g. nlp.add_pipe('stance_sentencizer', first=True)")
            located = sentences_from_docs([(0, doc)])
            mentions = mentions_from_doc(doc, spans_key=self.spans_key, sentences=located)
            prepared.append(([(sent, s.index) for s, sent, _ in located], [s.text for s, _, _ in located], mentions))
        all_mentions = [m for _, _, mentions in prepared for m in mentions]
        all_scored = self.analyzer.score_mentions(all_mentions)
        all_sentiment = self.analyzer.score_sentiment([t for _, texts, _ in prepared for t in texts])
        result = []
        at_m = at_s = 0
        for sents, texts, mentions in prepared:
            result.append((sents, mentions, all_scored[at_m:at_m + len(mentions)], all_sentiment[at_s:at_s + len(texts)]))
            at_m += len(mentions)
            at_s += len(texts)
        return result

    def set_annotations(self, docs: Iterable[Doc], predictions: list[tuple[list[tuple[Span, int]], list[Mention], list[Any],
                                                                             list[Any]]]) -> None:
        """Write the stance extensions on actor spans and the sentiment extensions on sentence spans."""
        for doc, (sents, _, scored, sentiment) in zip(docs, predictions):
            for (sent, _), (label, score, proba) in zip(sents, sentiment):
                sent._.stance_sentiment = label
                sent._.stance_sentiment_score = score
                sent._.stance_sentiment_proba = proba
            index_by_start = {sent.start: index for sent, index in sents}
            units = {(m.sentence_index, m.actor): m for m in scored}
            for span in doc.spans[self.spans_key] if self.spans_key in doc.spans else ():
                sent = span.sent
                unit = units.get((index_by_start.get(sent.start, -1), span.id_)) if span.end <= sent.end else None
                if unit is not None:
                    span._.stance = unit.stance
                    span._.stance_score = unit.stance_score
                    span._.stance_proba = dict(unit.stance_proba)


@Language.factory("stance_scorer", requires=["doc.spans", "token.is_sent_start"],
                  assigns=["span._.stance", "span._.stance_score", "span._.stance_proba", "span._.stance_sentiment",
                           "span._.stance_sentiment_score", "span._.stance_sentiment_proba"],
                  default_config={"model": None, "spans_key": SPANS_KEY})
def make_stance_scorer(nlp: Language, name: str, *, model: str | None, spans_key: str) -> StanceScorer:
    """spaCy factory of :class:`StanceScorer` (``nlp.add_pipe("stance_scorer", config={"model": PATH})``)."""
    return StanceScorer(nlp, name, model=model, spans_key=spans_key)


def load_nlp(config: NlpConfig | None = None, registry: ActorRegistry | None = None) -> Language:
    """Build (once per config and registry) the pipeline of the language pack ``config.lang``
    (German by default): ``spacy.blank(pack.spacy_lang)``, sentence splitting and the actor
    matcher with the pack's endings; the registry defaults to the pack's.

    Its ``stance_actors`` component runs with ``resolve_roles=False``: role spans keep their
    role key and :mod:`stance.mentions` resolves them by each article's date.

    Raises
    ------
    PipelineBuildError
        If spaCy's language data cannot be loaded.
    UnknownLanguageError
        If no language pack is registered for ``config.lang``.
    """
    config = config or NlpConfig()
    return _build_nlp(config, registry if registry is not None else load_actors(language=config.lang), get_pack(config.lang))


@lru_cache(maxsize=8)
def _build_nlp(config: NlpConfig, registry: ActorRegistry, pack: LanguagePack) -> Language:
    try:
        nlp = spacy.blank(pack.spacy_lang)
    except Exception as exc:  # spaCy raises plain ImportError/ValueError here
        raise PipelineBuildError(f"cannot build spacy.blank({pack.spacy_lang!r}): {exc}. Reinstall with `pip install spacy`.") from exc
    nlp.max_length = config.max_length
    nlp.add_pipe("stance_paragraph_splitter")
    nlp.add_pipe("stance_sentencizer")
    try:
        nlp.initialize()
    except Exception as exc:  # spaCy raises many types when its language data is broken
        raise PipelineBuildError(f"cannot initialise the {pack.name} pipeline: {exc}. Reinstall with `pip install spacy`.") from exc
    matcher = nlp.add_pipe("stance_actors", config={"resolve_roles": False, "language": pack.code})
    assert isinstance(matcher, ActorMatcher)
    matcher.initialize(nlp=nlp, registry=registry)
    return nlp
