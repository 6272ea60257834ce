"""The library entry point: corpus in, scored mentions and article statuses out.

Articles stream through in batches (read -> split -> sentences -> mentions -> scores), so
memory grows with the output table, not with the corpus. With ``jobs > 1`` batches are
scored in worker processes; results come back in input order, so output is identical.
"""

from __future__ import annotations

import itertools
import logging
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .actors import ActorRegistry
from .articles import iter_corpus
from .config import IngestConfig, NlpConfig
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
    "sentences", "units", "warnings", "reason",
)
BATCH_ARTICLES = 32
IN_PROCESS_BATCHES = 2


@dataclass(frozen=True)
class CorpusResult:
    """The analysis of a corpus: one row per scored unit, one row per input/article.

    ``mentions`` and ``articles`` are pandas DataFrames (columns :data:`MENTION_COLUMNS`
    and :data:`ARTICLE_COLUMNS`); ``skipped`` lists every input not analysed with the
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
                   ingest: IngestConfig | None = None) -> CorpusResult:
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
    mention_frames: list[pd.DataFrame] = []
    article_rows: list[dict[str, Any]] = []
    skipped: list[Skipped] = []
    files: list[SourceFile] = []
    warnings: list[str] = []

    stream = iter_corpus(*paths, config=ingest)
    sequence: dict[str, int] = {}
    batches = _article_batches(stream, article_rows, skipped, files, warnings, sequence)
    for results in _score_batches(batches, analyzer, jobs):
        for article, outcome in results:
            if isinstance(outcome, Skipped):
                skipped.append(outcome)
                article_rows.append(_article_row(article, "skipped", 0, 0, reason=outcome.reason, seq=sequence[article.id]))
                continue
            n_sentences, rows = outcome
            if len(rows):
                mention_frames.append(rows)
            article_rows.append(_article_row(article, "ok", n_sentences, len(rows), seq=sequence[article.id]))
        if progress:
            progress(len(results))
    # Rows arrive in input order (articles as read, units by position), whatever ``jobs`` is.
    if mention_frames:
        mentions = pd.concat(mention_frames, ignore_index=True)
    else:
        mentions = pd.DataFrame({c: pd.Series(dtype=object) for c in MENTION_COLUMNS})
    del mention_frames
    article_rows.sort(key=lambda row: row["_seq"])
    articles = pd.DataFrame(article_rows, columns=list(ARTICLE_COLUMNS))
    return CorpusResult(mentions, articles, tuple(skipped), tuple(warnings), tuple(files))


def _resolve_jobs(jobs: int) -> int:
    if jobs is None or jobs <= 0:
        return max(1, os.cpu_count() or 1)
    return jobs


def _article_batches(stream: Iterable[Article | Skipped | SourceFile], article_rows: list[dict[str, Any]],
                     skipped: list[Skipped], files: list[SourceFile], warnings: list[str],
                     sequence: dict[str, int]) -> Iterator[list[Article]]:
    """Group unique articles into batches; record duplicates, skips and files on the way.

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
            sequence[item.id] = seq
            batch.append(item)
            if len(batch) >= BATCH_ARTICLES:
                yield batch
                batch = []
    if batch:
        yield batch


def _score_batches(batches: Iterable[list[Article]], analyzer: Analyzer, jobs: int) -> Iterator[list[tuple[Article, Any]]]:
    """Score batches in order; with ``jobs > 1`` batches after the first few go to worker processes.

    The first :data:`IN_PROCESS_BATCHES` batches are always scored here, so a small corpus
    never pays for starting workers (each loads the model and the pipeline).
    """
    iterator = iter(batches)
    for batch in itertools.islice(iterator, IN_PROCESS_BATCHES if jobs > 1 else None):
        yield score_batch(batch, analyzer)
    if jobs == 1:
        return
    from joblib import Parallel, delayed

    spec = (analyzer.model_path, analyzer.registry)
    worker = analyzer if analyzer.model_path is None else None
    with Parallel(n_jobs=jobs, return_as="generator", backend="loky") as parallel:
        for group in _windowed(iterator, jobs * 2):
            yield from parallel(delayed(_score_batch_in_worker)(batch, spec, worker) for batch in group)


def _windowed(items: Iterable[list[Article]], size: int) -> Iterator[list[list[Article]]]:
    iterator = iter(items)
    while True:
        group = list(itertools.islice(iterator, size))
        if not group:
            return
        yield group


def _score_batch_in_worker(batch: list[Article], spec: tuple[str | None, ActorRegistry], analyzer: Analyzer | None) -> list[tuple[Article, Any]]:
    from .scoring import load

    if analyzer is None:
        path, registry = spec
        analyzer = load(path, actors=registry)
    return score_batch(batch, analyzer)


def score_batch(batch: Sequence[Article], analyzer: Analyzer) -> list[tuple[Article, Any]]:
    """Analyse a batch of articles; an article that fails becomes a Skipped, never an exception."""
    # Lemmas are not used downstream of mentions, so the batch path skips the lemmatizer.
    nlp = load_nlp(NlpConfig(lemmatizer=False), analyzer.registry)
    try:
        return [(item.article, (len(item.sentences), _mention_rows(item.article, analyzer.score_mentions(item.mentions), analyzer)))
                for item in iter_article_mentions(batch, nlp)]
    except Exception:  # fall back to one article at a time to isolate the bad one
        logger.exception("batch failed; retrying article by article")
    results: list[tuple[Article, Any]] = []
    for article in batch:
        try:
            item = next(iter(iter_article_mentions([article], nlp)))
            rows = _mention_rows(article, analyzer.score_mentions(item.mentions), analyzer)
            results.append((article, (len(item.sentences), rows)))
        except Exception as exc:
            results.append((article, Skipped(article.id, f"analysis failed: {type(exc).__name__}: {exc}")))
    return results


_INTERNED: dict[str, str] = {}


def _intern(value: str) -> str:
    """Share one string object for values that repeat across many rows (actor, date, labels)."""
    return _INTERNED.setdefault(value, value)


def _mention_rows(article: Article, scored: Sequence[Any], analyzer: Analyzer) -> Any:
    """The units of one article as a compact column-wise DataFrame."""
    import pandas as pd

    date = _intern(article.date.isoformat()) if article.date else None
    n = len(scored)
    columns: dict[str, Any] = {
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
    return pd.DataFrame(columns, columns=list(MENTION_COLUMNS))


def _skipped_row(skip: Skipped, seq: int) -> dict[str, Any]:
    return {
        "_seq": seq, "article_id": f"{skip.source}:{skip.location}" if skip.location else skip.source,
        "source": skip.source, "path": skip.source, "location": skip.location, "title": None, "date": None,
        "status": "skipped", "duplicate_of": None, "sentences": 0, "units": 0, "warnings": "", "reason": skip.reason,
    }


def _article_row(article: Article, status: str, sentences: int, units: int, reason: str | None = None,
                 seq: int = 0) -> dict[str, Any]:
    return {
        "_seq": seq,
        "article_id": article.id, "source": article.source, "path": article.path, "location": article.location,
        "title": article.title, "date": article.date.isoformat() if article.date else None, "status": status,
        "duplicate_of": article.duplicate_of, "sentences": sentences, "units": units,
        "warnings": "; ".join(article.warnings), "reason": reason,
    }
