"""Evaluation: ``stance evaluate`` and the ``reports/model/`` comparison with baselines.

Baselines are scikit-learn estimators: the majority class (``DummyClassifier``), a lexicon
rule (:class:`LexiconRuleClassifier`: sign of the sum of lexicon polarities in the sentence,
with negation), a plain sentence-level TF-IDF model that ignores the target, and a name-blind
one. All are scored on the news development split (primary), the grouped cross-validation
folds of the sample gold and the GerNTSA development split.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.dummy import DummyClassifier
from sklearn.utils.validation import check_is_fitted

from .config import DataPolicy, ModelConfig
from .actors import ActorRegistry, resolve_registry
from .dataset import SOURCES, load_units
from .features import check_units, lexicon_sentence_score
from .io import atomic_write_text
from .model import make_name_blind_pipeline, make_stance_pipeline, score_from_proba, top_features
from .records import LABELS
from .training import (TrainingSet, actor_mean_agreement, cross_validate, dev_split, fit_model, metrics, predict, prepare,
                       training_side, unit_label)


class LexiconRuleClassifier(ClassifierMixin, BaseEstimator):
    """Sign of the lexicon polarity sum of the sentence: >0 positive, <0 negative, else neutral.

    Nothing is learned; ``fit`` records the classes.

    Examples
    --------
    >>> from stance.features import TargetText
    >>> rule = LexiconRuleClassifier().fit([TargetText("x", ((0, 1),))], ["neutral"])
    >>> rule.predict([TargetText("Ein großer Erfolg.", ((0, 1),)), TargetText("Ein Desaster.", ((0, 1),))]).tolist()
    ['positive', 'negative']
    """

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> LexiconRuleClassifier:
        """Check the input and record the label set; returns self."""
        check_units(X)
        self.classes_ = np.asarray(LABELS, dtype=object)
        return self

    def predict(self, X: Any) -> np.ndarray:
        """One label per unit, from the sentence's lexicon polarity."""
        check_is_fitted(self, "classes_")
        scores = [lexicon_sentence_score(x.sentence) for x in check_units(X)]
        return np.asarray(["positive" if s > 0 else "negative" if s < 0 else "neutral" for s in scores], dtype=object)


def majority_baseline(side: TrainingSet, task: str) -> DummyClassifier:
    """The most frequent training label (ties: the first in label order)."""
    return DummyClassifier(strategy="most_frequent").fit(list(side.inputs), [unit_label(u, task) for u in side.units])


def evaluate_model_on(model_dir: str | Path | None, data: Sequence[str | Path], *, split: str = "all", task: str = "stance",
                      out: str | Path = "reports/evaluation", corpora: Mapping[str, str | Path | None] | None = None,
                      actors: ActorRegistry | str | Path | None = None) -> str:
    """Evaluate a saved model on labelled data; write metrics.json and confusion.png; return a text report.

    ``actors``: the registry (or its file) that the units' actors come from, default the packaged one.
    The report says so when the model was fitted on the development splits it is evaluated on.
    """
    from .scoring import load

    analyzer = load(model_dir, actors=actors)
    units = load_units(list(data), actors=analyzer.registry, check_sorted=False, corpora=corpora)
    prepared = prepare(units, analyzer.registry)
    selected = prepared.select(lambda u: (split == "all" or u.split == split) and unit_label(u, task) is not None)
    if not selected.units:
        from .errors import DataValidationError

        raise DataValidationError([f"no {task}-labelled units in {', '.join(map(str, data))} (split={split})"])
    model = analyzer.stance_model if task == "stance" else analyzer.sentiment_model
    y_true = [unit_label(u, task) for u in selected.units]
    y_pred = list(predict(model, selected.inputs))
    result = metrics(y_true, y_pred)
    folder = Path(out)
    result_out = {"model": str(model_dir or "packaged default"), "data": [str(d) for d in data], "split": split, "task": task, **result}
    atomic_write_text(folder / "metrics.json", json.dumps(result_out, indent=2) + "\n")
    save_confusion(result, folder / "confusion.png", title=f"{task} on {', '.join(Path(d).name for d in data)} ({split})")
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


def save_confusion(result: dict[str, Any], path: Path, *, title: str) -> Path:
    """Draw a confusion matrix (counts, row-normalised colour) and save it as PNG."""
    from matplotlib.figure import Figure

    from .plots import save_figure

    matrix = np.asarray(result["confusion"]["matrix"], dtype=float)
    share = matrix / np.maximum(matrix.sum(axis=1, keepdims=True), 1)
    figure = Figure(figsize=(5.2, 4.4), layout="constrained")
    ax = figure.add_subplot()
    image = ax.imshow(share, cmap="Blues", vmin=0, vmax=1)
    for (r, c), v in np.ndenumerate(matrix):
        ax.text(c, r, f"{int(v)}\n{share[r, c]:.0%}", ha="center", va="center", fontsize=9, color="white" if share[r, c] > 0.6 else "black")
    ax.set_xticks(range(len(LABELS)), LABELS)
    ax.set_yticks(range(len(LABELS)), LABELS)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true (gold)")
    ax.set_title(f"{title}\nmacro-F1 {result['macro_f1']:.3f}", fontsize=9)
    figure.colorbar(image, ax=ax, shrink=0.8, label="share of the true class")
    save_figure(figure, path)
    return path


def _multi_actor(inputs: Sequence[Any]) -> np.ndarray:
    return np.asarray([bool(x.other_spans) for x in inputs])


PRIMARY, TARGET_IGNORING, NAME_BLIND = "final (target-aware)", "sentence TF-IDF (ignores target)", "diagnostic: sentence TF-IDF, all actor names masked"
WITHOUT_NEWS = "final config, trained without the news units"
DEV_SETS = (("news_dev", "news"), ("gerntsa_dev", "gerntsa"))


def _stance_systems(config: ModelConfig, policy: DataPolicy) -> dict[str, Callable[[TrainingSet], Any]]:
    without_news = replace(policy, sources_stance=tuple(s for s in policy.sources_stance if s != "news"))
    return {
        PRIMARY: lambda side: fit_model(side, "stance", config, policy),
        WITHOUT_NEWS: lambda side: fit_model(side.select(lambda u: u.source != "news"), "stance", config, without_news),
        TARGET_IGNORING: lambda side: fit_model(side, "stance", config, policy, pipeline=make_stance_pipeline(config, target_aware=False)),
        "majority class": lambda side: majority_baseline(side, "stance"),
        "lexicon only": lambda side: LexiconRuleClassifier().fit(list(side.inputs), [u.stance for u in side.units]),
        NAME_BLIND: lambda side: fit_model(side, "stance", config, policy, pipeline=make_name_blind_pipeline(config)),
    }


def _score_split(results: dict[str, Any], key: str, name: str, y_true: Sequence[Any], y_pred: Sequence[Any],
                 inputs: Sequence[Any]) -> None:
    multi = _multi_actor(inputs)
    results.setdefault(key, {})[name] = metrics(y_true, y_pred)
    results.setdefault(f"{key}_multi_actor", {})[name] = metrics([y for y, m in zip(y_true, multi) if m],
                                                                 [p for p, m in zip(y_pred, multi) if m])


def compare_on_splits(data: TrainingSet, config: ModelConfig, policy: DataPolicy, *, cv: bool = True) -> dict[str, Any]:
    """Final stance model vs. baselines: news development split (primary), sample-gold grouped
    CV and GerNTSA development split (secondary), each also on units whose sentence names two or
    more actors; paired bootstrap of the final model against the target-ignoring model."""
    results: dict[str, Any] = {"predictions": {}}
    side = training_side(data, "stance", policy)
    for name, factory in _stance_systems(config, policy).items():
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
            folds = cross_validate(data, "stance", config, policy, factory=factory)
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


def sentiment_comparison(data: TrainingSet, config: ModelConfig, policy: DataPolicy, *, cv: bool = True) -> dict[str, Any]:
    """Sentiment model vs. majority and lexicon baselines on the news development sentences
    (primary) and under grouped CV on the sample gold."""
    out: dict[str, Any] = {"news_dev": {}, "cv": {}}
    without = {source: replace(policy, sources_sentiment=tuple(s for s in policy.sources_sentiment if s != source))
               for source in ("constructed", "news")}

    def without_source(source: str) -> Callable[[TrainingSet], Any]:
        return lambda side: fit_model(side.select(lambda u: u.source != source), "sentiment", config, without[source])

    factories: dict[str, Callable[[TrainingSet], Any]] = {
        "final": lambda side: fit_model(side, "sentiment", config, policy),
        **{f"final, trained without {source} units": without_source(source) for source in without},
        "majority class": lambda side: majority_baseline(side, "sentiment"),
        "lexicon only": lambda side: LexiconRuleClassifier().fit(list(side.inputs), [u.sentiment for u in side.units]),
    }
    side = training_side(data, "sentiment", policy)
    dev = dev_split(data, "news", "sentiment")
    for name, factory in factories.items():
        if dev.units:
            out["news_dev"][name] = metrics([u.sentiment for u in dev.units], list(predict(factory(side), dev.inputs)))
        if cv:
            folds = cross_validate(data, "sentiment", config, policy, factory=factory)
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


def ablations(data: TrainingSet, config: ModelConfig, policy: DataPolicy, *, n_jobs: int = 2) -> list[dict[str, Any]]:
    """Stance macro-F1 on news dev of every pipeline variant (one ``GridSearchCV`` over the step
    parameters, trained on the training side and scored on news dev) and of every data-policy variant."""
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
    search = GridSearchCV(make_stance_pipeline(config), [{k: [v] for k, v in params.items()} for _, params in variants],
                          scoring=scorer, cv=split, refit=False, n_jobs=n_jobs)
    started = time.perf_counter()
    search.fit(X, y, clf__sample_weight=weights)
    seconds = round((time.perf_counter() - started) * n_jobs / len(variants), 1)
    rows = [{"variant": name, "news_dev_macro_f1": float(score), "seconds": seconds}
            for (name, _), score in zip(variants, search.cv_results_["mean_test_score"])]
    jobs = [delayed(_policy_row)(data, name, config, variant) for name, variant in policy_variants(policy)]
    return rows + list(Parallel(n_jobs=n_jobs)(jobs))


def _policy_row(data: TrainingSet, name: str, config: ModelConfig, policy: DataPolicy) -> dict[str, Any]:
    started = time.perf_counter()
    model = fit_model(training_side(data, "stance", policy), "stance", config, policy)
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


def write_model_report(data_paths: Sequence[str | Path], out: str | Path, *, config: ModelConfig | None = None,
                       policy: DataPolicy | None = None, run_ablations: bool = True,
                       corpora: Mapping[str, str | Path | None] | None = None,
                       actors: ActorRegistry | str | Path | None = None) -> Path:
    """Write ``reports/model/``: results.json, README.md, confusion PNGs and top features.

    ``actors``: the registry (or its file) that the units' actors come from, default the packaged
    one. Units of the user's own sources are learnt too (:meth:`DataPolicy.with_user_sources`).
    """
    config, policy = config or ModelConfig(), policy or DataPolicy()
    folder = Path(out)
    registry = resolve_registry(actors)
    units = load_units(list(data_paths), actors=registry, corpora=corpora)
    policy = policy.with_user_sources(sorted({u.source for u in units if u.source not in SOURCES}))
    data = prepare(units, registry)
    comparison = compare_on_splits(data, config, policy)
    sentiment = sentiment_comparison(data, config, policy)
    features = {label: top_features(comparison["model"], label, top=25) for label in LABELS}
    actor_rows = per_actor(comparison["cv_units"], comparison["cv_true"], comparison["predictions"]["cv"][PRIMARY]) if "cv_units" in comparison else []
    rows = ablations(data, config, policy) if run_ablations else []
    titles = {"news_dev": "stance, news development split (outlets unseen)", "cv": "stance, sample gold, grouped 5-fold CV",
              "gerntsa_dev": "stance, GerNTSA development split"}
    for key, title in titles.items():
        if key in comparison:
            save_confusion(comparison[key][PRIMARY], folder / f"confusion_stance_{key}.png", title=title)
    keys = [k for k in ("news_dev", "news_dev_multi_actor", "cv", "cv_multi_actor", "gerntsa_dev", "gerntsa_dev_multi_actor") if k in comparison]
    payload: dict[str, Any] = {
        "config": asdict(config), "data_policy": asdict(policy),
        "stance": {**{k: comparison[k] for k in keys}, "paired_difference": comparison["paired_difference"]},
        "news_dev_actor_means": comparison.get("news_dev_actor_means"),
        "sentiment": sentiment, "per_actor_cv": actor_rows, "ablations": rows, "top_features": features,
    }
    atomic_write_text(folder / "results.json", json.dumps(payload, indent=2, ensure_ascii=False) + "\n")
    atomic_write_text(folder / "README.md", _render_model_report(payload, data))
    return folder


def _f1(table: dict[str, Any], key: str, name: str) -> str:
    row = table.get(key, {}).get(name)
    return "–" if row is None else f"{row['macro_f1']:.3f}"


def _render_model_report(p: dict[str, Any], data: TrainingSet) -> str:
    counts = Counter((u.source, u.split or "-") for u in data.units)
    s = p["stance"]
    news_outlets = {split: len({u.outlet for u in data.units if u.source == "news" and u.split == split}) for split in ("train", "dev")}
    lines = ["# Model report", "", "Generated by `stance model-report --data training/data --config training/config.toml --out reports/model`.", "",
             "**Primary figure: the news development split** — real German news units (`training/data/news.jsonl`) from outlets that",
             f"never occur on the training side (split grouped by outlet: {news_outlets['dev']} development outlets, {news_outlets['train']} training outlets).",
             "Secondary figures: the sample-corpus gold (one author's commentary) under 5-fold cross-validation grouped by article,",
             "and the GerNTSA development split (grouped by sentence). Every figure comes from models fitted without the units it is",
             "measured on; the shipped model is then refitted on all units (`refit_with_dev`).",
             "Units: " + ", ".join(f"{src}/{sp}: {n}" for (src, sp), n in sorted(counts.items())), "",
             "## Stance: final model vs. baselines (macro-F1)", "",
             "| system | news dev | news dev 2+ actors | sample CV | CV 2+ actors | GerNTSA dev | GerNTSA dev 2+ actors |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    names = list(dict.fromkeys(n for k in ("news_dev", "cv", "gerntsa_dev") for n in s.get(k, {})))
    for name in names:
        lines.append(f"| {name} | " + " | ".join(_f1(s, k, name) for k in ("news_dev", "news_dev_multi_actor", "cv", "cv_multi_actor",
                                                                           "gerntsa_dev", "gerntsa_dev_multi_actor")) + " |")
    sizes = {k: next(iter(s[k].values()))["n"] for k in s if k != "paired_difference" and s[k]}
    lines += ["", "Units: " + ", ".join(f"{k} {n}" for k, n in sizes.items()) + ".", "",
              "Macro-F1 of the final model minus another system, with a 95% paired bootstrap interval over units (1,000 resamples):",
              "", "| units | compared with | n | difference | 95% interval |", "|---|---|---:|---:|---|"]
    for key, rows in s["paired_difference"].items():
        for other, row in rows.items():
            lines.append(f"| {key} | {other} | {row['n']} | {row['difference']:+.3f} | {row['ci_low']:+.3f} … {row['ci_high']:+.3f} |")
    lines += ["", "Per class (final model):", "", "| split | class | precision | recall | F1 | n |", "|---|---|---:|---:|---:|---:|"]
    for split in ("news_dev", "cv", "gerntsa_dev"):
        for label, row in s.get(split, {}).get(PRIMARY, {}).get("per_class", {}).items():
            lines.append(f"| {split} | {label} | {row['precision']:.3f} | {row['recall']:.3f} | {row['f1']:.3f} | {row['support']} |")
    lines += ["", " ".join(f"![confusion {k}](confusion_stance_{k}.png)" for k in ("news_dev", "cv", "gerntsa_dev") if k in s), ""]
    means = p.get("news_dev_actor_means")
    if means and means["per_actor"]:
        r = "–" if means["pearson_r"] is None else f"{means['pearson_r']:.2f}"
        lines += ["## Per-actor mean stance on the news development split", "",
                  f"Actors with at least {means['min_units']} units: {means['actors']}. Labelled mean (−1/0/+1 per unit) against the",
                  f"predicted mean stance score (P(positive) − P(negative), what the report aggregates): mean absolute error "
                  f"{means['mean_abs_error']:.3f}, Pearson r {r}.", "",
                  "| actor | units | labelled mean | predicted mean | error |", "|---|---:|---:|---:|---:|"]
        for row in sorted(means["per_actor"], key=lambda x: (-x["units"], x["actor"])):
            lines.append(f"| {row['actor']} | {row['units']} | {row['gold_mean']:+.3f} | {row['predicted_mean']:+.3f} | {row['error']:+.3f} |")
        lines.append("")
    lines += ["## Sentiment (macro-F1 / accuracy)", "", "| system | news dev | news dev acc. | sample CV | CV acc. |", "|---|---:|---:|---:|---:|"]
    sent = p["sentiment"]
    for name in dict.fromkeys(list(sent["news_dev"]) + list(sent["cv"])):
        cells = []
        for key in ("news_dev", "cv"):
            row = sent[key].get(name)
            cells += ["–", "–"] if row is None else [f"{row['macro_f1']:.3f}", f"{row['accuracy']:.3f}"]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    if p["per_actor_cv"]:
        lines += ["", "## Per actor (final stance model, grouped CV on the sample gold; ten most frequent actors)", "",
                  "| actor | units | accuracy | macro-F1 | gold neg/neu/pos |", "|---|---:|---:|---:|---|"]
        for row in p["per_actor_cv"]:
            g = row["gold"]
            lines.append(f"| {row['actor']} | {row['units']} | {row['accuracy']:.3f} | {row['macro_f1']:.3f} | {g['negative']}/{g['neutral']}/{g['positive']} |")
    if p["ablations"]:
        keys = [k for k in ("news_dev_macro_f1", "cv_macro_f1", "gerntsa_dev_macro_f1") if any(r.get(k) is not None for r in p["ablations"])]
        heads = {"news_dev_macro_f1": "news dev", "cv_macro_f1": "sample CV", "gerntsa_dev_macro_f1": "GerNTSA dev"}
        chosen = p["ablations"][0].get("news_dev_macro_f1")
        lines += ["", "## Feature, estimator and source tests (stance macro-F1; chosen on news dev)", "",
                  "Each variant changes one setting of the chosen config (a step parameter of the pipeline, searched with "
                  "`GridSearchCV`, or the data policy) and is fitted on the training side. A difference of "
                  "about ±0.01 on news dev is within the noise of one split (see the bootstrap intervals above); "
                  "seconds: fit time per variant (pipeline variants: the search's time per variant and worker).", "",
                  "| variant | " + " | ".join(heads[k] for k in keys) + " | Δ news dev | seconds |", "|---|" + "---:|" * (len(keys) + 2)]
        for row in p["ablations"]:
            cells = ["–" if row.get(k) is None else f"{row[k]:.3f}" for k in keys]
            delta = "–" if chosen is None or row.get("news_dev_macro_f1") is None else f"{row['news_dev_macro_f1'] - chosen:+.3f}"
            lines.append(f"| {row['variant']} | " + " | ".join(cells) + f" | {delta} | {row['seconds']} |")
    lines += ["", "## Top weighted features per class (final stance model)", ""]
    for label, feats in p["top_features"].items():
        lines.append(f"- **{label}**: " + ", ".join(f"`{n}` ({w:+.2f})" for n, w in feats[:20]))
    return "\n".join(lines) + "\n"
