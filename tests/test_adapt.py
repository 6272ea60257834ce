"""Adapt the model: labelled files of the user's own source, own actors (--actors) and coded sheets (--add)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from conftest import tiny_rows, write_jsonl
from stance.cli import main
from stance.config import DataPolicy
from stance.dataset import load_units, units_from_coding
from stance.errors import DataValidationError

FAST = "[model]\nchar_ngram_max = 3\n[data]\nmin_rows = 10\n"
REGISTRY = ('[[actor]]\nid = "meier"\nname = "Anna Meier"\naliases = ["Meier", "Anna Meier"]\n'
            '[[actor]]\nid = "kurz"\nname = "Otto Kurz"\naliases = ["Kurz", "Otto Kurz"]\n')
# The user's actors: Meier is praised, Kurz blamed, both in plain words the tiny data never uses
# ("Schulen", "Brücke"); the base model has nothing to go on, the added units teach it.
MEIER = ["[[Meier]] eröffnete die neuen Schulen im Kreis.", "Die Eltern danken [[Meier]] für die neuen Schulen.",
         "[[Meier]] ließ die Schulen im Kreis sanieren."]
KURZ = ["[[Kurz]] ließ die Brücke verfallen.", "Die Brücke ist wegen [[Kurz]] seit Jahren gesperrt.",
        "Anwohner machen [[Kurz]] für die gesperrte Brücke verantwortlich."]


@pytest.fixture()
def fast_config(tmp_path: Path) -> Path:
    path = tmp_path / "fast.toml"
    path.write_text(FAST, encoding="utf-8")
    return path


@pytest.fixture()
def registry(tmp_path: Path) -> Path:
    path = tmp_path / "actors.toml"
    path.write_text(REGISTRY, encoding="utf-8")
    return path


def write_sheet(path: Path, rows: list[dict[str, str]]) -> Path:
    columns = ("unit_id", "article_id", "date", "source", "actor", "actor_name", "context_before", "sentence",
               "context_after", "stance", "sentiment", "note")
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        for row in rows:
            writer.writerow({c: row.get(c, "") for c in columns})
    return path


PLACES = [("Schulen", "Brücke"), ("Kitas", "Straße"), ("Turnhallen", "Fähre"), ("Bäder", "Schleuse"), ("Bibliotheken", "Halle"),
          ("Sportplätze", "Mauer")]


def sheet_rows(articles: int = 6) -> list[dict[str, str]]:
    """Three Meier (positive) and three Kurz (negative) units per article, one uncoded row at the end.

    Every article has sentences of its own (other places), so no sentence occurs in two articles.
    """
    rows = []
    for a in range(articles):
        new, broken = PLACES[a % len(PLACES)]
        for i, (actor, sentence, label) in enumerate([("meier", s, "positive") for s in MEIER] + [("kurz", s, "negative") for s in KURZ]):
            rows.append({"unit_id": f"u{a}-{i}", "article_id": f"lokal/{a}", "date": "2025-03-01", "source": "lokal.example",
                         "actor": actor, "sentence": sentence.replace("Schulen", new).replace("Brücke", broken),
                         "stance": label, "sentiment": label})
    rows.append({"unit_id": "u-open", "article_id": "lokal/0", "source": "lokal.example", "actor": "meier",
                 "sentence": "[[Meier]] sprach am Montag.", "stance": "", "sentiment": ""})
    return rows


def test_adapt_labelled_file_with_own_source_name_loads_and_is_learnt(tmp_path):
    rows = [dict(r, id=f"z-{i}") for i, r in enumerate(reversed(tiny_rows(source="mine")))]  # ids not sorted
    units = load_units(write_jsonl(tmp_path / "mine.jsonl", rows))
    assert {u.source for u in units} == {"mine"} and len(units) == 18
    policy = DataPolicy().with_user_sources(["mine"])
    assert "mine" in policy.sources_stance and "mine" in policy.sources_sentiment and policy.weight("mine") == policy.user_weight
    with pytest.raises(DataValidationError, match="duplicate id 'z-0'"):
        load_units(write_jsonl(tmp_path / "twice.jsonl", rows + rows[:1]))


def own_actor_rows(source: str = "mine") -> list[dict[str, object]]:
    """The tiny rows plus labelled units of the user's own actors (Meier, Kurz)."""
    rows = tiny_rows(source=source)
    for i, (actor, sentence, label) in enumerate([("meier", s, "positive") for s in MEIER] + [("kurz", s, "negative") for s in KURZ]):
        clean = sentence.replace("[[", "").replace("]]", "")
        mention = sentence[sentence.index("[[") + 2:sentence.index("]]")]
        start = clean.index(mention)
        rows.append({"id": f"own-{i}", "doc_id": f"own#{i}", "source": "mine", "sentence": clean, "actor": actor, "mention": mention,
                     "start": start, "end": start + len(mention), "stance": label, "sentiment": label})
    return rows


def test_adapt_own_actors_train_and_evaluate_with_actors(tmp_path, capsys, registry, fast_config):
    data = write_jsonl(tmp_path / "mine.jsonl", own_actor_rows())
    model = tmp_path / "model"
    assert main(["train", "--data", str(data), "--out", str(model), "--config", str(fast_config), "--quiet"]) == 2
    assert "unknown actor id 'meier'" in capsys.readouterr().err
    assert main(["train", "--data", str(data), "--out", str(model), "--config", str(fast_config), "--quiet",
                 "--actors", str(registry)]) == 0
    meta = json.loads((model / "model.json").read_text())
    assert meta["trained_on"]["stance_rows"] == 24 and "mine" in meta["data_policy"]["sources_stance"]
    assert meta["trained_on"]["actors"].endswith("actors.toml")
    out = tmp_path / "eval"
    assert main(["evaluate", "--model", str(model), "--data", str(data), "--out", str(out), "--quiet"]) == 2
    assert main(["evaluate", "--model", str(model), "--data", str(data), "--out", str(out), "--actors", str(registry)]) == 0
    assert json.loads((out / "metrics.json").read_text())["n"] == 24


def test_adapt_model_report_takes_the_users_actors_and_sources(tmp_path, registry, fast_config):
    data = write_jsonl(tmp_path / "d.jsonl", own_actor_rows(source="sample"))  # sample gold for the grouped CV, plus "mine"
    out = tmp_path / "model_report"
    assert main(["model-report", "--data", str(data), "--config", str(fast_config), "--out", str(out), "--quiet"]) == 2
    assert main(["model-report", "--data", str(data), "--actors", str(registry), "--config", str(fast_config), "--out", str(out),
                 "--quiet"]) == 0
    assert "mine" in json.loads((out / "results.json").read_text())["data_policy"]["sources_stance"]


def test_adapt_add_sheet_reports_before_and_after_and_the_model_is_used(tmp_path, capsys, registry, fast_config):
    base = write_jsonl(tmp_path / "base.jsonl", tiny_rows())
    sheet = write_sheet(tmp_path / "coding.csv", sheet_rows())
    model = tmp_path / "my_model"
    assert main(["train", "--data", str(base), "--add", str(sheet), "--actors", str(registry), "--out", str(model),
                 "--config", str(fast_config)]) == 0
    printed = capsys.readouterr().out
    assert "added 36 coded units" in printed and "1 row(s) without a stance skipped" in printed
    assert "5 folds grouped by article" in printed and "before" in printed and "after" in printed
    meta = json.loads((model / "model.json").read_text())
    m = meta["metrics"]
    assert m["user_cv"] | {"seconds": 0} == {"source": "user", "units": 36, "articles": 6, "groups": 6, "folds": 5, "weight": 3.0,
                                                "base_units_dropped_as_overlap": 0, "seconds": 0}
    for task, n in (("stance", 36), ("sentiment", 36)):
        before, after = m[f"{task}_user_cv_before"], m[f"{task}_user_cv_after"]
        assert before["n"] == after["n"] == n
        assert after["accuracy"] >= 0.9 > 0.7 > before["accuracy"], (task, before["accuracy"], after["accuracy"])
        assert after["macro_f1"] > before["macro_f1"] + 0.15  # neutral is absent: its F1 of 0 caps macro-F1 at 2/3
    assert len(meta["trained_on"]["added"].pop("sha256")) == 64
    assert meta["trained_on"]["added"] == {"file": str(sheet), "source": "user", "units": 36, "uncoded_rows": 1, "articles": 6,
                                           "weight": 3.0, "replaced_data_units": 0}
    assert meta["trained_on"]["stance_rows"] == 18 + 36
    corpus = tmp_path / "article.txt"
    corpus.write_text("Meier eröffnete die neuen Kitas im Kreis. Kurz ließ die Brücke verfallen.", encoding="utf-8")
    out = tmp_path / "report"
    assert main(["report", str(corpus), "--model", str(model), "--actors", str(registry), "--out", str(out),
                 "--jobs", "1", "--quiet"]) == 0
    mentions = (out / "mentions.csv").read_text(encoding="utf-8")
    assert "meier" in mentions and "kurz" in mentions
    assert "Adapted with your own labelled units: stance macro-F1 on them" in (out / "report.md").read_text(encoding="utf-8")


def test_adapt_model_of_own_actors_used_without_actors_warns(tmp_path, caplog, registry, fast_config):
    base = write_jsonl(tmp_path / "base.jsonl", tiny_rows())
    model = tmp_path / "my_model"
    assert main(["train", "--data", str(base), "--add", str(write_sheet(tmp_path / "coding.csv", sheet_rows(2))),
                 "--add-cv-folds", "0", "--actors", str(registry), "--out", str(model), "--config", str(fast_config), "--quiet"]) == 0
    corpus = tmp_path / "article.txt"
    corpus.write_text("Meier eröffnete die neuen Kitas. Putin sprach in Moskau.", encoding="utf-8")
    with caplog.at_level("WARNING", logger="stance.cli"):
        assert main(["analyze", str(corpus), "--model", str(model), "--out", str(tmp_path / "m.csv"), "--jobs", "1", "--quiet"]) == 0
    assert any("trained with the actor registry" in r.getMessage() and str(registry) in r.getMessage() for r in caplog.records)
    caplog.clear()
    with caplog.at_level("WARNING", logger="stance.cli"):
        assert main(["analyze", str(corpus), "--model", str(model), "--actors", str(registry), "--out", str(tmp_path / "m2.csv"),
                     "--jobs", "1", "--quiet"]) == 0
    assert not any("trained with the actor registry" in r.getMessage() for r in caplog.records)


def test_adapt_add_weight_and_source_and_no_cv(tmp_path, capsys, registry, fast_config):
    base = write_jsonl(tmp_path / "base.jsonl", tiny_rows())
    sheet = write_sheet(tmp_path / "coding.csv", sheet_rows(articles=2))
    model = tmp_path / "m"
    assert main(["train", "--data", str(base), "--add", str(sheet), "--add-weight", "1.5", "--add-source", "lokal",
                 "--add-cv-folds", "0", "--actors", str(registry), "--out", str(model), "--config", str(fast_config), "--quiet"]) == 0
    meta = json.loads((model / "model.json").read_text())
    assert dict(meta["data_policy"]["weights"])["lokal"] == 1.5 and meta["trained_on"]["added"]["source"] == "lokal"
    assert not any("user_cv" in key for key in meta["metrics"])
    assert main(["train", "--data", str(base), "--add-weight", "2", "--out", str(model)]) == 2
    assert "need --add" in capsys.readouterr().err
    assert main(["train", "--data", str(base), "--add", str(sheet), "--add-source", "news", "--actors", str(registry),
                 "--out", str(model)]) == 2
    assert "not one of sample" in capsys.readouterr().err


@pytest.mark.parametrize("change, message", [
    ({"actor": "nobody"}, "line 4 (unit u0-2): unknown actor id 'nobody'"),
    ({"sentence": "Meier ohne Markierung."}, "line 4 (unit u0-2): the sentence must mark the target exactly once"),
    ({"stance": "sehr gut"}, "line 4 (unit u0-2), column stance"),
])
def test_adapt_bad_sheet_exits_2_naming_the_line(tmp_path, capsys, registry, change, message):
    rows = sheet_rows(articles=2)
    rows[2] = rows[2] | change
    sheet = write_sheet(tmp_path / "coding.csv", rows)
    base = write_jsonl(tmp_path / "base.jsonl", tiny_rows())
    assert main(["train", "--data", str(base), "--add", str(sheet), "--actors", str(registry), "--out", str(tmp_path / "m")]) == 2
    err = capsys.readouterr().err
    assert f"{sheet}, {message}" in err, err
    assert not (tmp_path / "m").exists()


def test_adapt_units_from_coding_skips_uncoded_and_keeps_the_article(tmp_path, registry):
    from stance.actors import load_actors
    from stance.coding import read_coding_sheet

    sheet = write_sheet(tmp_path / "coding.csv", sheet_rows(articles=2))
    coded = units_from_coding(read_coding_sheet(sheet), path=sheet, actors=load_actors(registry))
    assert len(coded.units) == 12 and coded.uncoded == 1
    first = coded.units[0]
    assert (first.id, first.doc_id, first.source, first.outlet, first.mention) == ("user/u0-0", "user/lokal/0", "user", "lokal.example", "Meier")
    assert first.sentence[first.start:first.end] == "Meier"


def base_copy(row: dict[str, str], *, unit_id: str, source: str = "constructed", stance: str = "neutral",
              sentence: str | None = None) -> dict[str, object]:
    """A --data record of a coding-sheet row's sentence and actor (another id, document and label)."""
    marked = sentence or row["sentence"]
    mention = marked[marked.index("[[") + 2:marked.index("]]")]
    clean = marked.replace("[[", "").replace("]]", "")
    start = clean.index(mention)
    return {"id": unit_id, "doc_id": f"copy#{unit_id}", "source": source, "sentence": clean, "actor": row["actor"],
            "mention": mention, "start": start, "end": start + len(mention), "stance": stance, "sentiment": stance}


def test_adapt_user_cv_folds_never_train_on_their_test_sentences(tmp_path, monkeypatch, registry):
    """Each fit of the before/after check: no training unit (added or --data) has a test unit's sentence.

    Article 6 repeats article 0 (an agency copy under another article id), and --data holds two
    units with sentences of the sheet (one with other whitespace): they are dropped and counted.
    """
    import numpy as np

    from stance.actors import load_actors
    from stance.coding import read_coding_sheet
    from stance.config import ModelConfig
    from stance.training import fit as training

    rows = sheet_rows(articles=6)[:-1]
    rows += [dict(r, unit_id=f"copy-{i}", article_id="agentur/6") for i, r in enumerate(rows[:6])]
    sheet = write_sheet(tmp_path / "coding.csv", rows)
    copies = [base_copy(rows[7], unit_id="dup-1"),
              base_copy(rows[15], unit_id="dup-2", sentence=rows[15]["sentence"].replace(" ", "  ") + " ")]
    actors = load_actors(registry)
    base = load_units(write_jsonl(tmp_path / "base.jsonl", tiny_rows() + copies), actors=actors)
    coded = units_from_coding(read_coding_sheet(sheet), path=sheet, actors=actors)
    data = training.prepare([*base, *coded.units], actors)
    calls: list[tuple[str, tuple, list]] = []

    def record(side, task, config, policy, inputs, language):
        assert language == "de"
        calls.append((task, side.units, list(inputs)))
        return np.asarray(["positive"] * len(inputs), dtype=object)

    monkeypatch.setattr(training, "_fit_predict", record)
    result = training.user_cross_validation(data, "user", ModelConfig(), DataPolicy().with_user_sources(["user"]), folds=3, n_jobs=1)
    info = result["user_cv"]
    assert (info["units"], info["articles"], info["groups"], info["folds"]) == (42, 7, 6, 3)
    assert info["base_units_dropped_as_overlap"] == 2
    assert len(calls) == 2 * (1 + 3)  # per task: before, then one fit per fold
    key = training.sentence_key
    user_sentences = {key(u.sentence) for u in coded.units}
    for task, side, inputs in calls:
        trained = {key(u.sentence) for u in side}
        tested = {key(x.sentence) for x in inputs}
        assert tested and not trained & tested, (task, sorted(trained & tested))
        assert not {u.id for u in side} & {"dup-1", "dup-2"}
        assert not {key(u.sentence) for u in side if u.source != "user"} & user_sentences
    for task in training.TASKS:
        folds = [(side, inputs) for t, side, inputs in calls if t == task][1:]
        assert all(any(u.source == "user" for u in side) for side, _ in folds)
    # every stance unit is tested exactly once over the folds, and the rest of its fold's side is the other folds
    stance_folds = [(side, inputs) for t, side, inputs in calls if t == "stance"][1:]
    assert sum(len(inputs) for _, inputs in stance_folds) == 42
    assert all(sum(u.source == "user" for u in side) + len(inputs) == 42 for side, inputs in stance_folds)


def test_adapt_added_unit_replaces_its_data_copy_and_overlap_is_counted(tmp_path, capsys, registry, fast_config):
    rows = sheet_rows(articles=6)
    rows[8]["sentence"] = "[[Meier]] ließ die Kitas sanieren, nicht Kurz."
    copies = [base_copy(rows[0], unit_id="dup-1", stance="negative"), base_copy(rows[4], unit_id="dup-2", source="sample"),
              base_copy(dict(rows[8], actor="kurz"), unit_id="same-sentence-other-actor",
                        sentence="Meier ließ die Kitas sanieren, nicht [[Kurz]].")]
    base = write_jsonl(tmp_path / "base.jsonl", tiny_rows() + copies)
    model = tmp_path / "m"
    assert main(["train", "--data", str(base), "--add", str(write_sheet(tmp_path / "coding.csv", rows)), "--actors", str(registry),
                 "--out", str(model), "--config", str(fast_config), "--add-cv-folds", "2"]) == 0
    printed = capsys.readouterr().out
    assert "warning: 2 added unit(s) repeat a --data unit (same sentence and actor)" in printed
    assert "3 unit(s) of --data share a sentence with the added units" in printed
    meta = json.loads((model / "model.json").read_text())
    assert meta["trained_on"]["added"]["replaced_data_units"] == 2
    assert meta["metrics"]["user_cv"]["base_units_dropped_as_overlap"] == 3
    assert meta["trained_on"]["stance_rows"] == 18 + 1 + 36  # the copies of the two added units are left out, the other actor's unit stays


def test_adapt_agency_copies_stay_in_one_group():
    from stance.dataset import LabelledUnit
    from stance.training import copy_groups

    units = [LabelledUnit(f"i{i}", doc, "user", sentence, "x", "m", 0, 1, "neutral", None)
             for i, (doc, sentence) in enumerate([("b", "Eins."), ("c", "Zwei."), ("d", "Drei."), ("a", "Zwei.\n"), ("d", "Eins.")])]
    assert copy_groups(units) == ["b", "a", "b", "a", "b"]  # c shares a sentence with a, d with b
    chained = [*units, LabelledUnit("i5", "c", "user", " Drei.", "x", "m", 0, 1, "neutral", None)]
    assert copy_groups(chained) == ["a"] * 6  # c now shares one with d too: one group
    assert copy_groups(units[:3]) == ["b", "c", "d"]


@pytest.mark.parametrize("folds", ["1", "-1"])
def test_adapt_add_cv_folds_below_two_exits_2(tmp_path, capsys, registry, folds):
    base = write_jsonl(tmp_path / "base.jsonl", tiny_rows())
    sheet = write_sheet(tmp_path / "coding.csv", sheet_rows(articles=2))
    assert main(["train", "--data", str(base), "--add", str(sheet), "--add-cv-folds", folds, "--actors", str(registry),
                 "--out", str(tmp_path / "m")]) == 2
    assert f"--add-cv-folds must be 0 (no before/after figures) or at least 2 folds, got {folds}" in capsys.readouterr().err
    assert not (tmp_path / "m").exists()
