"""Fit, cross-validate and evaluate the stance and sentiment models.

Evaluation never leaks: the in-domain figure is the sample-corpus gold under
cross-validation grouped by article (``StratifiedGroupKFold``), with constructed units
and GerNTSA only ever on the training side; GerNTSA has its own fixed development split
(grouped by sentence). The shipped model is fitted on everything except GerNTSA dev.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.metrics import accuracy_score, confusion_matrix, f1_score, precision_recall_fscore_support
from sklearn.model_selection import StratifiedGroupKFold

from .actors import ActorRegistry, load_actors
from .config import ModelConfig, NlpConfig
from .dataset import LabelledUnit, data_fingerprint, load_units
from .errors import DataValidationError
from .features import TargetText
from .model import SentimentModel, StanceModel
from .mentions import actor_matcher, undated_refs, unit_spans
from .nlp import load_nlp
from .persistence import save_model
from .records import LABELS

logger = logging.getLogger(__name__)
N_JOBS = -1


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
    nlp = load_nlp(NlpConfig(lemmatizer=False), registry or load_actors())
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


def check_trainable(data: TrainingSet, config: ModelConfig, task: str) -> None:
    """Fail before fitting on too few rows or a single class."""
    labels: list[str] = [label for label in (unit_label(u, task) for u in data.units) if label is not None]
    problems = []
    if len(labels) < config.min_rows:
        problems.append(f"{task}: only {len(labels)} labelled rows, at least {config.min_rows} are needed")
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


def _weights(units: Sequence[LabelledUnit], config: ModelConfig) -> np.ndarray:
    table = {"sample": config.weight_gold, "constructed": config.weight_constructed, "gerntsa": config.weight_gerntsa}
    return np.asarray([table[u.source] for u in units], dtype=float)


def unit_label(unit: LabelledUnit, task: str) -> str | None:
    """The unit's label for ``task`` ("stance" or "sentiment"), None if it has none."""
    return unit.stance if task == "stance" else unit.sentiment


def training_side(data: TrainingSet, task: str, config: ModelConfig) -> TrainingSet:
    """Units a model of ``task`` learns from (sources from the config; never GerNTSA dev)."""
    sources = config.sources_stance if task == "stance" else config.sources_sentiment
    return data.select(lambda u: u.source in sources and u.split != "dev" and unit_label(u, task) is not None)


def fit_model(data: TrainingSet, task: str, config: ModelConfig, *, target_aware: bool = True) -> StanceModel | SentimentModel:
    """Fit one model on ``data`` (already the training side)."""
    model: StanceModel | SentimentModel
    model = StanceModel(config=config, target_aware=target_aware) if task == "stance" else SentimentModel(config=config)
    labels = [unit_label(u, task) for u in data.units]
    return model.fit(data.inputs, labels, sample_weight=_weights(data.units, config))


def cross_validate(data: TrainingSet, task: str, config: ModelConfig, *,
                   factory: Callable[[TrainingSet], Any] | None = None) -> dict[str, Any]:
    """Out-of-fold predictions on the sample gold, folds grouped by article.

    ``factory(train_side) -> fitted model`` defaults to :func:`fit_model`; extra training
    sources (constructed, GerNTSA train) are added to every fold's training side.
    """
    gold = data.select(lambda u: u.source == "sample" and unit_label(u, task) is not None)
    extra = training_side(data, task, config).select(lambda u: u.source != "sample")
    y = np.asarray([unit_label(u, task) for u in gold.units], dtype=object)
    groups = [u.doc_id for u in gold.units]
    n_folds = min(config.cv_folds, len(set(groups)))
    if n_folds < 2:
        raise DataValidationError([f"{task}: grouped cross-validation needs sample-corpus gold from at least 2 articles, got {len(set(groups))}"])
    folds = StratifiedGroupKFold(n_splits=n_folds, shuffle=True, random_state=config.random_state)
    splits = list(folds.split(np.zeros(len(y)), y, groups))
    fit = factory or (lambda side: fit_model(side, task, config))
    outputs = _run_folds(gold, extra, splits, fit)
    predicted = np.empty(len(y), dtype=object)
    for (_, test_idx), fold_pred in zip(splits, outputs):
        predicted[test_idx] = fold_pred
    return {"y_true": y.tolist(), "y_pred": predicted.tolist(), "units": gold.units, "inputs": gold.inputs}


def _fold(gold: TrainingSet, extra: TrainingSet, train_idx: Sequence[int], test_idx: Sequence[int],
          fit: Callable[[TrainingSet], Any]) -> np.ndarray:
    side = TrainingSet(tuple(gold.units[i] for i in train_idx) + extra.units, tuple(gold.inputs[i] for i in train_idx) + extra.inputs)
    return np.asarray(fit(side).predict([gold.inputs[i] for i in test_idx]), dtype=object)


def _run_folds(gold: TrainingSet, extra: TrainingSet, splits: list[tuple[np.ndarray, np.ndarray]],
               fit: Callable[[TrainingSet], Any]) -> list[np.ndarray]:
    """Fit and predict every fold, in worker processes on all cores (order of results is kept)."""
    from joblib import Parallel, delayed

    return list(Parallel(n_jobs=N_JOBS, backend="loky")(delayed(_fold)(gold, extra, tr, te, fit) for tr, te in splits))


def dev_split(data: TrainingSet) -> TrainingSet:
    """The GerNTSA development records."""
    return data.select(lambda u: u.source == "gerntsa" and u.split == "dev")


def train(data_paths: str | Path | Sequence[str | Path], out_dir: str | Path, *, config: ModelConfig | None = None,
          registry: ActorRegistry | None = None, evaluate: bool = True) -> dict[str, Any]:
    """Validate the data, report CV and development metrics, fit both models and save them.

    Returns the metadata written to ``model.json`` (metrics included).
    """
    config = config or ModelConfig()
    started = time.perf_counter()
    units = load_units(data_paths, actors=registry)
    data = prepare(units, registry)
    stance_side, sentiment_side = training_side(data, "stance", config), training_side(data, "sentiment", config)
    check_trainable(stance_side, config, "stance")
    check_trainable(sentiment_side, config, "sentiment")
    stance_model = fit_model(stance_side, "stance", config)
    sentiment_model = fit_model(sentiment_side, "sentiment", config)
    results = evaluate_models(data, config, stance_model=stance_model) if evaluate else {}
    counts = Counter((u.source, u.stance) for u in stance_side.units)
    metadata = {
        "trained_on": {
            "files": [str(p) for p in ([data_paths] if isinstance(data_paths, (str, Path)) else data_paths)],
            "data_sha256": data_fingerprint(data_paths),
            "stance_rows": len(stance_side.units), "sentiment_rows": len(sentiment_side.units),
            "stance_counts": {f"{s}/{lab}": n for (s, lab), n in sorted(counts.items())},
        },
        "config": asdict(config),
        "metrics": results,
        "train_seconds": round(time.perf_counter() - started, 1),
    }
    save_model(out_dir, stance=stance_model, sentiment=sentiment_model, metadata=metadata)
    return metadata


def evaluate_models(data: TrainingSet, config: ModelConfig, *, stance_model: StanceModel | SentimentModel | None = None) -> dict[str, Any]:
    """Cross-validated (sample gold) and development-split (GerNTSA) metrics of both models.

    ``stance_model``: the stance model already fitted on the training side, if there is one.
    """
    results: dict[str, Any] = {}
    for task in ("stance", "sentiment"):
        gold_articles = {u.doc_id for u in data.units if u.source == "sample" and unit_label(u, task) is not None}
        if len(gold_articles) < 2:
            logger.warning("no in-domain cross-validation for %s: sample-corpus gold from fewer than 2 articles", task)
            continue
        cv = cross_validate(data, task, config)
        results[f"{task}_cv"] = metrics(cv["y_true"], cv["y_pred"])
    dev = dev_split(data)
    if dev.units:
        model = stance_model or fit_model(training_side(data, "stance", config), "stance", config)
        results["stance_gerntsa_dev"] = metrics([u.stance for u in dev.units], list(model.predict(dev.inputs)))
    return results

