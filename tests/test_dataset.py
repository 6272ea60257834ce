from __future__ import annotations

import json

import pytest

from conftest import TRAINING_DATA, needs_external_corpora, tiny_rows, write_jsonl
from stance.dataset import gerntsa_split, load_units, news_split, read_external_corpus, sentence_sha256
from stance.errors import DataValidationError

GOOD = {"id": "c-0001-putin", "doc_id": "c#1", "source": "constructed", "sentence": "Putin lügt.", "actor": "putin",
        "mention": "Putin", "start": 0, "end": 5, "stance": "negative", "sentiment": "negative"}


@needs_external_corpora
def test_dataset_shipped_data_validates():
    units = load_units(TRAINING_DATA)
    sources = {u.source for u in units}
    assert sources == {"sample", "constructed", "gerntsa", "news"}
    assert sum(u.source == "constructed" for u in units) >= 2000
    assert sum(u.source == "sample" for u in units) >= 450
    assert sum(u.source == "gerntsa" for u in units) == 2826


@needs_external_corpora
def test_dataset_news_units_meet_the_size_and_split_rules():
    news = [u for u in load_units(TRAINING_DATA / "news.jsonl") if u.usable]
    assert len(news) >= 4000
    assert len({u.doc_id for u in news}) >= 1000 and len({u.outlet for u in news}) >= 150
    train_outlets = {u.outlet for u in news if u.split == "train"}
    dev_outlets = {u.outlet for u in news if u.split == "dev"}
    assert not train_outlets & dev_outlets
    assert 0.15 <= sum(u.split == "dev" for u in news) / len(news) <= 0.3


def test_dataset_third_party_text_is_stored_by_reference_only():
    for name in ("news.jsonl", "gerntsa.jsonl"):
        for line in (TRAINING_DATA / name).read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            assert "sentence" not in row and "text" not in row
            assert len(row["sentence_sha256"]) == 64 and row["corpus"] in ("news_pool", "gerntsa")


POOL_TEXT = " date 2025-06 Ein Vorspann. Kritiker werfen Putin Lügen vor. Merz lobte Macron."
NEWS = {"id": "news-X1-s001-putin", "doc_id": "news/X1", "source": "news", "corpus": "news_pool", "ref": "X1",
        "url": "https://example.de/a", "outlet": "example.de", "sentence_start": 28, "sentence_end": 60,
        "sentence_sha256": sentence_sha256("Kritiker werfen Putin Lügen vor."), "split": "train",
        "actor": "putin", "mention": "Putin", "start": 16, "end": 21, "stance": "negative", "sentiment": "negative"}


@pytest.fixture()
def pool(tmp_path):
    return write_jsonl(tmp_path / "pool.jsonl", [{"id": "X1", "url": "https://example.de/a", "domain": "example.de", "text": POOL_TEXT}])


def test_dataset_reference_record_reads_its_sentence_from_the_corpus(tmp_path, pool):
    unit = load_units(write_jsonl(tmp_path / "news.jsonl", [NEWS]), corpora={"news_pool": pool})[0]
    assert unit.sentence == "Kritiker werfen Putin Lügen vor." and unit.outlet == "example.de"
    assert unit.sentence[unit.start:unit.end] == "Putin"
    by_folder = load_units(write_jsonl(tmp_path / "news.jsonl", [NEWS]), corpora={"news_pool": pool.parent})[0]
    assert by_folder.sentence == unit.sentence


@pytest.mark.parametrize("change, message", [
    ({"sentence_sha256": "0" * 64}, "does not hash to the stored sentence_sha256"),
    ({"ref": "X9"}, "news_pool has no record 'X9'"),
    ({"sentence": "Kritiker werfen Putin Lügen vor."}, "must not carry the sentence text"),
    ({"corpus": "web"}, "corpus 'web' is not one of"),
    ({"outlet": ""}, "news records need the passage's outlet"),
    ({"split": None}, "news records need a split"),
])
def test_dataset_rejects_bad_reference(tmp_path, pool, change, message):
    path = write_jsonl(tmp_path / "news.jsonl", [{**NEWS, **change}])
    with pytest.raises(DataValidationError, match=message):
        load_units(path, corpora={"news_pool": pool})


def test_dataset_missing_corpus_says_what_is_missing_and_how_to_fix_it(tmp_path):
    path = write_jsonl(tmp_path / "news.jsonl", [NEWS, {**NEWS, "id": "news-X1-s001-trump"}])
    with pytest.raises(DataValidationError) as info:
        load_units(path, corpora={"news_pool": tmp_path / "absent" / "pool.jsonl"})
    assert info.value.problems == (
        f"{path}: 2 units refer by id and offsets to the external corpus 'news_pool', whose text the project does not store, "
        f"and it was not found at {tmp_path / 'absent' / 'pool.jsonl'}; give its path with --pool PATH "
        "(or [corpora] news_pool = \"PATH\" in the training config), or leave this file out of --data",)


def test_dataset_external_corpus_drops_repeated_ids(tmp_path):
    path = write_jsonl(tmp_path / "c.jsonl", [{"id": "a", "text": "x"}, {"id": "b", "text": "y"}, {"id": "a", "text": "z"}])
    assert read_external_corpus(path) == {"b": {"id": "b", "text": "y"}}


def test_dataset_news_split_is_grouped_by_outlet():
    outlets = [f"outlet{i}.de" for i in range(400)]
    splits = [news_split(o) for o in outlets]
    assert splits == [news_split(o.upper()) for o in outlets]
    assert 0.12 < splits.count("dev") / len(splits) < 0.28


@pytest.mark.parametrize("change, message", [
    ({"stance": "sehr negativ"}, "stance 'sehr negativ' is not one of"),
    ({"sentiment": None}, "sentiment None is not one of"),
    ({"actor": "nobody"}, "unknown actor id 'nobody'"),
    ({"sentence": "   "}, "empty sentence"),
    ({"start": 1}, "not the mention 'Putin'"),
    ({"end": 99}, "not a span of the sentence"),
    ({"source": "my source!"}, "source 'my source!' is not a name"),
    ({"source": "mine", "corpus": "news_pool"}, "only the shipped sources .* refer to an external corpus"),
    ({"colour": "red"}, "unknown field"),
    ({"actor_error": True}, "carries no stance"),
    ({"id": ""}, "id must be a non-empty string"),
])
def test_dataset_rejects_bad_row(tmp_path, change, message):
    row = {**GOOD, **change}
    path = write_jsonl(tmp_path / "d.jsonl", [row])
    with pytest.raises(DataValidationError, match=message) as info:
        load_units(path)
    assert f"{path}:1" in str(info.value)


def test_dataset_rejects_missing_field_and_broken_json(tmp_path):
    row = {k: v for k, v in GOOD.items() if k != "mention"}
    path = tmp_path / "d.jsonl"
    path.write_text(json.dumps(row) + "\n{oops\n", encoding="utf-8")
    with pytest.raises(DataValidationError) as info:
        load_units(path)
    problems = info.value.problems
    assert problems == (f"{path}:1: missing field 'mention'", f"{path}:2: invalid JSON: Expecting property name enclosed in double quotes")


def test_dataset_reports_all_problems_at_once(tmp_path):
    rows = [GOOD, {**GOOD, "stance": "positive"}, {**GOOD, "id": "c-0002-putin", "sentiment": "positive", "stance": "negative"},
            {**GOOD, "id": "a-0000-putin"}]
    path = write_jsonl(tmp_path / "d.jsonl", rows)
    with pytest.raises(DataValidationError) as info:
        load_units(path, check_sorted=True)
    text = "\n".join(info.value.problems)
    assert "duplicate id 'c-0001-putin'" in text
    assert "conflicting stance 'positive'" in text
    assert "conflicting sentiment 'positive'" in text
    assert "not sorted by id" in text


def test_dataset_gerntsa_rules(tmp_path):
    row = {**GOOD, "source": "gerntsa", "actor": None, "sentiment": None}
    path = write_jsonl(tmp_path / "g.jsonl", [row])
    with pytest.raises(DataValidationError, match="need a split"):
        load_units(path)
    write_jsonl(path, [{**row, "split": "dev"}])
    assert load_units(path)[0].split == "dev"


def test_dataset_gerntsa_split_is_grouped_and_stable():
    assert gerntsa_split("Ein Satz.") == gerntsa_split("Ein Satz.")
    shares = [gerntsa_split(f"Satz Nummer {i}.") for i in range(2000)]
    assert 0.15 < shares.count("dev") / len(shares) < 0.25


def test_dataset_tiny_rows_valid(tmp_path):
    assert len(load_units(write_jsonl(tmp_path / "t.jsonl", tiny_rows()))) == 18


def test_dataset_training_spans_match_analysis_time_spans():
    from stance.dataset import LabelledUnit
    from stance.features import mask_sentence
    from stance.mentions import find_mentions
    from stance.training import prepare

    sentence = "Wladimir Putin lobte Donald Trump, doch Donald Trump schwieg."
    units = [LabelledUnit(id="u1", doc_id="d", source="constructed", sentence=sentence, actor="trump", mention="Donald Trump",
                          start=21, end=33, stance="neutral", sentiment="neutral", split=None)]
    prepared = prepare(units).inputs[0]
    mention = next(m for m in find_mentions(sentence) if m.actor == "trump")
    assert (prepared.target_spans, prepared.other_spans) == (mention.target_spans, mention.other_spans)
    assert mask_sentence(prepared) == "zzzakteur lobte zzziel, doch zzziel schwieg."


def test_dataset_training_masks_roles_like_undated_analysis():
    from stance.dataset import LabelledUnit
    from stance.features import mask_sentence
    from stance.mentions import find_mentions
    from stance.training import prepare

    sentence = "Der Kremlchef empfing Trump, der US-Sondergesandte Witkoff schwieg."
    units = [LabelledUnit(id=f"u{i}", doc_id="d", source="constructed", sentence=sentence, actor=actor, mention=mention,
                          start=sentence.index(mention), end=sentence.index(mention) + len(mention), stance="neutral",
                          sentiment="neutral") for i, (actor, mention) in enumerate([("trump", "Trump"), ("putin", "Kremlchef")])]
    trump, putin = prepare(units).inputs
    assert mask_sentence(trump) == "Der zzzakteur empfing zzziel, der US-Sondergesandte zzzakteur schwieg."
    assert mask_sentence(putin) == "Der zzziel empfing zzzakteur, der US-Sondergesandte zzzakteur schwieg."
    undated = next(m for m in find_mentions(sentence) if m.actor == "trump")
    assert (trump.target_spans, trump.other_spans) == (undated.target_spans, undated.other_spans)


def test_dataset_labelled_title_masks_like_analysis():
    import datetime as dt

    from stance.dataset import LabelledUnit
    from stance.features import mask_sentence
    from stance.mentions import find_mentions
    from stance.training import prepare

    sentence = "Außenminister Sybiha warf Lawrow Zynismus vor."
    unit = LabelledUnit(id="u", doc_id="d", source="constructed", sentence=sentence, actor="sybiha", mention="Außenminister Sybiha",
                        start=0, end=20, stance="neutral", sentiment="negative")
    prepared = prepare([unit]).inputs[0]
    analysed = next(m for m in find_mentions(sentence, date=dt.date(2025, 10, 21)) if m.actor == "sybiha")
    assert mask_sentence(prepared) == "Außenminister zzziel warf zzzakteur Zynismus vor."
    assert (prepared.target_spans, prepared.other_spans) == (analysed.target_spans, analysed.other_spans)
