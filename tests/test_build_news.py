"""training.build_news: labels joined with the news pool into reference records (no text)."""

from __future__ import annotations

import pytest

from conftest import write_jsonl
from stance.dataset import load_units, sentence_sha256
from training.build_news import build_records, read_labels, read_pool_units

TEXT = " date 2025-06 Streit in Berlin. Kritiker werfen Putin Lügen vor. Der Kanzler schwieg dazu."


@pytest.fixture()
def pool(tmp_path):
    return write_jsonl(tmp_path / "pool.jsonl", [{"id": "Z1", "url": "https://x.de/1", "domain": "x.de", "text": TEXT}])


def test_build_news_writes_references_that_load_back(tmp_path, pool):
    units = read_pool_units(pool)
    assert list(units.detected) == ["news-Z1-s001-putin"]
    labels = write_jsonl(tmp_path / "b.jsonl", [
        {"id": "news-Z1-s001-putin", "stance": "negative", "sentiment": "negative", "note": "reported criticism"},
        {"id": "news-Z1-s002-merz", "added": True, "mention": "Kanzler", "stance": "neutral", "sentiment": "neutral"},
    ])
    records = build_records(units, read_labels([labels]), annotators={str(labels): "session-b"})
    putin, merz = records
    assert "sentence" not in putin and putin["sentence_sha256"] == sentence_sha256("Kritiker werfen Putin Lügen vor.")
    assert TEXT[putin["sentence_start"]:putin["sentence_end"]] == "Kritiker werfen Putin Lügen vor."
    assert (putin["mention"], putin["start"], putin["end"], putin["outlet"], putin["annotator"]) == ("Putin", 16, 21, "x.de", "session-b")
    assert merz["added"] is True and (merz["start"], merz["end"]) == (4, 11)
    loaded = load_units(write_jsonl(tmp_path / "news.jsonl", records), corpora={"news_pool": pool})
    assert [(u.actor, u.stance, u.sentence[u.start:u.end]) for u in loaded] == [("putin", "negative", "Putin"), ("merz", "neutral", "Kanzler")]


def test_build_news_added_unit_that_detection_finds_now_becomes_a_detected_unit(tmp_path, pool):
    labels = write_jsonl(tmp_path / "b.jsonl", [
        {"id": "news-Z1-s001-putin", "added": True, "mention": "Putin", "stance": "negative", "sentiment": "negative"}])
    record, = build_records(read_pool_units(pool), read_labels([labels]), annotators={})
    assert "added" not in record and record["kind"] == "name" and record["stance"] == "negative"


@pytest.mark.parametrize("rows, message", [
    ([], "1 detected units have no label record"),
    ([{"id": "news-Z1-s001-putin", "stance": "neutral", "sentiment": "neutral"},
      {"id": "news-Z1-s001-putin", "added": True, "mention": "Putin", "stance": "neutral", "sentiment": "neutral"}], "is a detected unit"),
    ([{"id": "news-Z1-s001-putin", "stance": "neutral", "sentiment": "neutral"},
      {"id": "news-Z1-s001-merz", "added": True, "mention": "Kanzler", "stance": "neutral", "sentiment": "positive"}], "not in the sentence"),
    ([{"id": "news-Z1-s001-putin", "stance": "bad", "sentiment": "neutral"}], "stance/sentiment must be one of"),
])
def test_build_news_rejects_incomplete_or_wrong_labels(tmp_path, pool, rows, message):
    labels = write_jsonl(tmp_path / "b.jsonl", rows)
    with pytest.raises(ValueError, match=message):
        build_records(read_pool_units(pool), read_labels([labels]), annotators={})
