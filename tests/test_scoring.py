from __future__ import annotations

import datetime as dt

import pytest

import stance
from stance.records import LABELS


def test_scoring_analyze_returns_scored_units(analyzer):
    text = "Selenskyj dankte Macron für die Unterstützung. Putins Truppen beschossen Kiew."
    scored = analyzer.analyze(text, date=dt.date(2025, 10, 21), doc_id="x")
    assert [(m.actor, m.sentence_index) for m in scored] == [("zelensky", 0), ("macron", 0), ("putin", 1)]
    for m in scored:
        assert text[m.start:m.end] == m.surface and m.doc_id == "x"
        assert set(m.stance_proba) == set(LABELS) and sum(m.stance_proba.values()) == pytest.approx(1.0)
        assert m.stance_score == pytest.approx(m.stance_proba["positive"] - m.stance_proba["negative"])
        assert -1 <= m.sentiment_score <= 1
    assert scored[2].stance == "negative"


def test_scoring_same_sentence_same_sentiment(analyzer):
    scored = analyzer.analyze("Trump lobte Putin überschwänglich, Selenskyj widersprach.")
    assert len({(m.sentiment, m.sentiment_score) for m in scored}) == 1


def test_scoring_score_target_outside_registry(analyzer):
    sentence = "Die Opposition wirft Bürgermeister Huber Korruption und Lügen vor."
    start = sentence.index("Huber")
    result = analyzer.score_target(sentence, start, start + 5)
    assert result.stance == "negative" and result.stance_score < 0
    with pytest.raises(ValueError, match="not inside the sentence"):
        analyzer.score_target(sentence, 5, 500)


def test_scoring_score_target_masks_like_analysis(analyzer):
    from stance.features import mask_sentence

    sentence = "Putin sagte, Putin werde mit dem Kremlchef und Trump reden."
    row = analyzer._target_text(sentence, 0, 5)
    assert mask_sentence(row) == "zzziel sagte, zzziel werde mit dem zzziel und zzzakteur reden."
    unit = next(m for m in analyzer.analyze(sentence) if m.actor == "trump")
    expected = analyzer.score_target(sentence, unit.start, unit.end)
    assert unit.stance_proba == pytest.approx(expected.stance_proba)


def test_scoring_explain_names_features(analyzer):
    sentence = "Kritiker werfen Putin Kriegsverbrechen und Lügen vor."
    start = sentence.index("Putin")
    explanation = analyzer.explain(sentence, start, start + 5, top=8)
    assert explanation.stance == analyzer.score_target(sentence, start, start + 5).stance
    assert len(explanation.contributions) == 8
    assert "score=" in str(explanation)


def test_scoring_default_model_metadata(analyzer):
    meta = analyzer.metadata
    assert meta["trained_on"]["stance_rows"] > 5000
    assert "stance_gerntsa_dev" in meta["metrics"]


def test_scoring_load_missing_model_dir(tmp_path):
    with pytest.raises(stance.ModelNotFoundError):
        stance.load(tmp_path / "none")


def test_scoring_no_actor_text(analyzer):
    assert analyzer.analyze("Es regnet in Berlin, und niemand wird genannt.") == []
