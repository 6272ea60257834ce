"""Stage 7, scoring: mentions -> :class:`~stance.records.ScoredMention` with an :class:`Analyzer`.

``stance.load()`` returns an Analyzer with the packaged default German model.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, fields
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from .actors import ActorRegistry, resolve_registry
from .config import NlpConfig
from .features import TargetText
from .model import explain, model_language, score_from_proba
from .lang import DEFAULT_LANGUAGE, LanguagePack, get_pack
from .persistence import META_FILE, MODEL_FILE, load_model, model_file_language
from .records import LABELS, Mention, ScoredMention, TargetScore
from .resources import default_model_dir


@dataclass(frozen=True, slots=True)
class Explanation:
    """Why a unit got its stance: the label and the features that pushed it."""

    stance: str
    stance_score: float
    contributions: tuple[tuple[str, float], ...]

    def __str__(self) -> str:
        lines = [f"stance={self.stance} score={self.stance_score:+.2f}"]
        lines += [f"  {weight:+.3f}  {name}" for name, weight in self.contributions]
        return "\n".join(lines)


class Analyzer:
    """Find actor mentions in text and score stance and sentiment for each.

    The language is the model's: the ``language`` code its ``model.json`` records (German
    when absent) selects the :class:`~stance.lang.LanguagePack` that finds mentions and whose
    registry is the default one.

    Examples
    --------
    >>> analyzer = load()
    >>> [(m.actor, m.stance) for m in analyzer.analyze("Selenskyj dankte Macron für seine Unterstützung.")][:1]
    [('zelensky', 'neutral')]
    """

    def __init__(self, stance_model: Any, sentiment_model: Any, *, actors: ActorRegistry | str | Path | None = None,
                 metadata: dict[str, Any] | None = None) -> None:
        self.stance_model = stance_model
        self.sentiment_model = sentiment_model
        self.metadata = metadata or {}
        language = model_file_language(self.metadata) if "language" in self.metadata else model_language(stance_model)
        self.pack: LanguagePack = get_pack(language or DEFAULT_LANGUAGE)
        self.registry = resolve_registry(actors, self.pack)
        self.model_path: str | None = None

    @property
    def language(self) -> str:
        """The code of the model's language pack ("de")."""
        return self.pack.code

    def with_actors(self, actors: ActorRegistry | str | Path | None) -> Analyzer:
        """The same models with another actor registry."""
        other = Analyzer(self.stance_model, self.sentiment_model, actors=actors, metadata=self.metadata)
        other.model_path = self.model_path
        return other

    def analyze(self, text: str, *, date: dt.date | None = None, doc_id: str | None = None) -> list[ScoredMention]:
        """Score every (sentence, actor) unit of ``text``; offsets as in :func:`~stance.mentions.find_mentions`
        (into ``text``, or into its normalised form if NFC/zero-width normalisation changed it)."""
        from .mentions import find_mentions

        return self.score_mentions(find_mentions(text, date=date, actors=self.registry, doc_id=doc_id, language=self.language))

    def score_mentions(self, mentions: Sequence[Mention]) -> list[ScoredMention]:
        """Attach stance (toward the actor) and sentiment (of the sentence) to mentions."""
        if not mentions:
            return []
        inputs = [TargetText(m.sentence, m.target_spans or (m.target_span,), m.other_spans) for m in mentions]
        stance_proba = self.stance_model.predict_proba(inputs)
        stance_scores = score_from_proba(stance_proba, self.stance_model.classes_)
        sentences = sorted({m.sentence for m in mentions})
        sent_proba = self.sentiment_model.predict_proba([TargetText(s, ((0, 0),)) for s in sentences])
        sent_scores = score_from_proba(sent_proba, self.sentiment_model.classes_)
        sent_index = {s: i for i, s in enumerate(sentences)}
        stance_classes = list(self.stance_model.classes_)
        sentiment_classes = list(self.sentiment_model.classes_)
        scored = []
        for k, m in enumerate(mentions):
            j = sent_index[m.sentence]
            scored.append(ScoredMention(
                **{f.name: getattr(m, f.name) for f in fields(Mention)},
                stance=stance_classes[int(stance_proba[k].argmax())], stance_score=float(stance_scores[k]),
                stance_proba=_proba_dict(stance_proba[k], stance_classes),
                sentiment=sentiment_classes[int(sent_proba[j].argmax())], sentiment_score=float(sent_scores[j]),
                sentiment_proba=_proba_dict(sent_proba[j], sentiment_classes),
            ))
        return scored

    def score_sentiment(self, sentences: Sequence[str]) -> list[tuple[str, float, dict[str, float]]]:
        """``(label, score, proba)`` sentiment of each sentence, computed as :meth:`score_mentions`
        scores a mention's sentence (used by the spaCy component ``stance_scorer``).

        Examples
        --------
        >>> label, score, proba = load().score_sentiment(["Die Verhandlungen sind gescheitert."])[0]
        >>> label in proba and -1.0 <= score <= 1.0
        True
        """
        if not sentences:
            return []
        proba = self.sentiment_model.predict_proba([TargetText(s, ((0, 0),)) for s in sentences])
        scores = score_from_proba(proba, self.sentiment_model.classes_)
        classes = list(self.sentiment_model.classes_)
        return [(str(classes[int(row.argmax())]), float(score), _proba_dict(row, classes)) for row, score in zip(proba, scores)]

    def score_target(self, sentence: str, start: int, end: int) -> TargetScore:
        """Stance toward any span ``sentence[start:end]`` (also targets outside the registry).

        The sentence is normalised like :func:`~stance.mentions.find_mentions` does and the
        span moves with it.

        Raises
        ------
        InputFormatError
            (a ``ValueError``) If the span is empty or outside the sentence.
        """
        return self._score_row(self._target_text(sentence, start, end))

    def explain(self, sentence: str, start: int, end: int, *, top: int = 10) -> Explanation:
        """The features (from the linear weights) that pushed the stance toward a span."""
        row = self._target_text(sentence, start, end)
        result = self._score_row(row)
        contributions = explain(self.stance_model, row, top=top)
        return Explanation(result.stance, result.stance_score, tuple(contributions))

    def _score_row(self, row: TargetText) -> TargetScore:
        proba = self.stance_model.predict_proba([row])[0]
        classes = list(self.stance_model.classes_)
        score = float(score_from_proba(proba[None, :], classes)[0])
        return TargetScore(classes[int(proba.argmax())], score, _proba_dict(proba, classes))

    def _target_text(self, sentence: str, start: int, end: int) -> TargetText:
        """The marked span as target, masked like a training unit.

        If the span is a registry actor, its other references in the sentence are the target
        too; every other actor reference (roles included, resolved as in training) is masked
        as another actor.
        """
        from .mentions import actor_matcher, normalize_span, undated_refs, unit_spans
        from .nlp import load_nlp

        sentence, start, end = normalize_span(sentence, start, end)
        nlp = load_nlp(NlpConfig(lang=self.language), self.registry)
        names, roles = undated_refs(nlp(sentence), actor_matcher(nlp))
        actor = next((a for a, s, e in names if s < end and start < e), None)
        target, others = unit_spans(actor, names, roles, extra_target=[(start, end)])
        return TargetText(sentence, target, others)


def _proba_dict(row: np.ndarray, classes: Sequence[str]) -> dict[str, float]:
    values = {label: 0.0 for label in LABELS}
    for label, p in zip(classes, row):
        values[str(label)] = float(p)
    return values


def load(path: str | Path | None = None, *, actors: ActorRegistry | str | Path | None = None) -> Analyzer:
    """Load an :class:`Analyzer`: the packaged default German model when ``path`` is None.

    A model folder's ``model.json`` names its language (``"language"``, German when absent);
    its :class:`~stance.lang.LanguagePack` must be registered.

    Raises
    ------
    ModelNotFoundError, ModelIntegrityError, IncompatibleModelError
        When the model folder is missing, damaged or from another scikit-learn version.
    UnknownLanguageError
        When no language pack is registered for the model's language.
    """
    folder = Path(path).resolve() if path is not None else default_model_dir()
    loaded = _load_cached(str(folder), _stamp(folder))
    analyzer = Analyzer(loaded.stance, loaded.sentiment, actors=actors, metadata=loaded.metadata)
    analyzer.model_path = str(folder)
    return analyzer


def _stamp(folder: Path) -> tuple[int, ...]:
    """Modification stamp of the model files, so a changed file is never served from cache."""
    stamp: list[int] = []
    for name in (MODEL_FILE, META_FILE):
        try:
            info = (folder / name).stat()
            stamp += [info.st_mtime_ns, info.st_size]
        except OSError:
            stamp += [-1, -1]
    return tuple(stamp)


@lru_cache(maxsize=4)
def _load_cached(path: str, stamp: tuple[int, ...]) -> Any:
    return load_model(path)
