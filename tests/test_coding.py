"""Coding sheets: drawing, writing, reading back (stance.coding) and `stance sample`."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from stance import __version__
from stance.cli import main
from stance.coding import (
    SHEET_COLUMNS,
    allocate,
    corpus_sentences,
    draw_sample,
    key_path,
    locate_targets,
    parse_label,
    read_coding_sheet,
    read_key,
    restore_text_cells,
    write_coding_sheet,
)
from stance.errors import CodingSheetError, InputFormatError, StanceError

HEADER = ",".join(SHEET_COLUMNS)
ROW = "u1,a#1,2025-10-01,a.txt,putin,Wladimir Putin,,Heute sprach [[Putin]].,,{stance},{sentiment},"


@pytest.fixture(scope="module")
def sentences(sample_result):
    return corpus_sentences(article_ids=set(sample_result.mentions["article_id"]))


def _sheet(tmp_path: Path, text: str, name: str = "coding.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(("sizes", "draws", "expected"), [
    ({"a": 90, "b": 9, "c": 1}, 10, {"a": 8, "b": 1, "c": 1}),
    ({"a": 50, "b": 50}, 10, {"a": 5, "b": 5}),
    ({"a": 5, "b": 3, "c": 2}, 2, {"a": 1, "b": 1, "c": 0}),
    ({"a": 2, "b": 30}, 20, {"a": 1, "b": 19}),
    ({"a": 2, "b": 3}, 50, {"a": 2, "b": 3}),
    ({"a": 100, "b": 1, "c": 1}, 2, {"a": 2, "b": 0, "c": 0}),  # fewer draws than strata: no minimum, all proportional
])
def test_allocate_min_one_per_stratum_then_proportional(sizes, draws, expected):
    assert allocate(sizes, draws) == expected


def test_draw_sample_n_and_stratification(sample_result):
    mentions = sample_result.mentions
    sample = draw_sample(mentions, 60, by="actor", seed=1)
    assert len(sample) == 60 and sample["unit_id"].is_unique
    actors = mentions["actor"].value_counts()
    drawn = sample["actor"].value_counts()
    assert set(drawn.index) == set(actors.index)  # fewer strata than draws: every actor at least once
    expected = allocate(actors.to_dict(), 60)
    assert drawn.to_dict() == {a: c for a, c in expected.items() if c}
    # rows follow the corpus order
    order = {aid: i for i, aid in enumerate(dict.fromkeys(mentions["article_id"]))}
    keys = list(zip(sample["article_id"].map(order), sample["sentence_index"], sample["start"]))
    assert keys == sorted(keys)


def test_draw_sample_by_date_uses_months(sample_result):
    sample = draw_sample(sample_result.mentions, 30, by="date", seed=3)
    months = sample_result.mentions["date"].map(lambda d: d[:7] if isinstance(d, str) else "undated").value_counts()
    assert set(sample["stratum"]) == set(months.index)
    assert sample["stratum"].value_counts().to_dict() == {k: v for k, v in allocate(months.to_dict(), 30).items() if v}


def test_draw_sample_deterministic_per_seed(sample_result):
    mentions = sample_result.mentions
    first = draw_sample(mentions, 40, by="source", seed=7, uncertain=0.25)
    again = draw_sample(mentions, 40, by="source", seed=7, uncertain=0.25)
    other = draw_sample(mentions, 40, by="source", seed=8, uncertain=0.25)
    pd.testing.assert_frame_equal(first, again)
    assert list(first["unit_id"]) != list(other["unit_id"])


def test_draw_sample_uncertain_takes_lowest_max_probability(sample_result):
    mentions = sample_result.mentions
    sample = draw_sample(mentions, 40, seed=2, uncertain=0.25)
    uncertain = sample[sample["draw"] == "uncertain"]
    assert len(uncertain) == 10 and set(sample["draw"]) == {"uncertain", "random"}
    max_proba = mentions[["p_negative", "p_neutral", "p_positive"]].max(axis=1)
    assert uncertain["max_proba"].max() <= max_proba.sort_values().iloc[10]
    assert sorted(uncertain["max_proba"]) == sorted(max_proba.nsmallest(10))


def test_draw_sample_more_than_available_takes_all(sample_result, caplog):
    sample = draw_sample(sample_result.mentions, 10_000, seed=1)
    assert len(sample) == len(sample_result.mentions)
    assert "all units are drawn" in caplog.text


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"n": 0}, "n: got 0"), ({"n": 5, "by": "title"}, "by: got 'title'"), ({"n": 5, "uncertain": 1.5}, "uncertain"),
])
def test_draw_sample_bad_arguments(sample_result, kwargs, match):
    with pytest.raises(CodingSheetError, match=match):
        draw_sample(sample_result.mentions, **kwargs)


def test_locate_targets_marks_the_unit_and_fills_context(sample_result, sentences):
    sample = locate_targets(draw_sample(sample_result.mentions, 50, seed=4), sentences)
    assert len(sample) == 50
    for r in sample.itertuples():
        assert r.sentence[r.target_start:r.target_end] == r.surface
        known = sentences[r.article_id]
        assert r.context_before == (known[r.sentence_index - 1].text if r.sentence_index else "")
        assert r.context_after == (known[r.sentence_index + 1].text if r.sentence_index + 1 < len(known) else "")


def test_sheet_round_trip_gives_the_same_units(tmp_path, sample_result, sentences):
    sample = locate_targets(draw_sample(sample_result.mentions, 60, by="actor", seed=1), sentences)
    for suffix in (".csv", ".jsonl"):
        sheet, key = write_coding_sheet(sample, tmp_path / f"coding{suffix}")
        assert key == key_path(sheet) == tmp_path / "coding.key.jsonl"
        units = read_coding_sheet(sheet)
        assert [(u.unit_id, u.article_id, u.actor, u.sentence, u.start, u.end) for u in units] == list(zip(
            sample["unit_id"], sample["article_id"], sample["actor"], sample["sentence"], sample["target_start"],
            sample["target_end"]))
        assert all(u.stance is None and u.sentiment is None and u.note == "" for u in units)
        assert [u.date for u in units] == [d if isinstance(d, str) else None for d in sample["date"]]


def test_sheet_round_trip_formula_like_cells_and_excel_quote(tmp_path):
    sentences = ["- Putin sagte ab.", "=Putin(1)", "'=schon zitiert, Putin", "@Putin twitterte.", "Putin kam.", "+1 für Putin"]
    frame = pd.DataFrame({
        "article_id": [f"=a#{i}" for i in range(6)], "source": ["@src"] * 6, "date": ["2025-10-01"] * 6, "sentence_index": [0] * 6,
        "actor": ["putin"] * 6, "start": [s.index("Putin") for s in sentences], "end": [s.index("Putin") + 5 for s in sentences],
        "surface": ["Putin"] * 6, "sentence": sentences,
    })
    sample = draw_sample(frame, 6, seed=0)
    sheet, _ = write_coding_sheet(sample, tmp_path / "coding.csv")
    raw = sheet.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    text = raw.decode("utf-8-sig")
    assert "'- [[Putin]] sagte ab." in text and "'=a#0" in text and "''=schon zitiert" in text
    units = read_coding_sheet(sheet)
    assert [u.sentence for u in units] == sentences and [u.article_id for u in units] == list(frame["article_id"])
    assert {u.source for u in units} == {"@src"}
    jsonl, _ = write_coding_sheet(sample, tmp_path / "coding.jsonl")
    assert [u.sentence for u in read_coding_sheet(jsonl)] == sentences  # JSONL keeps values verbatim
    # a spreadsheet that drops the protecting quote on saving: the cell is taken as it is
    _sheet(tmp_path, text.replace("'- [[Putin]]", "- [[Putin]]"), "saved.csv")
    assert read_coding_sheet(tmp_path / "saved.csv")[0].sentence == "- Putin sagte ab."


def test_sheet_has_no_model_labels_and_key_has_them(tmp_path, sample_result, sentences):
    sample = draw_sample(sample_result.mentions, 20, seed=5, uncertain=0.5)
    sheet, key = write_coding_sheet(sample, tmp_path / "coding.csv", sentences=sentences)
    header = sheet.read_text(encoding="utf-8-sig").splitlines()[0].split(",")
    assert tuple(header) == SHEET_COLUMNS
    assert not {"stance_score", "p_negative", "sentiment_score", "max_proba", "draw"} & set(header)
    records = read_key(key)
    assert list(records) == list(sample["unit_id"])
    mentions = sample_result.mentions.set_index(["article_id", "sentence_index", "actor"])
    for record in records.values():
        row = mentions.loc[(record["article_id"], record["sentence_index"], record["actor"])]
        assert record["stance"] == row["stance"] and record["sentiment"] == row["sentiment"]
        assert record["stance_score"] == pytest.approx(row["stance_score"])
        assert record["stance_proba"]["neutral"] == pytest.approx(row["p_neutral"])
        assert record["max_proba"] == pytest.approx(max(row["p_negative"], row["p_neutral"], row["p_positive"]))
        assert (record["article_start"], record["article_end"]) == (row["start"], row["end"])
        assert record["draw"] in ("uncertain", "random")
        assert record["by"] is None and record["sheet"] == "coding.csv"
        assert record["model_path"] is None and record["model_sha256"] is None  # no model given


def test_key_records_the_model_the_sheet_and_the_draw(tmp_path, sample_result, sentences):
    sample = draw_sample(sample_result.mentions, 12, by="source", seed=2)
    model = {"path": "/models/mine", "sha256": "ef" * 32}
    _, key = write_coding_sheet(sample, tmp_path / "coding.jsonl", sentences=sentences, model=model)
    records = list(read_key(key).values())
    assert len(records) == 12
    assert all(r["model_path"] == "/models/mine" and r["model_sha256"] == "ef" * 32 for r in records)
    assert all(r["sheet"] == "coding.jsonl" and r["by"] == "source" and r["draw"] == "stratified" for r in records)


def test_read_coding_sheet_german_excel_semicolons_and_label_variants(tmp_path):
    text = "\ufeff" + HEADER.replace(",", ";") + "\r\n"
    rows = [(" Negative ", "neu"), ("POS", "-1"), ("negativ", "positiv"), ("", " "), ("0", "+1")]
    for i, (stance, sentiment) in enumerate(rows):
        text += f"u{i};a#1;;a.txt;putin;Putin;;Heute sprach [[Putin]].;;{stance};{sentiment};\r\n"
    text += ";;;;;;;;;;;\r\n"  # an empty row a spreadsheet left at the end
    units = read_coding_sheet(_sheet(tmp_path, text))
    assert [(u.stance, u.sentiment) for u in units] == [
        ("negative", "neutral"), ("positive", "negative"), ("negative", "positive"), (None, None), ("neutral", "positive")]
    assert [u.line for u in units] == [2, 3, 4, 5, 6] and units[0].date is None and not units[3].coded


def test_read_coding_sheet_windows_1252(tmp_path, caplog):
    path = tmp_path / "coding.csv"
    path.write_bytes((HEADER + "\n" + ROW.format(stance="neutral", sentiment="") .replace("Heute", "Grüße")).encode("cp1252"))
    assert read_coding_sheet(path)[0].sentence == "Grüße sprach Putin."
    assert "Windows-1252" in caplog.text


def test_allocate_docstrings_tell_what_it_does():
    import doctest

    import stance.coding as coding

    assert "largest strata get one each" not in " ".join((coding.__doc__ or "").split())
    assert ">>> allocate({\"a\": 100, \"b\": 1, \"c\": 1}, 2)" in (allocate.__doc__ or "")
    finder, runner = doctest.DocTestFinder(), doctest.DocTestRunner()
    for test in finder.find(allocate, "allocate", globs={"allocate": allocate}):
        runner.run(test)
    assert runner.summarize(verbose=False).failed == 0


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be"])
def test_read_coding_sheet_utf16_unicode_text_from_excel(tmp_path, caplog, encoding):
    # Excel's "Unicode Text": UTF-16 with a byte order mark, tab separated
    text = HEADER.replace(",", "\t") + "\r\n" + ROW.format(stance="neutral", sentiment="pos").replace(",", "\t") \
        .replace("Heute", "Grüße aus Köln:") + "\r\n"
    bom = {"utf-16": b"", "utf-16-le": b"\xff\xfe", "utf-16-be": b"\xfe\xff"}[encoding]
    path = tmp_path / "coding.csv"
    path.write_bytes(bom + text.encode(encoding))
    unit = read_coding_sheet(path)[0]
    assert (unit.sentence, unit.stance, unit.sentiment) == ("Grüße aus Köln: sprach Putin.", "neutral", "positive")
    assert "Windows-1252" not in caplog.text


def test_parse_label_rejects_unknown():
    with pytest.raises(ValueError, match="label: got 'mixed', expected one of 'negative', 'neutral', 'positive'"):
        parse_label("mixed")


@pytest.mark.parametrize(("text", "match"), [
    (HEADER + "\n" + ROW.format(stance="negative", sentiment="") + "\n" + ROW.format(stance="gut", sentiment="").replace("u1", "u2"),
     r"coding.csv, line 3 \(unit u2\), column stance: label: got 'gut'"),
    (HEADER + "\n" + ROW.format(stance="", sentiment="") + "\n" + ROW.format(stance="", sentiment=""),
     r"coding.csv, line 3: unit_id 'u1' repeats line 2"),
    (HEADER + "\n" + ROW.format(stance="", sentiment="") + "\nu2,a#1,,a.txt,putin,Putin,,Heute, sagte [[Putin]].,,,,",
     r"coding.csv, line 3: 13 fields, but the header has 12"),
    (HEADER + "\n" + ROW.format(stance="", sentiment="").replace("[[Putin]]", "Putin"),
     r"coding.csv, line 2 \(unit u1\): the sentence must mark the target exactly once"),
    (HEADER + "\n" + ROW.format(stance="", sentiment="").replace("[[Putin]]", "[[Putin]] und [[Putin]]"),
     r"line 2 \(unit u1\): the sentence must mark the target exactly once .*found 2"),
    (HEADER + "\n" + ROW.format(stance="", sentiment="").replace("u1,", ",", 1), r"coding.csv, line 2: empty unit_id"),
    (HEADER.replace("sentiment,", "") + "\n", r"coding.csv, line 1: missing column\(s\) sentiment"),
    (HEADER + "\n" + "u1,a#1,,a.txt,putin,Putin,,Heute [[Putin]].,,,\n", r"line 2: 11 fields, but the header has 12"),
])
def test_read_coding_sheet_errors_name_the_line(tmp_path, text, match):
    with pytest.raises(CodingSheetError, match=match) as info:
        read_coding_sheet(_sheet(tmp_path, text))
    assert isinstance(info.value, InputFormatError) and isinstance(info.value, StanceError)


def test_read_coding_sheet_jsonl_errors(tmp_path):
    good = dict.fromkeys(SHEET_COLUMNS, "") | {"unit_id": "u1", "sentence": "Heute sprach [[Putin]].", "stance": "Neutral"}
    path = _sheet(tmp_path, json.dumps(good) + "\n" + json.dumps(good | {"unit_id": "u2", "sentiment": "bad"}) + "\n",
                  "coding.jsonl")
    with pytest.raises(CodingSheetError, match=r"coding.jsonl, line 2 \(unit u2\), column sentiment: label: got 'bad'"):
        read_coding_sheet(path)
    _sheet(tmp_path, json.dumps(good) + "\n{not json\n", "coding.jsonl")
    with pytest.raises(CodingSheetError, match=r"coding.jsonl, line 2: not valid JSON"):
        read_coding_sheet(path)
    assert read_coding_sheet(_sheet(tmp_path, json.dumps(good) + "\n", "ok.jsonl"))[0].stance == "neutral"


def test_read_key_errors(tmp_path):
    with pytest.raises(CodingSheetError, match="no such key file"):
        read_key(tmp_path / "missing.key.jsonl")
    path = _sheet(tmp_path, '{"unit_id": "u1"}\n{"unit_id": "u1"}\n', "k.jsonl")
    with pytest.raises(CodingSheetError, match=r"k.jsonl, line 2: unit_id 'u1' repeats line 1"):
        read_key(path)


def test_restore_text_cells_undoes_report_neutralisation(sample_result):
    from stance.tables import neutralise_formulas

    frame = pd.DataFrame({"sentence": ["- Putin kam.", "=x", "Putin"], "stance_score": [-0.5, 0.1, 0.2]})
    pd.testing.assert_frame_equal(restore_text_cells(neutralise_formulas(frame)), frame)


def test_cli_sample_on_sample_corpus_is_deterministic(tmp_path, capsys, sample_result):
    from stance.resources import sample_corpus_dir

    outs = [tmp_path / "one" / "coding.csv", tmp_path / "two" / "coding.csv"]
    for out in outs:
        assert main(["sample", str(sample_corpus_dir()), "--n", "30", "--by", "actor", "--seed", "3",
                     "--uncertain", "0.2", "--out", str(out), "--jobs", "1"]) == 0
    printed = capsys.readouterr().out
    assert f"30 of {len(sample_result.mentions)} units drawn (24 stratified, 6 uncertain; seed 3)" in printed
    assert outs[0].read_bytes() == outs[1].read_bytes()
    assert key_path(outs[0]).read_bytes() == key_path(outs[1]).read_bytes()
    units = read_coding_sheet(outs[0])
    assert len(units) == 30 and len(read_key(key_path(outs[0]))) == 30
    rows = outs[0].read_text(encoding="utf-8-sig").splitlines()[1:]
    assert all(row.count("[[") == 1 and row.count("]]") == 1 for row in rows)
    from stance.scoring import load

    sha = load().metadata["model_sha256"]
    records = read_key(key_path(outs[0])).values()
    assert {(r["model_path"], r["model_sha256"]) for r in records} == {(f"packaged default (stance {__version__})", sha)}
    assert {r["by"] for r in records if r["draw"] == "stratified"} == {"actor"}


def test_cli_sample_from_saved_mentions_table(tmp_path, sample_result, sentences, caplog):
    from stance.tables import write_mentions

    mentions = write_mentions(sample_result.mentions, tmp_path / "mentions.csv")
    out = tmp_path / "coding.csv"
    assert main(["sample", "--mentions", str(mentions), "--n", "25", "--seed", "9", "--out", str(out), "-q"]) == 0
    assert "context_before/context_after cells are empty" in caplog.text
    units = read_coding_sheet(out)
    expected = locate_targets(draw_sample(sample_result.mentions, 25, seed=9), sentences)
    assert [(u.unit_id, u.sentence, u.start, u.end) for u in units] == list(zip(
        expected["unit_id"], expected["sentence"], expected["target_start"], expected["target_end"]))


def test_cli_sample_refuses_to_overwrite_coded_sheet(tmp_path, capsys):
    out = _sheet(tmp_path, HEADER + "\n" + ROW.format(stance="negative", sentiment=""))
    assert main(["sample", "--mentions", str(tmp_path / "none.csv"), "--out", str(out)]) == 2
    assert "already holds 1 coded row(s)" in capsys.readouterr().err
    assert main(["sample", "--out", str(tmp_path / "coding.xlsx")]) == 2
    capsys.readouterr()
    assert main(["sample", "--out", str(tmp_path / "c.csv"), "--uncertain", "2"]) == 2
    assert "--uncertain must be a share between 0 and 1" in capsys.readouterr().err


def test_cli_sample_refuses_a_key_that_another_sheet_wrote(tmp_path, sample_result, capsys, caplog):
    from stance.tables import write_mentions

    mentions = write_mentions(sample_result.mentions, tmp_path / "mentions.csv")
    work = tmp_path / "work"
    args = ["sample", "--mentions", str(mentions), "--n", "5", "--seed", "9", "-q"]
    assert main([*args, "--out", str(work / "coding.csv")]) == 0
    key = read_key(work / "coding.key.jsonl")
    assert {r["sheet"] for r in key.values()} == {"coding.csv"}
    assert {r["model_sha256"] for r in key.values()} == {None}  # a saved mentions table does not name its model
    assert "cannot name the model" in caplog.text
    before = (work / "coding.key.jsonl").read_bytes()
    # coding.jsonl would share coding.key.jsonl with coding.csv: refused, the key is untouched
    assert main([*args, "--out", str(work / "coding.jsonl")]) == 2
    err = capsys.readouterr().err
    assert "coding.key.jsonl already exists and belongs to coding.csv" in err and "--force" in err
    assert (work / "coding.key.jsonl").read_bytes() == before and not (work / "coding.jsonl").exists()
    # the sheet that wrote the key may be drawn again (it holds no coded rows)
    assert main([*args, "--seed", "10", "--out", str(work / "coding.csv")]) == 0
    # a key whose sheet is gone belongs to no sheet here: refused too
    (work / "coding.csv").unlink()
    assert main([*args, "--out", str(work / "coding.csv")]) == 2
    assert "has no sheet beside it" in capsys.readouterr().err
    assert main([*args, "--out", str(work / "coding.jsonl"), "--force"]) == 0
    assert {r["sheet"] for r in read_key(work / "coding.key.jsonl").values()} == {"coding.jsonl"}
