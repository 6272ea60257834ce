"""stance.training.evaluation and .baselines: baselines as estimators, the paired bootstrap, variants, metrics files and the evaluate command."""

from __future__ import annotations

import json

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.metrics import f1_score

from conftest import tiny_rows, write_jsonl
from stance.config import DataPolicy, ModelConfig
from stance.features import TargetText
from stance.model import make_stance_pipeline
from stance.plots import plot_confusion, save_figure
from stance.records import LABELS
from stance.training import (LexiconRuleClassifier, evaluate_model_on, format_metrics, majority_baseline, metrics, paired_bootstrap,
                             per_actor, pipeline_variants, policy_variants, prepare, train)
from stance.dataset import load_units

LABEL_LIST = list(LABELS)


def test_evaluation_lexicon_rule_is_a_plain_estimator():
    rule = LexiconRuleClassifier()
    assert rule.get_params() == {"language": "de"} and isinstance(clone(rule), LexiconRuleClassifier)
    with pytest.raises(NotFittedError):
        rule.predict([TargetText("Ein Desaster.", ((0, 1),))])
    assert rule.fit([TargetText("x", ((0, 1),))], ["neutral"]) is rule
    assert list(rule.classes_) == LABEL_LIST
    with pytest.raises(TypeError):
        rule.predict("Ein Desaster.")  # a bare string is not a batch of units


def test_evaluation_majority_baseline_predicts_the_most_frequent_label(tmp_path):
    side = prepare(load_units(write_jsonl(tmp_path / "tiny.jsonl", tiny_rows()[:14])))
    model = majority_baseline(side, "stance")
    labels = [u.stance for u in side.units]
    most = max(LABEL_LIST, key=labels.count)
    assert set(model.predict(list(side.inputs))) == {most}


def test_evaluation_paired_bootstrap_known_values():
    y = np.array(["negative", "neutral", "positive"] * 20, dtype=object)
    perfect, all_neutral = y.copy(), np.array(["neutral"] * 60, dtype=object)
    mask = np.ones(60, dtype=bool)
    same = paired_bootstrap(y, perfect, perfect, mask, seed=1, samples=200)
    assert same == {"n": 60, "difference": 0.0, "ci_low": 0.0, "ci_high": 0.0}
    result = paired_bootstrap(y, perfect, all_neutral, mask, seed=1, samples=200)
    expected = 1.0 - f1_score(y, all_neutral, labels=LABEL_LIST, average="macro", zero_division=0)
    assert result["difference"] == pytest.approx(expected)
    assert result["ci_low"] <= result["difference"] <= result["ci_high"]
    assert paired_bootstrap(y, perfect, all_neutral, mask, seed=1, samples=200) == result  # seeded
    half = paired_bootstrap(y, perfect, all_neutral, np.arange(60) < 30, seed=1, samples=50)
    assert half["n"] == 30


def test_evaluation_every_pipeline_variant_is_a_valid_step_parameter():
    config = ModelConfig()
    pipeline = make_stance_pipeline(config)
    names = [name for name, _ in pipeline_variants(config)]
    assert names[0] == "chosen config" and len(names) == len(set(names))
    for _, params in pipeline_variants(config):
        clone(pipeline).set_params(**params)  # raises for a parameter the pipeline does not have


def test_evaluation_policy_variants_each_change_the_chosen_policy():
    policy = DataPolicy()
    variants = policy_variants(policy)
    assert variants and all(variant != policy for _, variant in variants)
    without = dict(variants)["without GerNTSA"]
    assert "gerntsa" not in without.sources_stance and without.weights == policy.weights
    assert dict(variants)["news weight 1 (chosen 3)"].weight("news") == 1.0


def test_evaluation_per_actor_orders_by_units_and_counts_gold(tmp_path):
    side = prepare(load_units(write_jsonl(tmp_path / "tiny.jsonl", tiny_rows())))
    y_true = [u.stance for u in side.units]
    rows = per_actor(side.units, y_true, y_true, top=3)
    assert len(rows) == 3 and [r["units"] for r in rows] == sorted((r["units"] for r in rows), reverse=True)
    assert all(r["accuracy"] == 1.0 and sum(r["gold"].values()) == r["units"] for r in rows)


def test_evaluation_format_metrics_and_confusion_plot(tmp_path):
    y_true = ["negative", "negative", "neutral", "positive", "positive", "neutral"]
    y_pred = ["negative", "neutral", "neutral", "positive", "negative", "neutral"]
    result = metrics(y_true, y_pred)
    assert result["macro_f1"] == pytest.approx(f1_score(y_true, y_pred, labels=LABEL_LIST, average="macro"))
    text = format_metrics(result, title="t")
    assert f"macro-F1 {result['macro_f1']:.3f}" in text and "positive" in text
    assert text.splitlines()[-3].split() == ["negative", "1", "1", "0"]  # confusion row: true negative
    figure = plot_confusion(result, title="t $5")
    ax = figure.axes[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == LABEL_LIST and ax.get_title() == f"t \\$5\nmacro-F1 {result['macro_f1']:.3f}"
    assert [t.get_text() for t in ax.texts][:3] == ["1\n50%", "1\n50%", "0\n0%"]  # row of the true negatives: counts and shares
    png, svg = save_figure(figure, tmp_path / "confusion.png")
    assert png.stat().st_size > 0 and svg == tmp_path / "confusion.svg" and svg.stat().st_size > 0


def test_evaluation_evaluate_model_on_writes_what_it_prints(tmp_path):
    data = write_jsonl(tmp_path / "tiny.jsonl", tiny_rows())
    config = tmp_path / "fast.toml"
    config.write_text("[model]\nchar_ngram_max = 3\n[data]\nmin_rows = 10\n", encoding="utf-8")
    from stance.config import load_data_policy, load_model_config

    train([data], tmp_path / "model", config=load_model_config(config), policy=load_data_policy(config), evaluate=False)
    text = evaluate_model_on(tmp_path / "model", [data], out=tmp_path / "eval")
    saved = json.loads((tmp_path / "eval" / "metrics.json").read_text(encoding="utf-8"))
    assert saved["task"] == "stance" and saved["split"] == "all" and sum(sum(r) for r in saved["confusion"]["matrix"]) == 18
    assert f"macro-F1 {saved['macro_f1']:.3f}" in text and (tmp_path / "eval" / "confusion.png").is_file()
    sentiment = evaluate_model_on(tmp_path / "model", [data], task="sentiment", out=tmp_path / "eval_s")
    assert sentiment.startswith("sentiment: 18 units")
