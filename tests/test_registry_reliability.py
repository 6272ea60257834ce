"""Reliability of the actor registry, role matching, library input normalisation and model files
(issue #14: r11, r12, r14 and item 13)."""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import json
import logging
import os
import re
import subprocess
import sys
import textwrap
import unicodedata

import numpy as np
import pytest

from conftest import tiny_rows
from stance import persistence
from stance.actors import ActorRegistry, load_actors, registry_from_mapping
from stance.cli import main
from stance.config import ModelConfig
from stance.errors import ActorRegistryError, InputFormatError, ModelIntegrityError, ModelWriteError, StanceError
from stance.features import TargetText
from stance.mentions import find_mentions, normalize_span
from stance.model import make_sentiment_pipeline, make_stance_pipeline
from stance.nlp import ROLE_LABEL, SPANS_KEY, _role_word_forms, load_nlp
from stance.persistence import META_FILE, MODEL_FILE, load_model, save_model

D2025 = dt.date(2025, 10, 21)
LONG_ROLE = " ".join(f"W{i}ort" for i in range(12))  # 5**12 inflection combinations


# --- registry validation (r14) ------------------------------------------------------------------

def _write(tmp_path, name, content):
    path = tmp_path / name
    path.write_text(content if isinstance(content, str) else json.dumps(content), encoding="utf-8")
    return path


def test_registry_replace_as_string_is_an_error_not_true(tmp_path):
    path = _write(tmp_path, "r1.json", {"replace": "false", "actor": [{"id": "habeck", "aliases": ["Habeck"]}]})
    with pytest.raises(ActorRegistryError, match=r"r1.json: 'replace' must be true or false, got a string \('false'\)"):
        load_actors(path)


@pytest.mark.parametrize("actor, message", [
    ({"roles": "Kanzler"}, r"actor 'x': 'roles' must be a list of roles.*got a string \('Kanzler'\)"),
    ({"roles": 5}, r"actor 'x': 'roles' must be a list of roles.*got a number \(5\)"),
    ({"roles": [5]}, r"actor 'x': role #1: expected a table .* got a number"),
    ({"roles": [{"alias": ["Chef"]}]}, r"actor 'x': role #1: 'alias' must be a non-empty string, got a list"),
    ({"roles": [{"alias": "Chef", "sinse": "2020-01-01"}]}, r"role #1: unknown key\(s\) 'sinse'"),
    ({"roles": [{"alias": "Chef", "since": "2025-13-01"}]}, r"role #1: 'since' must be a date \(YYYY-MM-DD\), got a string"),
    ({"roles": [{"alias": "Chef", "until": 20250101}]}, r"role #1: 'until' must be a date .* got a number"),
    ({"roles": [{"alias": "Chef", "since": True}]}, r"role #1: 'since' must be a date .* got a boolean"),
    ({"aliases": "X1"}, r"actor 'x': 'aliases' must be a list of non-empty strings, got a string"),
    ({"aliases": ["X1", 7]}, r"actor 'x': 'aliases' must be a list of non-empty strings; item #2 is a number"),
    ({"aliases": [["X1"]]}, r"'aliases' must be a list of non-empty strings; item #1 is a list"),
    ({"aliases": ["\u200b"]}, r"'aliases' must be a list of non-empty strings; item #1"),
    ({"name": 5}, r"actor 'x': 'name' must be a non-empty string, got a number"),
    ({"extend": "false"}, r"actor 'x': 'extend' must be true or false, got a string"),
    ({"alias": ["X2"]}, r"actor 'x': unknown key\(s\) 'alias'"),
])
def test_registry_field_of_wrong_type_names_file_actor_and_field(tmp_path, actor, message):
    path = _write(tmp_path, "bad.json", {"actor": [{"id": "x", "aliases": ["X1"], **actor}]})
    with pytest.raises(ActorRegistryError, match=message) as info:
        load_actors(path)
    assert str(path) in str(info.value)


@pytest.mark.parametrize("data, message", [
    ({"actor": [{"id": 5, "aliases": ["X1"]}]}, r"actor #1: id a number \(5\) must be lower-case"),
    ({"actor": ["x"]}, r"actor #1: expected a table, got a string"),
    ({"actor": {"id": "x"}}, r"expected a non-empty list of \[\[actor\]\] entries, got a table"),
    ({"actor": [{"id": "x", "aliases": ["X1"]}], "exclude": "Costa Rica"}, r"'exclude' must be a list of non-empty strings"),
    ({"actor": [{"id": "x", "aliases": ["X1"]}], "exlude": ["Costa Rica"]}, r"unknown key\(s\) 'exlude'"),
    ({"actor": [{"id": "x", "aliases": ["X1"]}], "actors": []}, r"'actor' or 'actors', not both"),
    ([1, 2], r"expected a table with an 'actor' list, got a list"),
])
def test_registry_bad_structure_names_problem(tmp_path, data, message):
    path = _write(tmp_path, "bad.json", data)
    with pytest.raises(ActorRegistryError, match=message):
        load_actors(path)


@pytest.mark.parametrize("name, content", [
    ("deep.toml", "a = " + "[" * 100_000 + "]" * 100_000 + "\n"),
    ("deep.json", '{"actor": ' + "[" * 100_000 + "]" * 100_000 + "}"),
    ("deep_role.json", '{"actor": [{"id": "x", "roles": [' + "[" * 5_000 + "]" * 5_000 + "]}]}"),
    ("huge.json", '{"actor": [{"id": "x", "aliases": [' + "9" * 5_000 + "]}]}"),
])
def test_registry_nesting_bombs_and_huge_numbers_are_registry_errors(tmp_path, name, content):
    path = _write(tmp_path, name, content)
    with pytest.raises(ActorRegistryError) as info:
        load_actors(path)
    assert str(path) in str(info.value) and len(str(info.value)) < 500


@pytest.mark.parametrize("content", [
    '{"replace": "false", "actor": [{"id": "habeck", "aliases": ["Habeck"]}]}',
    '{"actor": [{"id": "x", "aliases": ["X1"], "roles": 5}]}',
    '{"actor": ' + "[" * 100_000 + "]" * 100_000 + "}",
])
def test_registry_cli_exits_2_with_the_error(tmp_path, capsys, content):
    path = _write(tmp_path, "bad.json", content)
    assert main(["actors", "--actors", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("ActorRegistryError: ") and "internal error" not in err


def test_registry_role_strings_in_a_list_still_mean_roles_without_a_period(tmp_path):
    path = _write(tmp_path, "ok.json", {"replace": True, "actor": [{"id": "x", "aliases": ["Xaver"], "roles": ["Kanzler"]}]})
    assert [r.alias for r in load_actors(path).get("x").roles] == ["Kanzler"]


@pytest.mark.parametrize("alias, reason", [("A", "one or two letters"), ("die", "stop word"), ("Und", "stop word")])
def test_registry_short_or_stop_word_alias_is_a_warning_not_an_error(tmp_path, caplog, alias, reason):
    path = _write(tmp_path, "weak.json", {"actor": [{"id": "weak_one", "aliases": [alias, "Weakling"]}]})
    with caplog.at_level(logging.WARNING, logger="stance.actors"):
        registry = load_actors(path)
    assert "weak_one" in registry
    warned = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warned) == 1 and "'weak_one'" in warned[0] and repr(alias) in warned[0] and reason in warned[0]


def test_registry_packaged_and_ordinary_aliases_do_not_warn(tmp_path, caplog):
    path = _write(tmp_path, "fine.json", {"actor": [{"id": "habeck", "aliases": ["Habeck", "Robert Habeck"]}]})
    with caplog.at_level(logging.WARNING, logger="stance.actors"):
        load_actors(path)
    assert not caplog.records


def test_registry_nfd_alias_is_normalised_and_matches_nfc_text(tmp_path):
    nfd = unicodedata.normalize("NFD", "Šefčovič")
    path = _write(tmp_path, "nfd.json", {"actor": [{"id": "sefcovic", "name": nfd, "aliases": [nfd + "\u200b"]}]})
    registry = load_actors(path)
    assert registry.get("sefcovic").aliases == ("Šefčovič",) and registry.get("sefcovic").name == "Šefčovič"
    assert [m.actor for m in find_mentions("Šefčovič reiste nach Washington.", actors=registry)] == ["sefcovic"]


# --- role alias expansion is linear (r11) --------------------------------------------------------

def test_nlp_long_role_alias_compiles_in_linear_space(tmp_path):
    """A 12-word role (5**12 inflection combinations) loads and matches under a 3 GB address-space limit."""
    words = LONG_ROLE.split()
    text = "Gestern sprach der " + " ".join(w.lower() + ("en" if i % 2 else "s") for i, w in enumerate(words)) + "."
    code = textwrap.dedent(f"""
        import datetime as dt, resource
        resource.setrlimit(resource.RLIMIT_AS, (3 * 1024 ** 3, 3 * 1024 ** 3))
        from stance.actors import registry_from_mapping
        from stance.mentions import find_mentions
        reg = registry_from_mapping({{"actor": [{{"id": "x", "aliases": ["Xaverius"], "roles": [{LONG_ROLE!r}]}}]}})
        print([(m.actor, m.kind) for m in find_mentions({text!r}, date=dt.date(2025, 1, 1), actors=reg)])
    """)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "[('x', 'role')]"


def test_nlp_role_matcher_matches_every_inflection_combination_of_packaged_roles():
    """The token pattern finds exactly what expanding every combination (the old way) found."""
    registry = load_actors()
    nlp = load_nlp(registry=registry)
    tokenizer = nlp.tokenizer
    checked = 0
    for alias in sorted({r.alias for a in registry.actors for r in a.roles}):
        words = [t.text for t in tokenizer(alias)]
        if not 1 < len(words) <= 3:
            continue
        for combo in itertools.product(*[_role_word_forms(w) for w in words]):
            doc = nlp("Am Montag sagte " + " ".join(combo) + " nichts.")
            keys = {s.id_ for s in doc.spans[SPANS_KEY] if s.label_ == ROLE_LABEL and len(s) == len(words)}
            assert "role:" + alias.lower() in keys, combo
            checked += 1
    assert checked > 1000


# --- library API normalisation (item 13) ---------------------------------------------------------

def test_mentions_find_mentions_normalises_nfd_and_zero_width():
    text = unicodedata.normalize("NFD", "Orbán lobte Pu\u200btin.")
    mentions = find_mentions(text)
    assert [(m.actor, m.surface, m.start, m.end) for m in mentions] == [("orban", "Orbán", 0, 5), ("putin", "Putin", 12, 17)]
    assert mentions[0].sentence == "Orbán lobte Putin."


def test_mentions_offsets_point_into_unchanged_text():
    text = "Am Montag traf Selenskyj in Kiew Merz."
    for m in find_mentions(text):
        assert text[m.start:m.end] == m.surface


def test_mentions_find_mentions_rejects_non_text():
    with pytest.raises(InputFormatError, match="text: got 'bytes', expected a str"):
        find_mentions(b"Putin")  # type: ignore[arg-type]


def test_scoring_analyze_normalises_like_the_corpus_path(analyzer):
    clean = "Orbán lobte Putin für seine Politik."
    dirty = unicodedata.normalize("NFD", clean).replace("Putin", "Pu\u200btin")
    assert [(m.actor, m.start, m.stance_score) for m in analyzer.analyze(dirty)] == \
        [(m.actor, m.start, m.stance_score) for m in analyzer.analyze(clean)]


def test_scoring_score_target_normalises_sentence_and_moves_span(analyzer):
    clean = "Putin lobt Trump, und Putin lacht."
    dirty = "Pu\u200btin lobt Trump, und Putin lacht."
    assert analyzer.score_target(dirty, 0, 6) == analyzer.score_target(clean, 0, 5)


@pytest.mark.parametrize("start, end", [(5, 500), (3, 3), (-1, 2), ("0", 2)])
def test_scoring_score_target_bad_span_is_an_input_error(analyzer, start, end):
    with pytest.raises(InputFormatError, match="not inside the sentence"):
        analyzer.score_target("Putin lacht.", start, end)


def test_mentions_normalize_span_of_only_removed_characters():
    assert normalize_span("Putin lacht.", 0, 5) == ("Putin lacht.", 0, 5)
    with pytest.raises(InputFormatError, match="only characters that normalisation removes"):
        normalize_span("Putin\u200b lacht.", 5, 6)


# --- model files (r12) -----------------------------------------------------------------------------

CONFIG = ModelConfig(char_ngram_min=2, char_ngram_max=3)
PROBE = [TargetText("Kritiker werfen Putin Kriegsverbrechen vor.", ((16, 21),))]


@pytest.fixture(scope="module")
def tiny_models():
    rows = tiny_rows()
    X = [TargetText(r["sentence"], ((r["start"], r["end"]),)) for r in rows]
    stance = make_stance_pipeline(CONFIG).fit(X, [r["stance"] for r in rows])
    sentiment = make_sentiment_pipeline(CONFIG).fit(X, [r["sentiment"] for r in rows])
    return stance, sentiment


@pytest.fixture()
def model_dir(tiny_models, tmp_path):
    folder = tmp_path / "model"
    save_model(folder, stance=tiny_models[0], sentiment=tiny_models[1], metadata={"generation": 1})
    return folder


def _leftovers(folder):
    return sorted(p.name for p in folder.parent.iterdir() if p.name != folder.name)


@pytest.mark.parametrize("step, generation", [(1, 1), (2, 1), (3, 2)])
def test_persistence_killed_save_leaves_a_loadable_model(model_dir, tiny_models, step, generation):
    """Kill the saving process (os._exit) at the ``step``-th rename: the old or the new model loads, whole."""
    code = textwrap.dedent(f"""
        import os
        from stance.persistence import load_model, save_model
        model = load_model({str(model_dir)!r})
        real, count = os.replace, [0]
        def crash(src, dst):
            count[0] += 1
            if count[0] == {step}:
                os._exit(137)
            return real(src, dst)
        os.replace = crash
        # swapped pipelines: an archive that differs from the saved one
        save_model({str(model_dir)!r}, stance=model.sentiment, sentiment=model.stance, metadata={{"generation": 2}})
    """)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == (0 if step == 3 else 137), done.stderr[-2000:]
    loaded = load_model(model_dir)
    assert loaded.metadata["generation"] == generation
    expected = tiny_models[0] if generation == 1 else tiny_models[1]
    assert np.array_equal(loaded.stance.predict_proba(PROBE), expected.predict_proba(PROBE))


@pytest.mark.parametrize("failing", ["replace", "fsync"])
def test_persistence_failed_save_keeps_the_previous_model(model_dir, tiny_models, monkeypatch, failing):
    real = getattr(os, failing)
    calls = []

    def fail_second(*args):
        calls.append(args)
        if len(calls) == 2:
            raise OSError(28, "No space left on device")
        return real(*args)

    monkeypatch.setattr(persistence.os, failing, fail_second)
    with pytest.raises(ModelWriteError, match="No space left on device.*previous model.*unchanged"):
        save_model(model_dir, stance=tiny_models[0], sentiment=tiny_models[1], metadata={"generation": 2})
    monkeypatch.undo()
    assert load_model(model_dir).metadata["generation"] == 1
    assert _leftovers(model_dir) == []


def test_persistence_save_replaces_the_folder_as_a_whole(model_dir, tiny_models):
    save_model(model_dir, stance=tiny_models[0], sentiment=tiny_models[1], metadata={"generation": 2})
    assert load_model(model_dir).metadata["generation"] == 2
    assert sorted(p.name for p in model_dir.iterdir()) == [META_FILE, MODEL_FILE] and _leftovers(model_dir) == []


def test_persistence_refuses_to_replace_a_folder_with_other_files(tmp_path, tiny_models):
    (tmp_path / "notes.txt").write_text("mine", encoding="utf-8")
    with pytest.raises(ModelWriteError, match="not part of a model \\(notes.txt\\)"):
        save_model(tmp_path, stance=tiny_models[0], sentiment=tiny_models[1], metadata={})
    assert (tmp_path / "notes.txt").read_text(encoding="utf-8") == "mine"


def _edit_sidecar(folder, change):
    meta = json.loads((folder / META_FILE).read_text(encoding="utf-8"))
    change(meta)
    (folder / META_FILE).write_text(json.dumps(meta), encoding="utf-8")


@pytest.mark.parametrize("change, message", [
    (lambda m: m.update(versions=[]), "'versions' must be a JSON object, got list"),
    (lambda m: m.update(versions={"stance": 3}), "every entry of 'versions' must be a string"),
    (lambda m: m.pop("versions"), "'versions' is missing"),
    (lambda m: m.pop("format"), "'format' is missing"),
    (lambda m: m.update(format="3"), "'format' must be an integer, got str"),
    (lambda m: m.update(model_sha256=5), "'model_sha256' must be 64 lower-case hex digits"),
    (lambda m: m.update(labels=["negative", "neutral", "great"]), "unknown: 'great'"),
    (lambda m: m.update(labels="negative"), "'labels' must be a list of strings"),
    (lambda m: m.pop("labels"), "'labels' must be a list of strings"),
    (lambda m: m.update(trained_on=[1]), "'trained_on' must be a JSON object"),
])
def test_persistence_malformed_sidecar_is_a_clear_integrity_error(model_dir, change, message):
    _edit_sidecar(model_dir, change)
    with pytest.raises(ModelIntegrityError, match="malformed model metadata: .*" + re.escape(message)):
        load_model(model_dir)


def test_persistence_deeply_nested_sidecar_is_an_integrity_error(model_dir):
    meta = (model_dir / META_FILE).read_text(encoding="utf-8")
    (model_dir / META_FILE).write_text(meta.rstrip()[:-1] + ', "x": ' + "[" * 100_000 + "]" * 100_000 + "}",
                                       encoding="utf-8")
    with pytest.raises(ModelIntegrityError, match="unreadable model metadata"):
        load_model(model_dir)


def test_persistence_archive_with_classes_outside_the_labels_is_refused(model_dir):
    """A hand-made archive whose sidecar hash matches still has to predict known labels."""
    import io

    with np.load(model_dir / MODEL_FILE, allow_pickle=False) as archive:
        arrays = {name: archive[name] for name in archive.files}
    structure = json.loads(str(arrays.pop("structure")))
    key = structure["stance"]["children"][-1][1]["fitted"]["classes_"]["array"]
    arrays[key] = np.asarray(["bad", "neutral", "positive"])
    buffer = io.BytesIO()
    np.savez_compressed(buffer, structure=np.asarray(json.dumps(structure)), **arrays)
    (model_dir / MODEL_FILE).write_bytes(buffer.getvalue())
    _edit_sidecar(model_dir, lambda m: m.update(model_sha256=hashlib.sha256(buffer.getvalue()).hexdigest()))
    with pytest.raises(ModelIntegrityError, match="stance model predicts.*'bad'"):
        load_model(model_dir)


def test_registry_errors_are_stance_errors():
    assert issubclass(ActorRegistryError, StanceError) and issubclass(ModelWriteError, StanceError)
    assert isinstance(registry_from_mapping({"actor": [{"id": "x", "aliases": ["Xaver"]}]}), ActorRegistry)


def test_registry_unknown_metadata_key_is_ignored_with_a_warning(tmp_path, caplog):
    from stance.actors import load_actors

    path = tmp_path / "mine.toml"
    path.write_text('[[actor]]\nid = "habeck"\nname = "Robert Habeck"\naliases = ["Habeck"]\nparty = "Grüne"\n',
                    encoding="utf-8")
    with caplog.at_level("WARNING", logger="stance.actors"):
        registry = load_actors(path)
    assert "habeck" in registry.ids
    assert "'party'" in caplog.text and "ignored" in caplog.text
