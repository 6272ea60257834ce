"""Evaluation: ``stance evaluate`` and the ``reports/model/`` comparison with baselines.

Baselines: the majority class, a lexicon-only rule (sign of the sum of lexicon polarities
in the sentence, with negation) and a plain sentence-level TF-IDF model that ignores the
target. All are scored on the same grouped cross-validation folds of the sample gold and
on the GerNTSA development split.
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

from .config import ModelConfig
from .dataset import load_units
from .features import TargetText, lexicon_sentence_score
from .io import atomic_write_text
from .records import LABELS
from .training import (TrainingSet, actor_mean_agreement, cross_validate, dev_split, fit_model, metrics, prepare, training_side,
                       unit_label)


class MajorityBaseline:
    """Predicts the most frequent training label (ties: the first in LABELS)."""

    def fit(self, labels: Sequence[str]) -> MajorityBaseline:
        counts = Counter(labels)
        self.label_ = max(LABELS, key=lambda lab: (counts.get(lab, 0), -LABELS.index(lab)))
        return self

    def predict(self, inputs: Sequence[Any]) -> np.ndarray:
        return np.asarray([self.label_] * len(inputs), dtype=object)


class NameBlindSentenceBaseline:
    """Diagnostic: the sentence TF-IDF model with every actor reference masked by one token.

    It sees neither which actor is the target nor who the actors are, so comparing it with
    the plain sentence model shows how much of that model's score comes from actor names.
    """

    def __init__(self, config: ModelConfig) -> None:
        self.config = replace(config, use_char=False, use_window=False, use_lexicon=False, use_structure=False,
                              mask_target=True, mask_others=True)

    @staticmethod
    def _blind(inputs: Sequence[Any]) -> list[TargetText]:
        return [TargetText(x.sentence, tuple(x.target_spans) + tuple(x.other_spans)) for x in inputs]

    def fit(self, data: TrainingSet) -> NameBlindSentenceBaseline:
        self.model_ = fit_model(TrainingSet(data.units, tuple(self._blind(data.inputs))), "stance", self.config)
        self.classes_ = self.model_.classes_
        return self

    def predict(self, inputs: Sequence[Any]) -> np.ndarray:
        return np.asarray(self.model_.predict(self._blind(inputs)), dtype=object)


class LexiconBaseline:
    """Sign of the lexicon polarity sum of the sentence: >0 positive, <0 negative, else neutral."""

    def predict(self, inputs: Sequence[Any]) -> np.ndarray:
        scores = [lexicon_sentence_score(x.sentence) for x in inputs]
        return np.asarray(["positive" if s > 0 else "negative" if s < 0 else "neutral" for s in scores], dtype=object)


def evaluate_model_on(model_dir: str | Path | None, data: Sequence[str | Path], *, split: str = "all", task: str = "stance",
                      out: str | Path = "reports/evaluation", corpora: Mapping[str, str | Path | None] | None = None) -> str:
    """Evaluate a saved model on labelled data; write metrics.json and confusion.png; return a text report.

    The report says so when the model was fitted on the development splits it is evaluated on.
    """
    from .scoring import load

    analyzer = load(model_dir)
    units = load_units(list(data), actors=analyzer.registry, check_sorted=False, corpora=corpora)
    prepared = prepare(units, analyzer.registry)
    selected = prepared.select(lambda u: (split == "all" or u.split == split) and unit_label(u, task) is not None)
    if not selected.units:
        from .errors import DataValidationError

        raise DataValidationError([f"no {task}-labelled units in {', '.join(map(str, data))} (split={split})"])
    model = analyzer.stance_model if task == "stance" else analyzer.sentiment_model
    y_true = [unit_label(u, task) for u in selected.units]
    y_pred = list(model.predict(selected.inputs))
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


def _stance_systems(config: ModelConfig) -> dict[str, Any]:
    without_news = replace(config, sources_stance=tuple(s for s in config.sources_stance if s != "news"))
    return {
        PRIMARY: lambda side: fit_model(side, "stance", config),
        WITHOUT_NEWS: lambda side: fit_model(side.select(lambda u: u.source != "news"), "stance", without_news),
        TARGET_IGNORING: lambda side: fit_model(side, "stance", config, target_aware=False),
        "majority class": lambda side: MajorityBaseline().fit([u.stance for u in side.units]),
        "lexicon only": lambda side: LexiconBaseline(),
        NAME_BLIND: lambda side: NameBlindSentenceBaseline(config).fit(side),
    }


def _score_split(results: dict[str, Any], key: str, name: str, y_true: Sequence[Any], y_pred: Sequence[Any],
                 inputs: Sequence[Any]) -> None:
    multi = _multi_actor(inputs)
    results.setdefault(key, {})[name] = metrics(y_true, y_pred)
    results.setdefault(f"{key}_multi_actor", {})[name] = metrics([y for y, m in zip(y_true, multi) if m],
                                                                 [p for p, m in zip(y_pred, multi) if m])


def compare_on_splits(data: TrainingSet, config: ModelConfig, *, cv: bool = True) -> dict[str, Any]:
    """Final stance model vs. baselines: news development split (primary), sample-gold grouped
    CV and GerNTSA development split (secondary), each also on units whose sentence names two or
    more actors; paired bootstrap of the final model against the target-ignoring model."""
    results: dict[str, Any] = {"predictions": {}}
    side = training_side(data, "stance", config)
    for name, factory in _stance_systems(config).items():
        model = factory(side)
        for key, source in DEV_SETS:
            dev = dev_split(data, source)
            if not dev.units:
                continue
            pred = list(model.predict(dev.inputs))
            results["predictions"].setdefault(key, {})[name] = pred
            _score_split(results, key, name, [u.stance for u in dev.units], pred, dev.inputs)
            if name == PRIMARY and source == "news":
                results["news_dev_actor_means"] = actor_mean_agreement(dev.units, model.score_units(dev.inputs))
                results["news_dev_units"], results["news_dev_true"] = dev.units, [u.stance for u in dev.units]
        if cv and name != WITHOUT_NEWS:
            folds = cross_validate(data, "stance", config, factory=factory)
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


def sentiment_comparison(data: TrainingSet, config: ModelConfig, *, cv: bool = True) -> dict[str, Any]:
    """Sentiment model vs. majority and lexicon baselines on the news development split (primary)
    and under grouped CV on the sample gold."""
    out: dict[str, Any] = {"news_dev": {}, "cv": {}}
    without = {"constructed": replace(config, sources_sentiment=tuple(s for s in config.sources_sentiment if s != "constructed")),
               "news": replace(config, sources_sentiment=tuple(s for s in config.sources_sentiment if s != "news"))}
    def without_source(source: str) -> Callable[[TrainingSet], Any]:
        return lambda side: fit_model(side.select(lambda u: u.source != source), "sentiment", without[source])

    factories: dict[str, Callable[[TrainingSet], Any]] = {
        "final": lambda side: fit_model(side, "sentiment", config),
        **{f"final, trained without {source} units": without_source(source) for source in without},
        "majority class": lambda side: MajorityBaseline().fit([str(u.sentiment) for u in side.units]),
        "lexicon only": lambda side: LexiconBaseline(),
    }
    side = training_side(data, "sentiment", config)
    dev = dev_split(data, "news", "sentiment")
    for name, factory in factories.items():
        if dev.units:
            out["news_dev"][name] = metrics([u.sentiment for u in dev.units], list(factory(side).predict(dev.inputs)))
        if cv:
            folds = cross_validate(data, "sentiment", config, factory=factory)
            out["cv"][name] = metrics(folds["y_true"], folds["y_pred"])
    return out


def ablation_variants(config: ModelConfig) -> list[tuple[str, ModelConfig]]:
    """The feature, estimator, class-weight and source-weight variants tested against ``config``."""
    without = {s: replace(config, sources_stance=tuple(x for x in config.sources_stance if x != s)) for s in ("gerntsa", "constructed", "sample")}
    return [
        ("chosen config", config),
        ("- char n-grams", replace(config, use_char=False)),
        ("- context window", replace(config, use_window=False)),
        ("- lexicon and cue features", replace(config, use_lexicon=False)),
        ("- cue patterns only", replace(config, use_cues=False)),
        (f"{'-' if config.use_structure else '+'} structure (polarity near other actors, order)",
         replace(config, use_structure=not config.use_structure)),
        (f"{'-' if config.use_frames else '+'} frames (target speaks, accused, praised, does harm, clause polarity, epithets)",
         replace(config, use_frames=not config.use_frames)),
        (f"{'-' if config.lexicon_drop_neutral else '+'} neutral news words dropped from the lexicon counts",
         replace(config, lexicon_drop_neutral=not config.lexicon_drop_neutral)),
        (f"window {config.window_tokens // 2 + 1} words (chosen {config.window_tokens})", replace(config, window_tokens=config.window_tokens // 2 + 1)),
        ("- target masking (target name visible, other actors still masked)", replace(config, mask_target=False)),
        *[(f"word n-grams up to {n} (chosen {config.word_ngram_max})", replace(config, word_ngram_max=n))
          for n in (1, 2, 3) if n != config.word_ngram_max],
        *[(f"char n-grams {lo}-{hi} (chosen {config.char_ngram_min}-{config.char_ngram_max})", replace(config, char_ngram_min=lo, char_ngram_max=hi))
          for lo, hi in ((2, 4), (3, 6)) if (lo, hi) != (config.char_ngram_min, config.char_ngram_max)],
        ("C x 0.3", replace(config, C=config.C * 0.3)),
        ("C x 3", replace(config, C=config.C * 3)),
        (f"class weight {'none' if config.class_weight == 'balanced' else 'balanced'} (chosen {config.class_weight})",
         replace(config, class_weight="none" if config.class_weight == "balanced" else "balanced")),
        ("SGD (log loss)", replace(config, estimator="sgd")),
        ("without GerNTSA", without["gerntsa"]),
        ("without constructed", without["constructed"]),
        ("without sample gold", without["sample"]),
        *[(f"{label} weight {value:g} (chosen {getattr(config, field):g})", replace(config, **{field: value}))  # type: ignore[arg-type]
          for label, field, values in (("news", "weight_news", (1.0, 2.0, 3.0, 4.0)), ("GerNTSA", "weight_gerntsa", (0.25, 1.0)),
                                       ("constructed", "weight_constructed", (0.5, 2.0)), ("sample", "weight_gold", (1.0, 3.0)))
          for value in values if value != getattr(config, field)],
    ]


def ablations(data: TrainingSet, config: ModelConfig, *, cv: bool = False) -> list[dict[str, Any]]:
    """Stance macro-F1 of every :func:`ablation_variants` variant: news dev (primary), GerNTSA dev and,
    with ``cv``, sample CV."""
    from joblib import Parallel, delayed

    jobs = [delayed(_ablation_row)(data, name, variant, cv) for name, variant in ablation_variants(config)]
    return list(Parallel(n_jobs=2, backend="loky")(jobs))


def _ablation_row(data: TrainingSet, name: str, variant: ModelConfig, cv: bool) -> dict[str, Any]:
    started = time.perf_counter()
    model = fit_model(training_side(data, "stance", variant), "stance", variant)
    row: dict[str, Any] = {"variant": name}
    for key, source in DEV_SETS:
        dev = dev_split(data, source)
        row[f"{key}_macro_f1"] = metrics([u.stance for u in dev.units], list(model.predict(dev.inputs)))["macro_f1"] if dev.units else None
    row["cv_macro_f1"] = None
    if cv and "sample" in variant.sources_stance:
        folds = cross_validate(data, "stance", variant)
        row["cv_macro_f1"] = metrics(folds["y_true"], folds["y_pred"])["macro_f1"]
    row["seconds"] = round(time.perf_counter() - started, 1)
    return row


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
                       run_ablations: bool = True, corpora: Mapping[str, str | Path | None] | None = None) -> Path:
    """Write ``reports/model/``: results.json, README.md, confusion PNGs and top features."""
    config = config or ModelConfig()
    folder = Path(out)
    data = prepare(load_units(list(data_paths), corpora=corpora))
    comparison = compare_on_splits(data, config)
    sentiment = sentiment_comparison(data, config)
    final_model = fit_model(training_side(data, "stance", config), "stance", config)
    features = {label: final_model.top_features(label, top=25) for label in LABELS}
    actors = per_actor(comparison["cv_units"], comparison["cv_true"], comparison["predictions"]["cv"][PRIMARY]) if "cv_units" in comparison else []
    rows = ablations(data, config) if run_ablations else []
    titles = {"news_dev": "stance, news development split (outlets unseen)", "cv": "stance, sample gold, grouped 5-fold CV",
              "gerntsa_dev": "stance, GerNTSA development split"}
    for key, title in titles.items():
        if key in comparison:
            save_confusion(comparison[key][PRIMARY], folder / f"confusion_stance_{key}.png", title=title)
    keys = [k for k in ("news_dev", "news_dev_multi_actor", "cv", "cv_multi_actor", "gerntsa_dev", "gerntsa_dev_multi_actor") if k in comparison]
    payload: dict[str, Any] = {
        "config": asdict(config),
        "stance": {**{k: comparison[k] for k in keys}, "paired_difference": comparison["paired_difference"]},
        "news_dev_actor_means": comparison.get("news_dev_actor_means"),
        "sentiment": sentiment, "per_actor_cv": actors, "ablations": rows, "top_features": features,
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
                  "Each variant changes one setting of the chosen config and is fitted on the training side. A difference of "
                  "about ±0.01 on news dev is within the noise of one split (see the bootstrap intervals above).", "",
                  "| variant | " + " | ".join(heads[k] for k in keys) + " | Δ news dev | seconds |", "|---|" + "---:|" * (len(keys) + 2)]
        for row in p["ablations"]:
            cells = ["–" if row.get(k) is None else f"{row[k]:.3f}" for k in keys]
            delta = "–" if chosen is None or row.get("news_dev_macro_f1") is None else f"{row['news_dev_macro_f1'] - chosen:+.3f}"
            lines.append(f"| {row['variant']} | " + " | ".join(cells) + f" | {delta} | {row['seconds']} |")
    lines += ["", "## Top weighted features per class (final stance model)", ""]
    for label, feats in p["top_features"].items():
        lines.append(f"- **{label}**: " + ", ".join(f"`{n}` ({w:+.2f})" for n, w in feats[:20]))
    return "\n".join(lines) + "\n"
