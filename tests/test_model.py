from __future__ import annotations

import random

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.model_selection import GridSearchCV

import stance.features as features
from conftest import tiny_rows
from stance.config import ModelConfig
from stance.features import LexiconFeatures, NgramTfidf, TargetMasker, TargetText, mask_sentence, polarity_counts
from stance.model import (explain, make_name_blind_pipeline, make_sentiment_pipeline, make_stance_pipeline, score_from_proba,
                          top_features)

CONFIG = ModelConfig(char_ngram_min=2, char_ngram_max=3, use_frames=True, use_structure=True)


@pytest.fixture(scope="module")
def tiny():
    rows = tiny_rows()
    X = [TargetText(r["sentence"], ((r["start"], r["end"]),)) for r in rows]
    return X, [r["stance"] for r in rows], [r["sentiment"] for r in rows]


@pytest.fixture(scope="module")
def fitted(tiny):
    X, y, _ = tiny
    return make_stance_pipeline(CONFIG).fit(X, y)


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
    scores = score_from_proba(proba, fitted.classes_)
    assert np.all((-1 <= scores) & (scores <= 1))
    expected = proba[:, list(fitted.classes_).index("positive")] - proba[:, list(fitted.classes_).index("negative")]
    assert np.allclose(scores, expected)


def test_model_score_reads_classes_not_positions():
    proba = np.array([[0.7, 0.2, 0.1]])
    assert score_from_proba(proba, ["positive", "neutral", "negative"])[0] == pytest.approx(0.6)
    assert score_from_proba(proba, ["negative", "neutral", "positive"])[0] == pytest.approx(-0.6)


def test_model_every_setting_is_a_step_parameter():
    pipeline = make_stance_pipeline(CONFIG)
    params = pipeline.get_params()
    assert params["clf__C"] == 1.0 and params["features__char__ngram_range"] == (2, 3)
    assert params["features__window__window"] == 6 and params["mask__mask_others"] is True
    pipeline.set_params(clf__C=0.3, features__char__ngram_range=(3, 5), features__frames="drop")
    copy = clone(pipeline)
    assert copy.get_params()["clf__C"] == 0.3 and copy.get_params()["features__char__ngram_range"] == (3, 5)
    assert copy.get_params()["features__frames"] == "drop"
    assert clone(make_sentiment_pipeline(CONFIG)).get_params()["features__word__ngram_range"] == (1, 2)


def test_model_grid_search_smoke(tiny):
    X, y, _ = tiny
    search = GridSearchCV(make_stance_pipeline(CONFIG), {"clf__C": [0.5, 2.0], "features__char": ["drop", NgramTfidf(analyzer="char_wb", ngram_range=(2, 3))]},
                          cv=[(np.arange(0, 12), np.arange(12, 18))], scoring="f1_macro", n_jobs=1)
    search.fit(X, y)
    assert len(search.cv_results_["mean_test_score"]) == 4 and search.best_estimator_.predict(X[:2]).shape == (2,)


@pytest.mark.parametrize("bad, error, message", [
    ("Putin lügt.", TypeError, "got a single str"),
    (["Putin lügt."], TypeError, "unit 0: expected a unit"),
    ([{"text": "Putin lügt."}], ValueError, "has no sentence and target spans"),
    (None, TypeError, "got a single NoneType"),
])
def test_model_input_guard(fitted, bad, error, message):
    with pytest.raises(error, match=message):
        fitted.predict_proba(bad)


def test_model_input_accepts_mentions_and_mappings(fitted):
    import stance

    mention = stance.find_mentions("Kritiker werfen Putin Lügen vor.")[0]
    mapping = {"sentence": mention.sentence, "start": mention.target_span[0], "end": mention.target_span[1]}
    assert np.allclose(fitted.predict_proba([mention]), fitted.predict_proba([mapping]))


def test_model_masks_each_unit_once(fitted, tiny, monkeypatch):
    X, _, _ = tiny
    calls = []
    original = features.mask_sentence
    monkeypatch.setattr(features, "mask_sentence", lambda row, **kw: calls.append(row) or original(row, **kw))
    fitted.predict_proba(X)
    assert len(calls) == len(X)


def test_model_masking_target_and_others():
    row = TargetText("Trump kritisierte Putin, Selenskyj schwieg.", ((18, 23),), ((0, 5), (25, 34)))
    assert mask_sentence(row) == "zzzakteur kritisierte zzziel, zzzakteur schwieg."
    assert mask_sentence(row, mask_target=False, mask_others=False) == row.sentence
    assert mask_sentence(row, merge_others=True) == "zzziel kritisierte zzziel, zzziel schwieg."


def test_model_masking_merges_nested_and_overlapping_spans():
    sentence = "Bundeskanzler Olaf Scholz traf Wladimir Putin."
    row = TargetText(sentence, ((31, 45), (40, 45)), ((14, 25), (19, 25), (40, 45)))
    assert mask_sentence(row) == "Bundeskanzler zzzakteur traf zzziel."


def test_model_masking_makes_prediction_independent_of_name(fitted):
    a = TargetText("Kritiker werfen Putin Kriegsverbrechen vor.", ((16, 21),))
    b = TargetText("Kritiker werfen Modi Kriegsverbrechen vor.", ((16, 20),))
    assert np.allclose(fitted.predict_proba([a]), fitted.predict_proba([b]))


ALPHABET = "abcdefghijklmnopqrstuvwxyzäöüßABCDEFGHÄÖÜ0123456789 .,;:!?-–„“\"'()\n\t\u00a0\u2009éçğ€ zzziel"


@pytest.mark.parametrize("settings", [
    {"analyzer": "char_wb", "ngram_range": (2, 5), "min_df": 2},
    {"analyzer": "char_wb", "ngram_range": (3, 6), "min_df": 1},
    {"analyzer": "char_wb", "ngram_range": (4, 5), "min_df": 1},
    {"analyzer": "word", "ngram_range": (1, 2), "min_df": 2},
    {"analyzer": "word", "ngram_range": (1, 3), "min_df": 1, "max_features": 300},
])
def test_model_fast_ngrams_equal_scikit_learn_on_random_text(settings):
    rng = random.Random(sum(settings["ngram_range"]) * 7 + settings["min_df"])
    words = ["".join(rng.choice(ALPHABET[:40]) for _ in range(rng.randint(1, 9))) for _ in range(60)]
    def text() -> str:
        return " ".join(rng.choice(words) if rng.random() < 0.8 else "".join(rng.choice(ALPHABET) for _ in range(rng.randint(1, 12)))
                        for _ in range(rng.randint(0, 25)))
    train, test = [text() for _ in range(300)], [text() for _ in range(300)] + ["", " ", "a", "zzziel"]
    fast = NgramTfidf(**settings).fit(train)
    slow = TfidfVectorizer(sublinear_tf=True, **settings).fit(train)
    assert fast.vocabulary_ == slow.vocabulary_
    difference = fast.transform(test) - slow.transform(test)
    assert difference.nnz == 0 or abs(difference).max() == 0
    assert list(fast.get_feature_names_out()) == list(slow.get_feature_names_out())


@pytest.mark.parametrize("hits, n_rows", [(0, 7), (0, 0), (1, 7), (500, 7), (500, 1)])
def test_model_count_matrix_equals_scipy_duplicate_sum(hits, n_rows):
    import scipy.sparse as sp

    rng = np.random.default_rng(hits)
    rows, cols = rng.integers(0, max(n_rows, 1), hits), rng.integers(0, 30, hits)
    fast = features._count_matrix(rows, cols, n_rows, 30)
    slow = sp.csr_array((np.ones(hits, dtype=np.int64), (rows, cols)), shape=(n_rows, 30))
    slow.sum_duplicates()
    assert fast.has_canonical_format and fast.has_sorted_indices and fast.dtype == np.int64 and fast.shape == slow.shape
    assert np.array_equal(fast.indptr, slow.indptr) and np.array_equal(fast.indices, slow.indices)
    assert fast.indptr.dtype == slow.indptr.dtype and fast.indices.dtype == slow.indices.dtype
    assert np.array_equal(fast.data, slow.data)


def test_model_negation_flips_lexicon_polarity():
    lexicon = {"erfolg": 1, "versagen": -1}
    assert polarity_counts(["ein", "großer", "erfolg"], lexicon) == (1, 0)
    assert polarity_counts(["kein", "großer", "erfolg"], lexicon) == (0, 1)
    assert polarity_counts(["nicht", "versagen"], lexicon) == (1, 0)
    assert polarity_counts(["kein", "a", "b", "c", "erfolg"], lexicon) == (1, 0)


def test_model_deterministic(tiny):
    X, y, _ = tiny
    first = make_stance_pipeline(CONFIG).fit(X, y).predict_proba(X)
    second = make_stance_pipeline(CONFIG).fit(X, y).predict_proba(X)
    assert np.array_equal(first, second)


def test_model_sentiment_model_ignores_target(tiny):
    X, _, sentiment = tiny
    model = make_sentiment_pipeline(CONFIG).fit(X, sentiment)
    moved = [TargetText(x.sentence, ((0, 1),)) for x in X]
    assert np.allclose(model.predict_proba(X), model.predict_proba(moved))


def test_model_name_blind_pipeline_cannot_tell_the_target(tiny):
    X, y, _ = tiny
    model = make_name_blind_pipeline(CONFIG).fit(X, y)
    row = TargetText("Trump lobt Putin.", ((11, 16),), ((0, 5),))
    swapped = TargetText("Trump lobt Putin.", ((0, 5),), ((11, 16),))
    assert np.allclose(model.predict_proba([row]), model.predict_proba([swapped]))


def test_model_unfitted_raises(tiny):
    with pytest.raises(NotFittedError):
        make_stance_pipeline(CONFIG).predict(tiny[0])


def test_model_explain_and_top_features_work_on_any_pipeline_of_this_shape(fitted, tiny):
    row = TargetText("Der Kriegsverbrecher Putin lügt wie immer.", ((21, 26),))
    contributions = explain(fitted, row, top=5)
    assert len(contributions) == 5
    assert all(isinstance(name, str) and isinstance(weight, float) for name, weight in contributions)
    assert abs(contributions[0][1]) >= abs(contributions[-1][1])
    X, y, _ = tiny
    plain = make_stance_pipeline(CONFIG, target_aware=False).fit(X, y)
    assert len(top_features(plain, "negative", top=3)) == 3 and explain(plain, row, top=2)
    assert all("__" in name for name, _ in top_features(fitted, "positive", top=10))


def test_model_structure_features_columns():
    rows = TargetMasker().fit_transform([TargetText("Trump lobte Putin, doch Selenskyj kritisierte ihn scharf.", ((12, 17),), ((0, 5), (24, 33)))])
    lexicon = LexiconFeatures(use_structure=True, use_cues=False).fit(rows)
    names = list(lexicon.get_feature_names_out())
    assert names == ["lex_sent_pos", "lex_sent_neg", "lex_win_pos", "lex_win_neg", "lex_oth_pos", "lex_oth_neg",
                     "lex_has_other", "lex_target_first", "lex_target_opens"]
    values = dict(zip(names, lexicon.transform(rows)[0]))
    assert values["lex_has_other"] == 1 and values["lex_target_first"] == 0 and values["lex_target_opens"] == 1


def test_model_target_visible_variant_keeps_the_window_anchored(tiny):
    X, y, _ = tiny
    visible = make_stance_pipeline(CONFIG).set_params(mask__mask_target=False).fit(X, y)
    window = dict(visible.named_steps["features"].transformer_list)["window"]
    assert len(window.vocabulary_) > 0
    unit = visible.named_steps["mask"].transform([TargetText("Heute lobt Putin den Plan.", ((11, 16),))])[0]
    assert "putin" in unit.lower and unit.targets == (2,)
