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
    """How the spaCy pipeline is built (hashable: it keys the pipeline cache); ``lang`` is the
    code of the :class:`~stance.lang.LanguagePack` (German ``"de"`` by default)."""

    lang: str = "de"
    max_length: int = 5_000_000
    batch_size: int = 64


@dataclass(frozen=True, slots=True)
class IngestConfig:
    """Corpus reading: accepted file types, limits, date plausibility and duplicates.

    ``duplicates`` says what happens to repeated articles: ``"drop"`` marks every repeat of
    an earlier article (it is not analysed), ``"keep"`` analyses every article (no check),
    ``"per-source"`` marks only repeats within the same ``source`` (agency copies printed by
    several outlets are all kept). ``exclude`` lists paths (files or folders) never read,
    such as the output folder. An article longer than ``max_article_chars`` is skipped with
    the reason (split such a text into its articles first). ``max_file_bytes`` limits the
    size of a file on disk; a gzip file is also read only up to ``max_decompressed_bytes``
    decompressed bytes (a gzip bomb stops there with the reason, the articles before kept).
    A suffix may be double (``.jsonl.gz``); any ``<suffix>.gz`` of a text suffix can be added.

    Examples
    --------
    >>> IngestConfig(duplicates="per-source").duplicates
    'per-source'
    >>> IngestConfig(duplicates="never")
    Traceback (most recent call last):
    ...
    ValueError: duplicates: got 'never', expected one of 'drop', 'keep', 'per-source'
    """

    suffixes: tuple[str, ...] = (".txt", ".md", ".html", ".htm", ".jsonl", ".json", ".csv",
                                 ".jsonl.gz", ".csv.gz", ".parquet")
    max_file_bytes: int = 200_000_000  # on disk (for a gzip file: compressed)
    max_decompressed_bytes: int = 4_000_000_000  # 20 x max_file_bytes: a gzip file is read up to this many bytes
    max_article_chars: int = 1_000_000  # spaCy's own default limit; longer "articles" are whole dumps
    implausible_date_days: int = 120
    near_duplicate_jaccard: float = 0.85
    shingle_words: int = 5
    duplicates: str = "drop"
    exclude: tuple[str, ...] = ()
    language: str | None = None  # the language pack of month names, header and boilerplate words; None: the model's (German)

    def __post_init__(self) -> None:
        accepted = ("drop", "keep", "per-source")
        if self.duplicates not in accepted:
            raise ValueError(bad_value("duplicates", self.duplicates, accepted))


@dataclass(frozen=True, slots=True)
class ModelConfig:
    """Hyperparameters of the stance and sentiment pipelines (``[model]`` in the training config).

    ``make_stance_pipeline`` turns them into step parameters (``clf__C``,
    ``features__char__ngram_range``, ...), which is where grid searches change them. The
    defaults are the configuration of the shipped default model (``training/config.toml``),
    so ``stance train`` without ``--config`` trains like it.
    """

    random_state: int = RANDOM_STATE
    estimator: str = "logreg"
    class_weight: str = "balanced"
    C: float = 1.0
    sentiment_C: float = 1.0
    word_ngram_max: int = 2
    char_ngram_min: int = 2
    char_ngram_max: int = 5
    use_char: bool = True
    use_window: bool = True
    window_tokens: int = 6
    use_lexicon: bool = True
    use_cues: bool = True
    use_structure: bool = True
    use_frames: bool = True
    lexicon_drop_neutral: bool = True
    mask_target: bool = True
    mask_others: bool = True


# The source weights of the shipped default model (chosen on the news development split, reports/model).
DEFAULT_WEIGHTS: tuple[tuple[str, float], ...] = (("constructed", 1.0), ("gerntsa", 0.5), ("news", 3.0), ("sample", 3.0))


@dataclass(frozen=True, slots=True)
class DataPolicy:
    """What the models learn from and how they are checked (``[data]`` in the training config).

    ``weights`` gives a sample weight per source; a source not listed gets ``default_weight``.
    ``user_weight`` is the weight of the user's own units (``stance train --add``, or labelled
    files with a source name of their own) unless ``weights`` lists their source: 3.0, the
    weight chosen for the news units and the sample gold (news weights 1-4 were compared on
    the news development split in ``reports/model``), since coded units are real news of the
    user's own domain like those.
    """

    weights: tuple[tuple[str, float], ...] = DEFAULT_WEIGHTS
    default_weight: float = 1.0
    user_weight: float = 3.0
    sources_stance: tuple[str, ...] = ("sample", "constructed", "gerntsa", "news")
    sources_sentiment: tuple[str, ...] = ("sample", "constructed", "news")
    refit_with_dev: bool = True
    cv_folds: int = 5
    min_rows: int = 30

    def weight(self, source: str) -> float:
        """The sample weight of a unit from ``source``.

        Examples
        --------
        >>> DataPolicy(weights=(("news", 3.0),)).weight("news"), DataPolicy().weight("mine")
        (3.0, 1.0)
        """
        return dict(self.weights).get(source, self.default_weight)

    def with_weight(self, source: str, value: float) -> DataPolicy:
        """The same policy with one source's weight changed."""
        return replace(self, weights=tuple(sorted({**dict(self.weights), source: value}.items())))

    def with_user_sources(self, sources: tuple[str, ...] | list[str], weight: float | None = None) -> DataPolicy:
        """The same policy learning both tasks from the user's ``sources`` too, each weighted
        ``weight`` (default: its entry in ``weights``, else ``user_weight``).

        Examples
        --------
        >>> p = DataPolicy().with_user_sources(["mine"])
        >>> "mine" in p.sources_stance and "mine" in p.sources_sentiment, p.weight("mine")
        (True, 3.0)
        """
        policy = self
        for source in sources:
            value = weight if weight is not None else dict(self.weights).get(source, self.user_weight)
            policy = replace(policy.with_weight(source, value),
                             sources_stance=tuple(dict.fromkeys((*policy.sources_stance, source))),
                             sources_sentiment=tuple(dict.fromkeys((*policy.sources_sentiment, source))))
        return policy


@dataclass(frozen=True, slots=True)
class ReportConfig:
    """Aggregation and plotting defaults.

    A group (actor, actor x period, actor x source) with fewer than ``min_group_units``
    units or fewer than ``min_group_articles`` articles is flagged ``small_group`` in the
    tables and drawn faded in the plots; its interval rests on too few articles to trust.
    """

    min_mentions: int = 3
    top_actors: int = 5
    freq: str = "day"
    rolling_window: int = 3
    bootstrap_samples: int = 1000
    confidence: float = 0.95
    random_state: int = RANDOM_STATE
    dpi: int = 150
    evidence_per_actor: int = 2
    min_group_units: int = 10
    min_group_articles: int = 3


@dataclass(frozen=True, slots=True)
class StanceConfig:
    """The whole configuration."""

    nlp: NlpConfig = field(default_factory=NlpConfig)
    ingest: IngestConfig = field(default_factory=IngestConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    data: DataPolicy = field(default_factory=DataPolicy)
    report: ReportConfig = field(default_factory=ReportConfig)


def _from_mapping(cls: type[Any], data: dict[str, Any], *, source: str, table: str) -> Any:
    """Build a frozen config dataclass from a TOML table, rejecting unknown keys and bad types."""
    known = {f.name: f for f in fields(cls)}
    defaults = cls()
    values: dict[str, Any] = {}
    for key, value in data.items():
        if key not in known:
            other = "data" if table == "model" and key in _DATA_KEYS else "model" if table == "data" and key in _MODEL_KEYS else None
            hint = f" ({key!r} belongs in [{other}])" if other else ""
            raise InputFormatError(f"{source}: [{table}] " + bad_value("key", key, sorted(known)) + hint)
        default = getattr(defaults, key)
        if key == "weights":
            value = _weights(value, source)
        elif isinstance(default, tuple):
            if not isinstance(value, (list, tuple)):
                raise InputFormatError(f"{source}: [{table}] {key} must be a list, got {value!r}")
            value = tuple(value)
        elif isinstance(default, bool):
            if not isinstance(value, bool):
                raise InputFormatError(f"{source}: [{table}] {key} must be true or false, got {value!r}")
        elif isinstance(default, (int, float)):
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise InputFormatError(f"{source}: [{table}] {key} must be a number, got {value!r}")
            value = type(default)(value)
        elif isinstance(default, str) and not isinstance(value, str):
            raise InputFormatError(f"{source}: [{table}] {key} must be a string, got {value!r}")
        values[key] = value
    return replace(defaults, **values)


def _weights(value: Any, source: str) -> tuple[tuple[str, float], ...]:
    if not isinstance(value, dict) or not all(isinstance(v, (int, float)) and not isinstance(v, bool) and v >= 0 for v in value.values()):
        raise InputFormatError(f"{source}: [data.weights] must map source names to non-negative numbers, got {value!r}")
    return tuple(sorted((str(k), float(v)) for k, v in value.items()))


_MODEL_KEYS = frozenset(f.name for f in fields(ModelConfig))
_DATA_KEYS = frozenset(f.name for f in fields(DataPolicy))


def model_config_from_mapping(data: dict[str, Any], *, source: str = "<mapping>") -> ModelConfig:
    """Build a :class:`ModelConfig` from a mapping, rejecting unknown keys and bad types."""
    return _from_mapping(ModelConfig, data, source=source, table="model")


def data_policy_from_mapping(data: dict[str, Any], *, source: str = "<mapping>") -> DataPolicy:
    """Build a :class:`DataPolicy` from a mapping, rejecting unknown keys and bad types."""
    return _from_mapping(DataPolicy, data, source=source, table="data")


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
    """Read the ``[model]`` table of a TOML training config (hyperparameters).

    Raises
    ------
    InputFormatError
        If the file cannot be parsed or holds unknown keys.
    """
    return model_config_from_mapping(_table(path, "model"), source=str(path)) if path is not None else ModelConfig()


def load_data_policy(path: str | Path | None) -> DataPolicy:
    """Read the ``[data]`` table of a TOML training config (sources, weights, folds).

    Raises
    ------
    InputFormatError
        If the file cannot be parsed or holds unknown keys.
    """
    return data_policy_from_mapping(_table(path, "data"), source=str(path)) if path is not None else DataPolicy()


def _table(path: str | Path, name: str) -> dict[str, Any]:
    data = _read_toml(Path(path))
    unknown = sorted(set(data) - {"model", "data", "corpora"})
    if unknown:
        raise InputFormatError(f"{path}: unknown table(s) or key(s) {', '.join(unknown)}; expected [model], [data] and [corpora]")
    table = data.get(name, {})
    if not isinstance(table, dict):
        raise InputFormatError(f"{path}: [{name}] must be a table")
    return table
