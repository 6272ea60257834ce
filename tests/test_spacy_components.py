"""The public spaCy components ``stance_actors`` and ``stance_scorer`` (README, "spaCy")."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys

import pytest
import spacy
from confection import ConfigValidationError

from stance.actors import load_actors, registry_from_mapping
from stance.errors import ActorRegistryError, InputFormatError, ModelNotFoundError, PipelineBuildError
from stance.mentions import find_mentions, mentions_from_doc
from stance.nlp import ACTORS_FILE, ActorMatcher, StanceScorer
from stance.text import normalize_text

JUNE_2025 = dt.date(2025, 6, 1)
JUNE_2024 = dt.date(2024, 6, 1)
TEXTS = [
    "Putins Truppen rücken vor, sagte Selenskyj.",
    "Der Bundeskanzler telefonierte mit Macron. Danach lobte er den Kremlchef nicht.",
    "Der Trump-Putin-Gipfel fiel aus, Ursula von der Leyen reiste ab.",
    "Die Nato verurteilte Lukaschenko für die Repressionen.\n\nDer Bundeskanzler schwieg.",
    "Scholz und der Bundeskanzler stritten, während Merz in Paris war.",
]
EXTRA_ACTOR = {"actor": [{"id": "habeck", "name": "Robert Habeck", "aliases": ["Habeck"],
                          "roles": [{"alias": "Wirtschaftsminister", "since": "2021-12-08", "until": "2025-05-05"}]}]}


def blank(*names: str, **configs: dict) -> spacy.language.Language:
    nlp = spacy.blank("de")
    for name in names:
        nlp.add_pipe(name, config=configs.get(name, {}))
    return nlp


def dated(nlp, text, date):
    doc = nlp.make_doc(text)
    doc._.stance_date = date
    return nlp(doc)


def spans(doc, key="stance_actors"):
    return [(s.start_char, s.end_char, s.label_, s.id_) for s in doc.spans[key]]


@pytest.fixture(scope="module")
def actors_nlp():
    return blank("stance_sentencizer", "stance_actors")


@pytest.fixture(scope="module")
def scorer_nlp():
    return blank("stance_paragraph_splitter", "stance_sentencizer", "stance_actors", "stance_scorer")


@pytest.mark.parametrize("text, expected", [
    ("Putins Truppen rücken vor, sagte Selenskyj.", [("Putins", "NAME", "putin"), ("Selenskyj", "NAME", "zelensky")]),
    ("Der Trump-Putin-Gipfel fiel aus.", [("Trump-Putin-Gipfel", "COMPOUND", "putin"), ("Trump-Putin-Gipfel", "COMPOUND", "trump")]),
    ("Ursula von der Leyens Kommission und Ahmed al-Scharaa.",  # every matching form, overlaps included
     [("Ursula von der Leyens", "NAME", "von_der_leyen"), ("von der Leyens", "NAME", "von_der_leyen"),
      ("Ahmed al-Scharaa", "NAME", "al_sharaa"), ("al-Scharaa", "NAME", "al_sharaa")]),
    ("Urlaub in Costa Rica ist ein Trumpf.", []),
])
def test_spacy_components_actors_found_without_initialize(actors_nlp, text, expected):
    doc = actors_nlp(text)
    assert [(s.text, s.label_, s.id_) for s in doc.spans["stance_actors"]] == expected


def test_spacy_components_role_resolved_by_doc_date(actors_nlp):
    text = "Der Bundeskanzler traf Macron."
    assert spans(dated(actors_nlp, text, JUNE_2025))[0] == (4, 17, "ROLE", "merz")
    assert spans(dated(actors_nlp, text, JUNE_2024))[0] == (4, 17, "ROLE", "scholz")
    assert spans(dated(actors_nlp, text, "2025-06-01"))[0][3] == "merz"  # ISO string
    assert spans(dated(actors_nlp, text, dt.datetime(2025, 6, 1, 12, 0)))[0][3] == "merz"


def test_spacy_components_unresolved_role_left_out_with_holders(actors_nlp):
    doc = actors_nlp("Der Bundeskanzler traf Macron.")
    assert [s.id_ for s in doc.spans["stance_actors"]] == ["macron"]
    (role,) = doc.spans["stance_actors_unresolved"]
    assert (role.text, role.label_, role.id_) == ("Bundeskanzler", "ROLE", "role:bundeskanzler")
    assert {"merz", "scholz"} <= set(role._.stance_role_holders)


def test_spacy_components_bad_doc_date_is_clear(actors_nlp):
    with pytest.raises(InputFormatError, match=r"Doc\._\.stance_date: got 'gestern', expected a datetime\.date"):
        dated(actors_nlp, "Der Kanzler sprach.", "gestern")


def test_spacy_components_extensions_registered_once_and_prefixed():
    from spacy.tokens import Doc, Span

    import stance.nlp

    stance.nlp.register_extensions()  # idempotent
    assert Doc.has_extension("stance_date")
    for name in ("stance", "stance_score", "stance_proba", "stance_role_holders", "stance_sentiment",
                 "stance_sentiment_score", "stance_sentiment_proba"):
        assert Span.has_extension(name)
    assert not Span.has_extension("sentiment") and not Doc.has_extension("sentiment")


def test_spacy_components_initialize_with_registry_object_and_path(tmp_path):
    path = tmp_path / "extra.json"
    path.write_text(json.dumps(EXTRA_ACTOR), encoding="utf-8")
    for registry in (load_actors(path), path, str(path)):
        nlp = blank("stance_actors")
        nlp.get_pipe("stance_actors").initialize(nlp=nlp, registry=registry)
        doc = dated(nlp, "Der Wirtschaftsminister und Habeck trafen Putin.", JUNE_2024)
        assert [s.id_ for s in doc.spans["stance_actors"]] == ["habeck", "habeck", "putin"]
    nlp = blank("stance_actors")
    nlp.initialize()  # spaCy's own initialize: the packaged registry
    assert nlp.get_pipe("stance_actors").registry == load_actors()
    nlp.config["initialize"]["components"]["stance_actors"] = {"registry": str(path)}  # as in a training config
    nlp.initialize()
    assert "habeck" in nlp.get_pipe("stance_actors").registry


def test_spacy_components_initialize_bad_registry_is_clear():
    nlp = blank("stance_actors")
    with pytest.raises(ActorRegistryError, match=r"stance_actors: registry: got 'int', expected an ActorRegistry"):
        nlp.get_pipe("stance_actors").initialize(registry=42)


@pytest.mark.parametrize("factory, config, field", [
    ("stance_actors", {"spans_key": 3}, "spans_key"),
    ("stance_actors", {"resolve_roles": "maybe"}, "resolve_roles"),
    ("stance_actors", {"patterns": []}, "patterns"),
    ("stance_scorer", {"model": 5}, "model"),
])
def test_spacy_components_config_validation_names_the_setting(factory, config, field):
    with pytest.raises(ConfigValidationError, match=rf"{factory} -> {field}"):
        spacy.blank("de").add_pipe(factory, config=config)


def test_spacy_components_missing_model_is_clear(tmp_path):
    with pytest.raises(ModelNotFoundError):
        spacy.blank("de").add_pipe("stance_scorer", config={"model": str(tmp_path / "nope")})


def test_spacy_components_to_disk_spacy_load_round_trip(tmp_path):
    path = tmp_path / "extra.json"
    path.write_text(json.dumps(EXTRA_ACTOR), encoding="utf-8")
    nlp = blank("stance_paragraph_splitter", "stance_sentencizer", "stance_actors")
    nlp.get_pipe("stance_actors").initialize(registry=path)
    nlp.to_disk(tmp_path / "pipeline")
    saved = tmp_path / "pipeline" / "stance_actors" / ACTORS_FILE
    data = json.loads(saved.read_text(encoding="utf-8"))  # plain JSON, no pickle
    assert registry_from_mapping({k: v for k, v in data.items() if k != "source"}, warn=False).ids == \
        nlp.get_pipe("stance_actors").registry.ids
    loaded = spacy.load(tmp_path / "pipeline")
    assert loaded.pipe_names == nlp.pipe_names
    assert loaded.get_pipe("stance_actors").registry == nlp.get_pipe("stance_actors").registry
    for text in [*TEXTS, "Habeck und der Wirtschaftsminister."]:
        for date in (None, JUNE_2024, JUNE_2025):
            before, after = dated(nlp, text, date), dated(loaded, text, date)
            assert spans(after) == spans(before)
            assert spans(after, "stance_actors_unresolved") == spans(before, "stance_actors_unresolved")
    doc = dated(loaded, "Habeck sprach.", None)
    assert [s.id_ for s in doc.spans["stance_actors"]] == ["habeck"]


def test_spacy_components_to_bytes_round_trip():
    nlp = blank("stance_actors")
    other = blank("stance_actors")
    other.get_pipe("stance_actors").from_bytes(nlp.get_pipe("stance_actors").to_bytes())
    assert other.get_pipe("stance_actors").registry == load_actors()


def test_spacy_components_from_disk_missing_file_is_clear(tmp_path):
    with pytest.raises(ActorRegistryError, match="cannot read the saved actor registry"):
        blank("stance_actors").get_pipe("stance_actors").from_disk(tmp_path)


def test_spacy_components_mentions_equal_find_mentions(actors_nlp, corpus):
    nlp = blank("stance_paragraph_splitter", "stance_sentencizer", "stance_actors")
    articles = [a for a in corpus.articles if len(a.text) < 50_000]
    assert articles
    for article in articles:
        text = normalize_text(article.text)
        expected = find_mentions(text, date=article.date, doc_id=article.id)
        assert mentions_from_doc(dated(nlp, text, article.date), doc_id=article.id) == expected
    for text in TEXTS:
        for date in (None, JUNE_2024, JUNE_2025):
            assert mentions_from_doc(dated(nlp, text, date)) == find_mentions(text, date=date)


def _unit_scores(doc):
    units = {}
    for span in doc.spans["stance_actors"]:
        sent = next(i for i, s in enumerate(s for s in doc.sents if s.text.strip()) if s.start <= span.start < s.end)
        units.setdefault((sent, span.id_), (span._.stance, span._.stance_score, span._.stance_proba))
    return units


def test_spacy_components_scorer_equals_analyzer(scorer_nlp, analyzer, corpus):
    cases = [(t, d) for t in TEXTS for d in (None, JUNE_2025)]
    cases += [(normalize_text(a.text), a.date) for a in corpus.articles[:6]]
    for text, date in cases:
        doc = dated(scorer_nlp, text, date)
        expected = analyzer.analyze(text, date=date)
        got = _unit_scores(doc)
        assert set(got) == {(m.sentence_index, m.actor) for m in expected}
        sentences = [s for s in doc.sents if s.text.strip()]
        for m in expected:
            label, score, proba = got[(m.sentence_index, m.actor)]
            assert label == m.stance
            assert score == pytest.approx(m.stance_score, abs=1e-9)
            assert proba == pytest.approx(m.stance_proba, abs=1e-9)
            sent = sentences[m.sentence_index]
            assert sent._.stance_sentiment == m.sentiment
            assert sent._.stance_sentiment_score == pytest.approx(m.sentiment_score, abs=1e-9)
            assert sent._.stance_sentiment_proba == pytest.approx(m.sentiment_proba, abs=1e-9)


def test_spacy_components_scorer_every_sentence_gets_sentiment(scorer_nlp):
    doc = scorer_nlp("Es regnet in Berlin. Putin ließ Kiew bombardieren.")
    assert all(isinstance(s._.stance_sentiment_score, float) and s._.stance_sentiment in ("negative", "neutral", "positive")
               for s in doc.sents)
    assert doc.spans["stance_actors"][0].sent._.stance_sentiment_score == list(doc.sents)[1]._.stance_sentiment_score


def test_spacy_components_scorer_target_score_matches_score_target(scorer_nlp, analyzer):
    sentence = "Selenskyj dankte Merz für die großzügige Unterstützung."
    doc = scorer_nlp(sentence)
    for span in doc.spans["stance_actors"]:
        expected = analyzer.score_target(sentence, span.start_char, span.end_char)
        assert span._.stance_score == pytest.approx(expected.stance_score, abs=1e-9)


def test_spacy_components_scorer_pipe_equals_call(scorer_nlp):
    piped = list(scorer_nlp.pipe(TEXTS, batch_size=2))
    for text, doc in zip(TEXTS, piped):
        single = scorer_nlp(text)
        assert [(s.id_, s._.stance, s._.stance_score) for s in doc.spans["stance_actors"]] == \
            [(s.id_, s._.stance, s._.stance_score) for s in single.spans["stance_actors"]]


def test_spacy_components_scorer_needs_sentences():
    nlp = blank("stance_actors", "stance_scorer")
    with pytest.raises(PipelineBuildError, match="needs sentence boundaries: add 'stance_sentencizer'"):
        nlp("Putin sprach.")


def test_spacy_components_scorer_round_trip_stores_path_not_model(tmp_path, scorer_nlp):
    from stance.resources import default_model_dir

    nlp = blank("stance_sentencizer", "stance_actors", "stance_scorer",
                stance_scorer={"model": str(default_model_dir())})
    nlp.to_disk(tmp_path / "pipeline")
    assert not list((tmp_path / "pipeline").rglob("*.npz")) and not list((tmp_path / "pipeline").rglob("*.joblib"))
    loaded = spacy.load(tmp_path / "pipeline")
    scorer = loaded.get_pipe("stance_scorer")
    assert isinstance(scorer, StanceScorer) and scorer.model == str(default_model_dir())
    text = "Putin ließ Kiew bombardieren."
    got, expected = loaded(text), scorer_nlp(text)
    assert got.spans["stance_actors"][0]._.stance_score == pytest.approx(expected.spans["stance_actors"][0]._.stance_score,
                                                                         abs=1e-12)
    assert isinstance(loaded.get_pipe("stance_actors"), ActorMatcher)


def test_spacy_components_entry_points_work_without_importing_stance():
    code = (
        "import sys, spacy\n"
        "nlp = spacy.blank('de')\n"
        "for name in ('stance_paragraph_splitter', 'stance_sentencizer', 'stance_actors'):\n"
        "    nlp.add_pipe(name)\n"
        "doc = nlp('Der Trump-Putin-Gipfel fiel aus. Selenskyj sprach.')\n"
        "print(sorted({s.id_ for s in doc.spans['stance_actors']}))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "['putin', 'trump', 'zelensky']"


def test_spacy_components_readme_example_runs():
    import doctest
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    section = readme.split("\n## spaCy\n", 1)[1].split("\n## ", 1)[0]
    code = section.split("```python\n", 1)[1].split("```", 1)[0]
    test = doctest.DocTestParser().get_doctest(code, {}, "README spaCy", "README.md", 0)
    runner = doctest.DocTestRunner(optionflags=doctest.NORMALIZE_WHITESPACE)
    runner.run(test)
    assert runner.summarize(verbose=False).failed == 0
