"""Stage 6, model: the target-aware stance model and the sentence sentiment model.

Both are scikit-learn classifiers built from stock parts (``FeatureUnion`` of
``TfidfVectorizer`` pipelines, ``LogisticRegression``) plus the transformers of
:mod:`stance.features`. Probabilities are always read through ``classes_``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.calibration import CalibratedClassifierCV
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression, SGDClassifier
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.preprocessing import MaxAbsScaler
from sklearn.svm import LinearSVC
from sklearn.utils.validation import check_is_fitted

from .config import ModelConfig
from .features import ContextWindow, FrameFeatures, LexiconFeatures, TargetMasker, as_target_texts
from .records import LABELS

ESTIMATORS = ("logreg", "linearsvc", "sgd")


def score_from_proba(proba: np.ndarray, classes: Sequence[str] | np.ndarray) -> np.ndarray:
    """``P(positive) - P(negative)`` per row, columns found through ``classes``.

    Examples
    --------
    >>> score_from_proba(np.array([[0.2, 0.5, 0.3]]), ["negative", "neutral", "positive"]).round(2).tolist()
    [0.1]
    """
    classes = list(classes)
    pos = proba[:, classes.index("positive")] if "positive" in classes else 0.0
    neg = proba[:, classes.index("negative")] if "negative" in classes else 0.0
    return np.clip(np.asarray(pos - neg, dtype=float), -1.0, 1.0)


def _classifier(estimator: str, C: float, random_state: int, class_weight: str = "balanced") -> Any:
    if class_weight not in ("balanced", "none"):
        raise ValueError(f"class_weight must be 'balanced' or 'none', got {class_weight!r}")
    weight = "balanced" if class_weight == "balanced" else None
    if estimator == "logreg":
        return LogisticRegression(C=C, class_weight=weight, max_iter=3000, random_state=random_state)
    if estimator == "linearsvc":
        svc = LinearSVC(C=C, class_weight=weight, random_state=random_state)
        return CalibratedClassifierCV(svc, cv=3, method="sigmoid")
    if estimator == "sgd":
        return SGDClassifier(loss="log_loss", alpha=1e-4 / max(C, 1e-6), class_weight=weight,
                             max_iter=50, tol=None, random_state=random_state)
    raise ValueError(f"estimator must be one of {ESTIMATORS}, got {estimator!r}")


def _text_features(config: ModelConfig, *, target_aware: bool, use_char: bool) -> list[tuple[str, Any]]:
    mask = TargetMasker(mask_target=target_aware and config.mask_target, mask_others=target_aware and config.mask_others)
    parts: list[tuple[str, Any]] = [
        ("word", Pipeline([
            ("mask", mask),
            ("tfidf", TfidfVectorizer(ngram_range=(1, config.word_ngram_max), min_df=2, sublinear_tf=True, lowercase=True)),
        ])),
    ]
    if use_char:
        parts.append(("char", Pipeline([
            ("mask", TargetMasker(mask_target=mask.mask_target, mask_others=mask.mask_others)),
            ("tfidf", TfidfVectorizer(analyzer="char_wb", ngram_range=(config.char_ngram_min, config.char_ngram_max),
                                      min_df=3, sublinear_tf=True, lowercase=True, max_features=150_000)),
        ])))
    return parts


def make_stance_pipeline(config: ModelConfig, *, target_aware: bool = True) -> Pipeline:
    """The stance pipeline: masked word/char TF-IDF, target window, lexicon and cue features.

    With ``target_aware=False`` it is the plain sentence-level TF-IDF model (a baseline).
    """
    parts = _text_features(config, target_aware=target_aware, use_char=config.use_char and target_aware)
    if target_aware and config.use_sentence_words:
        parts.append(("sentence", Pipeline([
            ("mask", TargetMasker(mask_target=False, mask_others=False)),
            ("tfidf", TfidfVectorizer(ngram_range=(1, config.word_ngram_max), min_df=2, sublinear_tf=True, lowercase=True)),
        ])))
    if target_aware and config.use_window:
        parts.append(("window", Pipeline([
            ("window", ContextWindow(window=config.window_tokens)),
            ("tfidf", TfidfVectorizer(min_df=2, sublinear_tf=True, lowercase=False, token_pattern=r"\S+")),
        ])))
    if target_aware and config.use_lexicon:
        parts.append(("lexicon", Pipeline([
            ("lexicon", LexiconFeatures(window=config.window_tokens, use_window=config.use_window, use_cues=config.use_cues,
                                        use_structure=config.use_structure, drop_neutral_words=config.lexicon_drop_neutral)),
            ("scale", MaxAbsScaler()),
        ])))
    if target_aware and config.use_frames:
        parts.append(("frames", Pipeline([
            ("frames", FrameFeatures(drop_neutral_words=config.lexicon_drop_neutral)),
            ("scale", MaxAbsScaler()),
        ])))
    return Pipeline([
        ("features", FeatureUnion(parts)),
        ("clf", _classifier(config.estimator, config.C, config.random_state, config.class_weight)),
    ])


def make_sentiment_pipeline(config: ModelConfig) -> Pipeline:
    """The sentence sentiment pipeline: word/char TF-IDF and sentence lexicon counts."""
    parts = _text_features(config, target_aware=False, use_char=config.use_char)
    if config.use_lexicon:
        parts.append(("lexicon", Pipeline([
            ("lexicon", LexiconFeatures(use_window=False, use_cues=False, target_aware=False,
                                        drop_neutral_words=config.lexicon_drop_neutral)),
            ("scale", MaxAbsScaler()),
        ])))
    return Pipeline([
        ("features", FeatureUnion(parts)),
        ("clf", _classifier(config.estimator, config.sentiment_C, config.random_state, config.class_weight)),
    ])


class _LinearTextClassifier(ClassifierMixin, BaseEstimator):
    """Shared fit/predict/explain for the two models.

    Attributes
    ----------
    pipeline_ : sklearn.pipeline.Pipeline
        The fitted feature union and classifier.
    classes_ : ndarray of str
        The labels, in the column order of :meth:`predict_proba`.
    """

    def __init__(self, *, config: ModelConfig | None = None, target_aware: bool = True) -> None:
        self.config = config
        self.target_aware = target_aware

    def _make_pipeline(self, config: ModelConfig) -> Pipeline:
        raise NotImplementedError

    def fit(self, X: Iterable[Any], y: Iterable[Any], sample_weight: Any = None) -> _LinearTextClassifier:
        """Fit on units ``X`` (sentence + target spans) and labels ``y`` from :data:`LABELS`."""
        config = self.config or ModelConfig()
        rows = as_target_texts(X)
        labels = np.asarray(list(y), dtype=object)
        if len(rows) != len(labels):
            raise ValueError(f"X has {len(rows)} rows but y has {len(labels)}")
        unknown = sorted(set(labels) - set(LABELS))
        if unknown:
            raise ValueError(f"unknown labels {unknown}; expected {LABELS}")
        if len(set(labels)) < 2:
            raise ValueError(f"need at least two classes to fit, got only {sorted(set(labels))}")
        pipeline = self._make_pipeline(config)
        params = {} if sample_weight is None else {"clf__sample_weight": np.asarray(sample_weight, dtype=float)}
        pipeline.fit(rows, labels, **params)
        self.pipeline_ = pipeline
        self.classes_ = np.asarray(pipeline.classes_, dtype=object)
        return self

    def predict_proba(self, X: Iterable[Any]) -> np.ndarray:
        """Class probabilities, columns in the order of ``classes_``."""
        check_is_fitted(self, "pipeline_")
        rows = as_target_texts(X)
        if not rows:
            return np.zeros((0, len(self.classes_)))
        return np.asarray(self.pipeline_.predict_proba(rows))

    def predict(self, X: Iterable[Any]) -> np.ndarray:
        """The most probable label per unit."""
        proba = self.predict_proba(X)
        return np.asarray(self.classes_, dtype=object)[proba.argmax(axis=1)] if len(proba) else np.asarray([], dtype=object)

    def score_units(self, X: Iterable[Any]) -> np.ndarray:
        """``P(positive) - P(negative)`` per unit, in [-1, 1]."""
        return score_from_proba(self.predict_proba(X), self.classes_)

    def explain(self, x: Any, *, top: int = 10) -> list[tuple[str, float]]:
        """The features that pushed the predicted class of one unit, with their contribution.

        Contribution = feature value x weight of the predicted class (minus the mean
        weight of the other classes), from the linear model's coefficients; only
        available for the logistic-regression and SGD estimators.
        """
        check_is_fitted(self, "pipeline_")
        clf = self.pipeline_.named_steps["clf"]
        if not hasattr(clf, "coef_"):
            raise ValueError("explain() needs a model with coef_ (estimator 'logreg' or 'sgd')")
        features = self.pipeline_.named_steps["features"]
        vector = features.transform(as_target_texts([x]))
        names = features.get_feature_names_out()
        label_index = int(self.predict_proba([x])[0].argmax())
        coef = np.asarray(clf.coef_)
        if coef.shape[0] == 1:
            weights = coef[0] if label_index == 1 else -coef[0]
        else:
            others = np.delete(coef, label_index, axis=0).mean(axis=0)
            weights = coef[label_index] - others
        row = vector.tocsr() if hasattr(vector, "tocsr") else np.asarray(vector)
        indices = row.indices if hasattr(row, "indices") else np.flatnonzero(row[0])
        values = row.data if hasattr(row, "data") else row[0][indices]
        contributions = [(str(names[i]), float(v * weights[i])) for i, v in zip(indices, values)]
        contributions.sort(key=lambda item: (-abs(item[1]), item[0]))
        return contributions[:top]

    def top_features(self, label: str, *, top: int = 20) -> list[tuple[str, float]]:
        """The features with the largest weight for ``label`` (one-vs-rest coefficients)."""
        check_is_fitted(self, "pipeline_")
        clf = self.pipeline_.named_steps["clf"]
        names = self.pipeline_.named_steps["features"].get_feature_names_out()
        coef = np.asarray(clf.coef_)
        index = list(self.classes_).index(label)
        order = np.argsort(-coef[index])[:top]
        return [(str(names[i]), float(coef[index][i])) for i in order]


class StanceModel(_LinearTextClassifier):
    """Stance toward a target: negative / neutral / positive.

    Parameters
    ----------
    config : ModelConfig, optional
        Features and estimator settings (default :class:`~stance.config.ModelConfig`).
    target_aware : bool, default True
        False gives the target-ignoring sentence-level TF-IDF baseline.

    Fitted attributes ``pipeline_`` and ``classes_`` as in the shared base class.
    """

    def _make_pipeline(self, config: ModelConfig) -> Pipeline:
        return make_stance_pipeline(config, target_aware=self.target_aware)


class SentimentModel(_LinearTextClassifier):
    """Overall sentiment of a sentence: negative / neutral / positive (target ignored).

    Fitted attributes ``pipeline_`` and ``classes_`` as in the shared base class.
    """

    def _make_pipeline(self, config: ModelConfig) -> Pipeline:
        return make_sentiment_pipeline(config)
