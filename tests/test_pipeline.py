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
    import joblib.executor

    executor = _DyingExecutor()
    monkeypatch.setattr(joblib.executor, "get_memmapping_executor", lambda n_jobs, **kwargs: executor)
    monkeypatch.setattr(pipeline, "IN_PROCESS_BATCHES", 0)
    monkeypatch.setattr(pipeline, "BATCH_ARTICLES", 2)
    result = stance.analyze_corpus(analyzer=analyzer, jobs=2)
    assert executor.submitted >= 2
    pd.testing.assert_frame_equal(result.mentions, sample_result.mentions)
    pd.testing.assert_frame_equal(result.articles, sample_result.articles)


def test_pipeline_two_jobs_then_joblib_parallel_in_the_same_process(monkeypatch, analyzer, sample_result):
    """Analysis with workers, then training-style joblib.Parallel: the pool is shared, not broken."""
    from joblib import Parallel, delayed

    monkeypatch.setattr(pipeline, "IN_PROCESS_BATCHES", 0)
    monkeypatch.setattr(pipeline, "BATCH_ARTICLES", 2)
    result = stance.analyze_corpus(analyzer=analyzer, jobs=2)
    pd.testing.assert_frame_equal(result.mentions, sample_result.mentions)
    assert Parallel(n_jobs=2)(delayed(abs)(-i) for i in range(4)) == [0, 1, 2, 3]


def test_pipeline_extra_input_columns_pass_through(tmp_path, analyzer):
    import json

    rows = [{"id": "a1", "text": "Putin lobt Trump.", "author": "K. Muster", "section": "Politik", "status": "draft"},
            {"id": "a2", "text": "Merz kritisiert Macron.", "author": "L. Beispiel"}]
    path = tmp_path / "c.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    result = stance.analyze_corpus(path, analyzer=analyzer)
    articles = result.articles.set_index("article_id")
    assert articles.loc["a1", "author"] == "K. Muster" and articles.loc["a2", "author"] == "L. Beispiel"
    assert articles.loc["a1", "section"] == "Politik" and pd.isna(articles.loc["a2", "section"])
    assert articles.loc["a1", "input_status"] == "draft" and articles.loc["a1", "status"] == "ok"
    assert set(articles["encoding"]) == {"utf-8"}
    assert "author" not in result.mentions.columns

    with_extras = stance.analyze_corpus(path, analyzer=analyzer, extra_columns_in_mentions=True)
    assert len(with_extras.mentions) == len(result.mentions)
    by_article = with_extras.mentions.groupby("article_id")["author"].first()
    assert by_article.to_dict() == {"a1": "K. Muster", "a2": "L. Beispiel"}


def test_pipeline_extra_columns_are_bounded(tmp_path, analyzer):
    import json

    from stance.articles import MAX_EXTRA_CHARS, MAX_EXTRA_COLUMNS

    row = {"id": "a1", "text": "Putin lobt Trump.", "html": "<p>" + "x" * 100_000 + "</p>"}
    row |= {f"field{i:03d}": str(i) for i in range(MAX_EXTRA_COLUMNS + 20)}
    path = tmp_path / "c.jsonl"
    path.write_text(json.dumps(row) + "\n", encoding="utf-8")
    result = stance.analyze_corpus(path, analyzer=analyzer)
    extras = [c for c in result.articles.columns if c not in pipeline.ARTICLE_COLUMNS]
    assert len(extras) == MAX_EXTRA_COLUMNS
    assert all(len(str(v)) <= MAX_EXTRA_CHARS for v in result.articles[extras].iloc[0])
