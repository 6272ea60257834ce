"""Baselines as scikit-learn estimators: the majority class and a lexicon rule.

Both are fitted on a training side like the real models and scored by the same code
(:mod:`stance.training.evaluation`): :func:`majority_baseline` is a ``DummyClassifier``
that predicts the most frequent training label, :class:`LexiconRuleClassifier` the sign of
the sum of lexicon polarities in the sentence (with negation), learning nothing.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.dummy import DummyClassifier
from sklearn.utils.validation import check_is_fitted

from ..features import check_units, lexicon_sentence_score
from ..lang import DEFAULT_LANGUAGE
from ..records import LABELS
from .fit import TrainingSet, unit_label


class LexiconRuleClassifier(ClassifierMixin, BaseEstimator):
    """Sign of the lexicon polarity sum of the sentence: >0 positive, <0 negative, else neutral.

    Nothing is learned; ``fit`` records the classes. ``language``: the language pack whose
    lexicon and negators are used (default German).

    Examples
    --------
    >>> from stance.features import TargetText
    >>> rule = LexiconRuleClassifier().fit([TargetText("x", ((0, 1),))], ["neutral"])
    >>> rule.predict([TargetText("Ein großer Erfolg.", ((0, 1),)), TargetText("Ein Desaster.", ((0, 1),))]).tolist()
    ['positive', 'negative']
    """

    def __init__(self, language: str = DEFAULT_LANGUAGE) -> None:
        self.language = language

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> LexiconRuleClassifier:
        """Check the input and record the label set; returns self."""
        check_units(X)
        self.classes_ = np.asarray(LABELS, dtype=object)
        return self

    def predict(self, X: Any) -> np.ndarray:
        """One label per unit, from the sentence's lexicon polarity."""
        check_is_fitted(self, "classes_")
        scores = [lexicon_sentence_score(x.sentence, self.language) for x in check_units(X)]
        return np.asarray(["positive" if s > 0 else "negative" if s < 0 else "neutral" for s in scores], dtype=object)


def majority_baseline(side: TrainingSet, task: str) -> DummyClassifier:
    """The most frequent training label of ``task`` on ``side`` (ties: the first in label order), as a fitted ``DummyClassifier``."""
    return DummyClassifier(strategy="most_frequent").fit(list(side.inputs), [unit_label(u, task) for u in side.units])
