from __future__ import annotations

import pandas as pd

import stance
from stance import pipeline


def test_pipeline_two_workers_give_identical_tables(monkeypatch, analyzer, sample_result):
    monkeypatch.setattr(pipeline, "IN_PROCESS_BATCHES", 0)
    monkeypatch.setattr(pipeline, "BATCH_ARTICLES", 3)
    parallel = stance.analyze_corpus(analyzer=analyzer, jobs=2)
    pd.testing.assert_frame_equal(parallel.mentions, sample_result.mentions)
    pd.testing.assert_frame_equal(parallel.articles, sample_result.articles)


def test_pipeline_result_accounts_for_every_article(sample_result):
    articles = sample_result.articles
    assert list(articles["status"].value_counts().sort_index().items()) == [("duplicate", 1), ("ok", 13)]
    ok = articles[articles["status"] == "ok"]
    assert ok["units"].sum() == len(sample_result.mentions)
    assert set(sample_result.mentions["article_id"]) <= set(ok["article_id"])
    assert any("2026-10-21" in w for w in sample_result.warnings)


def test_pipeline_mention_offsets_point_into_article_text(sample_result, corpus):
    texts = {a.id: a.text for a in corpus.articles}
    for row in sample_result.mentions.itertuples():
        assert texts[row.article_id][row.start:row.end] == row.surface
        assert row.sentence in texts[row.article_id]


def test_pipeline_custom_actor_registry(tmp_path, analyzer):
    registry = tmp_path / "a.toml"
    registry.write_text('replace = true\n[[actor]]\nid = "rutte"\nname = "Mark Rutte"\naliases = ["Rutte"]\n', encoding="utf-8")
    result = stance.analyze_corpus(analyzer=analyzer, actors=registry, jobs=1)
    assert set(result.mentions["actor"]) == {"rutte"}


class _DyingExecutor:
    """Stands in for the worker pool: its worker dies holding the two batches it was given."""

    def __init__(self) -> None:
        self.futures: list = []

    @property
    def submitted(self) -> int:
        return len(self.futures)

    def submit(self, function, *args):
        from concurrent.futures import Future
        from concurrent.futures.process import BrokenProcessPool

        future: Future = Future()
        self.futures.append(future)
        if len(self.futures) == 2:
            for held in self.futures:
                held.set_exception(BrokenProcessPool("a worker was killed"))
        return future


def test_pipeline_batches_of_a_dead_worker_are_scored_here(monkeypatch, analyzer, sample_result):
    from joblib.externals import loky

    executor = _DyingExecutor()
    monkeypatch.setattr(loky, "get_reusable_executor", lambda max_workers: executor)
    monkeypatch.setattr(pipeline, "IN_PROCESS_BATCHES", 0)
    monkeypatch.setattr(pipeline, "BATCH_ARTICLES", 2)
    result = stance.analyze_corpus(analyzer=analyzer, jobs=2)
    assert executor.submitted >= 2
    pd.testing.assert_frame_equal(result.mentions, sample_result.mentions)
    pd.testing.assert_frame_equal(result.articles, sample_result.articles)
