"""The library entry point: corpus in, scored mentions and article statuses out.

Three layers, each usable on its own:

* :func:`score_articles` -- articles in, records out (:class:`~stance.records.ArticleResult`
  or :class:`~stance.records.Skipped`, one per article, in order). No files, no tables, no
  pandas: the unit of work that a local pool, Dask (:mod:`stance.dask`) or Spark maps over a
  partition.
* :func:`iter_outcomes` -- reads a corpus (duplicates, language check), scores its articles
  here or in a joblib pool and yields what became of every input item, in input order.
* :func:`analyze_corpus` (the tables in memory) and :func:`write_dataset` (a partitioned
  Parquet dataset written as it goes, resumable) turn the outcomes into the tables of
  :mod:`stance.tables`.

Memory grows with the output table in :func:`analyze_corpus` and stays flat in
:func:`write_dataset`. The worker pool is joblib's and its backend is not pinned:
``joblib.parallel_config(...)`` chooses it. With the default (loky) this process scores too,
next to ``jobs - 1`` loky workers.
"""

from __future__ import annotations

import itertools
import logging
import os
import queue
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .actors import ActorRegistry
from .articles import iter_corpus
from .config import IngestConfig, NlpConfig
from .lang import LanguagePack, available_languages, register_pack
from .language import not_german_reason
from .mentions import iter_article_mentions
from .nlp import load_nlp
from .records import Article, ArticleResult, CorpusResult, Skipped, SourceFile
from .tables import (
    ARTICLE_COLUMNS,
    MENTION_COLUMNS,
    PART_ITEMS,
    MentionColumns,
    article_row,
    articles_frame,
    dataset_article_table,
    mention_columns,
    skipped_row,
    write_part,
)

if TYPE_CHECKING:
    import pyarrow as pa

    from .scoring import Analyzer

__all__ = ["ARTICLE_COLUMNS", "MENTION_COLUMNS", "CorpusResult", "ItemOutcome", "analyze_corpus", "iter_outcomes",
           "score_articles", "write_dataset"]

logger = logging.getLogger(__name__)

BATCH_ARTICLES = 32
IN_PROCESS_BATCHES = 8  # a corpus of fewer than 8 batches (at most 224 articles to score) is scored without workers

WorkerSpec = tuple[str | None, ActorRegistry, LanguagePack]
"""What a worker process needs to load the analyzer itself: model folder, registry, language pack."""


# --- records in, records out ---------------------------------------------------------------------

def score_articles(articles: Iterable[Article], analyzer: Analyzer, *,
                   batch_size: int = BATCH_ARTICLES) -> Iterator[ArticleResult | Skipped]:
    """Score articles: one :class:`ArticleResult` (or :class:`Skipped` with the reason) per
    article, in input order, never an exception for one bad article.

    Articles are split, matched and scored ``batch_size`` at a time with one model call per
    model. Input is consumed lazily, so this maps over a partition of any size.

    Examples
    --------
    >>> import stance
    >>> article = stance.Article(id="a1", source="demo", title=None, date=None, text="Merz lobt Macron.")
    >>> [result] = score_articles([article], stance.load())
    >>> result.sentences, [(m.actor, m.surface) for m in result.mentions]
    (1, [('merz', 'Merz'), ('macron', 'Macron')])
    """
    iterator = iter(articles)
    while batch := list(itertools.islice(iterator, batch_size)):
        yield from _score_batch_records(batch, analyzer)


def _score_batch_records(batch: Sequence[Article], analyzer: Analyzer) -> list[ArticleResult | Skipped]:
    if not batch:
        return []
    nlp = load_nlp(NlpConfig(lang=analyzer.language), analyzer.registry)
    try:
        items = list(iter_article_mentions(batch, nlp))
        if len(items) != len(batch):
            raise RuntimeError(f"{len(items)} results for {len(batch)} articles")
        scored = analyzer.score_mentions([m for item in items for m in item.mentions])
        results: list[ArticleResult | Skipped] = []
        start = 0
        for item in items:
            results.append(ArticleResult(item.article, len(item.sentences), tuple(scored[start:start + len(item.mentions)])))
            start += len(item.mentions)
        return results
    except Exception:  # fall back to one article at a time to isolate the bad one
        logger.exception("batch failed; retrying article by article")
    results = []
    for article in batch:
        try:
            item = next(iter(iter_article_mentions([article], nlp)))
            results.append(ArticleResult(article, len(item.sentences), tuple(analyzer.score_mentions(item.mentions))))
        except Exception as exc:
            results.append(Skipped(article.id, f"analysis failed: {type(exc).__name__}: {exc}"))
    return results


def score_batch(batch: Sequence[Article], analyzer: Analyzer) -> list[Any]:
    """Score a batch for the tables: per article, in order, ``(number of sentences, columns of
    its units)`` or a :class:`Skipped` (what a worker process sends back: columns pickle small,
    and the articles, which the caller has, are not sent back)."""
    return [result if isinstance(result, Skipped) else (result.sentences, mention_columns(result, analyzer.registry))
            for result in _score_batch_records(batch, analyzer)]


# --- a corpus in input order ---------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class ItemOutcome:
    """What became of one input item (article, duplicate or skipped input), ready for the tables.

    ``seq`` is the item's position in the input; ``row`` its articles-table row; ``columns``
    its units column by column (:func:`stance.tables.mention_columns`) if it was analysed.
    """

    seq: int
    row: dict[str, Any]
    columns: dict[str, list[Any]] | None = None
    skipped: Skipped | None = None
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class PendingArticle:
    """An article read and waiting to be scored, with its place in the input."""

    seq: int
    article: Article
    warnings: tuple[str, ...] = ()


def iter_input_items(*paths: str | Path, ingest: IngestConfig, check_language: bool = True, language: str | None = None,
                     start: int = 0) -> Iterator[SourceFile | ItemOutcome | PendingArticle]:
    """Read a corpus: every input item numbered in reading order, decided (duplicate, skipped,
    not in ``language``) or pending scoring. Items numbered below ``start`` are read (duplicates
    are found across the whole corpus) but not yielded; files are always yielded."""
    for seq, item in enumerate(iter_corpus(*paths, config=ingest)):
        if isinstance(item, SourceFile):
            yield item
        elif seq >= start:
            yield classify_item(item, seq, check_language, language)


def classify_item(item: Article | Skipped, seq: int, check_language: bool = True,
                  language: str | None = None) -> ItemOutcome | PendingArticle:
    """An input item decided (skipped, duplicate, not in ``language``) or pending scoring."""
    if isinstance(item, Skipped):
        return ItemOutcome(seq, skipped_row(item, seq), skipped=item)
    warnings = tuple(f"{item.id}: {w}" for w in item.warnings)
    if item.duplicate_of is not None:
        return ItemOutcome(seq, article_row(item, "duplicate", reason=f"duplicate of {item.duplicate_of}", seq=seq),
                           warnings=warnings)
    other = not_german_reason(item.text, language) if check_language else None
    if other is not None:
        return ItemOutcome(seq, article_row(item, "skipped", reason=other, seq=seq), skipped=Skipped(item.id, other),
                           warnings=warnings)
    return PendingArticle(seq, item, warnings)


def score_items(items: Iterable[ItemOutcome | PendingArticle], analyzer: Analyzer) -> list[ItemOutcome]:
    """Every item's outcome, the pending articles scored :data:`BATCH_ARTICLES` at a time (for a partition)."""
    outcomes: list[ItemOutcome] = []
    batch: list[PendingArticle] = []

    def flush() -> None:
        scored = _score_here(batch, analyzer)
        outcomes.extend(scored_outcome(p, outcome) for p, outcome in zip(batch, scored))
        batch.clear()

    for item in items:
        if isinstance(item, ItemOutcome):
            outcomes.append(item)
            continue
        batch.append(item)
        if len(batch) >= BATCH_ARTICLES:
            flush()
    if batch:
        flush()
    return outcomes


def scored_outcome(pending: PendingArticle, outcome: Any) -> ItemOutcome:
    """The outcome of a scored article from :func:`score_batch`'s ``(sentences, columns)`` or Skipped."""
    article, seq = pending.article, pending.seq
    if isinstance(outcome, Skipped):
        return ItemOutcome(seq, article_row(article, "skipped", reason=outcome.reason, seq=seq), skipped=outcome,
                           warnings=pending.warnings)
    sentences, columns = outcome
    return ItemOutcome(seq, article_row(article, "ok", sentences, len(columns["actor"]), seq=seq), columns,
                       warnings=pending.warnings)


class _InputOrder:
    """Hands articles to the scorer in batches and gives every item back in input order."""

    def __init__(self, items: Iterator[SourceFile | ItemOutcome | PendingArticle]) -> None:
        self._items = items
        self._queue: deque[SourceFile | ItemOutcome | PendingArticle] = deque()  # in input order
        self._scored: dict[int, ItemOutcome] = {}

    def batches(self) -> Iterator[list[PendingArticle]]:
        """Batches of :data:`BATCH_ARTICLES` articles; a shorter (or empty) one after a long run of
        duplicates or skips, so the items before it are handed on instead of piling up."""
        batch: list[PendingArticle] = []
        since = 0
        for item in self._items:
            self._queue.append(item)
            since += 1
            if isinstance(item, PendingArticle):
                batch.append(item)
            if len(batch) >= BATCH_ARTICLES or since >= 8 * BATCH_ARTICLES:
                yield batch
                batch, since = [], 0
        if batch:
            yield batch

    def scored(self, batch: list[PendingArticle], outcomes: list[Any]) -> None:
        for pending, outcome in zip(batch, outcomes):
            self._scored[pending.seq] = scored_outcome(pending, outcome)

    @property
    def unaccounted(self) -> int:
        """Items read whose outcome was never given back."""
        return len(self._queue)

    def ready(self) -> Iterator[SourceFile | ItemOutcome]:
        """Items at the front of the input whose outcome is known."""
        while self._queue:
            item = self._queue[0]
            if isinstance(item, PendingArticle):
                if item.seq not in self._scored:
                    return
                item = self._scored.pop(item.seq)
            self._queue.popleft()
            yield item


def iter_outcomes(*paths: str | Path, analyzer: Analyzer, jobs: int = 1, ingest: IngestConfig | None = None,
                  check_language: bool = True, start: int = 0) -> Iterator[SourceFile | ItemOutcome]:
    """Read and score a corpus; yield every file and every input item's outcome in input order.

    ``start`` skips the outcomes of the first ``start`` items (a resumed run); the output does
    not depend on ``jobs``.
    """
    ingest = ingest or IngestConfig()
    if ingest.language is None:  # read the corpus in the model's language
        ingest = replace(ingest, language=analyzer.language)
    order = _InputOrder(iter_input_items(*paths, ingest=ingest, check_language=check_language,
                                         language=analyzer.language, start=start))
    for batch, outcomes in _score_batches(order.batches(), analyzer, _resolve_jobs(jobs)):
        order.scored(batch, outcomes)
        yield from order.ready()
    yield from order.ready()
    if order.unaccounted:  # never expected: a batch lost between the reader and the scorer
        raise RuntimeError(f"{order.unaccounted} input item(s) were read but never scored; the output would be incomplete")


def _resolve_jobs(jobs: int) -> int:
    if jobs is None or jobs <= 0:
        return max(1, os.cpu_count() or 1)
    return jobs


# --- scoring here or in workers ------------------------------------------------------------------

def _score_batches(batches: Iterable[list[PendingArticle]], analyzer: Analyzer,
                   jobs: int) -> Iterator[tuple[list[PendingArticle], list[Any]]]:
    """Score batches in input order, here or (``jobs > 1``) in ``jobs`` joblib workers.

    A corpus of fewer than :data:`IN_PROCESS_BATCHES` batches is scored here, so a small corpus
    never pays for starting workers. For a larger one the workers start at once and this
    process scores the first batches while they start. A batch whose worker died (killed, out
    of memory) is scored again here.
    """
    iterator = iter(batches)
    head: list[list[PendingArticle]] = []
    try:
        for batch in itertools.islice(iterator, IN_PROCESS_BATCHES if jobs > 1 else 0):
            head.append(batch)
    except Exception:  # the reader failed among the first batches: those read are scored, as with one job
        for batch in head:
            yield batch, _score_here(batch, analyzer)
        raise
    if jobs == 1 or len(head) < IN_PROCESS_BATCHES:
        for batch in itertools.chain(head, iterator):
            yield batch, _score_here(batch, analyzer)
        return
    yield from _score_with_workers(head, iterator, analyzer, jobs)


def _score_with_workers(head: list[list[PendingArticle]], rest: Iterator[list[PendingArticle]], analyzer: Analyzer,
                        jobs: int) -> Iterator[tuple[list[PendingArticle], list[Any]]]:
    """With joblib's default backend: this process and ``jobs - 1`` loky workers score side by
    side (one model less in memory than ``jobs`` workers and an idle dispatcher). With a
    backend chosen by ``joblib.parallel_config(...)``: ``joblib.Parallel`` on it, ``jobs`` workers."""
    from joblib.parallel import LokyBackend, get_active_backend

    backend, _ = get_active_backend()
    if type(backend) is LokyBackend:
        yield from _score_here_and_in_loky(head, rest, analyzer, jobs - 1)
    else:
        yield from _score_with_parallel(head, rest, analyzer, jobs)


def _score_with_parallel(head: list[list[PendingArticle]], rest: Iterator[list[PendingArticle]], analyzer: Analyzer,
                         jobs: int) -> Iterator[tuple[list[PendingArticle], list[Any]]]:
    from joblib import Parallel, delayed

    spec: WorkerSpec = (analyzer.model_path, analyzer.registry, analyzer.pack)
    shipped = analyzer if analyzer.model_path is None else None  # an in-memory model is sent whole
    in_flight: deque[list[PendingArticle]] = deque()
    shared = _SharedBatches(rest)

    def dispatched() -> Iterator[Any]:
        while (batch := shared.take_for_workers(in_flight)) is not None:
            yield delayed(_score_batch_in_worker)([p.article for p in batch], spec, shipped)

    results = Parallel(n_jobs=jobs, return_as="generator", pre_dispatch="2*n_jobs")(dispatched())
    for batch in head:  # scored here while the workers start
        yield batch, _score_here(batch, analyzer)
    try:
        for outcomes in results:
            yield in_flight.popleft(), outcomes
    except Exception:  # a worker died: what it held, and the rest, is scored here
        logger.exception("worker failed; the remaining batches are scored in the main process")
        shared.stop_workers()  # after this, no batch can be added to in_flight
        while in_flight:
            batch = in_flight.popleft()
            yield batch, _score_here(batch, analyzer)
        for batch in shared:
            yield batch, _score_here(batch, analyzer)
    if shared.error is not None:
        raise shared.error


class _SharedBatches:
    """Batches handed out to two consumers (joblib's dispatcher of the workers and, once the
    workers have failed, this process)."""

    def __init__(self, batches: Iterator[list[PendingArticle]]) -> None:
        self._batches = batches
        self._lock = threading.Lock()

    def __iter__(self) -> _SharedBatches:
        return self

    error: BaseException | None = None
    """An error of the stream itself (the reader), raised again in the consuming thread."""

    def __next__(self) -> list[PendingArticle]:
        with self._lock:
            if self.error is not None:
                raise StopIteration
            try:
                return next(self._batches)
            except StopIteration:
                raise
            except Exception as exc:  # the reader failed: not a dead worker; re-raised where the results are taken
                self.error = exc
                raise StopIteration from exc

    workers_stopped = False
    """Set (under the lock) when the workers' results are given up: nothing more goes to them."""

    def take_for_workers(self, sink: deque[list[PendingArticle]]) -> list[PendingArticle] | None:
        """The next batch for a worker, recorded in ``sink`` under the same lock (None: no more)."""
        with self._lock:
            if self.workers_stopped or self.error is not None:
                return None
            try:
                batch = next(self._batches)
            except StopIteration:
                return None
            except Exception as exc:  # the reader failed; re-raised where the results are taken
                self.error = exc
                return None
            sink.append(batch)
            return batch

    def stop_workers(self) -> None:
        with self._lock:
            self.workers_stopped = True


class _ForWorkers:
    """Numbered batches this process has read for the workers, taken in input order by the
    thread that feeds them, and held as in flight until their results are back."""

    def __init__(self) -> None:
        self._ready: deque[tuple[int, list[PendingArticle]]] = deque()
        self._condition = threading.Condition()
        self._closed = False
        self._in_flight: dict[int, list[PendingArticle]] = {}

    taken_back = False
    """Set (under the lock) once this process took every batch back: no result is wanted any more."""

    def waiting(self) -> int:
        """Batches read but not yet taken for a worker."""
        with self._condition:
            return len(self._ready)

    def put(self, index: int, batch: list[PendingArticle]) -> None:
        """A batch read for the workers."""
        with self._condition:
            self._ready.append((index, batch))
            self._condition.notify()

    def close(self) -> None:
        """No more batches: :meth:`take` returns None once the waiting ones are taken."""
        with self._condition:
            self._closed = True
            self._condition.notify_all()

    def take(self) -> tuple[int, list[PendingArticle]] | None:
        """The next batch for a worker (wait for it; None: closed and none left), held as in flight."""
        with self._condition:
            while not self._ready and not self._closed:
                self._condition.wait()
            if not self._ready:
                return None
            index, batch = self._ready.popleft()
            self._in_flight[index] = batch
            return index, batch

    def take_last(self) -> tuple[int, list[PendingArticle]] | None:
        """The last waiting batch, for this process to score once there is nothing left to read."""
        with self._condition:
            return self._ready.pop() if self._ready else None

    def returned(self, index: int) -> list[PendingArticle] | None:
        """The batch whose result has arrived (None if it was taken back)."""
        with self._condition:
            return self._in_flight.pop(index, None)

    def take_back(self) -> list[tuple[int, list[PendingArticle]]]:
        """Close, and give back every batch no worker has returned (in flight or waiting), in order."""
        with self._condition:
            self._closed = self.taken_back = True
            left = sorted([*self._in_flight.items(), *self._ready], key=lambda item: item[0])
            self._in_flight.clear()
            self._ready.clear()
            self._condition.notify_all()
            return left


def _score_here_and_in_loky(head: list[list[PendingArticle]], rest: Iterator[list[PendingArticle]], analyzer: Analyzer,
                            workers: int) -> Iterator[tuple[list[PendingArticle], list[Any]]]:
    """Batches scored here and in ``workers`` loky worker processes, yielded in input order.

    Only this process's scoring thread reads the corpus, between its own batches: reading in the
    feeding thread instead would interleave with that scoring under the GIL and slow both. Before
    each batch it scores itself it tops up the batches waiting for the workers to two per worker,
    so they do not run dry meanwhile, and a feeding thread keeps two batches per worker in
    flight. The first batches are scored here while the workers start; at the end of the corpus
    this process scores the batches still waiting. A batch whose worker died (killed, out of
    memory) is scored again here.
    """
    from joblib.executor import get_memmapping_executor

    spec: WorkerSpec = (analyzer.model_path, analyzer.registry, analyzer.pack)
    shipped = analyzer if analyzer.model_path is None else None
    for_workers = _ForWorkers()
    arrived: queue.Queue[tuple[str, Any]] = queue.Queue()

    def feed() -> None:
        pending: deque[Any] = deque()

        def deliver(result: tuple[int, list[Any]]) -> None:
            index, outcome = result
            if (batch := for_workers.returned(index)) is not None:
                arrived.put(("result", (index, batch, outcome)))

        try:
            # joblib's own reusable pool, so a later joblib.Parallel in this process (training,
            # cross-validation) reuses it; no memory-mapping (an in-memory analyzer is sent whole)
            executor = get_memmapping_executor(workers, max_nbytes=None)
            while (taken := for_workers.take()) is not None and not for_workers.taken_back:
                index, batch = taken
                pending.append(executor.submit(_score_indexed, index, [p.article for p in batch], spec, shipped))
                while len(pending) >= 2 * workers or (pending and pending[0].done()):
                    deliver(pending.popleft().result())
            while pending and not for_workers.taken_back:
                deliver(pending.popleft().result())
        except Exception:  # a worker died: its batches are scored again by this process
            logger.exception("worker failed; its batches are scored in the main process")
        finally:
            for future in pending:
                future.cancel()  # left only if the consumer stopped early or a worker died
            arrived.put(("done", None))

    threading.Thread(target=feed, name="stance-workers", daemon=True).start()
    try:
        yield from _take_in_order(head, enumerate(rest, start=len(head)), for_workers, arrived, analyzer, workers)
    finally:
        for_workers.take_back()  # the feeding thread ends; a generator closed early leaves nothing to submit


def _take_in_order(head: list[list[PendingArticle]], stream: Iterator[tuple[int, list[PendingArticle]]],
                   for_workers: _ForWorkers, arrived: queue.Queue[tuple[str, Any]], analyzer: Analyzer,
                   workers: int) -> Iterator[tuple[list[PendingArticle], list[Any]]]:
    """This process's side of :func:`_score_here_and_in_loky`: read, score, collect, yield in order."""
    own = deque(enumerate(head))  # the first batches are scored here while the workers start
    done: dict[int, tuple[list[PendingArticle], list[Any]]] = {}
    error: BaseException | None = None  # an error of the reader, raised once everything before it is yielded
    exhausted = False  # nothing more to read (the end of the stream, or the reader failed)
    next_index = 0  # the next batch to hand on

    def read() -> tuple[int, list[PendingArticle]] | None:
        nonlocal error, exhausted
        if not exhausted:
            try:
                return next(stream)
            except StopIteration:
                pass
            except Exception as exc:  # the reader failed: not a dead worker
                error = exc
            exhausted = True
            for_workers.close()
        return None

    def score(index: int, batch: list[PendingArticle]) -> None:
        done[index] = (batch, _score_here(batch, analyzer))

    def in_order() -> Iterator[tuple[list[PendingArticle], list[Any]]]:
        """The scored batches that continue the input order."""
        nonlocal next_index
        while next_index in done:
            yield done.pop(next_index)
            next_index += 1

    finished = False  # the workers' feed has ended (all returned, or a worker died)
    while not finished:
        while True:  # take the workers' results; wait for them only when there is nothing else to do
            # Waiting is safe only once the stream is closed (exhausted): until then the feeding
            # thread may sit in take() with results it has not delivered yet.
            work_here = own or not exhausted or for_workers.waiting()
            if (work_here or next_index in done) and arrived.empty():
                break
            kind, payload = arrived.get()
            if kind == "done":
                finished = True
                break
            done[payload[0]] = (payload[1], payload[2])
        yield from in_order()
        if finished:
            break
        while not exhausted and for_workers.waiting() < 2 * workers and (item := read()) is not None:
            for_workers.put(*item)  # keep the workers fed while this process scores a batch
        if own:
            score(*own.popleft())
        elif (item := read() or for_workers.take_last()) is not None:  # at the end: what still waits for a worker
            score(*item)
    # Batches a dead worker held or never took, and whatever is left to read, are scored here.
    for index, batch in sorted([*own, *for_workers.take_back()], key=lambda item: item[0]):
        score(index, batch)
        yield from in_order()
    while (item := read()) is not None:
        score(*item)
        yield from in_order()
    if error is not None:
        raise error


def _score_here(batch: list[PendingArticle], analyzer: Analyzer) -> list[Any]:
    """Score a batch of pending articles in this process."""
    return score_batch([p.article for p in batch], analyzer)


def _score_indexed(index: int, batch: list[Article], spec: WorkerSpec,
                   analyzer: Analyzer | None) -> tuple[int, list[Any]]:
    return index, _score_batch_in_worker(batch, spec, analyzer)


def _score_batch_in_worker(batch: list[Article], spec: WorkerSpec, analyzer: Analyzer | None) -> list[Any]:
    return score_batch(batch, analyzer or worker_analyzer(spec))


def worker_analyzer(spec: WorkerSpec) -> Analyzer:
    """The analyzer of a worker process, loaded once per process (the model is cached by folder)."""
    from .scoring import load

    path, registry, pack = spec
    if pack.code not in available_languages():  # a pack registered at run time in the parent process
        register_pack(pack)
    return load(path, actors=registry)


# --- tables in memory ------------------------------------------------------------------------------

def analyze_corpus(*paths: str | Path, analyzer: Analyzer | None = None, actors: ActorRegistry | str | Path | None = None,
                   jobs: int = 1, progress: Callable[[int], None] | None = None,
                   ingest: IngestConfig | None = None, check_language: bool = True,
                   extra_columns_in_mentions: bool = False) -> CorpusResult:
    """Analyse files/folders (the bundled sample when no path is given).

    Parameters
    ----------
    *paths : str or Path
        Files or folders (``.txt``, ``.md``, ``.html``, ``.jsonl``, ``.csv``, ``.jsonl.gz``,
        ``.csv.gz``, ``.parquet``).
    analyzer : Analyzer, optional
        Models to score with (default: ``stance.load()``).
    actors : ActorRegistry or path, optional
        Actor registry (default: the analyzer's, i.e. the packaged one).
    jobs : int
        Worker processes; ``-1`` or ``0`` means all cores. Output does not depend on it.
    progress : callable, optional
        Called with the number of input items finished, every few items.
    ingest : IngestConfig, optional
        Reading options (file types, limits, duplicate handling).
    check_language : bool
        Skip articles whose function words are clearly not German, with the reason
        (:func:`stance.language.not_german_reason`); ``False`` scores every article.
    extra_columns_in_mentions : bool
        Input columns that ``stance`` does not use (``author``, ``section``, ...) are always
        columns of ``articles`` (named ``input_<name>`` if the name is one of ours); with ``True``
        they are copied into ``mentions`` too.

    Examples
    --------
    >>> result = analyze_corpus()
    >>> int((result.articles["status"] == "duplicate").sum()), len(result.mentions) > 350
    (1, True)
    """
    from .scoring import load

    analyzer = analyzer or load()
    if actors is not None:
        analyzer = analyzer.with_actors(actors)
    collected = _Collected()
    for item in iter_outcomes(*paths, analyzer=analyzer, jobs=jobs, ingest=ingest, check_language=check_language):
        collected.add(item)
        if progress and collected.unreported >= BATCH_ARTICLES:
            progress(collected.take_unreported())
    if progress and collected.unreported:
        progress(collected.take_unreported())
    return collected.result(extra_columns_in_mentions)


@dataclass
class _Collected:
    """Outcomes gathered into the tables of a :class:`CorpusResult`."""

    columns: MentionColumns = field(default_factory=MentionColumns)
    rows: list[dict[str, Any]] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    files: list[SourceFile] = field(default_factory=list)
    unreported: int = 0

    def add(self, item: SourceFile | ItemOutcome) -> None:
        if isinstance(item, SourceFile):
            self.files.append(item)
            return
        if item.columns is not None:
            self.columns.extend(item.columns)
        self.rows.append(item.row)
        if item.skipped is not None:
            self.skipped.append(item.skipped)
        self.warnings.extend(item.warnings)
        self.unreported += 1

    def take_unreported(self) -> int:
        count, self.unreported = self.unreported, 0
        return count

    def result(self, extra_columns_in_mentions: bool = False) -> CorpusResult:
        mentions = self.columns.frame()
        articles = articles_frame(self.rows, self.warnings)
        extras = list(articles.columns[len(ARTICLE_COLUMNS):])
        if extras and extra_columns_in_mentions:
            mentions = mentions.merge(articles[["article_id", *extras]], on="article_id", how="left", validate="many_to_one")
        return CorpusResult(mentions, articles, tuple(self.skipped), tuple(self.warnings), tuple(self.files))


# --- a Parquet dataset, part by part -----------------------------------------------------------

@dataclass(frozen=True)
class DatasetRun:
    """What :func:`write_dataset` did: parts written, and the items of this run (a resumed run
    counts only what it analysed itself)."""

    folder: Path
    parts: int
    resumed_parts: int
    skipped: tuple[Skipped, ...]
    warnings: tuple[str, ...]
    files: tuple[SourceFile, ...]


def assemble_part(outcomes: Sequence[ItemOutcome]) -> tuple[pa.Table, pa.Table]:
    """The mentions and articles tables of one dataset part, from its items' outcomes (any order)."""
    ordered = sorted(outcomes, key=lambda item: item.seq)
    columns = MentionColumns()
    for item in ordered:
        if item.columns is not None:
            columns.extend(item.columns)
    return columns.arrow(), dataset_article_table([item.row for item in ordered])


def write_dataset(*paths: str | Path, out: str | Path, analyzer: Analyzer, jobs: int = 1, ingest: IngestConfig | None = None,
                  check_language: bool = True, part_items: int = PART_ITEMS, resume_parts: int = 0,
                  progress: Callable[[int], None] | None = None) -> DatasetRun:
    """Analyse a corpus into the parts of a Parquet dataset in ``out`` (see :mod:`stance.tables`).

    Part ``k`` holds input items ``k * part_items`` to ``(k + 1) * part_items - 1`` and is
    written as soon as they are all scored, so memory stays flat in corpus size. With
    ``resume_parts = n`` the first ``n`` parts are taken as written (the corpus is read again,
    so duplicates are still found across all of it, but nothing before is scored again).
    """
    out = Path(out)
    part = resume_parts
    outcomes: list[ItemOutcome] = []
    skipped: list[Skipped] = []
    warnings: list[str] = []
    files: list[SourceFile] = []
    for item in iter_outcomes(*paths, analyzer=analyzer, jobs=jobs, ingest=ingest, check_language=check_language,
                              start=resume_parts * part_items):
        if isinstance(item, SourceFile):
            files.append(item)
            continue
        while item.seq // part_items > part:
            write_part(out, part, *assemble_part(outcomes))
            if progress:
                progress(len(outcomes))
            outcomes, part = [], part + 1
        outcomes.append(item)
        skipped.extend([item.skipped] if item.skipped else [])
        warnings.extend(item.warnings)
    if outcomes:
        write_part(out, part, *assemble_part(outcomes))
        if progress:
            progress(len(outcomes))
        part += 1
    return DatasetRun(out, part, resume_parts, tuple(skipped), tuple(warnings), tuple(files))
