"""Evaluation: ``stance evaluate`` and the comparison of the final models with baselines.

The stance model is compared with the baselines (:mod:`stance.training.baselines`: the
majority class and the lexicon rule), a plain sentence-level TF-IDF model that ignores the
target, and a name-blind one. All are scored on the news development split (primary), the
grouped cross-validation folds of the sample gold and the GerNTSA development split;
:mod:`stance.training.model_report` writes the figures as ``reports/model/``. Functions that
fit several models take ``n_jobs`` (worker processes) and ``language`` (the language pack the
models are built in, default German).
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from ..actors import ActorRegistry
from ..config import DataPolicy, ModelConfig
from ..dataset import load_units
from ..io import atomic_write_text
from ..lang import DEFAULT_LANGUAGE, get_pack, is_builtin
from ..model import make_name_blind_pipeline, make_stance_pipeline, score_from_proba
from ..records import LABELS
from .baselines import LexiconRuleClassifier, majority_baseline
from .fit import TrainingSet, _with_pack, actor_mean_agreement, cross_validate, dev_split, fit_model, metrics, predict, prepare, training_side, unit_label


def evaluate_model_on(model_dir: str | Path | None, data: Sequence[str | Path], *, split: str = "all", task: str = "stance",
                      out: str | Path = "reports/evaluation", corpora: Mapping[str, str | Path | None] | None = None,
                      actors: ActorRegistry | str | Path | None = None) -> str:
    """Evaluate a saved model on labelled data; write metrics.json and confusion.png; return a text report.

    ``actors``: the registry (or its file) that the units' actors come from, default the packaged one.
    The report says so when the model was fitted on the development splits it is evaluated on.
    """
    from ..plots import plot_confusion, save_figure
    from ..scoring import load

    analyzer = load(model_dir, actors=actors)
    units = load_units(list(data), actors=analyzer.registry, check_sorted=False, corpora=corpora)
    prepared = prepare(units, analyzer.registry, language=analyzer.language)
    selected = prepared.select(lambda u: (split == "all" or u.split == split) and unit_label(u, task) is not None)
    if not selected.units:
        from ..errors import DataValidationError

        raise DataValidationError([f"no {task}-labelled units in {', '.join(map(str, data))} (split={split})"])
    model = analyzer.stance_model if task == "stance" else analyzer.sentiment_model
    y_true = [unit_label(u, task) for u in selected.units]
    y_pred = list(predict(model, selected.inputs))
    result = metrics(y_true, y_pred)
    folder = Path(out)
    result_out = {"model": str(model_dir or "packaged default"), "data": [str(d) for d in data], "split": split, "task": task, **result}
    atomic_write_text(folder / "metrics.json", json.dumps(result_out, indent=2) + "\n")
    save_figure(plot_confusion(result, title=f"{task} on {', '.join(Path(d).name for d in data)} ({split})"), folder / "confusion.png")
    caveat = ""
    if split != "train" and analyzer.metadata.get("trained_on", {}).get("development_splits_included"):
        caveat = ("\nnote: this model was fitted on the development splits too (refit_with_dev), so these units are not held out;"
                  " the held-out development figures are the 'metrics' in its model.json")
    title = f"{task}: {len(y_true)} units from {', '.join(map(str, data))} (split={split})"
    return format_metrics(result, title=title) + caveat + f"\n-> {folder}/metrics.json, {folder}/confusion.png"


def format_metrics(result: dict[str, Any], *, title: str) -> str:
    """A plain-text table of the metrics."""
    lines = [title, f"macro-F1 {result['macro_f1']:.3f}   accuracy {result['accuracy']:.3f}", "",
             f"{'class':<10}{'precision':>10}{'recall':>8}{'F1':>7}{'n':>6}"]
    for label, row in result["per_class"].items():
        lines.append(f"{label:<10}{row['precision']:>10.3f}{row['recall']:>8.3f}{row['f1']:>7.3f}{row['support']:>6}")
    lines += ["", "confusion (rows = true, columns = predicted: " + ", ".join(LABELS) + ")"]
    for label, row in zip(LABELS, result["confusion"]["matrix"]):
        lines.append(f"  {label:<10}" + "".join(f"{v:>7}" for v in row))
    return "\n".join(lines)


def _multi_actor(inputs: Sequence[Any]) -> np.ndarray:
    return np.asarray([bool(x.other_spans) for x in inputs])


PRIMARY, TARGET_IGNORING, NAME_BLIND = "final (target-aware)", "sentence TF-IDF (ignores target)", "diagnostic: sentence TF-IDF, all actor names masked"
WITHOUT_NEWS = "final config, trained without the news units"
DEV_SETS = (("news_dev", "news"), ("gerntsa_dev", "gerntsa"))


def _stance_systems(config: ModelConfig, policy: DataPolicy, language: str = DEFAULT_LANGUAGE) -> dict[str, Callable[[TrainingSet], Any]]:
    without_news = replace(policy, sources_stance=tuple(s for s in policy.sources_stance if s != "news"))
    return {
        PRIMARY: lambda side: fit_model(side, "stance", config, policy, language=language),
        WITHOUT_NEWS: lambda side: fit_model(side.select(lambda u: u.source != "news"), "stance", config, without_news, language=language),
        TARGET_IGNORING: lambda side: fit_model(side, "stance", config, policy,
                                                pipeline=make_stance_pipeline(config, target_aware=False, language=language)),
        "majority class": lambda side: majority_baseline(side, "stance"),
        "lexicon only": lambda side: LexiconRuleClassifier(language).fit(list(side.inputs), [u.stance for u in side.units]),
        NAME_BLIND: lambda side: fit_model(side, "stance", config, policy, pipeline=make_name_blind_pipeline(config)),
    }


def _score_split(results: dict[str, Any], key: str, name: str, y_true: Sequence[Any], y_pred: Sequence[Any],
                 inputs: Sequence[Any]) -> None:
    multi = _multi_actor(inputs)
    results.setdefault(key, {})[name] = metrics(y_true, y_pred)
    results.setdefault(f"{key}_multi_actor", {})[name] = metrics([y for y, m in zip(y_true, multi) if m],
                                                                 [p for p, m in zip(y_pred, multi) if m])


def compare_on_splits(data: TrainingSet, config: ModelConfig, policy: DataPolicy, *, cv: bool = True, n_jobs: int = 2,
                      language: str = DEFAULT_LANGUAGE) -> dict[str, Any]:
    """Final stance model vs. baselines: news development split (primary), sample-gold grouped
    CV and GerNTSA development split (secondary), each also on units whose sentence names two or
    more actors; paired bootstrap of the final model against the target-ignoring model. The
    cross-validation folds run in ``n_jobs`` worker processes."""
    results: dict[str, Any] = {"predictions": {}}
    side = training_side(data, "stance", policy)
    for name, factory in _stance_systems(config, policy, language).items():
        model = factory(side)
        if name == PRIMARY:
            results["model"] = model
        for key, source in DEV_SETS:
            dev = dev_split(data, source)
            if not dev.units:
                continue
            pred = list(predict(model, dev.inputs))
            results["predictions"].setdefault(key, {})[name] = pred
            _score_split(results, key, name, [u.stance for u in dev.units], pred, dev.inputs)
            if name == PRIMARY and source == "news":
                scores = score_from_proba(model.predict_proba(list(dev.inputs)), model.classes_)
                results["news_dev_actor_means"] = actor_mean_agreement(dev.units, scores)
        if cv and name != WITHOUT_NEWS:
            folds = cross_validate(data, "stance", config, policy, factory=factory, n_jobs=n_jobs, language=language)
            results["predictions"].setdefault("cv", {})[name] = folds["y_pred"]
            results["cv_units"], results["cv_true"], results["cv_inputs"] = folds["units"], folds["y_true"], folds["inputs"]
            _score_split(results, "cv", name, folds["y_true"], folds["y_pred"], folds["inputs"])
    results["paired_difference"] = _paired_differences(data, results, config.random_state)
    return results


def _paired_differences(data: TrainingSet, results: dict[str, Any], seed: int) -> dict[str, Any]:
    """Final model minus each comparison system, on every split and its 2+-actor subset."""
    out: dict[str, Any] = {}
    for key in ("news_dev", "cv", "gerntsa_dev"):
        predictions = results["predictions"].get(key)
        if not predictions:
            continue
        if key == "cv":
            y_true, inputs = results["cv_true"], results["cv_inputs"]
        else:
            dev = dev_split(data, dict(DEV_SETS)[key])
            y_true, inputs = [u.stance for u in dev.units], dev.inputs
        multi = _multi_actor(inputs)
        for other in (TARGET_IGNORING, NAME_BLIND, WITHOUT_NEWS):
            if other not in predictions:
                continue
            for subset, mask in (("", np.ones(len(multi), dtype=bool)), ("_multi_actor", multi)):
                out.setdefault(f"{key}{subset}", {})[other] = paired_bootstrap(y_true, predictions[PRIMARY], predictions[other], mask, seed)
    return out


def paired_bootstrap(y_true: Sequence[Any], pred_a: Sequence[Any], pred_b: Sequence[Any], mask: np.ndarray,
                     seed: int, samples: int = 1000) -> dict[str, float]:
    """Macro-F1 of A minus B on the masked units, with a 95% paired bootstrap interval."""
    from sklearn.metrics import f1_score

    idx = np.flatnonzero(mask)
    t, a, b = (np.asarray(v, dtype=object)[idx] for v in (y_true, pred_a, pred_b))

    def diff(sel: np.ndarray) -> float:
        return float(f1_score(t[sel], a[sel], labels=list(LABELS), average="macro", zero_division=0)
                     - f1_score(t[sel], b[sel], labels=list(LABELS), average="macro", zero_division=0))

    rng = np.random.default_rng(seed)
    draws = [diff(rng.integers(0, len(idx), len(idx))) for _ in range(samples)] if len(idx) else [0.0]
    return {"n": int(len(idx)), "difference": diff(np.arange(len(idx))),
            "ci_low": float(np.quantile(draws, 0.025)), "ci_high": float(np.quantile(draws, 0.975))}


def sentiment_comparison(data: TrainingSet, config: ModelConfig, policy: DataPolicy, *, cv: bool = True, n_jobs: int = 2,
                         language: str = DEFAULT_LANGUAGE) -> dict[str, Any]:
    """Sentiment model vs. majority and lexicon baselines on the news development sentences
    (primary) and under grouped CV on the sample gold (folds in ``n_jobs`` worker processes)."""
    out: dict[str, Any] = {"news_dev": {}, "cv": {}}
    without = {source: replace(policy, sources_sentiment=tuple(s for s in policy.sources_sentiment if s != source))
               for source in ("constructed", "news")}

    def without_source(source: str) -> Callable[[TrainingSet], Any]:
        return lambda side: fit_model(side.select(lambda u: u.source != source), "sentiment", config, without[source], language=language)

    factories: dict[str, Callable[[TrainingSet], Any]] = {
        "final": lambda side: fit_model(side, "sentiment", config, policy, language=language),
        **{f"final, trained without {source} units": without_source(source) for source in without},
        "majority class": lambda side: majority_baseline(side, "sentiment"),
        "lexicon only": lambda side: LexiconRuleClassifier(language).fit(list(side.inputs), [u.sentiment for u in side.units]),
    }
    side = training_side(data, "sentiment", policy)
    dev = dev_split(data, "news", "sentiment")
    for name, factory in factories.items():
        if dev.units:
            out["news_dev"][name] = metrics([u.sentiment for u in dev.units], list(predict(factory(side), dev.inputs)))
        if cv:
            folds = cross_validate(data, "sentiment", config, policy, factory=factory, n_jobs=n_jobs, language=language)
            out["cv"][name] = metrics(folds["y_true"], folds["y_pred"])
    return out


def pipeline_variants(config: ModelConfig) -> list[tuple[str, dict[str, Any]]]:
    """One-setting changes of the chosen stance pipeline, as its step parameters (for ``GridSearchCV``)."""
    from sklearn.linear_model import SGDClassifier

    variants: list[tuple[str, dict[str, Any]]] = [("chosen config", {})]
    if config.use_char:
        variants.append(("- char n-grams", {"features__char": "drop"}))
        variants += [(f"char n-grams {lo}-{hi} (chosen {config.char_ngram_min}-{config.char_ngram_max})", {"features__char__ngram_range": (lo, hi)})
                     for lo, hi in ((2, 4), (3, 6)) if (lo, hi) != (config.char_ngram_min, config.char_ngram_max)]
    if config.use_window:
        small = config.window_tokens // 2 + 1
        variants.append(("- context window", {"features__window": "drop"}))
        variants.append((f"window {small} words (chosen {config.window_tokens})",
                         {"features__window__window": small, **({"features__lexicon__values__window": small} if config.use_lexicon else {})}))
    if config.use_lexicon:
        variants.append(("- lexicon and cue features", {"features__lexicon": "drop"}))
        variants.append(("- cue patterns only", {"features__lexicon__values__use_cues": not config.use_cues}))
        variants.append((f"{'-' if config.use_structure else '+'} structure (polarity near other actors, order)",
                         {"features__lexicon__values__use_structure": not config.use_structure}))
        neutral = {"features__lexicon__values__drop_neutral_words": not config.lexicon_drop_neutral}
        if config.use_frames:
            neutral["features__frames__values__drop_neutral_words"] = not config.lexicon_drop_neutral
        variants.append((f"{'-' if config.lexicon_drop_neutral else '+'} neutral news words dropped from the lexicon counts", neutral))
    if config.use_frames:
        variants.append(("- frames (target speaks, accused, praised, does harm, clause polarity, epithets)", {"features__frames": "drop"}))
    variants.append(("- target masking (target name visible, other actors still masked)", {"mask__mask_target": False}))
    variants += [(f"word n-grams up to {n} (chosen {config.word_ngram_max})", {"features__word__ngram_range": (1, n)})
                 for n in (1, 2, 3) if n != config.word_ngram_max]
    variants += [("C x 0.3", {"clf__C": config.C * 0.3}), ("C x 3", {"clf__C": config.C * 3})]
    flipped = None if config.class_weight == "balanced" else "balanced"
    variants.append((f"class weight {flipped or 'none'} (chosen {config.class_weight})", {"clf__class_weight": flipped}))
    variants.append(("SGD (log loss)", {"clf": SGDClassifier(loss="log_loss", alpha=1e-4 / config.C, class_weight="balanced",
                                                            max_iter=50, tol=None, random_state=config.random_state)}))
    return variants


def policy_variants(policy: DataPolicy) -> list[tuple[str, DataPolicy]]:
    """Training-data variants of the chosen policy: sources left out and other source weights."""
    without = [(f"without {label}", replace(policy, sources_stance=tuple(x for x in policy.sources_stance if x != source)))
               for label, source in (("GerNTSA", "gerntsa"), ("constructed", "constructed"), ("sample gold", "sample"))
               if source in policy.sources_stance]
    weights = [(f"{label} weight {value:g} (chosen {policy.weight(source):g})", policy.with_weight(source, value))
               for label, source, values in (("news", "news", (1.0, 2.0, 3.0, 4.0)), ("GerNTSA", "gerntsa", (0.25, 1.0)),
                                             ("constructed", "constructed", (0.5, 2.0)), ("sample", "sample", (1.0, 3.0)))
               for value in values if value != policy.weight(source)]
    return without + weights


def ablations(data: TrainingSet, config: ModelConfig, policy: DataPolicy, *, n_jobs: int = 2,
              language: str = DEFAULT_LANGUAGE) -> list[dict[str, Any]]:
    """Stance macro-F1 on news dev of every pipeline variant (one ``GridSearchCV`` over the step
    parameters, trained on the training side and scored on news dev) and of every data-policy
    variant, in ``n_jobs`` worker processes."""
    from joblib import Parallel, delayed
    from sklearn.metrics import f1_score, make_scorer
    from sklearn.model_selection import GridSearchCV

    side, dev = training_side(data, "stance", policy), dev_split(data, "news")
    if not dev.units:
        return []
    variants = pipeline_variants(config)
    X = list(side.inputs) + list(dev.inputs)
    y = [u.stance for u in side.units] + [u.stance for u in dev.units]
    weights = np.concatenate([[policy.weight(u.source) for u in side.units], np.ones(len(dev.units))])
    split = [(np.arange(len(side.units)), np.arange(len(side.units), len(X)))]
    scorer = make_scorer(f1_score, average="macro", labels=list(LABELS), zero_division=0)
    search = GridSearchCV(make_stance_pipeline(config, language=language), [{k: [v] for k, v in params.items()} for _, params in variants],
                          # GridSearchCV's workers know only the shipped packs: a pack registered at run time is searched here
                          scoring=scorer, cv=split, refit=False, n_jobs=n_jobs if is_builtin(language) else 1)
    started = time.perf_counter()
    search.fit(X, y, clf__sample_weight=weights)
    seconds = round((time.perf_counter() - started) * n_jobs / len(variants), 1)
    rows = [{"variant": name, "news_dev_macro_f1": float(score), "seconds": seconds}
            for (name, _), score in zip(variants, search.cv_results_["mean_test_score"])]
    jobs = [delayed(_with_pack)(get_pack(language), _policy_row, data, name, config, variant, language)
            for name, variant in policy_variants(policy)]
    return rows + list(Parallel(n_jobs=n_jobs)(jobs))


def _policy_row(data: TrainingSet, name: str, config: ModelConfig, policy: DataPolicy,
                language: str = DEFAULT_LANGUAGE) -> dict[str, Any]:
    started = time.perf_counter()
    model = fit_model(training_side(data, "stance", policy), "stance", config, policy, language=language)
    dev = dev_split(data, "news")
    f1 = metrics([u.stance for u in dev.units], list(predict(model, dev.inputs)))["macro_f1"]
    return {"variant": name, "news_dev_macro_f1": f1, "seconds": round(time.perf_counter() - started, 1)}


def per_actor(units: Sequence[Any], y_true: Sequence[Any], y_pred: Sequence[Any], top: int = 10) -> list[dict[str, Any]]:
    """CV results for the ``top`` most frequent actors of the sample gold."""
    counts = Counter(u.actor for u in units)
    rows = []
    for actor, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:top]:
        idx = [i for i, u in enumerate(units) if u.actor == actor]
        m = metrics([y_true[i] for i in idx], [y_pred[i] for i in idx])
        dist = Counter(y_true[i] for i in idx)
        rows.append({"actor": actor, "units": n, "accuracy": m["accuracy"], "macro_f1": m["macro_f1"],
                     "gold": {lab: dist.get(lab, 0) for lab in LABELS}})
    return rows
