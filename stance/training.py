"""Fit, cross-validate and evaluate the stance and sentiment models.

Evaluation never leaks. The primary figure is the **news development split**: real German
news units whose outlets never occur on the training side (the split is fixed in
``training/data/news.jsonl``, grouped by outlet). Secondary figures: the sample-corpus gold
under cross-validation grouped by article (``StratifiedGroupKFold``, other sources only ever
on the training side) and the GerNTSA development split (grouped by sentence). Every figure
comes from models fitted without the units it is measured on; with ``refit_with_dev`` (the
default) the shipped model is then fitted once more on every labelled unit, development
splits included, and its metadata says so.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.metrics import accuracy_score, confusion_matrix, f1_score, precision_recall_fscore_support
from sklearn.model_selection import StratifiedGroupKFold

from .actors import ActorRegistry, load_actors
from .config import DataPolicy, ModelConfig, NlpConfig
from .dataset import LabelledUnit, data_fingerprint, load_units
from .errors import DataValidationError
from .features import TargetText
from .mentions import actor_matcher, undated_refs, unit_spans
from .model import check_labels, make_sentiment_pipeline, make_stance_pipeline, score_from_proba
from .nlp import load_nlp
from .persistence import save_model
from .records import LABELS

logger = logging.getLogger(__name__)
N_JOBS = 2  # worker processes for cross-validation folds
DEV_SOURCES: tuple[str, ...] = ("news", "gerntsa")


@dataclass(frozen=True, slots=True)
class TrainingSet:
    """Validated units with their model inputs."""

    units: tuple[LabelledUnit, ...]
    inputs: tuple[TargetText, ...]

    def select(self, keep: Callable[[LabelledUnit], bool]) -> TrainingSet:
        """The subset of units for which ``keep`` is true."""
        pairs = [(u, x) for u, x in zip(self.units, self.inputs) if keep(u)]
        return TrainingSet(tuple(u for u, _ in pairs), tuple(x for _, x in pairs))


def prepare(units: Sequence[LabelledUnit], registry: ActorRegistry | None = None) -> TrainingSet:
    """Attach target and other-actor spans to usable units (detection by the registry).

    The labelled span is always a target span; further references to the same actor and
    references to other actors are found with the same matcher that runs at analysis time,
    and turned into spans by the same :func:`~stance.mentions.unit_spans`. Training units have
    no date, so roles are never resolved: a role the unit's actor can hold counts as the target.
    """
    usable = [u for u in units if u.usable]
    nlp = load_nlp(NlpConfig(), registry or load_actors())
    matcher = actor_matcher(nlp)
    sentences = sorted({u.sentence for u in usable})
    refs = {sentence: undated_refs(doc, matcher) for sentence, doc in zip(sentences, nlp.pipe(sentences, batch_size=256))}
    inputs = []
    for unit in usable:
        found_names, found_roles = refs[unit.sentence]
        target, others = unit_spans(unit.actor, found_names, found_roles,
                                    extra_target=_labelled_span(unit, found_names, found_roles))
        inputs.append(TargetText(unit.sentence, target, others))
    return TrainingSet(tuple(usable), tuple(inputs))


def _labelled_span(unit: LabelledUnit, names: Sequence[tuple[str, int, int]],
                   roles: Sequence[tuple[frozenset[str], int, int]]) -> list[tuple[int, int]]:
    """The labelled span as an extra target span, unless the matcher found the actor inside it.

    A labelled "Außenminister Sybiha" then masks like analysis does ("Außenminister zzziel").
    """
    start, end = unit.start, unit.end
    own = [(s, e) for a, s, e in names if a == unit.actor] + [(s, e) for h, s, e in roles if unit.actor in h]
    return [] if unit.actor is not None and any(start <= s and e <= end for s, e in own) else [(start, end)]


def check_trainable(data: TrainingSet, policy: DataPolicy, task: str) -> None:
    """Fail before fitting on too few rows or a single class."""
    labels: list[str] = [label for label in (unit_label(u, task) for u in data.units) if label is not None]
    problems = []
    if len(labels) < policy.min_rows:
        problems.append(f"{task}: only {len(labels)} labelled rows, at least {policy.min_rows} are needed")
    if len(set(labels)) < 2:
        problems.append(f"{task}: all rows have the label {sorted(set(labels))}; at least two classes are needed")
    if problems:
        raise DataValidationError(problems)


def metrics(y_true: Sequence[Any], y_pred: Sequence[Any]) -> dict[str, Any]:
    """Macro-F1, accuracy, per-class precision/recall/F1/support and the confusion matrix."""
    labels = list(LABELS)
    p, r, f, s = precision_recall_fscore_support(y_true, y_pred, labels=labels, zero_division=0)
    return {
        "n": len(y_true),
        "macro_f1": float(f1_score(y_true, y_pred, labels=labels, average="macro", zero_division=0)),
        "accuracy": float(accuracy_score(y_true, y_pred)) if len(y_true) else 0.0,
        "per_class": {lab: {"precision": float(p[i]), "recall": float(r[i]), "f1": float(f[i]), "support": int(s[i])} for i, lab in enumerate(labels)},
        "confusion": {"labels": labels, "matrix": confusion_matrix(y_true, y_pred, labels=labels).tolist()},
    }


def sample_weights(units: Sequence[LabelledUnit], policy: DataPolicy) -> np.ndarray:
    """One sample weight per unit, by its source (:meth:`DataPolicy.weight`)."""
    return np.asarray([policy.weight(u.source) for u in units], dtype=float)


def unit_label(unit: LabelledUnit, task: str) -> str | None:
    """The unit's label for ``task`` ("stance" or "sentiment"), None if it has none."""
    return unit.stance if task == "stance" else unit.sentiment


def training_side(data: TrainingSet, task: str, policy: DataPolicy, *, with_dev: bool = False) -> TrainingSet:
    """Units a model of ``task`` learns from (sources from the config; development splits
    only with ``with_dev``, for the shipped model once every figure is measured).

    Without ``with_dev``, a unit whose sentence also occurs in a development split (agency copy
    printed by several outlets) stays out too, so no development sentence is seen in training.
    """
    sources = policy.sources_stance if task == "stance" else policy.sources_sentiment
    held_out = set() if with_dev else {u.sentence for u in data.units if u.split == "dev"}
    return data.select(lambda u: u.source in sources and (with_dev or u.split != "dev") and u.sentence not in held_out
                       and unit_label(u, task) is not None)


def make_pipeline(task: str, config: ModelConfig) -> Any:
    """The unfitted pipeline of ``task`` ("stance" or "sentiment")."""
    return make_stance_pipeline(config) if task == "stance" else make_sentiment_pipeline(config)


def fit_model(data: TrainingSet, task: str, config: ModelConfig, policy: DataPolicy, *, pipeline: Any = None) -> Any:
    """Fit ``pipeline`` (default: the ``task`` pipeline of ``config``) on ``data`` (already the
    training side), weighting each unit by its source; returns the fitted pipeline.

    Native thread pools (BLAS) are held to one thread, as in worker processes, so a model comes
    out the same whether it is fitted here or in a worker (threaded sums differ in the last bits,
    and the solver's path follows them).
    """
    from threadpoolctl import threadpool_limits

    model = pipeline if pipeline is not None else make_pipeline(task, config)
    labels = check_labels([unit_label(u, task) for u in data.units])
    with threadpool_limits(limits=1):
        return model.fit(list(data.inputs), labels, clf__sample_weight=sample_weights(data.units, policy))


def predict(model: Any, inputs: Sequence[Any]) -> np.ndarray:
    """Predicted labels of a fitted model (none for no input)."""
    return np.asarray(model.predict(list(inputs)), dtype=object) if len(inputs) else np.asarray([], dtype=object)


def cross_validate(data: TrainingSet, task: str, config: ModelConfig, policy: DataPolicy, *,
                   factory: Callable[[TrainingSet], Any] | None = None) -> dict[str, Any]:
    """Out-of-fold predictions on the sample gold, folds grouped by article.

    ``factory(train_side) -> fitted model`` defaults to :func:`fit_model`; extra training
    sources (constructed, news and GerNTSA train) are added to every fold's training side.
    """
    gold = data.select(lambda u: u.source == "sample" and unit_label(u, task) is not None)
    extra = training_side(data, task, policy).select(lambda u: u.source != "sample")
    y = np.asarray([unit_label(u, task) for u in gold.units], dtype=object)
    groups = [u.doc_id for u in gold.units]
    n_folds = min(policy.cv_folds, len(set(groups)))
    if n_folds < 2:
        raise DataValidationError([f"{task}: grouped cross-validation needs sample-corpus gold from at least 2 articles, got {len(set(groups))}"])
    folds = StratifiedGroupKFold(n_splits=n_folds, shuffle=True, random_state=config.random_state)
    splits = list(folds.split(np.zeros(len(y)), y, groups))
    fit = factory or (lambda side: fit_model(side, task, config, policy))
    outputs = _run_folds(gold, extra, splits, fit)
    predicted = np.empty(len(y), dtype=object)
    for (_, test_idx), fold_pred in zip(splits, outputs):
        predicted[test_idx] = fold_pred
    return {"y_true": y.tolist(), "y_pred": predicted.tolist(), "units": gold.units, "inputs": gold.inputs}


def _fold(gold: TrainingSet, extra: TrainingSet, train_idx: Sequence[int], test_idx: Sequence[int],
          fit: Callable[[TrainingSet], Any]) -> np.ndarray:
    side = TrainingSet(tuple(gold.units[i] for i in train_idx) + extra.units, tuple(gold.inputs[i] for i in train_idx) + extra.inputs)
    return predict(fit(side), [gold.inputs[i] for i in test_idx])


def _run_folds(gold: TrainingSet, extra: TrainingSet, splits: list[tuple[np.ndarray, np.ndarray]],
               fit: Callable[[TrainingSet], Any], n_jobs: int = N_JOBS) -> list[np.ndarray]:
    """Fit and predict every fold, in worker processes (order of results is kept)."""
    from joblib import Parallel, delayed

    return list(Parallel(n_jobs=n_jobs)(delayed(_fold)(gold, extra, tr, te, fit) for tr, te in splits))


def dev_split(data: TrainingSet, source: str = "news", task: str = "stance") -> TrainingSet:
    """The development units of ``source`` (``news``: grouped by outlet; ``gerntsa``: by sentence)
    that carry a ``task`` label; for ``sentiment`` one unit per sentence (the label is the sentence's)."""
    dev = data.select(lambda u: u.source == source and u.split == "dev" and unit_label(u, task) is not None)
    return one_per_sentence(dev) if task == "sentiment" else dev


def one_per_sentence(data: TrainingSet) -> TrainingSet:
    """The first unit of every (document, sentence): sentence-level labels counted once."""
    seen: set[tuple[str, str]] = set()

    def first(unit: LabelledUnit) -> bool:
        key = (unit.doc_id, unit.sentence)
        if key in seen:
            return False
        seen.add(key)
        return True

    return data.select(first)


def train(data_paths: str | Path | Sequence[str | Path], out_dir: str | Path, *, config: ModelConfig | None = None,
          policy: DataPolicy | None = None, registry: ActorRegistry | None = None, evaluate: bool = True, cv: bool = False,
          corpora: Mapping[str, str | Path | None] | None = None) -> dict[str, Any]:
    """Validate the data, report development metrics (and with ``cv`` the sample-gold CV),
    fit both models and save them.

    ``config`` holds the hyperparameters, ``policy`` the sources, weights and folds;
    ``corpora`` gives the paths of the external corpora that reference records point into
    (``news_pool``, ``gerntsa``). Returns the metadata written to ``model.json``.
    """
    config, policy = config or ModelConfig(), policy or DataPolicy()
    started = time.perf_counter()
    units = load_units(data_paths, actors=registry, corpora=corpora)
    data = prepare(units, registry)
    sides = {task: training_side(data, task, policy) for task in ("stance", "sentiment")}
    for task, side in sides.items():
        check_trainable(side, policy, task)
    side_models = fit_both(sides, config, policy) if evaluate or not policy.refit_with_dev else None
    results = evaluate_models(data, config, policy, models=side_models, cv=cv) if evaluate else {}
    final = {task: training_side(data, task, policy, with_dev=policy.refit_with_dev) for task in sides}
    stance_model, sentiment_model = fit_both(final, config, policy) if policy.refit_with_dev or side_models is None else side_models
    counts = Counter((u.source, u.stance) for u in final["stance"].units)
    metadata = {
        "trained_on": {
            "files": [str(p) for p in ([data_paths] if isinstance(data_paths, (str, Path)) else data_paths)],
            "data_sha256": data_fingerprint(data_paths),
            "stance_rows": len(final["stance"].units), "sentiment_rows": len(final["sentiment"].units),
            "stance_counts": {f"{s}/{lab}": n for (s, lab), n in sorted(counts.items())},
            "development_splits_included": policy.refit_with_dev,
        },
        "config": asdict(config),
        "data_policy": asdict(policy),
        "metrics": results,
        "train_seconds": round(time.perf_counter() - started, 1),
    }
    save_model(out_dir, stance=stance_model, sentiment=sentiment_model, metadata=metadata)
    return metadata


def fit_both(sides: Mapping[str, TrainingSet], config: ModelConfig, policy: DataPolicy, *, n_jobs: int = 2) -> tuple[Any, Any]:
    """The stance and sentiment models, fitted side by side in ``n_jobs`` worker processes."""
    from joblib import Parallel, delayed

    jobs = [delayed(fit_model)(sides[task], task, config, policy) for task in ("stance", "sentiment")]
    stance_model, sentiment_model = Parallel(n_jobs=n_jobs)(jobs)
    return stance_model, sentiment_model


def evaluate_models(data: TrainingSet, config: ModelConfig, policy: DataPolicy, *, models: tuple[Any, Any] | None = None,
                    cv: bool = True) -> dict[str, Any]:
    """Development-split metrics (news: primary; GerNTSA) and, with ``cv``, sample-gold CV metrics
    of both models.

    Every figure comes from models fitted on the training side only (no development unit);
    ``models``: the (stance, sentiment) models already fitted on it, if there are any.
    """
    results: dict[str, Any] = {}
    models = models or fit_both({task: training_side(data, task, policy) for task in ("stance", "sentiment")}, config, policy)
    for task, model in zip(("stance", "sentiment"), models):
        for source in DEV_SOURCES:
            dev = dev_split(data, source, task)
            if not dev.units:
                continue
            key = f"{task}_{source}_dev" if source == "news" else f"{task}_gerntsa_dev"
            proba = model.predict_proba(list(dev.inputs))
            predicted = list(np.asarray(model.classes_, dtype=object)[proba.argmax(axis=1)])
            results[key] = metrics([unit_label(u, task) for u in dev.units], predicted)
            if task == "stance" and source == "news":
                results["stance_news_dev_actor_means"] = actor_mean_agreement(dev.units, score_from_proba(proba, model.classes_))
    for task in ("stance", "sentiment") if cv else ():
        gold_articles = {u.doc_id for u in data.units if u.source == "sample" and unit_label(u, task) is not None}
        if len(gold_articles) < 2:
            logger.warning("no in-domain cross-validation for %s: sample-corpus gold from fewer than 2 articles", task)
            continue
        folds = cross_validate(data, task, config, policy)
        results[f"{task}_cv"] = metrics(folds["y_true"], folds["y_pred"])
    return results


def actor_mean_agreement(units: Sequence[LabelledUnit], scores: Sequence[float] | np.ndarray, *, min_units: int = 10) -> dict[str, Any]:
    """Per-actor mean stance: labelled (-1/0/+1) against predicted (the stance score), for actors
    with at least ``min_units`` units; with the mean absolute error and Pearson's r over them.

    Examples
    --------
    >>> u = [LabelledUnit("i", "d", "news", "s", a, "m", 0, 1, lab, None) for a, lab in
    ...      [("x", "negative"), ("x", "neutral"), ("y", "positive"), ("y", "positive")]]
    >>> r = actor_mean_agreement(u, [-0.5, 0.0, 0.5, 0.7], min_units=2)
    >>> r["actors"], round(r["mean_abs_error"], 3)
    (2, 0.325)
    """
    from .records import LABEL_SCORES

    by_actor: dict[str, list[tuple[float, float]]] = {}
    for unit, score in zip(units, scores):
        if unit.actor is not None and unit.stance is not None:
            by_actor.setdefault(unit.actor, []).append((LABEL_SCORES[unit.stance], float(score)))
    rows = []
    for actor, pairs in sorted(by_actor.items()):
        if len(pairs) >= min_units:
            gold, pred = np.mean([g for g, _ in pairs]), np.mean([p for _, p in pairs])
            rows.append({"actor": actor, "units": len(pairs), "gold_mean": float(gold), "predicted_mean": float(pred),
                         "error": float(pred - gold)})
    gold_means = np.asarray([r["gold_mean"] for r in rows])
    pred_means = np.asarray([r["predicted_mean"] for r in rows])
    pearson = float(np.corrcoef(gold_means, pred_means)[0, 1]) if len(rows) >= 3 and gold_means.std() and pred_means.std() else None
    return {"min_units": min_units, "actors": len(rows),
            "mean_abs_error": float(np.mean(np.abs(pred_means - gold_means))) if rows else None,
            "pearson_r": pearson, "per_actor": rows}
