"""stance.report: the model-quality sentences, evidence by predicted class, implausible dates, --validation."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from stance.cli import main
from stance.report import evidence, implausible_articles, quality_summary, write_report

METRICS = {
    "stance_news_dev": {"macro_f1": 0.6479, "n": 2638, "per_class": {
        "negative": {"f1": 0.5762}, "neutral": {"f1": 0.8197}, "positive": {"f1": 0.5477}}},
    "sentiment_news_dev": {"macro_f1": 0.6846, "n": 2023, "per_class": {"negative": {"f1": 0.7537}}},
}
SHA = "ab" * 32
VALIDATION = {"n_units": 150, "model": {"path": "packaged default (stance 0.2.0)", "sha256": SHA}, "stance": {"macro_f1": 0.55, "per_class": {"negative": {"f1": 0.5}, "positive": {"f1": 0.4}},
                                         "krippendorff_alpha": 0.47, "cohen_kappa": 0.45},
              "sentiment": {"macro_f1": 0.61}}


def test_report_quality_summary_states_model_and_own_figures():
    lines = quality_summary({"metrics": METRICS, "model_sha256": SHA}, VALIDATION)
    text = " ".join(lines)
    assert "macro-F1 0.65" in text and "2,638 units" in text and "negative 0.58, neutral 0.82, positive 0.55" in text
    assert "Sentiment model" in text and "macro-F1 0.68" in text
    own = lines[-1]
    assert own.startswith("On your own labelled units (validation file, 150 units)")
    assert "stance macro-F1 0.55; F1 per class: negative 0.50, positive 0.40" in own
    assert "Krippendorff's alpha 0.47, Cohen's kappa 0.45" in own and "sentiment macro-F1 0.61" in own
    assert not any(mark in text for mark in ("**", "`", "|", "#"))  # plain sentences, for report.md and report.html alike


@pytest.mark.parametrize("model_info, validation", [
    (None, None), ({}, {}), ({"metrics": None}, {"stance": None}), ({"metrics": {"stance_news_dev": {"macro_f1": "high"}}}, []),
    ({"metrics": {"stance_news_dev": {"per_class": {"negative": {"f1": None}}}}}, {"n_units": "x", "stance": {"per_class": 3}}),
])
def test_report_quality_summary_missing_or_odd_keys_leave_sentences_out(model_info, validation):
    lines = quality_summary(model_info, validation)
    assert lines and all(isinstance(line, str) for line in lines)
    assert not any("macro-F1" in line for line in lines)


def test_report_quality_summary_partial_validation():
    lines = quality_summary({"metrics": METRICS}, {"stance": {"cohen_kappa": 0.3}, "warnings": ["few units", 3]})
    lines = quality_summary({"metrics": METRICS, "model_sha256": SHA},
                            {"model": {"sha256": SHA}, "stance": {"cohen_kappa": 0.3}, "warnings": ["few units", 3]})
    assert lines[-2:] == ["On your own labelled units (validation file): agreement with your labels: Cohen's kappa 0.30.",
                          "Validation note: few units"]
    assert "No validation" in quality_summary({"metrics": METRICS}, None)[-1]


def test_report_quality_summary_says_when_the_validation_is_of_another_model():
    adapted = {"metrics": METRICS, "model_sha256": "cd" * 32, "path": "my_model"}
    own = quality_summary(adapted, VALIDATION)[-1]
    assert own.startswith("On your own labelled units (validation file, 150 units), but these are figures of another model "
                          "(packaged default (stance 0.2.0), sha256 abababababab), not of the model used for this report: ")
    assert "stance macro-F1 0.55" in own
    unnamed = quality_summary(adapted, {k: v for k, v in VALIDATION.items() if k != "model"})[-1]
    assert "these are figures of a model the validation file does not name" in unnamed
    assert "not necessarily of the model used for this report" in unnamed
    unknown = quality_summary({"metrics": METRICS}, VALIDATION)[-1]  # the report's model has no sha256
    assert "cannot tell whether that is the model used for it" in unknown
    same = quality_summary({"metrics": METRICS, "model_sha256": SHA}, VALIDATION)[-1]
    assert "another model" not in same and "does not name" not in same


def test_report_user_cv_sentence_names_the_data_training_set():
    from stance.report import _user_cv_lines

    line = _user_cv_lines({"stance_user_cv_before": {"macro_f1": 0.4, "n": 9}, "stance_user_cv_after": {"macro_f1": 0.5, "n": 9}})[0]
    assert "trained on the --data training set alone" in line and "default training data" not in line


def test_report_evidence_drawn_from_the_predicted_class():
    units = pd.DataFrame({
        "stance": ["neutral", "negative", "negative", "neutral", "positive"],
        "stance_score": [-0.9, -0.5, -0.7, 0.8, 0.3], "article_id": ["a", "a", "b", "b", "c"], "sentence_index": [0, 1, 0, 1, 0]})
    picks = dict(evidence(units, 2))
    assert list(picks["most negative"]["stance_score"]) == [-0.7, -0.5]  # the neutral -0.9 is not "most negative"
    assert list(picks["most positive"]["stance_score"]) == [0.3]  # nor the neutral +0.8 "most positive"
    assert evidence(units[units["stance"] != "positive"], 2)[1][1].empty


def test_report_implausible_articles_from_the_warnings_column():
    articles = pd.DataFrame({"article_id": ["a", "b", "c"], "warnings": [
        "encoding guessed; implausible date 2031-01-01: the other articles of f.txt are dated 2025-10-01 to 2025-10-03",
        None, "the word implausible date appears here"]})
    assert implausible_articles(articles) == {"a"}
    assert implausible_articles(articles.drop(columns="warnings")) == frozenset()


def test_report_md_states_quality_small_groups_and_leaves_implausible_dates_off(sample_result, tmp_path):
    files = write_report(sample_result, tmp_path / "r", model_info={"metrics": METRICS}, validation=VALIDATION)
    text = files.report.read_text(encoding="utf-8")
    quality = text.index("## Model quality")
    assert quality < text.index("## Warnings")
    assert "macro-F1 0.65" in text[quality:] and "validation file, 150 units" in text
    assert "| small group |" in text and "bootstrap over articles" in text
    by_date = pd.read_csv(files.folder / "by_date.csv", dtype={"period": str})
    flagged = implausible_articles(sample_result.articles)
    assert flagged  # the sample has one article dated a year off
    mentions = sample_result.mentions
    flagged_units = int(mentions["article_id"].isin(flagged).sum())
    assert by_date.loc[by_date["period"] == "implausible", "units"].sum() == flagged_units
    assert not set(mentions.loc[mentions["article_id"].isin(flagged), "date"]) & set(by_date["period"])
    assert "not on the timeline, its" in text and "small_group" in by_date.columns and "articles" in by_date.columns


def test_report_cli_validation_file_missing_or_malformed_exits_2(tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["report", "--out", str(out), "--validation", str(tmp_path / "none.json"), "--quiet"]) == 2
    assert "no such file" in capsys.readouterr().err
    bad = tmp_path / "bad.json"
    bad.write_text("{not json", encoding="utf-8")
    assert main(["report", "--out", str(out), "--validation", str(bad), "--quiet"]) == 2
    assert "not a JSON file" in capsys.readouterr().err
    bad.write_text("[1, 2]", encoding="utf-8")
    assert main(["report", "--out", str(out), "--validation", str(bad), "--quiet"]) == 2
    assert "JSON object" in capsys.readouterr().err
    assert not out.exists()


def test_report_cli_validation_reaches_the_report(tmp_path):
    validation = tmp_path / "validation.json"
    validation.write_text(json.dumps(VALIDATION), encoding="utf-8")
    out = tmp_path / "out"
    assert main(["report", "--out", str(out), "--validation", str(validation), "--quiet", "--jobs", "1"]) == 0
    text = (out / "report.md").read_text(encoding="utf-8")
    assert "validation file, 150 units" in text
    assert "Stance model, measured on the held-out news development split" in text  # the packaged model's metrics
    assert "these are figures of another model" in text  # sha256 "abab…" is not the packaged model's
    from stance.scoring import load

    validation.write_text(json.dumps({**VALIDATION, "model": {"path": "packaged", "sha256": load().metadata["model_sha256"]}}),
                          encoding="utf-8")
    assert main(["report", "--out", str(out), "--validation", str(validation), "--quiet", "--jobs", "1"]) == 0
    text = (out / "report.md").read_text(encoding="utf-8")
    assert "validation file, 150 units\\): stance macro-F1 0.55" in text and "another model" not in text
