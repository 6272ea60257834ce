"""Stage 6, model: the stance and sentiment models as plain scikit-learn Pipelines.

``make_stance_pipeline`` builds ``TargetMasker -> FeatureUnion(feature blocks) ->
LogisticRegression``: the masker masks and tokenises each unit once and every block reads its
output. Every setting is a parameter of its step (``clf__C``,
``features__char__ngram_range``, ``features__window__window``, ...), so ``get_params``,
``set_params``, ``clone`` and ``GridSearchCV`` work; a block is switched off with
``set_params(features__char="drop")``. Probabilities are always read through ``classes_``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn.linear_model import LogisticRegression, SGDClassifier
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.preprocessing import MaxAbsScaler
from sklearn.utils.validation import check_is_fitted

from .config import ModelConfig
from .features import FrameFeatures, LexiconFeatures, NgramTfidf, TargetMasker, WindowTfidf, check_units
from .lang import DEFAULT_LANGUAGE, get_pack
from .records import LABELS

ESTIMATORS = ("logreg", "sgd")


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


def make_classifier(estimator: str = "logreg", *, C: float = 1.0, class_weight: str = "balanced", random_state: int = 42) -> Any:
    """The linear classifier: logistic regression (default) or SGD with log loss."""
    if class_weight not in ("balanced", "none"):
        raise ValueError(f"class_weight must be 'balanced' or 'none', got {class_weight!r}")
    weight = "balanced" if class_weight == "balanced" else None
    if estimator == "logreg":
        return LogisticRegression(C=C, class_weight=weight, max_iter=3000, random_state=random_state)
    if estimator == "sgd":
        return SGDClassifier(loss="log_loss", alpha=1e-4 / max(C, 1e-6), class_weight=weight, max_iter=50, tol=None,
                             random_state=random_state)
    raise ValueError(f"estimator must be one of {ESTIMATORS}, got {estimator!r}")


def _word_block(config: ModelConfig) -> NgramTfidf:
    return NgramTfidf(analyzer="word", ngram_range=(1, config.word_ngram_max), min_df=2)


def _char_block(config: ModelConfig) -> NgramTfidf:
    return NgramTfidf(analyzer="char_wb", ngram_range=(config.char_ngram_min, config.char_ngram_max), min_df=3, max_features=150_000)


def _scaled(step: Any) -> Pipeline:
    return Pipeline([("values", step), ("scale", MaxAbsScaler())])


def make_stance_pipeline(config: ModelConfig | None = None, *, target_aware: bool = True,
                         language: str = DEFAULT_LANGUAGE) -> Pipeline:
    """The stance pipeline: masked word/char TF-IDF, target window, lexicon, cue and frame features.

    With ``target_aware=False`` it is the plain sentence-level TF-IDF model (a baseline).
    ``language`` is the code of the :class:`~stance.lang.LanguagePack` whose lexicon, cues and
    frame words the lexicon and frame blocks use (``lexicon__values__language``).

    Raises
    ------
    UnknownLanguageError
        If no pack is registered for ``language``.

    Examples
    --------
    >>> pipeline = make_stance_pipeline()
    >>> pipeline.get_params()["clf__C"], pipeline.get_params()["features__char__ngram_range"]
    (1.0, (2, 5))
    """
    config = config or ModelConfig()
    language = get_pack(language).code
    if not target_aware:
        blocks: list[tuple[str, Any]] = [("word", _word_block(config))]
        masker = TargetMasker(mask_target=False, mask_others=False)
    else:
        masker = TargetMasker(mask_target=config.mask_target, mask_others=config.mask_others)
        blocks = [("word", _word_block(config))]
        if config.use_char:
            blocks.append(("char", _char_block(config)))
        if config.use_window:
            blocks.append(("window", WindowTfidf(window=config.window_tokens)))
        if config.use_lexicon:
            blocks.append(("lexicon", _scaled(LexiconFeatures(
                window=config.window_tokens, use_window=config.use_window, use_cues=config.use_cues,
                use_structure=config.use_structure, drop_neutral_words=config.lexicon_drop_neutral, language=language))))
        if config.use_frames:
            blocks.append(("frames", _scaled(FrameFeatures(drop_neutral_words=config.lexicon_drop_neutral, language=language))))
    return Pipeline([
        ("mask", masker),
        ("features", FeatureUnion(blocks)),
        ("clf", make_classifier(config.estimator, C=config.C, class_weight=config.class_weight, random_state=config.random_state)),
    ])


def make_name_blind_pipeline(config: ModelConfig | None = None) -> Pipeline:
    """Diagnostic baseline: sentence word TF-IDF with every actor reference masked by one token.

    It sees neither which actor is the target nor who the actors are; comparing it with the
    target-ignoring sentence model shows how much of that model's score comes from names.
    """
    config = config or ModelConfig()
    return Pipeline([
        ("mask", TargetMasker(mask_target=True, mask_others=True, merge_others=True)),
        ("features", FeatureUnion([("word", _word_block(config))])),
        ("clf", make_classifier(config.estimator, C=config.C, class_weight=config.class_weight, random_state=config.random_state)),
    ])


def make_sentiment_pipeline(config: ModelConfig | None = None, *, language: str = DEFAULT_LANGUAGE) -> Pipeline:
    """The sentence sentiment pipeline: word/char TF-IDF and sentence lexicon counts (the target is ignored),
    with the lexicon of the language pack ``language``."""
    config = config or ModelConfig()
    language = get_pack(language).code
    blocks: list[tuple[str, Any]] = [("word", _word_block(config))]
    if config.use_char:
        blocks.append(("char", _char_block(config)))
    if config.use_lexicon:
        blocks.append(("lexicon", _scaled(LexiconFeatures(use_window=False, use_cues=False, target_aware=False,
                                                          drop_neutral_words=config.lexicon_drop_neutral,
                                                          language=language))))
    return Pipeline([
        ("mask", TargetMasker(mask_target=False, mask_others=False)),
        ("features", FeatureUnion(blocks)),
        ("clf", make_classifier(config.estimator, C=config.sentiment_C, class_weight=config.class_weight,
                                random_state=config.random_state)),
    ])


def model_language(pipeline: Any) -> str | None:
    """The language code of a pipeline: its steps' ``language`` parameter (``None``: no step has one).

    Examples
    --------
    >>> model_language(make_stance_pipeline()), model_language(make_sentiment_pipeline())
    ('de', 'de')

    Raises
    ------
    ValueError
        If the steps name different languages.
    """
    params = pipeline.get_params(deep=True) if hasattr(pipeline, "get_params") else {}
    found = {str(value) for key, value in params.items() if key.endswith("__language") or key == "language"}
    if len(found) > 1:
        raise ValueError(f"the pipeline's steps are of different languages: {', '.join(sorted(found))}")
    return found.pop() if found else None


def set_language(pipeline: Pipeline, language: str) -> Pipeline:
    """Set the ``language`` of every step of ``pipeline`` that has one (in place); returns it.

    Examples
    --------
    >>> model_language(set_language(make_stance_pipeline(), "de"))
    'de'
    """
    code = get_pack(language).code
    keys = [key for key in pipeline.get_params(deep=True) if key.endswith("__language")]
    return pipeline.set_params(**{key: code for key in keys}) if keys else pipeline


def _linear_parts(pipeline: Pipeline) -> tuple[Any, Any, np.ndarray]:
    check_is_fitted(pipeline)
    clf = pipeline[-1]
    if not hasattr(clf, "coef_"):
        raise ValueError("needs a fitted pipeline whose last step is a linear classifier (coef_)")
    features = pipeline[:-1]
    return clf, features, np.asarray(features.get_feature_names_out(), dtype=object)


def explain(pipeline: Pipeline, unit: Any, *, top: int = 10) -> list[tuple[str, float]]:
    """The features that pushed the predicted class of one unit, with their contribution.

    Contribution = feature value x weight of the predicted class (minus the mean weight of
    the other classes), from the linear model's coefficients. Works on any fitted pipeline of
    this module's shape (features then a linear classifier).
    """
    clf, features, names = _linear_parts(pipeline)
    units = check_units([unit])
    vector = features.transform(units)
    label_index = int(pipeline.predict_proba(units)[0].argmax())
    coef = np.asarray(clf.coef_)
    if coef.shape[0] == 1:
        weights = coef[0] if label_index == 1 else -coef[0]
    else:
        weights = coef[label_index] - np.delete(coef, label_index, axis=0).mean(axis=0)
    row = vector.tocsr() if hasattr(vector, "tocsr") else np.asarray(vector)
    indices = row.indices if hasattr(row, "indices") else np.flatnonzero(row[0])
    values = row.data if hasattr(row, "data") else row[0][indices]
    contributions = [(str(names[i]), float(v * weights[i])) for i, v in zip(indices, values)]
    contributions.sort(key=lambda item: (-abs(item[1]), item[0]))
    return contributions[:top]


def top_features(pipeline: Pipeline, label: str, *, top: int = 20) -> list[tuple[str, float]]:
    """The features with the largest weight for ``label`` (one-vs-rest coefficients) of a fitted pipeline."""
    clf, _, names = _linear_parts(pipeline)
    coef = np.asarray(clf.coef_)
    index = list(clf.classes_).index(label)
    order = np.argsort(-coef[index], kind="stable")[:top]
    return [(str(names[i]), float(coef[index][i])) for i in order]


def check_labels(labels: Sequence[Any]) -> np.ndarray:
    """Labels as an array, all from :data:`LABELS` and at least two classes.

    Raises
    ------
    ValueError
        On an unknown label or a single class.
    """
    values = np.asarray(list(labels), dtype=object)
    unknown = sorted(set(values) - set(LABELS))
    if unknown:
        raise ValueError(f"unknown labels {unknown}; expected {LABELS}")
    if len(set(values)) < 2:
        raise ValueError(f"need at least two classes to fit, got only {sorted(set(values))}")
    return values
