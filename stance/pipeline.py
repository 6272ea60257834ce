"""The library entry point: corpus in, scored mentions and article statuses out.

Articles stream through in batches (read -> split -> sentences -> mentions -> scores), so
memory grows with the output table, not with the corpus. With ``jobs > 1`` batches are
scored in worker processes; results come back in input order, so output is identical.
"""

from __future__ import annotations

import itertools
from collections import Counter
from array import array
import logging
import os
import queue
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .actors import ActorRegistry
from .articles import MAX_EXTRA_COLUMNS, iter_corpus
from .config import IngestConfig, NlpConfig
from .lang import LanguagePack, available_languages, register_pack
from .language import not_german_reason
from .mentions import iter_article_mentions
from .nlp import load_nlp
from .records import Article, Skipped, SourceFile

if TYPE_CHECKING:
    import pandas as pd

    from .scoring import Analyzer

logger = logging.getLogger(__name__)

MENTION_COLUMNS: tuple[str, ...] = (
    "article_id", "source", "title", "date", "sentence_index", "actor", "actor_name", "surface", "kind",
    "start", "end", "stance", "stance_score", "p_negative", "p_neutral", "p_positive",
    "sentiment", "sentiment_score", "sentence",
)
ARTICLE_COLUMNS: tuple[str, ...] = (
    "article_id", "source", "path", "location", "title", "date", "status", "duplicate_of",
    "sentences", "units", "warnings", "reason", "encoding",
)
# An extra input column named like one of ours is renamed input_<name>.
_RESERVED = frozenset({*MENTION_COLUMNS, *ARTICLE_COLUMNS, "_seq"})
BATCH_ARTICLES = 32
IN_PROCESS_BATCHES = 8  # a corpus of up to 8 batches (256 articles) is scored without workers


@dataclass(frozen=True)
class CorpusResult:
    """The analysis of a corpus: one row per scored unit, one row per input/article.

    ``mentions`` and ``articles`` are pandas DataFrames (columns :data:`MENTION_COLUMNS`
    and :data:`ARTICLE_COLUMNS`, then any extra input columns such as ``author``, see
    :func:`analyze_corpus`); ``skipped`` lists every input not analysed with the
    reason; ``warnings`` holds article warnings such as implausible dates.
    """

    mentions: pd.DataFrame
    articles: pd.DataFrame
    skipped: tuple[Skipped, ...] = ()
    warnings: tuple[str, ...] = ()
    files: tuple[SourceFile, ...] = field(default=())

    @property
    def analysed_count(self) -> int:
        """Number of articles analysed (not duplicates, not skipped)."""
        return int((self.articles["status"] == "ok").sum())


def analyze_corpus(*paths: str | Path, analyzer: Analyzer | None = None, actors: ActorRegistry | str | Path | None = None,
                   jobs: int = 1, progress: Callable[[int], None] | None = None,
                   ingest: IngestConfig | None = None, check_language: bool = True,
                   extra_columns_in_mentions: bool = False) -> CorpusResult:
    """Analyse files/folders (the bundled sample when no path is given).

    Parameters
    ----------
    *paths : str or Path
        Files or folders (``.txt``, ``.md``, ``.html``, ``.jsonl``, ``.csv``).
    analyzer : Analyzer, optional
        Models to score with (default: ``stance.load()``).
    actors : ActorRegistry or path, optional
        Actor registry (default: the analyzer's, i.e. the packaged one).
    jobs : int
        Worker processes; ``-1`` or ``0`` means all cores. Output does not depend on it.
    progress : callable, optional
        Called with the number of articles finished after each batch.
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
    import pandas as pd

    from .scoring import load

    analyzer = analyzer or load()
    if actors is not None:
        analyzer = analyzer.with_actors(actors)
    jobs = _resolve_jobs(jobs)
    columns = _MentionColumns()
    article_rows: list[dict[str, Any]] = []
    skipped: list[Skipped] = []
    files: list[SourceFile] = []
    warnings: list[str] = []

    ingest = ingest or IngestConfig()
    if ingest.language is None:  # read the corpus in the model's language
        ingest = replace(ingest, language=analyzer.language)
    stream = iter_corpus(*paths, config=ingest)
    sequence: dict[str, int] = {}
    batches = _article_batches(stream, article_rows, skipped, files, warnings, sequence, check_language, analyzer.language)
    for results in _score_batches(batches, analyzer, jobs):
        for article, outcome in results:
            if isinstance(outcome, Skipped):
                skipped.append(outcome)
                article_rows.append(_article_row(article, "skipped", 0, 0, reason=outcome.reason, seq=sequence[article.id]))
                continue
            n_sentences, rows = outcome
            units = len(rows["actor"])
            columns.extend(rows)
            article_rows.append(_article_row(article, "ok", n_sentences, units, seq=sequence[article.id]))
        if progress:
            progress(len(results))
    # Rows arrive in input order (articles as read, units by position), whatever ``jobs`` is.
    mentions = columns.frame()
    del columns
    article_rows.sort(key=lambda row: row["_seq"])
    extras = _extra_column_names(article_rows, warnings)
    articles = pd.DataFrame(article_rows, columns=[*ARTICLE_COLUMNS, *extras])
    if extras and extra_columns_in_mentions:
        mentions = mentions.merge(articles[["article_id", *extras]], on="article_id", how="left", validate="many_to_one")
    return CorpusResult(mentions, articles, tuple(skipped), tuple(warnings), tuple(files))


def _extra_column_names(article_rows: list[dict[str, Any]], warnings: list[str]) -> list[str]:
    """The extra input columns of the table: the :data:`MAX_EXTRA_COLUMNS` most frequent, by name."""
    counts = Counter(name for row in article_rows for name in row if name not in _RESERVED)
    kept = sorted(counts, key=lambda name: (-counts[name], name))[:MAX_EXTRA_COLUMNS]
    if len(counts) > len(kept):
        warnings.append(f"{len(counts) - len(kept)} extra input column(s) beyond the {MAX_EXTRA_COLUMNS} most frequent "
                        "are left out of the tables")
    return sorted(kept)


class _MentionColumns:
    """The mention table as it grows: numbers in typed arrays (8 bytes a value), text as shared
    string objects, so a large corpus costs a few hundred bytes per unit until the frame is built."""

    _INTEGERS = frozenset({"sentence_index", "start", "end"})
    _FLOATS = frozenset({"stance_score", "p_negative", "p_neutral", "p_positive", "sentiment_score"})

    def __init__(self) -> None:
        self._columns: dict[str, Any] = {
            name: array("q") if name in self._INTEGERS else array("d") if name in self._FLOATS else []
            for name in MENTION_COLUMNS
        }

    def extend(self, rows: dict[str, list[Any]]) -> None:
        for name, values in rows.items():
            self._columns[name].extend(values)

    def frame(self) -> pd.DataFrame:
        """The table (:data:`MENTION_COLUMNS`); an empty one has object columns."""
        import numpy as np
        import pandas as pd

        if not self._columns["actor"]:
            return pd.DataFrame({c: pd.Series(dtype=object) for c in MENTION_COLUMNS})
        data = {}
        for name in MENTION_COLUMNS:
            values = self._columns[name]
            if isinstance(values, array):
                data[name] = np.frombuffer(values, dtype=np.int64 if values.typecode == "q" else np.float64).copy()
            else:
                data[name] = values
            self._columns[name] = []  # release each column once it is in the frame
        return pd.DataFrame(data, columns=list(MENTION_COLUMNS))


def _resolve_jobs(jobs: int) -> int:
    if jobs is None or jobs <= 0:
        return max(1, os.cpu_count() or 1)
    return jobs


def _article_batches(stream: Iterable[Article | Skipped | SourceFile], article_rows: list[dict[str, Any]],
                     skipped: list[Skipped], files: list[SourceFile], warnings: list[str],
                     sequence: dict[str, int], check_language: bool = True, language: str | None = None) -> Iterator[list[Article]]:
    """Group unique articles into batches; record duplicates, skips and files on the way.

    With ``check_language`` an article that is not in ``language`` (the model's pack) is skipped.

    ``sequence`` receives each article's position in the input, which orders the table.
    """
    batch: list[Article] = []
    for seq, item in enumerate(stream):
        if isinstance(item, SourceFile):
            files.append(item)
        elif isinstance(item, Skipped):
            skipped.append(item)
            article_rows.append(_skipped_row(item, seq))
        else:
            warnings.extend(f"{item.id}: {w}" for w in item.warnings)
            if item.duplicate_of is not None:
                article_rows.append(_article_row(item, "duplicate", 0, 0, reason=f"duplicate of {item.duplicate_of}", seq=seq))
                continue
            other = not_german_reason(item.text, language) if check_language else None
            if other is not None:
                skipped.append(Skipped(item.id, other))
                article_rows.append(_article_row(item, "skipped", 0, 0, reason=other, seq=seq))
                continue
            sequence[item.id] = seq
            batch.append(item)
            if len(batch) >= BATCH_ARTICLES:
                yield batch
                batch = []
    if batch:
        yield batch


def _score_batches(batches: Iterable[list[Article]], analyzer: Analyzer, jobs: int) -> Iterator[list[tuple[Article, Any]]]:
    """Score batches in input order, here and with ``jobs > 1`` also in ``jobs - 1`` worker processes.

    A corpus of at most :data:`IN_PROCESS_BATCHES` batches is scored here, so a small corpus
    never pays for starting a worker (it imports the libraries and loads the model). For a
    larger one the workers start at once; this process scores the first batches while they
    start, then takes batches from the same stream as the workers.
    """
    iterator = iter(batches)
    head = list(itertools.islice(iterator, IN_PROCESS_BATCHES if jobs > 1 else None))
    if jobs == 1 or len(head) < IN_PROCESS_BATCHES:
        for batch in head:
            yield score_batch(batch, analyzer)
        return
    yield from _score_with_workers(head, iterator, analyzer, jobs - 1)


class _SharedBatches:
    """Numbered batches handed out to two consumers (this process and the dispatcher of the workers)."""

    def __init__(self, batches: Iterator[list[Article]], first: int) -> None:
        self._numbered = enumerate(batches, start=first)
        self._lock = threading.Lock()
        self.in_flight: dict[int, list[Article]] = {}

    def __iter__(self) -> _SharedBatches:
        return self

    def __next__(self) -> tuple[int, list[Article]]:
        with self._lock:
            return next(self._numbered)

    def for_workers(self) -> Iterator[tuple[int, list[Article]]]:
        """The same stream, remembering what the workers hold until their results arrive."""
        for index, batch in self:
            self.in_flight[index] = batch
            yield index, batch


def _score_with_workers(head: list[list[Article]], rest: Iterator[list[Article]], analyzer: Analyzer,
                        workers: int) -> Iterator[list[tuple[Article, Any]]]:
    """Batches scored here and in ``workers`` worker processes, yielded in input order.

    A batch whose worker died (killed, out of memory) is scored again here.
    """
    from collections import deque

    from joblib.executor import get_memmapping_executor

    shared = _SharedBatches(rest, len(head))
    spec = (analyzer.model_path, analyzer.registry, analyzer.pack)
    worker = analyzer if analyzer.model_path is None else None
    arrived: queue.Queue[tuple[str, Any]] = queue.Queue()

    def feed() -> None:
        """Keep two batches per worker in flight, reading the next when one comes back."""
        try:
            # joblib's own reusable pool (not loky's directly), so a later joblib.Parallel in this
            # process (training, cross-validation) can reuse it instead of failing on a foreign pool;
            # no memory-mapping of large arrays (an in-memory analyzer is sent whole, nothing left in /dev/shm)
            executor = get_memmapping_executor(workers, max_nbytes=None)
            pending: deque[Any] = deque()
            for index, batch in shared.for_workers():
                pending.append(executor.submit(_score_indexed, index, batch, spec, worker))
                while len(pending) >= 2 * workers or (pending and pending[0].done()):
                    _deliver(pending.popleft().result(), shared, arrived)
            while pending:
                _deliver(pending.popleft().result(), shared, arrived)
        except Exception:  # a worker died: its batches are scored again by this process
            logger.exception("worker failed; its batches are scored in the main process")
        finally:
            arrived.put(("done", None))

    thread = threading.Thread(target=feed, name="stance-workers", daemon=True)
    thread.start()
    done: dict[int, list[tuple[Article, Any]]] = {index: score_batch(batch, analyzer) for index, batch in enumerate(head)}
    next_index = 0
    finished = exhausted = False  # the workers' feed has ended / the stream has no more batches
    while True:
        while True:  # take the workers' results; wait for them only when there is nothing else to do
            must_wait = exhausted and not finished and next_index not in done
            if not must_wait and arrived.empty():
                break
            kind, payload = arrived.get()
            if kind == "done":
                finished = True
            else:
                done[payload[0]] = payload[1]
        while next_index in done:
            yield done.pop(next_index)
            next_index += 1
        if finished:  # batches a dead worker held, and whatever is left in the stream, are scored here
            for index in sorted(shared.in_flight):
                done[index] = score_batch(shared.in_flight.pop(index), analyzer)
            for index, batch in shared:
                done[index] = score_batch(batch, analyzer)
            for index in sorted(done):
                yield done[index]
            return
        if not exhausted:
            try:
                index, batch = next(shared)
            except StopIteration:
                exhausted = True
                continue
            done[index] = score_batch(batch, analyzer)


def _deliver(result: tuple[int, list[tuple[Article, Any]]], shared: _SharedBatches, arrived: queue.Queue[tuple[str, Any]]) -> None:
    index, outcome = result
    shared.in_flight.pop(index, None)
    arrived.put(("result", (index, outcome)))


def _score_indexed(index: int, batch: list[Article], spec: tuple[str | None, ActorRegistry, LanguagePack],
                   analyzer: Analyzer | None) -> tuple[int, list[tuple[Article, Any]]]:
    return index, _score_batch_in_worker(batch, spec, analyzer)


def _score_batch_in_worker(batch: list[Article], spec: tuple[str | None, ActorRegistry, LanguagePack],
                           analyzer: Analyzer | None) -> list[tuple[Article, Any]]:
    from .scoring import load

    path, registry, pack = spec
    if pack.code not in available_languages():  # a pack registered at run time in the parent process
        register_pack(pack)
    if analyzer is None:
        analyzer = load(path, actors=registry)
    return score_batch(batch, analyzer)


def score_batch(batch: Sequence[Article], analyzer: Analyzer) -> list[tuple[Article, Any]]:
    """Analyse a batch of articles with one model call per model; an article that fails becomes
    a Skipped, never an exception.

    The outcome of an analysed article is ``(number of sentences, columns of its units)``.
    """
    nlp = load_nlp(NlpConfig(lang=analyzer.language), analyzer.registry)
    try:
        items = list(iter_article_mentions(batch, nlp))
        scored = analyzer.score_mentions([m for item in items for m in item.mentions])
        results: list[tuple[Article, Any]] = []
        start = 0
        for item in items:
            own = scored[start:start + len(item.mentions)]
            start += len(item.mentions)
            results.append((item.article, (len(item.sentences), _mention_columns(item.article, own, analyzer))))
        return results
    except Exception:  # fall back to one article at a time to isolate the bad one
        logger.exception("batch failed; retrying article by article")
    results = []
    for article in batch:
        try:
            item = next(iter(iter_article_mentions([article], nlp)))
            columns = _mention_columns(article, analyzer.score_mentions(item.mentions), analyzer)
            results.append((article, (len(item.sentences), columns)))
        except Exception as exc:
            results.append((article, Skipped(article.id, f"analysis failed: {type(exc).__name__}: {exc}")))
    return results


_INTERNED: dict[str, str] = {}


def _intern(value: str) -> str:
    """Share one string object for values that repeat across many rows (actor, date, labels)."""
    return _INTERNED.setdefault(value, value)


def _mention_columns(article: Article, scored: Sequence[Any], analyzer: Analyzer) -> dict[str, list[Any]]:
    """The units of one article, column by column (:data:`MENTION_COLUMNS`)."""
    date = _intern(article.date.isoformat()) if article.date else None
    n = len(scored)
    return {
        "article_id": [article.id] * n, "source": [article.source] * n, "title": [article.title] * n, "date": [date] * n,
        "sentence_index": [m.sentence_index for m in scored],
        "actor": [_intern(m.actor) for m in scored],
        "actor_name": [_intern(analyzer.registry.display_name(m.actor)) for m in scored],
        "surface": [_intern(m.surface) for m in scored], "kind": [_intern(m.kind) for m in scored],
        "start": [m.start for m in scored], "end": [m.end for m in scored],
        "stance": [_intern(m.stance) for m in scored],
        "stance_score": [round(m.stance_score, 6) for m in scored],
        "p_negative": [round(m.stance_proba["negative"], 6) for m in scored],
        "p_neutral": [round(m.stance_proba["neutral"], 6) for m in scored],
        "p_positive": [round(m.stance_proba["positive"], 6) for m in scored],
        "sentiment": [_intern(m.sentiment) for m in scored],
        "sentiment_score": [round(m.sentiment_score, 6) for m in scored],
        "sentence": [m.sentence for m in scored],
    }


def _skipped_row(skip: Skipped, seq: int) -> dict[str, Any]:
    return {
        "_seq": seq, "article_id": f"{skip.source}:{skip.location}" if skip.location else skip.source,
        "source": skip.source, "path": skip.source, "location": skip.location, "title": None, "date": None,
        "status": "skipped", "duplicate_of": None, "sentences": 0, "units": 0, "warnings": "", "reason": skip.reason,
        "encoding": None,
    }


def _article_row(article: Article, status: str, sentences: int, units: int, reason: str | None = None,
                 seq: int = 0) -> dict[str, Any]:
    return {
        "_seq": seq,
        "article_id": article.id, "source": article.source, "path": article.path, "location": article.location,
        "title": article.title, "date": article.date.isoformat() if article.date else None, "status": status,
        "duplicate_of": article.duplicate_of, "sentences": sentences, "units": units,
        "warnings": "; ".join(article.warnings), "reason": reason, "encoding": article.encoding,
        **{name if name not in _RESERVED else f"input_{name}": value for name, value in article.extra},
    }
