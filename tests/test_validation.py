"""``stance validate`` and stance.validation, on a small hand-made coded sheet with known answers."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest

from stance.cli import main
from stance.coding import SHEET_COLUMNS, key_path
from stance.errors import CodingSheetError
from stance.validation import compare_labels, group_means, render_summary, validate

NEG, NEU, POS = "negative", "neutral", "positive"
# Ten coded units and two uncoded ones. Articles a1..a4; actors putin and merz.
#                 unit   article actor    coder stance / model stance   coder sentiment / model sentiment
UNITS = [
    ("u01", "a1", "putin", NEG, NEG, NEG, NEG),
    ("u02", "a1", "putin", NEG, NEG, NEG, NEG),
    ("u03", "a2", "putin", NEG, NEG, NEG, NEU),
    ("u04", "a2", "putin", NEG, NEU, NEU, NEU),
    ("u05", "a3", "putin", NEU, NEU, NEU, NEU),
    ("u06", "a3", "merz", NEU, NEU, POS, POS),
    ("u07", "a3", "merz", NEU, POS, POS, POS),
    ("u08", "a4", "merz", POS, POS, POS, NEG),
    ("u09", "a4", "merz", POS, POS, None, NEG),
    ("u10", "a4", "merz", POS, NEG, None, NEU),
    ("u11", "a4", "merz", None, NEU, None, NEU),
    ("u12", "a1", "putin", None, NEG, None, NEG),
]
# Stance, coder vs model: confusion (rows coder) neg [3,1,0], neu [0,2,1], pos [1,0,2].
# precision = recall = F1: neg 3/4, neu 2/3, pos 2/3 -> macro-F1 (3/4 + 2/3 + 2/3) / 3 = 0.694444; accuracy 0.7.
# Cohen's kappa: p_o = 0.7, p_e = 0.4² + 0.3² + 0.3² = 0.34 -> (0.7 - 0.34) / 0.66 = 0.545454.
# Krippendorff's alpha (nominal): 20 values (neg 8, neu 6, pos 6), D_o = 6/20 = 0.3,
# D_e = 2 (8·6 + 8·6 + 6·6) / (20·19) = 264/380 -> alpha = 1 - 0.3 / (264/380) = 150/264 = 0.568182.
STANCE_MACRO_F1, STANCE_KAPPA, STANCE_ALPHA = (0.75 + 2 / 3 + 2 / 3) / 3, 0.36 / 0.66, 150 / 264
# Sentiment (8 coded): confusion neg [2,1,0], neu [0,2,0], pos [1,0,2]; F1 neg 2/3, neu 0.8, pos 0.8.
SENTIMENT_MACRO_F1, SENTIMENT_ACCURACY = (2 / 3 + 0.8 + 0.8) / 3, 6 / 8


SHA = "ab" * 32
MODEL = {"model_path": "packaged default (stance 0.2.0)", "model_sha256": SHA}


def write_case(folder: Path, units=UNITS, *, name: str = "coding.csv", delimiter: str = ",", extra=MODEL) -> Path:
    """A coded sheet and its key file for ``units`` (``extra``: fields added to every key record)."""
    folder.mkdir(parents=True, exist_ok=True)
    sheet = folder / name
    with sheet.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle, delimiter=delimiter)
        writer.writerow(SHEET_COLUMNS)
        for uid, article, actor, coder, _, sentiment, _ in units:
            name_ = "Wladimir Putin" if actor == "putin" else "Friedrich Merz"
            writer.writerow([uid, article, "2025-10-01", f"src-{article[-1]}", actor, name_, "", f"Heute sprach [[{name_}]].",
                             "", coder or "", sentiment or "", ""])
    scores = {NEG: -0.8, NEU: 0.0, POS: 0.6}
    key_path(sheet).write_text("".join(json.dumps({
        "unit_id": uid, "article_id": article, "sentence_index": 0, "start": 13, "end": 13 + len(
            "Wladimir Putin" if actor == "putin" else "Friedrich Merz"),
        "actor": actor, "source": f"src-{article[-1]}", "stance": model, "stance_score": scores[model],
        "sentiment": model_sentiment, "sentiment_score": scores[model_sentiment], "draw": "random", **extra,
    }) + "\n" for uid, article, actor, _, model, _, model_sentiment in units), encoding="utf-8")
    return sheet


def test_validate_known_values(tmp_path):
    result = validate(write_case(tmp_path))
    assert (result["n_rows"], result["n_units"], result["n_uncoded"]) == (12, 10, 2)
    stance = result["stance"]
    assert stance["n"] == 10 and stance["n_uncoded"] == 2
    assert stance["macro_f1"] == pytest.approx(STANCE_MACRO_F1)
    assert stance["accuracy"] == pytest.approx(0.7)
    assert stance["cohen_kappa"] == pytest.approx(STANCE_KAPPA)
    assert stance["krippendorff_alpha"] == pytest.approx(STANCE_ALPHA)
    assert stance["confusion"] == {"labels": [NEG, NEU, POS], "matrix": [[3, 1, 0], [0, 2, 1], [1, 0, 2]]}
    assert stance["per_class"][NEG] == pytest.approx({"precision": 0.75, "recall": 0.75, "f1": 0.75, "support": 4})
    assert stance["per_class"][POS]["f1"] == pytest.approx(2 / 3)
    sentiment = result["sentiment"]
    assert (sentiment["n"], sentiment["n_uncoded"]) == (8, 4)
    assert sentiment["macro_f1"] == pytest.approx(SENTIMENT_MACRO_F1)
    assert sentiment["accuracy"] == pytest.approx(SENTIMENT_ACCURACY)
    assert sentiment["per_class"][NEU] == pytest.approx({"precision": 2 / 3, "recall": 1.0, "f1": 0.8, "support": 2})
    assert result["intercoder"] is None and result["draws"] == {"random": 10}


def test_validate_agrees_with_sklearn_and_krippendorff_directly(tmp_path):
    import krippendorff
    from sklearn.metrics import cohen_kappa_score, f1_score

    coder = [u[3] for u in UNITS if u[3]]
    model = [u[4] for u in UNITS if u[3]]
    codes = {NEG: -1, NEU: 0, POS: 1}
    result = validate(write_case(tmp_path))["stance"]
    assert result["macro_f1"] == pytest.approx(f1_score(coder, model, labels=[NEG, NEU, POS], average="macro", zero_division=0))
    assert result["macro_f1_present_labels"] == pytest.approx(f1_score(coder, model, average="macro", zero_division=0))
    assert result["cohen_kappa"] == pytest.approx(cohen_kappa_score(coder, model))
    assert result["krippendorff_alpha"] == pytest.approx(krippendorff.alpha(
        reliability_data=[[codes[c] for c in coder], [codes[m] for m in model]], level_of_measurement="nominal"))
    assert result["krippendorff_alpha_ordinal"] == pytest.approx(krippendorff.alpha(
        reliability_data=[[codes[c] for c in coder], [codes[m] for m in model]], level_of_measurement="ordinal"))


def test_validate_per_actor_means_and_article_bootstrap(tmp_path):
    result = validate(write_case(tmp_path), seed=1)
    putin, merz = sorted(result["per_actor"], key=lambda g: g["actor"], reverse=True)
    assert putin["actor"] == "putin" and putin["units"] == 5 and putin["articles"] == 3
    # coder: -1 -1 -1 -1 0 -> -0.8; model labels: -1 -1 -1 0 0 -> -0.6; model scores -0.8·3 + 0 + 0 -> -0.48
    assert putin["coder_mean"] == pytest.approx(-0.8)
    assert putin["model_label_mean"] == pytest.approx(-0.6)
    assert putin["model_score_mean"] == pytest.approx(-0.48)
    assert putin["diff"] == pytest.approx(0.2) and putin["diff_score"] == pytest.approx(0.32)
    assert putin["diff_low"] <= putin["diff"] <= putin["diff_high"]
    assert putin["few"] and merz["few"]  # fewer than 10 units
    # merz: coder 0 0 1 1 1 -> 0.6; model 0 1 1 1 -1 -> 0.4
    assert merz["diff"] == pytest.approx(-0.2)
    assert sorted(g["source"] for g in result["per_source"]) == ["src-1", "src-2", "src-3", "src-4"]
    assert validate(write_case(tmp_path), seed=1)["per_actor"] == result["per_actor"]  # seeded


def test_group_means_one_article_has_no_interval():
    # one article says nothing about another article: no interval (as in stance report), not a zero-width one
    rows = [{"article_id": "a", "actor": "x", "coder": NEG, "model": m, "score": -0.5} for m in (NEG, NEU, POS)]
    group = group_means(rows, "actor")[0]
    assert group["diff"] == pytest.approx(1.0) and group["diff_score"] == pytest.approx(0.5)
    assert group["diff_low"] is group["diff_high"] is group["diff_score_low"] is group["diff_score_high"] is None


def test_group_means_interval_is_the_report_cluster_bootstrap_of_unit_differences():
    from stance.aggregates import bootstrap_interval

    rows = [{"article_id": f"a{i % 4}", "actor": "x", "coder": c, "model": m, "score": s}
            for i, (c, m, s) in enumerate([(NEG, NEG, -0.7), (NEG, NEU, 0.1), (NEU, NEU, 0.0), (POS, NEU, 0.2),
                                           (POS, POS, 0.5), (NEU, NEG, -0.4), (NEG, NEG, -0.9), (NEU, POS, 0.3)])]
    group = group_means(rows, "actor", seed=7, samples=500)[0]
    codes = {NEG: -1.0, NEU: 0.0, POS: 1.0}
    articles = [r["article_id"] for r in rows]
    label_diffs = np.array([codes[r["model"]] - codes[r["coder"]] for r in rows])
    score_diffs = np.array([r["score"] - codes[r["coder"]] for r in rows])
    assert (group["diff_low"], group["diff_high"]) == pytest.approx(
        bootstrap_interval(label_diffs, articles, key="actor:x", samples=500, seed=7))
    assert (group["diff_score_low"], group["diff_score_high"]) == pytest.approx(
        bootstrap_interval(score_diffs, articles, key="actor:x", samples=500, seed=7))
    assert group["diff"] == pytest.approx(label_diffs.mean())


def test_validation_md_shows_no_interval_for_a_one_article_group(tmp_path):
    units = [(f"v{i}", "a1" if i < 3 else f"a{i}", "putin" if i < 3 else "merz", NEG, m, NEG, NEG)
             for i, m in enumerate([NEU, NEG, NEG, POS, NEG, NEG])]
    result = validate(write_case(tmp_path, units))
    putin = next(g for g in result["per_actor"] if g["actor"] == "putin")
    assert putin["articles"] == 1 and putin["diff_low"] is None and putin["diff_high"] is None
    row = next(line for line in render_summary(result).splitlines() if line.startswith("| putin"))
    assert "| +0.33 | – … – |" in row, row


def test_compare_labels_macro_f1_over_all_three_labels_and_over_labels_used():
    from sklearn.metrics import f1_score

    from stance.training import metrics

    coder, model = [NEG, NEG, NEU, NEU], [NEG, NEU, NEU, NEU]
    result = compare_labels(coder, model)
    # the figure of stance evaluate / train --add / model-report: positive, used by neither, counts as F1 0
    assert result["macro_f1"] == pytest.approx(f1_score(coder, model, labels=[NEG, NEU, POS], average="macro", zero_division=0))
    assert result["macro_f1"] == pytest.approx((2 / 3 + 0.8 + 0) / 3) == pytest.approx(metrics(coder, model)["macro_f1"])
    assert result["present_labels"] == [NEG, NEU]
    assert result["macro_f1_present_labels"] == pytest.approx(f1_score(coder, model, average="macro", zero_division=0))
    assert result["macro_f1_present_labels"] == pytest.approx((2 / 3 + 0.8) / 2)
    assert result["per_class"][POS] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 0}


def test_validate_with_an_unused_label_states_both_macro_f1_and_every_class(tmp_path):
    from sklearn.metrics import f1_score

    units = [u for u in UNITS if POS not in (u[3], u[4])]  # nobody says positive for stance
    result = validate(write_case(tmp_path, units))
    coder = [u[3] for u in units if u[3]]
    model = [u[4] for u in units if u[3]]
    stance = result["stance"]
    assert stance["macro_f1"] == pytest.approx(f1_score(coder, model, labels=[NEG, NEU, POS], average="macro", zero_division=0))
    assert stance["macro_f1_present_labels"] == pytest.approx(f1_score(coder, model, average="macro", zero_division=0))
    assert stance["macro_f1"] < stance["macro_f1_present_labels"]
    text = render_summary(result)
    assert f"| stance | {len(coder)} | {stance['macro_f1']:.3f} | {stance['macro_f1_present_labels']:.3f} |" in text
    rows = text.split("## Stance per class")[1].split("## Sentiment")[0]
    for label in (NEG, NEU):
        assert f"| {label} | {stance['per_class'][label]['precision']:.3f} |" in rows
    assert "| positive (used by neither) | 0.000 | 0.000 | 0.000 | 0 |" in rows


def test_compare_labels_undefined_agreement_is_none():
    result = compare_labels([NEU, NEU], [NEU, NEU])
    assert result["accuracy"] == 1.0 and result["krippendorff_alpha"] is None


def test_validate_with_second_coder(tmp_path):
    import krippendorff
    from sklearn.metrics import cohen_kappa_score

    sheet = write_case(tmp_path)
    second = [list(u) for u in UNITS]
    second[4][3], second[7][3], second[10][3] = NEG, NEU, POS  # u05, u08 differ; u11 only coder 2 coded
    coder2 = write_case(tmp_path / "c2", [tuple(u) for u in second[:-1]])  # u12 missing from coder 2's sheet
    inter = validate(sheet, coder2=coder2)["intercoder"]
    first = [u[3] for u in UNITS[:10]]
    other = [u[3] for u in second[:10]]
    assert inter["n_matched"] == 11 and inter["n_only_coder2"] == 0
    coders = inter["stance"]["coders"]
    assert coders["n"] == 10 and coders["agreement"] == pytest.approx(0.8)
    assert coders["cohen_kappa"] == pytest.approx(cohen_kappa_score(first, other))
    codes = {NEG: -1, NEU: 0, POS: 1}
    assert coders["krippendorff_alpha"] == pytest.approx(krippendorff.alpha(
        reliability_data=[[codes[c] for c in first], [codes[c] for c in other]], level_of_measurement="nominal"))
    assert inter["stance"]["model_vs_coder1"]["cohen_kappa"] == pytest.approx(STANCE_KAPPA)
    assert inter["sentiment"]["coders"]["agreement"] == 1.0


def test_cli_validate_writes_folder(tmp_path, capsys):
    sheet = write_case(tmp_path / "w", delimiter=";")
    out = tmp_path / "validation"
    assert main(["validate", str(sheet), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "10 coded unit(s) compared; 2 uncoded row(s) ignored" in printed
    data = json.loads((out / "validation.json").read_text(encoding="utf-8"))
    assert data["n_units"] == 10 and data["stance"]["macro_f1"] == pytest.approx(STANCE_MACRO_F1)
    assert data["stance"]["per_class"]["negative"]["f1"] == pytest.approx(0.75)
    assert data["stance"]["krippendorff_alpha"] == pytest.approx(STANCE_ALPHA)
    assert data["stance"]["cohen_kappa"] == pytest.approx(STANCE_KAPPA)
    assert data["sentiment"]["macro_f1"] == pytest.approx(SENTIMENT_MACRO_F1)
    assert {"per_actor", "per_source", "intercoder", "sheet", "key"} <= set(data)
    assert (out / "confusion_stance.png").read_bytes().startswith(b"\x89PNG")
    assert (out / "validation.md").is_file()
    first = (out / "validation.json").read_bytes()
    assert main(["validate", str(sheet), "--out", str(out), "-q"]) == 0  # replaced as a whole, same bytes
    assert (out / "validation.json").read_bytes() == first
    assert main(["validate", str(sheet), "-q"]) == 0  # default folder beside the sheet
    assert (sheet.parent / "coding_validation" / "validation.json").is_file()


def _edit(sheet: Path, old: str, new: str) -> Path:
    sheet.write_text(sheet.read_text(encoding="utf-8-sig").replace(old, new, 1), encoding="utf-8-sig")
    return sheet


@pytest.mark.parametrize(("old", "new", "message"), [
    ("u03,a2,2025-10-01,src-2,putin,Wladimir Putin,,Heute sprach [[Wladimir Putin]].,,negative",
     "u03,a2,2025-10-01,src-2,putin,Wladimir Putin,,Heute sprach [[Wladimir Putin]].,,mostly negative",
     r"line 4 \(unit u03\), column stance: label: got 'mostly negative'"),
    ("u05,", "u99,", r"line 6: unit 'u99' is not in the key file"),
    ("u05,", "u04,", r"line 6: unit_id 'u04' repeats line 5"),
    ("Heute sprach [[Friedrich Merz]].", "Heute sprach, sagte [[Friedrich Merz]].", r"line 7: 13 fields, but the header has 12"),
    ("[[Wladimir Putin]]", "Wladimir Putin", r"line 2 \(unit u01\): the sentence must mark the target exactly once"),
])
def test_cli_validate_bad_sheet_exit_2_names_the_line(tmp_path, capsys, old, new, message):
    sheet = _edit(write_case(tmp_path), old, new)
    assert main(["validate", str(sheet), "--out", str(tmp_path / "v")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("CodingSheetError: ") and "coding.csv, " in err and "Traceback" not in err
    import re

    assert re.search(message, err), err
    assert not (tmp_path / "v").exists()


def test_cli_validate_nothing_coded_or_no_key(tmp_path, capsys):
    uncoded = [(u[0], u[1], u[2], None, u[4], None, u[6]) for u in UNITS]
    sheet = write_case(tmp_path, uncoded)
    assert main(["validate", str(sheet)]) == 2
    assert "no row is coded yet" in capsys.readouterr().err
    key_path(sheet).unlink()
    assert main(["validate", str(write_case(tmp_path / "b", UNITS, name="other.csv")), "--key", str(tmp_path / "nope.jsonl")]) == 2
    assert "no such key file" in capsys.readouterr().err


def test_validate_rejects_bad_model_label_in_key(tmp_path):
    sheet = write_case(tmp_path)
    path = key_path(sheet)
    path.write_text(path.read_text(encoding="utf-8").replace('"stance": "negative"', '"stance": "bad"', 1), encoding="utf-8")
    with pytest.raises(CodingSheetError, match="has no valid model stance label"):
        validate(sheet)


def test_validate_records_the_model_that_labelled_the_units(tmp_path):
    result = validate(write_case(tmp_path))
    assert result["model"] == {"path": "packaged default (stance 0.2.0)", "sha256": SHA}
    text = render_summary(result)
    assert "Model that labelled the units: packaged default" in text and "(sha256 abababababab…)" in text
    old = validate(write_case(tmp_path / "old", extra={}))  # a key from before the model was recorded
    assert old["model"] is None
    assert any("does not record which model" in note for note in old["warnings"])
    mixed = [dict(MODEL, model_sha256="cd" * 32) if i == 0 else MODEL for i in range(len(UNITS))]
    sheet = write_case(tmp_path / "mixed")
    lines = key_path(sheet).read_text(encoding="utf-8").splitlines()
    key_path(sheet).write_text("".join(json.dumps({**json.loads(line), **extra}) + "\n" for line, extra in zip(lines, mixed)),
                               encoding="utf-8")
    result = validate(sheet)
    assert result["model"] is None and any("2 different models" in note for note in result["warnings"])


def test_validate_notes_a_stratified_draw(tmp_path):
    sheet = write_case(tmp_path, extra={**MODEL, "draw": "stratified", "by": "actor"})
    result = validate(sheet)
    assert result["draws"] == {"stratified": 10} and result["stratified_by"] == "actor"
    assert any("10 of the 10 coded units were drawn stratified by actor: small strata are over-represented" in note
               and "unweighted" in note for note in result["warnings"])
    assert "unweighted" in render_summary(result)
    plain = validate(write_case(tmp_path / "random"))
    assert plain["stratified_by"] is None and not any("stratified" in note for note in plain["warnings"])
