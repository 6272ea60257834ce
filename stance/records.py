"""Immutable records exchanged between the pipeline stages.

Every stage takes and returns these frozen dataclasses; spaCy objects never leave
``nlp.py``/``sentences.py``/``mentions.py``. Records hold tuples (not lists) so they can be
hashed, pickled and written to CSV/JSONL, and they check their own invariants.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

LABELS: tuple[str, ...] = ("negative", "neutral", "positive")
"""The label set of both the stance and the sentiment model, in score order."""

LABEL_SCORES: dict[str, int] = {"negative": -1, "neutral": 0, "positive": 1}

CharSpan = tuple[int, int]


def merge_spans(spans: Iterable[CharSpan]) -> tuple[CharSpan, ...]:
    """Sorted character spans with overlapping or touching spans merged into one.

    Nested matches ("Wladimir Putin" and "Putin") become one reference.

    Examples
    --------
    >>> merge_spans([(10, 15), (0, 14), (20, 25)])
    ((0, 15), (20, 25))
    """
    merged: list[CharSpan] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return tuple(merged)


def split_target_and_others(target: Iterable[CharSpan], others: Iterable[CharSpan]) -> tuple[tuple[CharSpan, ...], tuple[CharSpan, ...]]:
    """Merged target spans, and merged other-actor spans that do not overlap any target span."""
    merged_target = merge_spans(target)
    kept = [(s, e) for s, e in others if not any(s < te and ts < e for ts, te in merged_target)]
    return merged_target, merge_spans(kept)


@dataclass(frozen=True, slots=True)
class Skipped:
    """An input (file, row or article) that was not analysed, with the reason why."""

    source: str
    reason: str
    location: str | None = None

    def __str__(self) -> str:
        where = f"{self.source}, {self.location}" if self.location else self.source
        return f"{where}: {self.reason}"


@dataclass(frozen=True, slots=True)
class SourceFile:
    """One input file and what became of it (``read`` or ``skipped``)."""

    path: str
    status: str
    articles: int = 0
    reason: str | None = None
    encoding: str | None = None
    warnings: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.status not in ("read", "skipped"):
            raise ValueError(f"status must be 'read' or 'skipped', got {self.status!r}")


@dataclass(frozen=True, slots=True)
class Article:
    """One news article: the unit that sentences, mentions and aggregates refer to.

    ``date`` is ``None`` when the input gives no date (it is never guessed).
    ``duplicate_of`` names the id of the article this one repeats, if any.
    ``encoding`` is the text encoding of the file it was read from; ``extra`` holds the
    input columns that are not fields of this record (author, section, ...) as sorted
    ``(name, value)`` pairs.
    """

    id: str
    source: str
    title: str | None
    date: dt.date | None
    text: str
    duplicate_of: str | None = None
    warnings: tuple[str, ...] = ()
    url: str | None = None
    path: str | None = None
    location: str | None = None
    encoding: str | None = None
    extra: tuple[tuple[str, str], ...] = ()

    def __post_init__(self) -> None:
        if not self.id:
            raise ValueError("Article.id must not be empty")
        if self.date is not None and not isinstance(self.date, dt.date):
            raise TypeError(f"Article.date must be datetime.date or None, got {self.date!r}")


@dataclass(frozen=True, slots=True)
class Corpus:
    """The result of reading inputs: articles, skipped inputs, per-file status, warnings."""

    articles: tuple[Article, ...]
    skipped: tuple[Skipped, ...] = ()
    files: tuple[SourceFile, ...] = ()
    warnings: tuple[str, ...] = ()

    @property
    def unique_articles(self) -> tuple[Article, ...]:
        """The articles that are not duplicates of an earlier one."""
        return tuple(a for a in self.articles if a.duplicate_of is None)


@dataclass(frozen=True, slots=True)
class Sentence:
    """One sentence of an article, with character offsets into the article text."""

    index: int
    text: str
    start: int
    end: int

    def __post_init__(self) -> None:
        if not 0 <= self.start <= self.end:
            raise ValueError(f"bad sentence offsets {self.start}..{self.end}")


@dataclass(frozen=True, slots=True)
class Mention:
    """One actor referred to in one sentence: the unit of analysis.

    ``start``/``end`` are character offsets into the analysed text of the first reference
    to the actor in the sentence; ``sentence_start``/``sentence_end`` locate the sentence
    in the same text. ``kind`` says how the actor was referred to: ``name``, ``compound``
    (Trump-Regierung) or ``role`` (der Kremlchef).
    """

    actor: str
    surface: str
    start: int
    end: int
    sentence: str
    sentence_start: int
    sentence_end: int
    sentence_index: int = 0
    kind: str = "name"
    doc_id: str | None = None
    target_spans: tuple[tuple[int, int], ...] = ()
    other_spans: tuple[tuple[int, int], ...] = ()

    def __post_init__(self) -> None:
        if not self.start < self.end:
            raise ValueError(f"Mention needs start < end, got {self.start}..{self.end}")
        if not self.sentence_start <= self.start < self.end <= self.sentence_end:
            raise ValueError("Mention offsets must lie inside its sentence")

    @property
    def target_span(self) -> tuple[int, int]:
        """Offsets of the first reference relative to the sentence text."""
        return (self.start - self.sentence_start, self.end - self.sentence_start)

    @property
    def article_id(self) -> str | None:
        """Alias of ``doc_id``: the article the mention belongs to."""
        return self.doc_id


@dataclass(frozen=True, slots=True)
class TargetScore:
    """Stance toward one marked target span."""

    stance: str
    stance_score: float
    stance_proba: dict[str, float] = field(hash=False, compare=True)

    def __post_init__(self) -> None:
        _check_label_and_score(self.stance, self.stance_score)


@dataclass(frozen=True, slots=True)
class ScoredMention(Mention):
    """A :class:`Mention` with its stance toward the actor and the sentence sentiment.

    ``stance_score`` = P(positive) - P(negative) from ``stance_proba``; likewise
    ``sentiment_score`` for the sentence.
    """

    stance: str = "neutral"
    stance_score: float = 0.0
    stance_proba: dict[str, float] = field(default_factory=dict, hash=False)
    sentiment: str = "neutral"
    sentiment_score: float = 0.0
    sentiment_proba: dict[str, float] = field(default_factory=dict, hash=False)

    def __post_init__(self) -> None:
        Mention.__post_init__(self)
        _check_label_and_score(self.stance, self.stance_score)
        _check_label_and_score(self.sentiment, self.sentiment_score)


def _check_label_and_score(label: str, score: float) -> None:
    if label not in LABELS:
        raise ValueError(f"label must be one of {LABELS}, got {label!r}")
    if not -1.0 <= score <= 1.0:
        raise ValueError(f"score must lie in [-1, 1], got {score!r}")


@dataclass(frozen=True, slots=True)
class ArticleResult:
    """One analysed article: its number of sentences and its scored units, in text order.

    :func:`stance.pipeline.score_articles` yields one per article it could analyse (a
    :class:`Skipped` for one it could not); :mod:`stance.tables` turns them into rows.
    """

    article: Article
    sentences: int
    mentions: tuple[ScoredMention, ...] = ()


@dataclass(frozen=True)
class CorpusResult:
    """The analysis of a corpus: one row per scored unit, one row per input/article.

    ``mentions`` and ``articles`` are pandas DataFrames (columns
    :data:`stance.tables.MENTION_COLUMNS` and :data:`stance.tables.ARTICLE_COLUMNS`, then any
    extra input columns such as ``author``, see :func:`stance.pipeline.analyze_corpus`);
    ``skipped`` lists every input not analysed with the reason; ``warnings`` holds article
    warnings such as implausible dates; ``files`` what became of every input file.
    """

    mentions: pd.DataFrame
    articles: pd.DataFrame
    skipped: tuple[Skipped, ...] = ()
    warnings: tuple[str, ...] = ()
    files: tuple[SourceFile, ...] = field(default=())

    @property
    def analysed_count(self) -> int:
        """Number of articles analysed (not duplicates, not skipped)."""
        return int((self.articles["status"] == "ok").sum())
