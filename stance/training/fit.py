"""Fit, cross-validate and evaluate the stance and sentiment models (``stance train``).

Evaluation never leaks. The primary figure is the **news development split**: real German
news units whose outlets never occur on the training side (the split is fixed in
``training/data/news.jsonl``, grouped by outlet). Secondary figures: the sample-corpus gold
under cross-validation grouped by article (``StratifiedGroupKFold``, other sources only ever
on the training side) and the GerNTSA development split (grouped by sentence). Every figure
comes from models fitted without the units it is measured on; with ``refit_with_dev`` (the
default) the shipped model is then fitted once more on every labelled unit, development
splits included, and its metadata says so.

Every function that builds spans or pipelines takes the ``language`` of the
:class:`~stance.lang.LanguagePack` (default German): the spaCy pipeline and actor registry
that find the spans, the lexicon, cue and frame words of the features; ``model.json`` records
it. Functions that fit several models take ``n_jobs``, the number of worker processes.
"""

from __future__ import annotations

import logging
import time
import unicodedata
import warnings
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.metrics import accuracy_score, confusion_matrix, f1_score, precision_recall_fscore_support
from sklearn.model_selection import StratifiedGroupKFold

from ..actors import ActorRegistry, load_actors
from ..config import DataPolicy, ModelConfig, NlpConfig
from ..dataset import SOURCES, USER_SOURCE, CodedUnits, LabelledUnit, data_fingerprint, load_units, read_coded_units
from ..errors import DataValidationError
from ..features import TargetText
from ..lang import DEFAULT_LANGUAGE, LanguagePack, available_languages, get_pack, register_pack
from ..mentions import actor_matcher, undated_refs, unit_spans
from ..model import check_labels, make_sentiment_pipeline, make_stance_pipeline, score_from_proba
from ..nlp import load_nlp
from ..persistence import save_model
from ..records import LABELS

logger = logging.getLogger(__name__)
DEV_SOURCES: tuple[str, ...] = ("news", "gerntsa")
TASKS: tuple[str, ...] = ("stance", "sentiment")


@dataclass(frozen=True, slots=True)
class TrainingSet:
    """Validated units with their model inputs."""

    units: tuple[LabelledUnit, ...]
    inputs: tuple[TargetText, ...]

    def select(self, keep: Callable[[LabelledUnit], bool]) -> TrainingSet:
        """The subset of units for which ``keep`` is true."""
        pairs = [(u, x) for u, x in zip(self.units, self.inputs) if keep(u)]
        return TrainingSet(tuple(u for u, _ in pairs), tuple(x for _, x in pairs))


def prepare(units: Sequence[LabelledUnit], registry: ActorRegistry | None = None, *,
            language: str = DEFAULT_LANGUAGE) -> TrainingSet:
    """Attach target and other-actor spans to usable units (detection by the registry, default
    the registry of the language pack ``language``, with that pack's spaCy pipeline).

    The labelled span is always a target span; further references to the same actor and
    references to other actors are found with the same matcher that runs at analysis time,
    and turned into spans by the same :func:`~stance.mentions.unit_spans`. Training units have
    no date, so roles are never resolved: a role the unit's actor can hold counts as the target.
    """
    usable = [u for u in units if u.usable]
    nlp = load_nlp(NlpConfig(lang=language), registry or load_actors(language=language))
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


def sentence_key(sentence: str) -> str:
    """A sentence's text for finding copies of it (agency copies, a corpus in the training data):
    Unicode NFC, runs of whitespace as one space, no leading or trailing space.

    >>> sentence_key(" Putin  lügt. ") == sentence_key("Putin lügt.")
    True
    """
    return " ".join(unicodedata.normalize("NFC", sentence).split())


def training_side(data: TrainingSet, task: str, policy: DataPolicy, *, with_dev: bool = False) -> TrainingSet:
    """Units a model of ``task`` learns from (sources from the config; development splits
    only with ``with_dev``, for the shipped model once every figure is measured).

    Without ``with_dev``, a unit whose sentence also occurs in a development split (agency copy
    printed by several outlets) stays out too, so no development sentence is seen in training.
    """
    sources = policy.sources_stance if task == "stance" else policy.sources_sentiment
    held_out = set() if with_dev else {sentence_key(u.sentence) for u in data.units if u.split == "dev"}
    return data.select(lambda u: u.source in sources and (with_dev or u.split != "dev") and unit_label(u, task) is not None
                       and (with_dev or sentence_key(u.sentence) not in held_out))


def make_pipeline(task: str, config: ModelConfig, language: str = DEFAULT_LANGUAGE) -> Any:
    """The unfitted pipeline of ``task`` ("stance" or "sentiment") in the language pack ``language``."""
    if task == "stance":
        return make_stance_pipeline(config, language=language)
    return make_sentiment_pipeline(config, language=language)


def fit_model(data: TrainingSet, task: str, config: ModelConfig, policy: DataPolicy, *, pipeline: Any = None,
              language: str = DEFAULT_LANGUAGE) -> Any:
    """Fit ``pipeline`` (default: the ``task`` pipeline of ``config`` in ``language``) on ``data``
    (already the training side), weighting each unit by its source; returns the fitted pipeline.

    Native thread pools (BLAS) are held to one thread, as in worker processes, so a model comes
    out the same whether it is fitted here or in a worker (threaded sums differ in the last bits,
    and the solver's path follows them).
    """
    from threadpoolctl import threadpool_limits

    model = pipeline if pipeline is not None else make_pipeline(task, config, language)
    labels = check_labels([unit_label(u, task) for u in data.units])
    with threadpool_limits(limits=1):
        return model.fit(list(data.inputs), labels, clf__sample_weight=sample_weights(data.units, policy))


def predict(model: Any, inputs: Sequence[Any]) -> np.ndarray:
    """Predicted labels of a fitted model (none for no input)."""
    return np.asarray(model.predict(list(inputs)), dtype=object) if len(inputs) else np.asarray([], dtype=object)


def cross_validate(data: TrainingSet, task: str, config: ModelConfig, policy: DataPolicy, *,
                   factory: Callable[[TrainingSet], Any] | None = None, n_jobs: int = 2,
                   language: str = DEFAULT_LANGUAGE) -> dict[str, Any]:
    """Out-of-fold predictions on the sample gold, folds grouped by article, in ``n_jobs`` worker processes.

    ``factory(train_side) -> fitted model`` defaults to :func:`fit_model` (in ``language``); extra
    training sources (constructed, news and GerNTSA train) are added to every fold's training side.
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
    fit = factory or (lambda side: fit_model(side, task, config, policy, language=language))
    outputs = _run_folds(gold, extra, splits, fit, n_jobs=n_jobs, language=language)
    predicted = np.empty(len(y), dtype=object)
    for (_, test_idx), fold_pred in zip(splits, outputs):
        predicted[test_idx] = fold_pred
    return {"y_true": y.tolist(), "y_pred": predicted.tolist(), "units": gold.units, "inputs": gold.inputs}


def _fold(gold: TrainingSet, extra: TrainingSet, train_idx: Sequence[int], test_idx: Sequence[int],
          fit: Callable[[TrainingSet], Any]) -> np.ndarray:
    """One fold: gold of the other folds plus the extra sources, minus any extra unit whose
    sentence is a test sentence of this fold (a copy, e.g. units added with ``--add`` from the sample corpus)."""
    tested = {sentence_key(gold.units[i].sentence) for i in test_idx}
    kept = [i for i, u in enumerate(extra.units) if sentence_key(u.sentence) not in tested]
    side = TrainingSet(tuple(gold.units[i] for i in train_idx) + tuple(extra.units[i] for i in kept),
                       tuple(gold.inputs[i] for i in train_idx) + tuple(extra.inputs[i] for i in kept))
    return predict(fit(side), [gold.inputs[i] for i in test_idx])


def _run_folds(gold: TrainingSet, extra: TrainingSet, splits: list[tuple[np.ndarray, np.ndarray]],
               fit: Callable[[TrainingSet], Any], *, n_jobs: int = 2, language: str = DEFAULT_LANGUAGE) -> list[np.ndarray]:
    """Fit and predict every fold, in worker processes (order of results is kept)."""
    from joblib import Parallel, delayed

    pack = get_pack(language)
    return list(Parallel(n_jobs=n_jobs)(delayed(_with_pack)(pack, _fold, gold, extra, tr, te, fit) for tr, te in splits))


def _with_pack(pack: LanguagePack, function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """``function(*args, **kwargs)`` in a worker process that knows ``pack`` (a pack registered
    at run time in the parent process is registered in the worker too)."""
    if pack.code not in available_languages():
        register_pack(pack)
    return function(*args, **kwargs)


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
          corpora: Mapping[str, str | Path | None] | None = None, add: str | Path | None = None,
          add_source: str = USER_SOURCE, add_weight: float | None = None, add_cv_folds: int | None = None,
          language: str = DEFAULT_LANGUAGE, n_jobs: int = 2) -> dict[str, Any]:
    """Validate the data, report development metrics (and with ``cv`` the sample-gold CV),
    fit both models and save them.

    ``config`` holds the hyperparameters, ``policy`` the sources, weights and folds;
    ``registry`` the actors that labelled units may name and that are found (and masked) in
    their sentences (default: the registry of the language pack ``language``); ``corpora``
    gives the paths of the external corpora that reference records point into (``news_pool``,
    ``gerntsa``). ``language`` is the code of the :class:`~stance.lang.LanguagePack` the models
    are built in (default German), recorded in ``model.json``; ``n_jobs`` the number of worker
    processes of the fits.

    Units of a source of the user's own (not one of :data:`~stance.dataset.SOURCES`) are
    learnt by both models, weighted by ``policy.user_weight`` unless ``policy.weights`` lists
    them. ``add`` is a coding sheet (:mod:`stance.coding`): its coded units join the data as
    source ``add_source``, weighted ``add_weight`` (default ``policy.user_weight``), and
    :func:`user_cross_validation` measures, in ``add_cv_folds`` folds grouped by article
    (default ``policy.cv_folds``; 0: none; 1 is refused), how the model does on them before and
    after they are added. An added unit that repeats a ``--data`` unit (same sentence, by
    :func:`sentence_key`, and actor) replaces it: the models learn the user's label and leave the
    ``--data`` copy out, so no unit is learnt twice (logged; counted in
    ``trained_on.added.replaced_data_units``). Returns the metadata written to ``model.json``.
    """
    config, policy = config or ModelConfig(), policy or DataPolicy()
    started = time.perf_counter()
    folds = policy.cv_folds if add_cv_folds is None else add_cv_folds
    if add is not None and (folds < 0 or folds == 1):
        raise DataValidationError([f"the before/after cross-validation on the added units needs at least 2 folds (0: none), got {folds}"])
    registry = registry or load_actors(language=language)
    units = load_units(data_paths, actors=registry, corpora=corpora)
    policy = policy.with_user_sources(sorted({u.source for u in units if u.source not in SOURCES}))
    coded = None
    replaced: set[str] = set()
    if add is not None:
        coded = read_coded_units(add, source=add_source, actors=registry)
        replaced = _check_added(units, coded, add_source)
        if replaced:
            logger.warning("%d added unit(s) repeat a unit of the --data files (same sentence and actor): the models learn "
                           "the added label and leave the --data copy out", len(replaced))
        units = [*units, *coded.units]
        policy = policy.with_user_sources([add_source], add_weight)
    data = prepare(units, registry, language=language)
    sides = {task: training_side(data, task, policy).select(lambda u: u.id not in replaced) for task in ("stance", "sentiment")}
    for task, side in sides.items():
        check_trainable(side, policy, task)
    side_models = fit_both(sides, config, policy, n_jobs=n_jobs, language=language) if evaluate or not policy.refit_with_dev else None
    results = evaluate_models(data, config, policy, models=side_models, cv=cv, n_jobs=n_jobs, language=language) if evaluate else {}
    if coded is not None and folds:
        results.update(user_cross_validation(data, add_source, config, policy, folds=folds, n_jobs=n_jobs, language=language))
    final = {task: training_side(data, task, policy, with_dev=policy.refit_with_dev).select(lambda u: u.id not in replaced)
             for task in sides}
    stance_model, sentiment_model = (fit_both(final, config, policy, n_jobs=n_jobs, language=language)
                                     if policy.refit_with_dev or side_models is None else side_models)
    counts = Counter((u.source, u.stance) for u in final["stance"].units)
    metadata = {
        "trained_on": {
            "files": [str(p) for p in ([data_paths] if isinstance(data_paths, (str, Path)) else data_paths)],
            "data_sha256": data_fingerprint(data_paths),
            "stance_rows": len(final["stance"].units), "sentiment_rows": len(final["sentiment"].units),
            "stance_counts": {f"{s}/{lab}": n for (s, lab), n in sorted(counts.items())},
            "development_splits_included": policy.refit_with_dev,
            "actors": registry.source,
            **({"added": {"file": coded.path, "sha256": data_fingerprint(coded.path), "source": add_source, "units": len(coded.units), "uncoded_rows": coded.uncoded,
                          "articles": len({u.doc_id for u in coded.units}), "weight": policy.weight(add_source),
                          "replaced_data_units": len(replaced)}}
               if coded is not None else {}),
        },
        "config": asdict(config),
        "data_policy": asdict(policy),
        "metrics": results,
        "train_seconds": round(time.perf_counter() - started, 1),
    }
    save_model(out_dir, stance=stance_model, sentiment=sentiment_model, metadata=metadata, language=language)
    return metadata


def _check_added(units: Sequence[LabelledUnit], coded: CodedUnits, source: str) -> set[str]:
    """Refuse added units whose source name or ids the ``--data`` files use already; return the
    ids of the ``--data`` units that an added unit repeats (same :func:`sentence_key` and actor)."""
    if any(u.source == source for u in units):
        raise DataValidationError([f"{coded.path}: the --data files hold units of source {source!r} already; give the added "
                                   "units another name with --add-source"])
    ids = {u.id for u in units}
    clashes = [f"{u.location}: unit id {u.id!r} occurs in the --data files too" for u in coded.units if u.id in ids]
    if clashes:
        raise DataValidationError(clashes)
    added = {(sentence_key(u.sentence), u.actor) for u in coded.units}
    return {u.id for u in units if u.actor is not None and (sentence_key(u.sentence), u.actor) in added}


def user_cross_validation(data: TrainingSet, source: str, config: ModelConfig, policy: DataPolicy, *, folds: int = 5,
                          n_jobs: int = 2, language: str = DEFAULT_LANGUAGE) -> dict[str, Any]:
    """How the models do on the user's units of ``source``, before and after learning from them
    (models in ``language``, fitted in ``n_jobs`` worker processes).

    The units are split into ``folds`` folds grouped by article (``doc_id``), articles that share
    a sentence (agency copies, by :func:`sentence_key`) in one group (fewer folds when there are
    fewer groups; stratified by stance, seeded by ``config.random_state``). Every unit of the
    other data whose sentence is one of the user's sentences stays out of all these fits (the
    test units would otherwise be learnt, with their labels, from the copy).
    *Before*: the models fitted once on the other data alone (as the final model is: with the
    development splits when ``policy.refit_with_dev``), scored on every unit. *After*: for each
    fold, the models fitted on the other data plus the user's units of the other folds, scored
    on that fold. Sentiment is scored once per sentence. Returns
    ``{task}_user_cv_before`` / ``_after`` (:func:`metrics`) for each task with labelled units,
    and ``user_cv`` (source, folds, articles, groups, base_units_dropped_as_overlap, seconds).

    Raises
    ------
    DataValidationError
        If ``folds`` is below 2.
    """
    from joblib import Parallel, delayed

    if folds < 2:
        raise DataValidationError([f"the before/after cross-validation on the added units needs at least 2 folds, got {folds}"])
    started = time.perf_counter()
    final = {task: training_side(data, task, policy, with_dev=policy.refit_with_dev) for task in TASKS}
    own = data.select(lambda u: u.source == source)
    own_sentences = {sentence_key(u.sentence) for u in own.units}

    def overlaps(unit: LabelledUnit) -> bool:
        return unit.source != source and sentence_key(unit.sentence) in own_sentences

    base = {task: side.select(lambda u: u.source != source and not overlaps(u)) for task, side in final.items()}
    dropped = {u.id for side in final.values() for u in side.units if overlaps(u)}
    articles = sorted({u.doc_id for u in own.units})
    groups = copy_groups(own.units)
    n_folds = min(folds, len(set(groups)))
    info: dict[str, Any] = {"source": source, "units": len(own.units), "articles": len(articles), "groups": len(set(groups)),
                            "folds": n_folds, "weight": policy.weight(source), "base_units_dropped_as_overlap": len(dropped)}
    if n_folds < 2:
        logger.warning("no before/after cross-validation on the added units: they come from %d article(s) in %d group(s) "
                       "(articles sharing a sentence count as one), at least 2 groups are needed", len(articles), len(set(groups)))
        return {"user_cv": {**info, "skipped": "the added units come from fewer than 2 article groups"}}
    if dropped:
        logger.info("before/after check: %d unit(s) of the other data share a sentence with the added units and stay out of it",
                    len(dropped))
    y = np.asarray([u.stance for u in own.units], dtype=object)
    splitter = StratifiedGroupKFold(n_splits=n_folds, shuffle=True, random_state=config.random_state)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="The least populated class", category=UserWarning)
        splits = list(splitter.split(np.zeros(len(y)), y, groups))
    fold_of = {own.units[i].id: k for k, (_, test) in enumerate(splits) for i in test}
    scored = {"stance": own.select(lambda u: u.stance is not None),
              "sentiment": one_per_sentence(own).select(lambda u: u.sentiment is not None)}
    pack = get_pack(language)
    jobs: list[Any] = []
    keys: list[tuple[str, int | None]] = []
    for task in TASKS:
        if not scored[task].units:
            continue
        jobs.append(delayed(_with_pack)(pack, _fit_predict, base[task], task, config, policy, scored[task].inputs, language))
        keys.append((task, None))
        for k in range(n_folds):
            side = TrainingSet(base[task].units + _in_fold(final[task], source, fold_of, k, False).units,
                               base[task].inputs + _in_fold(final[task], source, fold_of, k, False).inputs)
            test = _in_fold(scored[task], source, fold_of, k, True)
            jobs.append(delayed(_with_pack)(pack, _fit_predict, side, task, config, policy, test.inputs, language))
            keys.append((task, k))
    outputs = dict(zip(keys, Parallel(n_jobs=n_jobs)(jobs)))
    results: dict[str, Any] = {}
    for task in TASKS:
        if (task, None) not in outputs:
            continue
        units = scored[task].units
        y_true = [unit_label(u, task) for u in units]
        after = np.empty(len(units), dtype=object)
        for k in range(n_folds):
            after[[i for i, u in enumerate(units) if fold_of[u.id] == k]] = outputs[(task, k)]
        results[f"{task}_user_cv_before"] = metrics(y_true, list(outputs[(task, None)]))
        results[f"{task}_user_cv_after"] = metrics(y_true, after.tolist())
    results["user_cv"] = {**info, "seconds": round(time.perf_counter() - started, 1)}
    return results


def copy_groups(units: Sequence[LabelledUnit]) -> list[str]:
    """The fold group of every unit: its article (``doc_id``), with articles that share a sentence
    (by :func:`sentence_key`; agency copies) merged into one group, named by its smallest ``doc_id``.

    >>> u = [LabelledUnit(f"i{i}", d, "user", s, "x", "m", 0, 1, "neutral", None)
    ...      for i, (d, s) in enumerate([("a", "Eins."), ("b", "Zwei."), ("c", "Eins. "), ("c", "Drei.")])]
    >>> copy_groups(u)
    ['a', 'b', 'a', 'a']
    """
    parent: dict[str, str] = {}

    def root(doc: str) -> str:
        while parent.setdefault(doc, doc) != doc:
            doc = parent[doc]
        return doc

    first_doc: dict[str, str] = {}
    for unit in units:
        a, b = root(unit.doc_id), root(first_doc.setdefault(sentence_key(unit.sentence), unit.doc_id))
        if a != b:
            parent[max(a, b)] = min(a, b)
    return [root(u.doc_id) for u in units]


def _in_fold(data: TrainingSet, source: str, fold_of: Mapping[str, int], fold: int, inside: bool) -> TrainingSet:
    """The units of ``source`` in fold ``fold`` (``inside``) or in the other folds."""
    return data.select(lambda u: u.source == source and (fold_of[u.id] == fold) == inside)


def _fit_predict(side: TrainingSet, task: str, config: ModelConfig, policy: DataPolicy, inputs: Sequence[TargetText],
                 language: str = DEFAULT_LANGUAGE) -> np.ndarray:
    return predict(fit_model(side, task, config, policy, language=language), inputs)


def format_user_cv(results: Mapping[str, Any]) -> str:
    """The before/after figures of :func:`user_cross_validation` as a few lines of text."""
    info = results.get("user_cv")
    if info is None:
        return ""
    head = (f"added units ({info['source']}, weight {info['weight']:g}): {info['units']} units from {info['articles']} articles")
    if info.get("groups", info["articles"]) != info["articles"]:
        head += f" ({info['groups']} groups: articles sharing a sentence stay together)"
    if "skipped" in info:
        return f"{head}; no before/after figures: {info['skipped']}"
    lines = [f"{head}, cross-validated in {info['folds']} folds grouped by article ({info['seconds']} s)"]
    if info.get("base_units_dropped_as_overlap"):
        lines.append(f"  {info['base_units_dropped_as_overlap']} unit(s) of --data share a sentence with the added units "
                     "and are left out of the before and after fits")
    lines.append(f"  {'':<10}{'':<8}{'macro-F1':>9}" + "".join(f"{'F1 ' + lab[:3]:>9}" for lab in LABELS) + f"{'n':>6}")
    for task in TASKS:
        for when in ("before", "after"):
            row = results.get(f"{task}_user_cv_{when}")
            if row is not None:
                lines.append(f"  {task:<10}{when:<8}{row['macro_f1']:>9.3f}"
                             + "".join(f"{row['per_class'][lab]['f1']:>9.3f}" for lab in LABELS) + f"{row['n']:>6}")
    for task in TASKS:
        row = results.get(f"{task}_user_cv_before")
        absent = [lab for lab in LABELS if row is not None and not row["per_class"][lab]["support"]]
        if absent:
            lines.append(f"  no {task} unit is labelled {' or '.join(absent)}: its F1 of 0 counts in the macro-F1")
    return "\n".join(lines)


def fit_both(sides: Mapping[str, TrainingSet], config: ModelConfig, policy: DataPolicy, *, n_jobs: int = 2,
             language: str = DEFAULT_LANGUAGE) -> tuple[Any, Any]:
    """The stance and sentiment models in ``language``, fitted side by side in ``n_jobs`` worker processes."""
    from joblib import Parallel, delayed

    pack = get_pack(language)
    jobs = [delayed(_with_pack)(pack, fit_model, sides[task], task, config, policy, language=language) for task in ("stance", "sentiment")]
    stance_model, sentiment_model = Parallel(n_jobs=n_jobs)(jobs)
    return stance_model, sentiment_model


def evaluate_models(data: TrainingSet, config: ModelConfig, policy: DataPolicy, *, models: tuple[Any, Any] | None = None,
                    cv: bool = True, n_jobs: int = 2, language: str = DEFAULT_LANGUAGE) -> dict[str, Any]:
    """Development-split metrics (news: primary; GerNTSA) and, with ``cv``, sample-gold CV metrics
    of both models.

    Every figure comes from models fitted on the training side only (no development unit);
    ``models``: the (stance, sentiment) models already fitted on it, if there are any (otherwise
    fitted in ``language``, in ``n_jobs`` worker processes).
    """
    results: dict[str, Any] = {}
    models = models or fit_both({task: training_side(data, task, policy) for task in ("stance", "sentiment")}, config, policy,
                                n_jobs=n_jobs, language=language)
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
        folds = cross_validate(data, task, config, policy, n_jobs=n_jobs, language=language)
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
    from ..records import LABEL_SCORES

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
