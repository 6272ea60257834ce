"""stance.training (fit): training sides, development splits and the per-actor mean agreement."""

from __future__ import annotations

import pytest

from stance.config import DataPolicy
from stance.dataset import LabelledUnit
from stance.features import TargetText
from stance.training import TrainingSet, actor_mean_agreement, dev_split, training_side


def unit(uid: str, source: str, sentence: str, split: str | None, stance: str = "neutral", doc: str = "d", actor: str = "putin") -> LabelledUnit:
    return LabelledUnit(uid, doc, source, sentence, actor, "Putin", 0, 5, stance, "neutral", split=split)


def data(*units: LabelledUnit) -> TrainingSet:
    return TrainingSet(units, tuple(TargetText(u.sentence, ((u.start, u.end),)) for u in units))


AGENCY = "Putin sprach in Moskau."


def test_training_side_never_holds_a_development_sentence():
    d = data(unit("a", "news", AGENCY, "dev", doc="news/A"), unit("b", "news", AGENCY, "train", doc="news/B"),
             unit("c", "news", "Putin schwieg.", "train"), unit("g", "gerntsa", "Putin lachte.", "dev"),
             unit("s", "sample", "Putin log.", None, "negative"))
    side = training_side(d, "stance", DataPolicy())
    assert [u.id for u in side.units] == ["c", "s"]
    assert [u.id for u in training_side(d, "stance", DataPolicy(), with_dev=True).units] == ["a", "b", "c", "g", "s"]
    without_news = DataPolicy(sources_stance=("sample", "constructed", "gerntsa"))
    assert [u.id for u in training_side(d, "stance", without_news).units] == ["s"]


def test_training_dev_split_counts_sentence_sentiment_once():
    d = data(unit("a", "news", AGENCY, "dev", actor="putin"), unit("b", "news", AGENCY, "dev", actor="trump"),
             unit("c", "news", "Putin schwieg.", "dev"), unit("g", "gerntsa", "Putin lachte.", "dev"))
    assert [u.id for u in dev_split(d, "news").units] == ["a", "b", "c"]
    assert [u.id for u in dev_split(d, "news", "sentiment").units] == ["a", "c"]
    assert [u.id for u in dev_split(d, "gerntsa").units] == ["g"]


def test_training_actor_mean_agreement_needs_enough_units_per_actor():
    units = [unit(str(i), "news", "s", "dev", stance, actor=actor) for i, (actor, stance) in enumerate(
        [("putin", "negative")] * 3 + [("trump", "positive")] * 3 + [("merz", "neutral")] * 3 + [("rare", "positive")])]
    scores = [-0.8] * 3 + [0.6] * 3 + [0.1] * 3 + [0.9]
    result = actor_mean_agreement(units, scores, min_units=3)
    assert result["actors"] == 3 and [r["actor"] for r in result["per_actor"]] == ["merz", "putin", "trump"]
    assert result["mean_abs_error"] == pytest.approx((0.1 + 0.2 + 0.4) / 3)
    assert result["pearson_r"] == pytest.approx(0.98667, abs=1e-4)  # r of (0, -1, 1) and (0.1, -0.8, 0.6)
    assert actor_mean_agreement(units[:2], scores[:2], min_units=3)["pearson_r"] is None


def test_training_cv_fold_never_trains_on_a_copy_of_its_test_sentence(monkeypatch):
    """An extra-source unit with the same sentence as a test unit of a fold is left out of that fold's training."""
    from stance.training import TrainingSet
    from stance.training import fit as training
    from stance.training.fit import _fold

    Unit = type("Unit", (), {})

    def unit(sentence, source):
        u = Unit()
        u.sentence, u.source = sentence, source
        return u

    gold = TrainingSet((unit("A sagt.", "sample"), unit("B sagt.", "sample")), ("in-a", "in-b"))
    extra = TrainingSet((unit(" A  sagt. ", "user"), unit("C sagt.", "user")), ("copy-of-a", "in-c"))
    seen = []

    def fit(side):
        seen.append(side.inputs)
        return "model"

    monkeypatch.setattr(training, "predict", lambda model, inputs: list(inputs))
    assert _fold(gold, extra, [1], [0], fit) == ["in-a"]
    assert seen == [("in-b", "in-c")]
