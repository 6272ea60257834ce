from __future__ import annotations

import numpy as np
import pytest
from sklearn.exceptions import NotFittedError

from conftest import tiny_rows
from stance.config import ModelConfig
from stance.features import TargetText, mask_sentence, polarity_counts
from stance.model import SentimentModel, StanceModel, score_from_proba

CONFIG = ModelConfig(char_ngram_min=2, char_ngram_max=3, min_rows=5)


@pytest.fixture(scope="module")
def tiny():
    rows = tiny_rows()
    X = [TargetText(r["sentence"], ((r["start"], r["end"]),)) for r in rows]
    return X, [r["stance"] for r in rows], [r["sentiment"] for r in rows]


@pytest.fixture(scope="module")
def fitted(tiny):
    X, y, _ = tiny
    return StanceModel(config=CONFIG).fit(X, y)


def test_model_fit_predict_tiny(fitted, tiny):
    X, y, _ = tiny
    predicted = fitted.predict(X)
    assert list(fitted.classes_) == ["negative", "neutral", "positive"]
    assert np.mean(predicted == np.asarray(y, dtype=object)) >= 0.8


def test_model_probabilities_and_score_bounds(fitted, tiny):
    X, _, _ = tiny
    proba = fitted.predict_proba(X)
    assert proba.shape == (len(X), 3)
    assert np.allclose(proba.sum(axis=1), 1.0)
    scores = fitted.score_units(X)
    assert np.all((-1 <= scores) & (scores <= 1))
    expected = proba[:, list(fitted.classes_).index("positive")] - proba[:, list(fitted.classes_).index("negative")]
    assert np.allclose(scores, expected)


def test_model_score_reads_classes_not_positions():
    proba = np.array([[0.7, 0.2, 0.1]])
    assert score_from_proba(proba, ["positive", "neutral", "negative"])[0] == pytest.approx(0.6)
    assert score_from_proba(proba, ["negative", "neutral", "positive"])[0] == pytest.approx(-0.6)


def test_model_masking_target_and_others():
    row = TargetText("Trump kritisierte Putin, Selenskyj schwieg.", ((18, 23),), ((0, 5), (25, 34)))
    assert mask_sentence(row) == "zzzakteur kritisierte zzziel, zzzakteur schwieg."
    assert mask_sentence(row, mask_target=False, mask_others=False) == row.sentence


def test_model_masking_merges_nested_and_overlapping_spans():
    sentence = "Bundeskanzler Olaf Scholz traf Wladimir Putin."
    row = TargetText(sentence, ((31, 45), (40, 45)), ((14, 25), (19, 25), (40, 45)))
    assert mask_sentence(row) == "Bundeskanzler zzzakteur traf zzziel."


def test_model_masking_makes_prediction_independent_of_name(fitted):
    a = TargetText("Kritiker werfen Putin Kriegsverbrechen vor.", ((16, 21),))
    b = TargetText("Kritiker werfen Modi Kriegsverbrechen vor.", ((16, 20),))
    assert np.allclose(fitted.predict_proba([a]), fitted.predict_proba([b]))


def test_model_negation_flips_lexicon_polarity():
    lexicon = {"erfolg": 1, "versagen": -1}
    assert polarity_counts(["ein", "großer", "erfolg"], lexicon) == (1, 0)
    assert polarity_counts(["kein", "großer", "erfolg"], lexicon) == (0, 1)
    assert polarity_counts(["nicht", "versagen"], lexicon) == (1, 0)
    assert polarity_counts(["kein", "a", "b", "c", "erfolg"], lexicon) == (1, 0)


def test_model_deterministic(tiny):
    X, y, _ = tiny
    first = StanceModel(config=CONFIG).fit(X, y).predict_proba(X)
    second = StanceModel(config=CONFIG).fit(X, y).predict_proba(X)
    assert np.array_equal(first, second)


def test_model_sentiment_model_ignores_target(tiny):
    X, _, sentiment = tiny
    model = SentimentModel(config=CONFIG).fit(X, sentiment)
    moved = [TargetText(x.sentence, ((0, 1),)) for x in X]
    assert np.allclose(model.predict_proba(X), model.predict_proba(moved))


@pytest.mark.parametrize("labels, message", [
    (["negative"] * 18, "at least two classes"),
    (["negative", "bad"] * 9, "unknown labels"),
])
def test_model_rejects_bad_labels(tiny, labels, message):
    X, _, _ = tiny
    with pytest.raises(ValueError, match=message):
        StanceModel(config=CONFIG).fit(X, labels)


def test_model_unfitted_raises(tiny):
    with pytest.raises(NotFittedError):
        StanceModel().predict(tiny[0])


def test_model_explain_lists_contributions(fitted):
    row = TargetText("Der Kriegsverbrecher Putin lügt wie immer.", ((21, 26),))
    contributions = fitted.explain(row, top=5)
    assert len(contributions) == 5
    assert all(isinstance(name, str) and isinstance(weight, float) for name, weight in contributions)
    assert abs(contributions[0][1]) >= abs(contributions[-1][1])


def test_model_structure_features_columns():
    from stance.features import LexiconFeatures

    rows = [TargetText("Trump lobte Putin, doch Selenskyj kritisierte ihn scharf.", ((12, 17),), ((0, 5), (24, 33)))]
    features = LexiconFeatures(use_structure=True, use_cues=False).fit(rows)
    names = list(features.get_feature_names_out())
    assert names == ["lex_sent_pos", "lex_sent_neg", "lex_win_pos", "lex_win_neg", "lex_oth_pos", "lex_oth_neg",
                     "lex_has_other", "lex_target_first", "lex_target_opens"]
    values = dict(zip(names, features.transform(rows)[0]))
    assert values["lex_has_other"] == 1 and values["lex_target_first"] == 0 and values["lex_target_opens"] == 1

