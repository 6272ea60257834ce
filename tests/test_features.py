"""stance.features: the frame features and the lexicon's neutral news words."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.base import clone

from stance.features import NEUTRAL_NEWS_WORDS, FrameFeatures, LexiconFeatures, TargetMasker, TargetText, load_lexicon


def frames(sentence: str, target: str, *others: str) -> dict[str, float]:
    start = sentence.index(target)
    spans = tuple((sentence.index(o), sentence.index(o) + len(o)) for o in others)
    row = TargetText(sentence, ((start, start + len(target)),), spans)
    f = FrameFeatures().fit(None)
    return {name: value for name, value in zip(f.feature_names_, f.transform(TargetMasker().fit_transform([row]))[0]) if value}


@pytest.mark.parametrize("sentence, target, others, present, absent", [
    ("Selenskyj warf Putin Lügen vor.", "Putin", ("Selenskyj",), {"accused"}, {"speaker"}),
    ("Putin warf Selenskyj Lügen vor.", "Putin", ("Selenskyj",), {"speaker", "speaker_neg"}, {"accused"}),
    ("„Wir sind bereit“, sagte Putin.", "Putin", (), {"speaker"}, {"accused"}),
    ("Selenskyj hat Merz für die großzügige Hilfe gedankt.", "Merz", ("Selenskyj",), {"praised", "clause_pos"}, {"speaker"}),
    ("Der Kriegsverbrecher Putin schwieg.", "Putin", (), {"pejorative_next"}, {"speaker"}),
    ("Putins Truppen beschossen Kiew.", "Putins", (), {"harm_by"}, {"harm_against"}),
    ("Der Angriff auf Fico schockierte das Land.", "Fico", (), {"harm_against"}, {"harm_by"}),
    ("Der angeblich friedliche Putin drohte.", "Putin", (), {"distanced"}, set()),
])
def test_features_frames_tell_who_does_what(sentence, target, others, present, absent):
    found = frames(sentence, target, *others)
    assert present <= set(found) and not absent & set(found)


def test_features_frames_without_target_are_zero_and_shape_is_fixed():
    f = FrameFeatures().fit(None)
    matrix = f.transform(TargetMasker().fit_transform([TargetText("Kein Akteur hier.", ((0, 0),))]))
    assert matrix.shape == (1, len(f.feature_names_)) and not matrix.any()
    assert list(f.get_feature_names_out())[0] == "frame_speaker"
    assert clone(FrameFeatures(window=3, drop_neutral_words=True)).get_params() == {"window": 3, "drop_neutral_words": True, "language": "de"}
    with pytest.raises(ValueError, match="window must be >= 1"):
        FrameFeatures(window=0).fit(None)


def test_features_neutral_news_words_leave_the_lexicon_only_on_request():
    assert load_lexicon()["sagte"] == -1 and "sagte" not in load_lexicon(drop_neutral=True)
    assert NEUTRAL_NEWS_WORDS.isdisjoint(load_lexicon(drop_neutral=True))
    assert load_lexicon(drop_neutral=True)["diktator"] == -1
    row = TargetMasker().fit_transform([TargetText("Putin sagte nichts.", ((0, 5),))])
    plain = LexiconFeatures(use_cues=False).fit(None).transform(row)
    dropped = LexiconFeatures(use_cues=False, drop_neutral_words=True).fit(None).transform(row)
    assert plain[0, 1] > 0 and dropped[0, 1] == 0  # sent_neg: "sagte" and "nichts" count only without the drop


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("ab ZßäÖéł-–—,;:()[]„“”\"«»._0 \n\t")), max_size=60))
def test_features_masked_unit_words_and_clauses_match_their_definitions(text):
    """Words are what the word pattern finds (derived from the clause tokens, one regex pass);
    a clause break token opens the next clause."""
    from stance.features import _CLAUSE_BREAKS, _CLAUSE_TOKEN_RE, _WORD_RE, masked_unit

    unit = masked_unit(text)
    assert unit.words == tuple(_WORD_RE.findall(text.lower()))
    assert unit.tokens == tuple(_CLAUSE_TOKEN_RE.findall(text.lower()))
    assert unit.clauses == tuple(sum(t in _CLAUSE_BREAKS for t in unit.tokens[:i + 1]) for i in range(len(unit.tokens)))
    assert all(type(c) is int for c in unit.clauses)  # ints, not the booleans they are counted from
