"""The researcher's loop of the README, command by command: sample, validate, train --add, report --validation."""

from __future__ import annotations

import json
from pathlib import Path

from stance.cli import main

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "coding_sample.csv"
FAST = "[model]\nchar_ngram_max = 3\n[data]\nmin_rows = 10\n"


def test_researcher_loop_runs_as_the_readme_says(tmp_path):
    # 1. sample: a sheet without the model's labels, a key with them
    sheet = tmp_path / "my_coding" / "coding.csv"
    assert main(["sample", "--n", "30", "--by", "actor", "--seed", "1", "--out", str(sheet), "--jobs", "1", "--quiet"]) == 0
    header = sheet.read_text(encoding="utf-8-sig").splitlines()[0].split(",")
    assert header[-3:] == ["stance", "sentiment", "note"] and "stance_score" not in header
    assert len((tmp_path / "my_coding" / "coding.key.jsonl").read_text(encoding="utf-8").splitlines()) == 30

    # 3. validate the shipped coded example
    validation = tmp_path / "my_validation"
    assert main(["validate", str(EXAMPLE), "--out", str(validation), "--quiet"]) == 0
    figures = json.loads((validation / "validation.json").read_text(encoding="utf-8"))
    assert figures["n_units"] == 60 and 0 < figures["stance"]["macro_f1"] <= 1

    # 4. adapt: a small base training set (for time) plus the coded units, with before/after figures
    base = tmp_path / "base.jsonl"
    rows = (ROOT / "training" / "data" / "constructed.jsonl").read_text(encoding="utf-8").splitlines()
    base.write_text("\n".join(rows[:600]) + "\n", encoding="utf-8")
    config = tmp_path / "fast.toml"
    config.write_text(FAST, encoding="utf-8")
    model = tmp_path / "my_model"
    assert main(["train", "--data", str(base), "--add", str(EXAMPLE), "--add-cv-folds", "2", "--config", str(config),
                 "--out", str(model), "--quiet"]) == 0
    metrics = json.loads((model / "model.json").read_text(encoding="utf-8"))["metrics"]
    assert metrics["stance_user_cv_before"]["n"] == metrics["stance_user_cv_after"]["n"] == 60

    # 5. report with the adapted model and the validation file
    report = tmp_path / "adapted"
    assert main(["report", "--model", str(model), "--validation", str(validation / "validation.json"), "--out", str(report),
                 "--jobs", "1", "--quiet"]) == 0
    text = (report / "report.md").read_text(encoding="utf-8")
    assert "On your own labelled units" in text and "60 units" in text
    assert "Adapted with your own labelled units: stance macro-F1 on them" in text
    assert (report / "report.html").is_file()
