from __future__ import annotations

import itertools
import logging
import os
import time

import pandas as pd
import pytest

import stance
from stance import pipeline
from stance.pipeline import _ForWorkers


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


class _DyingAnalyzer(stance.Analyzer):
    """An in-memory analyzer (sent whole to the workers) whose worker process dies on one article."""

    def score_mentions(self, mentions):
        if os.getpid() != self.parent and any(m.doc_id in self.victims for m in mentions):
            os._exit(1)  # the worker process dies as if killed
        if os.getpid() == self.parent:
            time.sleep(0.2)  # this process is slow, so the worker surely gets batches, even on a loaded machine
        return super().score_mentions(mentions)


def test_pipeline_batches_of_a_dead_worker_are_scored_here(monkeypatch, caplog, analyzer, sample_result):
    dying = _DyingAnalyzer(analyzer.stance_model, analyzer.sentiment_model, metadata=analyzer.metadata)
    dying.victims = set(sample_result.mentions["article_id"])  # the worker dies on its first batch
    dying.parent = os.getpid()  # pickled with the instance: a worker knows it is not the parent
    monkeypatch.setattr(pipeline, "IN_PROCESS_BATCHES", 0)
    monkeypatch.setattr(pipeline, "BATCH_ARTICLES", 2)
    with caplog.at_level(logging.ERROR, logger="stance.pipeline"):
        result = stance.analyze_corpus(analyzer=dying, jobs=2)
    assert "worker failed" in caplog.text
    pd.testing.assert_frame_equal(result.mentions, sample_result.mentions)
    pd.testing.assert_frame_equal(result.articles, sample_result.articles)


def test_pipeline_pool_follows_joblib_parallel_config(monkeypatch, analyzer, sample_result):
    """The backend is not pinned: joblib.parallel_config chooses it (here threads)."""
    from joblib import parallel_config

    calls = []
    real = pipeline._score_batch_in_worker
    monkeypatch.setattr(pipeline, "_score_batch_in_worker", lambda *args: calls.append(os.getpid()) or real(*args))
    monkeypatch.setattr(pipeline, "IN_PROCESS_BATCHES", 0)
    monkeypatch.setattr(pipeline, "BATCH_ARTICLES", 2)
    with parallel_config(backend="threading"):
        result = stance.analyze_corpus(analyzer=analyzer, jobs=2)
    assert calls and set(calls) == {os.getpid()}  # threads of this process ran the batches
    pd.testing.assert_frame_equal(result.mentions, sample_result.mentions)


def test_score_articles_yields_one_record_per_article_in_order(analyzer, corpus):
    from stance.records import ArticleResult

    articles = [a for a in corpus.articles if a.duplicate_of is None][:5]
    short = stance.Article(id="short", source="x", title=None, date=None, text="Merz lobt Macron.")
    results = list(pipeline.score_articles([*articles[:2], short, *articles[2:]], analyzer, batch_size=3))
    assert [r.article.id if isinstance(r, ArticleResult) else r.source for r in results] == [a.id for a in [*articles[:2], short, *articles[2:]]]
    assert all(isinstance(r, ArticleResult) and r.sentences > 0 for r in results)
    assert all(m.doc_id == r.article.id for r in results for m in r.mentions)


def test_score_articles_turns_a_failing_article_into_skipped(monkeypatch, analyzer):
    from stance.records import ArticleResult

    good = stance.Article(id="good", source="x", title=None, date=None, text="Merz lobt Macron.")
    evil = stance.Article(id="evil", source="x", title=None, date=None, text="Putin droht Selenskyj.")
    real = analyzer.score_mentions

    def fails_on_evil(mentions):
        if any(m.doc_id == "evil" for m in mentions):
            raise RuntimeError("boom")
        return real(mentions)

    monkeypatch.setattr(analyzer, "score_mentions", fails_on_evil)
    results = list(pipeline.score_articles([good, evil], analyzer))
    assert isinstance(results[0], ArticleResult) and results[0].article.id == "good"
    assert isinstance(results[1], stance.Skipped) and results[1].source == "evil" and "RuntimeError: boom" in results[1].reason


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


@pytest.mark.parametrize("in_process_batches", [0, 8])  # the error after the workers start / while the first batches are read
def test_pipeline_reader_error_with_workers_is_raised_not_swallowed(monkeypatch, analyzer, corpus, in_process_batches):
    """An error of the reader (not of a worker) ends the run with that error, as with one job,
    after every item read before it was given out, in order."""
    def failing_reader(*paths, config=None):
        yield from corpus.articles[:9]
        raise OSError("disk went away")

    monkeypatch.setattr(pipeline, "iter_corpus", failing_reader)
    monkeypatch.setattr(pipeline, "IN_PROCESS_BATCHES", in_process_batches)
    monkeypatch.setattr(pipeline, "BATCH_ARTICLES", 2)
    given_out = {}
    for jobs in (1, 2):
        outcomes = pipeline.iter_outcomes("unused", analyzer=analyzer, jobs=jobs)
        given_out[jobs] = []
        with pytest.raises(OSError, match="disk went away"):
            for outcome in outcomes:
                given_out[jobs].append((outcome.seq, outcome.row["status"]))
    # all nine: the sample's eighth article is a duplicate, so the other eight fill four whole batches
    assert given_out[2] == given_out[1] and [seq for seq, _ in given_out[1]] == list(range(9))


def test_pipeline_long_runs_of_duplicates_are_handed_on():
    """Decided items do not pile up waiting for the next 32 articles: a short (here empty) batch is yielded."""
    from stance.pipeline import ItemOutcome, PendingArticle, _InputOrder

    article = stance.Article(id="a", source="x", title=None, date=None, text="Merz lobt Macron.")
    items = [ItemOutcome(seq, {"_seq": seq}) for seq in range(600)] + [PendingArticle(600, article)]
    order = _InputOrder(iter(items))
    batches = order.batches()
    assert next(batches) == [] and len(list(order.ready())) == 8 * pipeline.BATCH_ARTICLES


def test_pipeline_with_workers_reads_only_in_this_thread(monkeypatch, analyzer, sample_result):
    """The corpus is read by the thread that scores here, between its batches, never by the
    thread that feeds the workers (two threads reading and scoring slow each other down)."""
    import threading

    readers = set()
    real = pipeline.iter_corpus

    def recording_reader(*paths, config=None):
        for item in real(*paths, config=config):
            readers.add(threading.current_thread().name)
            yield item

    scored_here = []
    score_here = pipeline._score_here
    monkeypatch.setattr(pipeline, "_score_here", lambda batch, analyzer: scored_here.append(batch) or score_here(batch, analyzer))
    monkeypatch.setattr(pipeline, "iter_corpus", recording_reader)
    monkeypatch.setattr(pipeline, "IN_PROCESS_BATCHES", 0)
    monkeypatch.setattr(pipeline, "BATCH_ARTICLES", 2)
    result = stance.analyze_corpus(analyzer=analyzer, jobs=2)
    assert readers == {threading.current_thread().name}
    assert sum(len(batch) for batch in scored_here) < (sample_result.articles["status"] == "ok").sum()  # a worker scored some
    pd.testing.assert_frame_equal(result.mentions, sample_result.mentions)
    pd.testing.assert_frame_equal(result.articles, sample_result.articles)


def test_batches_for_workers_are_handed_out_in_order_and_taken_back():
    for_workers = _ForWorkers()
    for index in range(4):
        for_workers.put(index, [f"batch {index}"])
    assert for_workers.take() == (0, ["batch 0"]) and for_workers.take() == (1, ["batch 1"])
    assert for_workers.waiting() == 2
    assert for_workers.returned(0) == ["batch 0"]
    assert for_workers.take_last() == (3, ["batch 3"])  # the end of the corpus: scored here, not waited for
    assert for_workers.take_back() == [(1, ["batch 1"]), (2, ["batch 2"])]
    assert for_workers.take() is None and for_workers.returned(1) is None and for_workers.taken_back


@pytest.mark.parametrize("end", ["close", "take_back"])
def test_batches_for_workers_wake_a_waiting_feeder(end):
    """The feeding thread waits in take() for the next batch; the end of the corpus or this
    process taking everything back wakes it with None."""
    import threading

    for_workers = _ForWorkers()
    taken = []
    feeder = threading.Thread(target=lambda: taken.append(for_workers.take()))
    feeder.start()
    time.sleep(0.1)
    assert feeder.is_alive()  # nothing to take yet
    getattr(for_workers, end)()
    feeder.join(timeout=5)
    assert not feeder.is_alive() and taken == [None]


def _generated_reader(read: list[int], articles: int | None = None):
    """A reader of distinct German-looking articles (endless if ``articles`` is None), recording what it read."""
    import random

    words = ["Merz", "Macron", "Scholz", "lobt", "kritisiert", "die", "der", "und", "nicht", "Regierung", "heute",
             "Plan", "sagte", "mit", "dem", "Haushalt", "für", "ein", "Gesetz", "wieder", "Kanzler", "auch", "Bund"]

    def reader(*paths, config=None):
        rng = random.Random(0)
        for n in itertools.count() if articles is None else range(articles):
            read.append(n)
            yield stance.Article(id=f"a{n}", source="x", title=None, date=None,
                                 text=" ".join(rng.choice(words) for _ in range(60)) + ".")

    return reader


def test_pipeline_closed_early_stops_the_feeding_thread(monkeypatch, analyzer):
    """A consumer that stops early (an endless input here) ends the thread that feeds the workers."""
    import threading

    monkeypatch.setattr(pipeline, "iter_corpus", _generated_reader([]))
    monkeypatch.setattr(pipeline, "IN_PROCESS_BATCHES", 0)
    monkeypatch.setattr(pipeline, "BATCH_ARTICLES", 2)
    before = set(threading.enumerate())
    outcomes = pipeline.iter_outcomes("unused", analyzer=analyzer, jobs=2)
    next(outcomes)
    [feeder] = [t for t in set(threading.enumerate()) - before if t.name == "stance-workers"]
    outcomes.close()
    feeder.join(timeout=60)
    assert not feeder.is_alive()


def test_pipeline_after_a_dead_worker_the_rest_is_handed_on_batch_by_batch(monkeypatch, caplog, analyzer):
    """Once a worker died, this process scores the rest and hands each batch on as it goes,
    instead of reading and holding the whole remaining corpus first."""
    dying = _DyingAnalyzer(analyzer.stance_model, analyzer.sentiment_model, metadata=analyzer.metadata)
    dying.victims = {"a0", "a1"}  # the first batch, which goes to the worker
    dying.parent = os.getpid()
    read: list[int] = []
    monkeypatch.setattr(pipeline, "iter_corpus", _generated_reader(read, articles=2000))
    monkeypatch.setattr(pipeline, "IN_PROCESS_BATCHES", 0)
    monkeypatch.setattr(pipeline, "BATCH_ARTICLES", 2)
    with caplog.at_level(logging.ERROR, logger="stance.pipeline"):
        outcomes = pipeline.iter_outcomes("unused", analyzer=dying, jobs=2)
        first = next(outcomes)
    assert first.seq == 0 and first.row["status"] == "ok" and "worker failed" in caplog.text
    at_first = len(read)
    assert at_first < 200
    for outcome in outcomes:  # on into the batches read after the worker died
        if outcome.seq >= at_first + 4:
            break
    assert len(read) <= at_first + 4 + 2 * pipeline.BATCH_ARTICLES
    outcomes.close()
