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
from collections.abc import Sequence
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

import numpy as np

from .config import ModelConfig
from .dataset import load_units
from .features import TargetText, lexicon_sentence_score
from .io import atomic_write_text
from .records import LABELS
from .training import TrainingSet, cross_validate, dev_split, fit_model, metrics, prepare, training_side, unit_label


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
                      out: str | Path = "reports/evaluation") -> str:
    """Evaluate a saved model on labelled data; write metrics.json and confusion.png; return a text report."""
    from .scoring import load

    analyzer = load(model_dir)
    units = load_units(list(data), actors=analyzer.registry, check_sorted=False)
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
    return format_metrics(result, title=f"{task}: {len(y_true)} units from {', '.join(map(str, data))} (split={split})") + f"\n-> {folder}/metrics.json, {folder}/confusion.png"


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


def compare_on_splits(data: TrainingSet, config: ModelConfig) -> dict[str, Any]:
    """Final stance model vs. baselines on the grouped CV folds and on the GerNTSA dev split."""
    results: dict[str, Any] = {}
    systems = {
        "final (target-aware)": lambda side: fit_model(side, "stance", config),
        "sentence TF-IDF (ignores target)": lambda side: fit_model(side, "stance", config, target_aware=False),
        "majority class": lambda side: MajorityBaseline().fit([u.stance for u in side.units]),
        "lexicon only": lambda side: LexiconBaseline(),
        "diagnostic: sentence TF-IDF, all actor names masked": lambda side: NameBlindSentenceBaseline(config).fit(side),
    }
    cv_predictions: dict[str, list[str]] = {}
    dev_predictions: dict[str, list[str]] = {}
    for name, factory in systems.items():
        cv = cross_validate(data, "stance", config, factory=factory)
        cv_predictions[name] = cv["y_pred"]
        y_true, inputs = cv["y_true"], cv["inputs"]
        multi = _multi_actor(inputs)
        results.setdefault("cv", {})[name] = metrics(y_true, cv["y_pred"])
        results.setdefault("cv_multi_actor", {})[name] = metrics([y for y, m in zip(y_true, multi) if m], [p for p, m in zip(cv["y_pred"], multi) if m])
        dev = dev_split(data)
        side = training_side(data, "stance", config)
        model = factory(side)
        pred = list(model.predict(dev.inputs))
        dev_predictions[name] = pred
        dev_true = [u.stance for u in dev.units]
        results.setdefault("dev", {})[name] = metrics(dev_true, pred)
        dmulti = _multi_actor(dev.inputs)
        results.setdefault("dev_multi_actor", {})[name] = metrics([y for y, m in zip(dev_true, dmulti) if m], [p for p, m in zip(pred, dmulti) if m])
    results["cv_units"] = cv["units"]
    results["cv_true"] = cv["y_true"]
    results["cv_predictions"] = cv_predictions
    a, b = "final (target-aware)", "sentence TF-IDF (ignores target)"
    cv_multi, dev_multi = _multi_actor(cv["inputs"]), _multi_actor(dev.inputs)
    everything_cv, everything_dev = np.ones(len(cv_multi), dtype=bool), np.ones(len(dev_multi), dtype=bool)
    results["paired_difference"] = {
        "cv": paired_bootstrap(cv["y_true"], cv_predictions[a], cv_predictions[b], everything_cv, config.random_state),
        "cv_multi_actor": paired_bootstrap(cv["y_true"], cv_predictions[a], cv_predictions[b], cv_multi, config.random_state),
        "dev": paired_bootstrap(dev_true, dev_predictions[a], dev_predictions[b], everything_dev, config.random_state),
        "dev_multi_actor": paired_bootstrap(dev_true, dev_predictions[a], dev_predictions[b], dev_multi, config.random_state),
    }
    return results


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
    draws = [diff(rng.integers(0, len(idx), len(idx))) for _ in range(samples)]
    return {"n": int(len(idx)), "difference": diff(np.arange(len(idx))),
            "ci_low": float(np.quantile(draws, 0.025)), "ci_high": float(np.quantile(draws, 0.975))}


def sentiment_comparison(data: TrainingSet, config: ModelConfig) -> dict[str, Any]:
    """Sentiment model vs. majority and lexicon baselines under grouped CV on the sample gold."""
    out = {}
    sample_only = replace(config, sources_sentiment=("sample",))
    factories = {
        "final": lambda side: fit_model(side, "sentiment", config),
        "final, trained without constructed units": lambda side: fit_model(
            side.select(lambda u: u.source == "sample"), "sentiment", sample_only),
        "majority class": lambda side: MajorityBaseline().fit([u.sentiment for u in side.units]),
        "lexicon only": lambda side: LexiconBaseline(),
    }
    for name, factory in factories.items():
        cv = cross_validate(data, "sentiment", config, factory=factory)
        out[name] = metrics(cv["y_true"], cv["y_pred"])
    return out


def ablations(data: TrainingSet, config: ModelConfig) -> list[dict[str, Any]]:
    """Macro-F1 (grouped CV and GerNTSA dev) of feature, estimator and source-weight variants."""
    variants: list[tuple[str, ModelConfig]] = [
        ("chosen config", config),
        ("- char n-grams", replace(config, use_char=False)),
        ("- context window", replace(config, use_window=False)),
        ("- lexicon and cue features", replace(config, use_lexicon=False)),
        ("- cue patterns only", replace(config, use_cues=False)),
        (f"{'-' if config.use_structure else '+'} structure (polarity near other actors, order)",
         replace(config, use_structure=not config.use_structure)),
        ("- target masking (target name visible, other actors still masked)", replace(config, mask_target=False)),
        *[(f"word n-grams up to {n} (chosen {config.word_ngram_max})", replace(config, word_ngram_max=n))
          for n in (1, 2, 3) if n != config.word_ngram_max],
        ("C x 0.3", replace(config, C=config.C * 0.3)),
        ("C x 3", replace(config, C=config.C * 3)),
        ("LinearSVC + calibration", replace(config, estimator="linearsvc")),
        ("SGD (log loss)", replace(config, estimator="sgd")),
        ("without GerNTSA", replace(config, sources_stance=tuple(s for s in config.sources_stance if s != "gerntsa"))),
        ("without constructed", replace(config, sources_stance=tuple(s for s in config.sources_stance if s != "constructed"))),
        (f"GerNTSA weight {config.weight_gerntsa * 2:g} (chosen {config.weight_gerntsa:g})", replace(config, weight_gerntsa=config.weight_gerntsa * 2)),
        (f"gold weight 1 (chosen {config.weight_gold:g})", replace(config, weight_gold=1.0)),
        (f"constructed weight 0.5 (chosen {config.weight_constructed:g})", replace(config, weight_constructed=config.weight_constructed * 0.5)),
    ]
    rows = []
    dev = dev_split(data)
    for name, variant in variants:
        started = time.perf_counter()
        cv = cross_validate(data, "stance", variant)
        model = fit_model(training_side(data, "stance", variant), "stance", variant)
        dev_f1 = metrics([u.stance for u in dev.units], list(model.predict(dev.inputs)))["macro_f1"]
        rows.append({"variant": name, "cv_macro_f1": metrics(cv["y_true"], cv["y_pred"])["macro_f1"], "dev_macro_f1": dev_f1,
                     "seconds": round(time.perf_counter() - started, 1)})
    return rows


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
                       run_ablations: bool = True) -> Path:
    """Write ``reports/model/``: results.json, README.md, confusion PNGs and top features."""
    config = config or ModelConfig()
    folder = Path(out)
    data = prepare(load_units(list(data_paths)))
    comparison = compare_on_splits(data, config)
    sentiment = sentiment_comparison(data, config)
    final_model = fit_model(training_side(data, "stance", config), "stance", config)
    features = {label: final_model.top_features(label, top=25) for label in LABELS}
    actors = per_actor(comparison["cv_units"], comparison["cv_true"], comparison["cv_predictions"]["final (target-aware)"])
    rows = ablations(data, config) if run_ablations else []
    save_confusion(comparison["cv"]["final (target-aware)"], folder / "confusion_stance_cv.png", title="stance, sample gold, grouped 5-fold CV")
    save_confusion(comparison["dev"]["final (target-aware)"], folder / "confusion_stance_gerntsa_dev.png", title="stance, GerNTSA development split")
    payload = {
        "config": asdict(config),
        "stance": {k: comparison[k] for k in ("cv", "cv_multi_actor", "dev", "dev_multi_actor", "paired_difference")},
        "sentiment_cv": sentiment, "per_actor_cv": actors, "ablations": rows, "top_features": features,
    }
    atomic_write_text(folder / "results.json", json.dumps(payload, indent=2, ensure_ascii=False) + "\n")
    atomic_write_text(folder / "README.md", _render_model_report(payload, data))
    return folder


def _render_model_report(p: dict[str, Any], data: TrainingSet) -> str:
    counts = Counter((u.source, u.split or "-") for u in data.units)
    lines = ["# Model report", "", "Generated by `stance model-report --data training/data --config training/config.toml --out reports/model`.", "",
             "In-domain = sample-corpus gold under 5-fold cross-validation grouped by article (constructed units and GerNTSA",
             "train only ever on the training side). Development = the fixed GerNTSA development split (grouped by sentence).",
             "Units: " + ", ".join(f"{s}/{sp}: {n}" for (s, sp), n in sorted(counts.items())), "",
             "## Stance: final model vs. baselines (macro-F1 / accuracy)", "",
             "| system | CV macro-F1 | CV acc. | CV 2+ actors | dev macro-F1 | dev acc. | dev 2+ actors |", "|---|---:|---:|---:|---:|---:|---:|"]
    s = p["stance"]
    for name in s["cv"]:
        lines.append(f"| {name} | {s['cv'][name]['macro_f1']:.3f} | {s['cv'][name]['accuracy']:.3f} | "
                     f"{s['cv_multi_actor'][name]['macro_f1']:.3f} (n={s['cv_multi_actor'][name]['n']}) | "
                     f"{s['dev'][name]['macro_f1']:.3f} | {s['dev'][name]['accuracy']:.3f} | "
                     f"{s['dev_multi_actor'][name]['macro_f1']:.3f} (n={s['dev_multi_actor'][name]['n']}) |")
    lines += ["", "Macro-F1 of the final model minus the target-ignoring sentence TF-IDF model, with a 95% paired "
              "bootstrap interval over units (1,000 resamples):", "", "| units | n | difference | 95% interval |", "|---|---:|---:|---|"]
    for key, row in s["paired_difference"].items():
        lines.append(f"| {key} | {row['n']} | {row['difference']:+.3f} | {row['ci_low']:+.3f} … {row['ci_high']:+.3f} |")
    lines += ["", "Per class (final model):", "", "| split | class | precision | recall | F1 | n |", "|---|---|---:|---:|---:|---:|"]
    for split in ("cv", "dev"):
        for label, row in s[split]["final (target-aware)"]["per_class"].items():
            lines.append(f"| {split} | {label} | {row['precision']:.3f} | {row['recall']:.3f} | {row['f1']:.3f} | {row['support']} |")
    lines += ["", "![confusion CV](confusion_stance_cv.png) ![confusion dev](confusion_stance_gerntsa_dev.png)", "",
              "## Sentiment (sample gold, grouped CV)", "", "| system | macro-F1 | accuracy |", "|---|---:|---:|"]
    for name, row in p["sentiment_cv"].items():
        lines.append(f"| {name} | {row['macro_f1']:.3f} | {row['accuracy']:.3f} |")
    lines += ["", "## Per actor (final stance model, grouped CV on the sample gold; ten most frequent actors)", "",
              "| actor | units | accuracy | macro-F1 | gold neg/neu/pos |", "|---|---:|---:|---:|---|"]
    for row in p["per_actor_cv"]:
        g = row["gold"]
        lines.append(f"| {row['actor']} | {row['units']} | {row['accuracy']:.3f} | {row['macro_f1']:.3f} | {g['negative']}/{g['neutral']}/{g['positive']} |")
    if p["ablations"]:
        lines += ["", "## Feature, estimator and source tests (stance macro-F1)", "", "| variant | CV | dev | seconds |", "|---|---:|---:|---:|"]
        for row in p["ablations"]:
            lines.append(f"| {row['variant']} | {row['cv_macro_f1']:.3f} | {row['dev_macro_f1']:.3f} | {row['seconds']} |")
    lines += ["", "## Top weighted features per class (final stance model)", ""]
    for label, feats in p["top_features"].items():
        lines.append(f"- **{label}**: " + ", ".join(f"`{n}` ({w:+.2f})" for n, w in feats[:20]))
    return "\n".join(lines) + "\n"
