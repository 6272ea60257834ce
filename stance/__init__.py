"""stance: how German news text portrays political actors.

Text goes in; for every sentence that mentions an actor, ``stance`` tells the stance
toward that actor (negative / neutral / positive, score in [-1, 1]) and the tone of the
sentence; scores are aggregated per article and date and drawn as plots.

Heavy libraries (spaCy, scikit-learn, pandas, matplotlib) are imported lazily, on first
use of the function that needs them, so ``import stance`` is fast.
"""

from __future__ import annotations

import importlib
import logging
from typing import TYPE_CHECKING, Any

__version__ = "0.2.0"

logging.getLogger(__name__).addHandler(logging.NullHandler())

_EXPORTS: dict[str, str] = {
    "ActorRegistry": "stance.actors",
    "ActorRegistryError": "stance.errors",
    "Analyzer": "stance.scoring",
    "Article": "stance.records",
    "CodedUnit": "stance.coding",
    "CodingSheetError": "stance.errors",
    "Corpus": "stance.records",
    "CorpusResult": "stance.records",
    "DataValidationError": "stance.errors",
    "IncompatibleModelError": "stance.errors",
    "InputFormatError": "stance.errors",
    "LABELS": "stance.records",
    "LanguagePack": "stance.lang",
    "Mention": "stance.records",
    "ModelIntegrityError": "stance.errors",
    "ModelWriteError": "stance.errors",
    "OutputFolderError": "stance.errors",
    "ModelNotFoundError": "stance.errors",
    "PipelineBuildError": "stance.errors",
    "ScoredMention": "stance.records",
    "Sentence": "stance.records",
    "Skipped": "stance.records",
    "StanceError": "stance.errors",
    "TargetScore": "stance.records",
    "UnknownLanguageError": "stance.errors",
    "aggregate_by_actor": "stance.aggregates",
    "aggregate_by_article": "stance.aggregates",
    "aggregate_by_date": "stance.aggregates",
    "aggregate_by_source": "stance.aggregates",
    "analyze_corpus": "stance.pipeline",
    "draw_sample": "stance.coding",
    "find_mentions": "stance.mentions",
    "get_pack": "stance.lang",
    "load": "stance.scoring",
    "load_actors": "stance.actors",
    "load_articles": "stance.articles",
    "make_sentiment_pipeline": "stance.model",
    "make_stance_pipeline": "stance.model",
    "parse_date": "stance.dates",
    "read_coding_sheet": "stance.coding",
    "register_pack": "stance.lang",
    "plot_actor_overview": "stance.plots",
    "plot_heatmap": "stance.plots",
    "plot_stance_vs_sentiment": "stance.plots",
    "plot_timeline": "stance.plots",
    "split_sentences": "stance.sentences",
    "write_coding_sheet": "stance.coding",
}

__all__ = sorted([*_EXPORTS, "__version__"])


def __getattr__(name: str) -> Any:
    module_name = _EXPORTS.get(name)
    if module_name is None:
        raise AttributeError(f"module 'stance' has no attribute {name!r}")
    value = getattr(importlib.import_module(module_name), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__


if TYPE_CHECKING:  # pragma: no cover
    from .actors import ActorRegistry, load_actors
    from .aggregates import aggregate_by_actor, aggregate_by_article, aggregate_by_date, aggregate_by_source
    from .articles import load_articles
    from .coding import CodedUnit, draw_sample, read_coding_sheet, write_coding_sheet
    from .dates import parse_date
    from .errors import (ActorRegistryError, CodingSheetError, DataValidationError, IncompatibleModelError, InputFormatError,
                         ModelIntegrityError, ModelNotFoundError, ModelWriteError, OutputFolderError,
                         PipelineBuildError, StanceError, UnknownLanguageError)
    from .lang import LanguagePack, get_pack, register_pack
    from .mentions import find_mentions
    from .pipeline import analyze_corpus
    from .records import CorpusResult
    from .plots import plot_actor_overview, plot_heatmap, plot_stance_vs_sentiment, plot_timeline
    from .records import LABELS, Article, Corpus, Mention, ScoredMention, Sentence, Skipped, TargetScore
    from .scoring import Analyzer, load
    from .sentences import split_sentences
