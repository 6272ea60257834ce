"""Every default of ``stance`` in one place, as frozen dataclasses.

The training configuration (``training/config.toml``) is read into :class:`ModelConfig`
with :func:`load_model_config`; the resolved config is saved next to every model.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from .errors import InputFormatError, bad_value

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

RANDOM_STATE = 42


@dataclass(frozen=True, slots=True)
class NlpConfig:
    """How the spaCy pipeline is built (hashable: it keys the pipeline cache)."""

    lang: str = "de"
    lemmatizer: bool = True
    max_length: int = 5_000_000
    batch_size: int = 64


@dataclass(frozen=True, slots=True)
class IngestConfig:
    """Corpus reading: accepted file types, limits and date plausibility."""

    suffixes: tuple[str, ...] = (".txt", ".md", ".html", ".htm", ".jsonl", ".csv")
    max_file_bytes: int = 200_000_000
    implausible_date_days: int = 120
    near_duplicate_jaccard: float = 0.85
    shingle_words: int = 5


@dataclass(frozen=True, slots=True)
class ModelConfig:
    """Features and estimator settings of the stance and sentiment models."""

    random_state: int = RANDOM_STATE
    estimator: str = "logreg"
    class_weight: str = "balanced"
    C: float = 1.0
    word_ngram_max: int = 2
    char_ngram_min: int = 2
    char_ngram_max: int = 5
    use_char: bool = True
    use_window: bool = True
    window_tokens: int = 6
    use_lexicon: bool = True
    use_cues: bool = True
    use_structure: bool = False
    use_frames: bool = False
    lexicon_drop_neutral: bool = False
    mask_target: bool = True
    mask_others: bool = True
    use_sentence_words: bool = False
    sentiment_C: float = 1.0
    weight_gold: float = 1.0
    weight_constructed: float = 1.0
    weight_gerntsa: float = 1.0
    weight_news: float = 1.0
    refit_with_dev: bool = True
    cv_folds: int = 5
    min_rows: int = 30
    sources_stance: tuple[str, ...] = ("sample", "constructed", "gerntsa", "news")
    sources_sentiment: tuple[str, ...] = ("sample", "constructed", "news")


@dataclass(frozen=True, slots=True)
class ReportConfig:
    """Aggregation and plotting defaults."""

    min_mentions: int = 3
    top_actors: int = 5
    freq: str = "day"
    rolling_window: int = 3
    bootstrap_samples: int = 1000
    confidence: float = 0.95
    random_state: int = RANDOM_STATE
    dpi: int = 150
    evidence_per_actor: int = 2


@dataclass(frozen=True, slots=True)
class StanceConfig:
    """The whole configuration."""

    nlp: NlpConfig = field(default_factory=NlpConfig)
    ingest: IngestConfig = field(default_factory=IngestConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    report: ReportConfig = field(default_factory=ReportConfig)


def model_config_from_mapping(data: dict[str, Any], *, source: str = "<mapping>") -> ModelConfig:
    """Build a :class:`ModelConfig` from a mapping, rejecting unknown keys and bad types."""
    known = {f.name: f for f in fields(ModelConfig)}
    defaults = ModelConfig()
    values: dict[str, Any] = {}
    for key, value in data.items():
        if key not in known:
            raise InputFormatError(f"{source}: " + bad_value("key", key, sorted(known)))
        default = getattr(defaults, key)
        if isinstance(default, tuple):
            if not isinstance(value, (list, tuple)):
                raise InputFormatError(f"{source}: {key} must be a list, got {value!r}")
            value = tuple(value)
        elif isinstance(default, bool):
            if not isinstance(value, bool):
                raise InputFormatError(f"{source}: {key} must be true or false, got {value!r}")
        elif isinstance(default, (int, float)):
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise InputFormatError(f"{source}: {key} must be a number, got {value!r}")
            value = type(default)(value)
        elif isinstance(default, str) and not isinstance(value, str):
            raise InputFormatError(f"{source}: {key} must be a string, got {value!r}")
        values[key] = value
    return replace(defaults, **values)


def load_corpora_config(path: str | Path | None) -> dict[str, str]:
    """The ``[corpora]`` table of a training config: paths of external corpora by name.

    Relative paths are taken as written (relative to the working folder, like ``--data``).
    """
    if path is None:
        return {}
    data = _read_toml(Path(path))
    table = data.get("corpora", {})
    if not isinstance(table, dict) or not all(isinstance(v, str) for v in table.values()):
        raise InputFormatError(f"{path}: [corpora] must map corpus names to paths (strings)")
    return dict(table)


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise InputFormatError(f"{path}: config file not found") from exc
    except tomllib.TOMLDecodeError as exc:
        raise InputFormatError(f"{path}: invalid TOML: {exc}") from exc


def load_model_config(path: str | Path | None) -> ModelConfig:
    """Read a TOML training config (its ``[model]`` table, or the top level).

    Raises
    ------
    InputFormatError
        If the file cannot be parsed or holds unknown keys.
    """
    if path is None:
        return ModelConfig()
    path = Path(path)
    data = _read_toml(path)
    table = data.get("model", {k: v for k, v in data.items() if k != "corpora"})
    if not isinstance(table, dict):
        raise InputFormatError(f"{path}: [model] must be a table")
    return model_config_from_mapping(table, source=str(path))
