"""Stage 4, mentions: sentences -> :class:`~stance.records.Mention` records.

One mention per (sentence, actor) unit, as in ANNOTATION.md: several references to one
actor in a sentence make one unit, located at its first reference. Role aliases
("der US-Präsident") are resolved by the article date; with no date they are not resolved.
"""

from __future__ import annotations

import bisect
import datetime as dt
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from spacy.language import Language
from spacy.tokens import Doc, Span

from .actors import ActorRegistry, resolve_registry
from .config import NlpConfig
from .errors import InputFormatError, bad_value
from .nlp import COMPOUND_LABEL, NAME_LABEL, ROLE_LABEL, ROLE_PREFIX, SPANS_KEY, UNRESOLVED_SUFFIX, ActorMatcher, load_nlp
from .records import Article, Mention, Sentence, split_target_and_others
from .sentences import iter_docs, sentences_from_docs
from .text import normalize_text


@dataclass(frozen=True, slots=True)
class ArticleMentions:
    """The sentences and mentions of one article."""

    article: Article
    sentences: tuple[Sentence, ...]
    mentions: tuple[Mention, ...]


def find_mentions(text: str, *, date: dt.date | None = None, actors: ActorRegistry | str | Path | None = None,
                  doc_id: str | None = None, language: str | None = None) -> list[Mention]:
    """Find every (sentence, actor) unit in ``text``.

    ``text`` is normalised as the corpus path does (:func:`stance.text.normalize_text`: NFC,
    ``\\n`` line ends, no control or zero-width characters), so "Orba\\u0301n" or
    "Pu\\u200btin" are found like "Orbán" and "Putin".

    Parameters
    ----------
    text : str
        Text in the pack's language (German by default), one article or a snippet.
    date : datetime.date, optional
        The article date; role aliases such as "US-Präsident" are resolved by it and
        ignored without it.
    actors : ActorRegistry or path, optional
        The actor registry (default: the language pack's, for German the packaged one).
    doc_id : str, optional
        Stored on every mention.
    language : str, optional
        The code of the :class:`~stance.lang.LanguagePack` (tokenizer, name and role
        endings); default German.

    Returns
    -------
    list of Mention
        Sorted by position. Offsets point into ``text`` when normalisation leaves it
        unchanged (ordinary NFC text); otherwise they point into ``normalize_text(text)``,
        and each mention's ``sentence`` holds the normalised sentence its spans refer to.

    Raises
    ------
    InputFormatError
        If ``text`` is not a string.
    UnknownLanguageError
        If no pack is registered for ``language``.

    Examples
    --------
    >>> [(m.actor, m.surface) for m in find_mentions("Putins Truppen rücken vor, sagte Selenskyj.")]
    [('putin', 'Putins'), ('zelensky', 'Selenskyj')]
    >>> [(m.actor, m.surface, m.start) for m in find_mentions("Orba\\u0301n\\u200b und Pu\\u200btin.")]
    [('orban', 'Orbán', 0), ('putin', 'Putin', 10)]
    """
    if not isinstance(text, str):
        raise InputFormatError(bad_value("text", type(text).__name__, "a str"))
    config = NlpConfig() if language is None else NlpConfig(lang=language)
    nlp = load_nlp(config, resolve_registry(actors, config.lang))
    result: list[Mention] = []
    for _, chunks in iter_docs(nlp, [normalize_text(text)]):
        result.extend(mentions_from_chunks(chunks, date=date, doc_id=doc_id, matcher=actor_matcher(nlp)))
    return result


def normalize_span(sentence: str, start: int, end: int) -> tuple[str, int, int]:
    """Normalise ``sentence`` like :func:`find_mentions` and move the span ``start:end`` with it.

    Returns the sentence and offsets unchanged when normalisation changes nothing.

    Raises
    ------
    InputFormatError
        If the span is empty, outside the sentence, or holds only characters that
        normalisation removes (zero-width or control characters).

    Examples
    --------
    >>> normalize_span("Der Kreml\\u200bchef Putin.", 15, 20)
    ('Der Kremlchef Putin.', 14, 19)
    """
    if not isinstance(sentence, str):
        raise InputFormatError(bad_value("sentence", type(sentence).__name__, "a str"))
    if not all(isinstance(x, int) and not isinstance(x, bool) for x in (start, end)) or not 0 <= start < end <= len(sentence):
        raise InputFormatError(f"span {start!r}..{end!r} is not inside the sentence of length {len(sentence)}")
    normalized = normalize_text(sentence)
    if normalized == sentence:
        return sentence, start, end
    new_start = min(len(normalize_text(sentence[:start])), len(normalized))
    new_end = min(len(normalize_text(sentence[:end])), len(normalized))
    if new_start >= new_end:
        raise InputFormatError(f"span {start}..{end} holds only characters that normalisation removes")
    return normalized, new_start, new_end


def iter_article_mentions(articles: Iterable[Article], nlp: Language, batch_size: int = 64) -> Iterator[ArticleMentions]:
    """Stream sentences and mentions for each article (in input order)."""
    matcher = actor_matcher(nlp)
    pending: list[Article] = []

    def flush() -> Iterator[ArticleMentions]:
        for index, chunks in iter_docs(nlp, (a.text for a in pending), batch_size=batch_size):
            article = pending[index]
            located = sentences_from_docs(chunks)
            mentions = mentions_from_chunks(chunks, date=article.date, doc_id=article.id, matcher=matcher, sentences=located)
            yield ArticleMentions(article, tuple(s for s, _, _ in located), tuple(mentions))
        pending.clear()

    for article in articles:
        pending.append(article)
        if len(pending) >= batch_size:
            yield from flush()
    yield from flush()


def actor_matcher(nlp: Language) -> ActorMatcher:
    """The actor matcher component of a pipeline built by :func:`~stance.nlp.load_nlp`."""
    component = nlp.get_pipe("stance_actors")
    assert isinstance(component, ActorMatcher)
    return component


def mentions_from_chunks(chunks: list[tuple[int, Doc]], *, date: dt.date | None, doc_id: str | None,
                         matcher: ActorMatcher, sentences: list[tuple[Sentence, Span, int]] | None = None) -> list[Mention]:
    """Turn the actor spans of a processed text into one Mention per (sentence, actor).

    ``sentences``: the text's :func:`~stance.sentences.sentences_from_docs` if already computed.
    """
    mentions: list[Mention] = []
    spans_by_chunk = [sorted(doc.spans[SPANS_KEY], key=lambda s: s.start) for _, doc in chunks]
    starts_by_chunk = [[s.start for s in spans] for spans in spans_by_chunk]
    for sentence, sent, number in (sentences if sentences is not None else sentences_from_docs(chunks)):
        offset = chunks[number][0]
        spans = spans_by_chunk[number]
        if not spans:
            continue
        inside = _spans_inside(spans, sent, starts_by_chunk[number])
        if inside:
            refs, unresolved = _resolved_refs(inside, date, matcher)
            mentions.extend(_units(sentence, refs, unresolved, offset, doc_id))
    return mentions


def mentions_from_doc(doc: Doc, *, spans_key: str = SPANS_KEY, doc_id: str | None = None,
                      sentences: list[tuple[Sentence, Span, int]] | None = None) -> list[Mention]:
    """Mentions of a Doc processed by a spaCy pipeline with ``stance_actors`` (``resolve_roles=True``).

    The spans already carry resolved actor ids (roles resolved by ``Doc._.stance_date``); roles
    the date did not resolve are read from ``doc.spans[spans_key + "_unresolved"]`` with their
    ``Span._.stance_role_holders``, and masked as in :func:`find_mentions`. On the same
    (normalised) text and date the result equals :func:`find_mentions`'s.

    ``sentences``: the doc's :func:`~stance.sentences.sentences_from_docs` if already computed.

    Examples
    --------
    >>> import datetime as dt, spacy
    >>> nlp = spacy.blank("de")
    >>> _ = nlp.add_pipe("stance_sentencizer"), nlp.add_pipe("stance_actors")
    >>> doc = nlp.make_doc("Der Kanzler lobte Macron.")
    >>> doc._.stance_date = dt.date(2025, 6, 1)
    >>> [(m.actor, m.kind) for m in mentions_from_doc(nlp(doc))]
    [('merz', 'role'), ('macron', 'name')]
    """
    located = sentences if sentences is not None else sentences_from_docs([(0, doc)])
    unresolved_key = spans_key + UNRESOLVED_SUFFIX
    spans = sorted(doc.spans[spans_key], key=lambda s: s.start) if spans_key in doc.spans else []
    pending = sorted(doc.spans[unresolved_key], key=lambda s: s.start) if unresolved_key in doc.spans else []
    kinds = {NAME_LABEL: "name", COMPOUND_LABEL: "compound", ROLE_LABEL: "role"}
    mentions: list[Mention] = []
    for sentence, sent, _ in located:
        inside = _spans_inside(spans, sent)
        refs = [(s.id_, s.start_char, s.end_char, kinds[s.label_]) for s in inside
                if s.label_ in kinds and not s.id_.startswith(ROLE_PREFIX)]
        if not refs:
            continue
        roles = [(frozenset(s._.stance_role_holders or ()), s.start_char, s.end_char) for s in _spans_inside(pending, sent)]
        # resolve_roles=False leaves role keys in the main group: masked as other actors
        roles += [(frozenset(), s.start_char, s.end_char) for s in inside if s.id_.startswith(ROLE_PREFIX)]
        mentions.extend(_units(sentence, refs, roles, 0, doc_id))
    return mentions


def _spans_inside(spans: list[Span], sent: Span, starts: list[int] | None = None) -> list[Span]:
    """The spans (sorted by start; ``starts``: their start tokens, if already at hand) that lie within ``sent``."""
    lo = bisect.bisect_left(starts, sent.start) if starts is not None else bisect.bisect_left(spans, sent.start, key=lambda s: s.start)
    inside = []
    for span in spans[lo:]:
        if span.start >= sent.end:
            break
        if span.end <= sent.end:
            inside.append(span)
    return inside


UnresolvedRole = tuple[frozenset[str], int, int]


def unit_spans(actor: str | None, refs: Iterable[tuple[str, int, int]], unresolved: Iterable[UnresolvedRole] = (),
               extra_target: Iterable[tuple[int, int]] = ()) -> tuple[tuple[tuple[int, int], ...], tuple[tuple[int, int], ...]]:
    """Target and other-actor spans of ``actor``'s unit, as used for masking.

    The actor's own references, ``extra_target`` and unresolved roles the actor can hold
    ("der Kremlchef" in an undated text, in a Putin unit) are the target; every other
    reference, including unresolved roles it cannot hold, is another actor. Training
    (:func:`stance.training.prepare`) and analysis build their spans with this one function.
    """
    refs, unresolved = list(refs), list(unresolved)
    target = [(s, e) for a, s, e in refs if a == actor] + [(s, e) for h, s, e in unresolved if actor in h] + list(extra_target)
    others = [(s, e) for a, s, e in refs if a != actor] + [(s, e) for h, s, e in unresolved if actor not in h]
    return split_target_and_others(target, others)


def undated_refs(doc: Doc, matcher: ActorMatcher) -> tuple[list[tuple[str, int, int]], list[UnresolvedRole]]:
    """Name references ``(actor, start_char, end_char)`` of a processed text and its roles as
    unresolved ``(possible actors, start_char, end_char)``: references as seen without a date."""
    spans = doc.spans[SPANS_KEY]
    names = [(s.id_, s.start_char, s.end_char) for s in spans if s.label_ == NAME_LABEL]
    roles = [(matcher.role_holders(s.id_), s.start_char, s.end_char) for s in spans if s.label_ == ROLE_LABEL]
    return names, roles


def _resolved_refs(spans: Iterable[Span], date: dt.date | None,
                   matcher: ActorMatcher) -> tuple[list[tuple[str, int, int, str]], list[UnresolvedRole]]:
    """``(actor, start_char, end_char, kind)`` for each resolved reference and
    ``(possible actors, start_char, end_char)`` for each role the date does not resolve (doc offsets)."""
    refs = []
    unresolved: list[UnresolvedRole] = []
    for span in spans:
        if span.label_ == ROLE_LABEL:
            actor = matcher.resolve_role(span.id_, date)
            kind = "role"
            if actor is None:
                unresolved.append((matcher.role_holders(span.id_), span.start_char, span.end_char))
        elif span.label_ == NAME_LABEL:
            actor = span.id_
            hyphenated = len(span) == 1 and ("-" in span.text or "–" in span.text)
            kind = "compound" if hyphenated and not matcher.is_name_form(span.text) else "name"
        else:
            continue
        if actor:
            refs.append((actor, span.start_char, span.end_char, kind))
    return refs, unresolved


def _units(sentence: Sentence, refs: list[tuple[str, int, int, str]], unresolved: list[UnresolvedRole], offset: int,
           doc_id: str | None) -> list[Mention]:
    by_actor: dict[str, list[tuple[int, int, str]]] = {}
    for actor, start, end, kind in refs:
        by_actor.setdefault(actor, []).append((start + offset, end + offset, kind))
    units = []
    base = sentence.start
    for actor, spans in by_actor.items():
        spans.sort(key=lambda s: (s[0], -s[1]))
        start, end, kind = spans[0]
        shift = offset - base
        target, other = unit_spans(actor, [(a, s + shift, e + shift) for a, s, e, _ in refs],
                                   [(h, s + shift, e + shift) for h, s, e in unresolved])
        units.append(
            Mention(
                actor=actor, surface=sentence.text[start - base:end - base], start=start, end=end,
                sentence=sentence.text, sentence_start=sentence.start, sentence_end=sentence.end,
                sentence_index=sentence.index, kind=kind, doc_id=doc_id, target_spans=target,
                other_spans=other,
            )
        )
    units.sort(key=lambda m: (m.start, m.actor))
    return units
