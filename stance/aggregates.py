"""Stage 8, aggregates: tables over the mentions table (one row per scored unit).

Every table gives, per group: the number of units, the mean stance score with a 95%
interval, the share of negative / neutral / positive units and the mean sentiment score.
Intervals are percentile intervals of a seeded bootstrap of the mean (1,000 resamples),
seeded per group so a group's interval does not depend on the other groups; a group of
one unit has no interval. Undated articles are counted in an ``undated`` row, never on a date.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from .config import ReportConfig
from .errors import bad_value

UNDATED = "undated"
FREQS = ("day", "week", "month")
STAT_COLUMNS = ("units", "mean_stance", "ci_low", "ci_high", "share_negative", "share_neutral", "share_positive", "mean_sentiment")


def bootstrap_interval(values: np.ndarray, *, key: str, samples: int = 1000, confidence: float = 0.95,
                       seed: int = 42) -> tuple[float, float]:
    """Percentile bootstrap interval of the mean, seeded by ``seed`` and the group ``key``.

    Examples
    --------
    >>> lo, hi = bootstrap_interval(np.array([-1.0, 0.0, 1.0, 0.5]), key="x")
    >>> lo < 0.125 < hi
    True
    """
    values = np.asarray(values, dtype=float)
    if len(values) < 2:
        return (float("nan"), float("nan"))
    rng = np.random.default_rng([seed, zlib.crc32(key.encode("utf-8"))])
    # Resample in chunks of about 2 million draws, so memory stays flat for large groups;
    # the draws come from one stream, so the result does not depend on the chunk size.
    per_chunk = max(1, 2_000_000 // len(values))
    means = np.concatenate([
        values[rng.integers(0, len(values), size=(min(per_chunk, samples - done), len(values)))].mean(axis=1)
        for done in range(0, samples, per_chunk)
    ])
    alpha = (1 - confidence) / 2
    return (float(np.quantile(means, alpha)), float(np.quantile(means, 1 - alpha)))


def _aggregate(mentions: pd.DataFrame, keys: Sequence[str], config: ReportConfig) -> pd.DataFrame:
    """Per group of ``keys``: the statistics of :data:`STAT_COLUMNS`, computed column-wise.

    Counts, means and shares come from one grouped pass; only the bootstrap runs per group
    (each group has its own seeded generator, so its interval does not depend on the others).
    """
    if not len(mentions):
        return pd.DataFrame(columns=[*keys, *STAT_COLUMNS])
    grouped = mentions.groupby(list(keys), sort=True, dropna=False)
    ids = grouped.ngroup().to_numpy()
    order = np.argsort(ids, kind="stable")
    sizes = np.bincount(ids)
    scores = mentions["stance_score"].to_numpy(dtype=float)
    sentiment = mentions["sentiment_score"].to_numpy(dtype=float)
    stance = mentions["stance"].to_numpy(dtype=object)
    keyed = grouped.size().index
    labels = ["|".join(str(v) for v in (value if isinstance(value, tuple) else (value,))) for value in keyed]
    bounds = np.concatenate([[0], np.cumsum(sizes)])
    sorted_scores, sorted_sentiment = scores[order], sentiment[order]
    means, sentiments, lows, highs = [], [], [], []
    for g in range(len(sizes)):
        values = sorted_scores[bounds[g]:bounds[g + 1]]
        low, high = bootstrap_interval(values, key=labels[g], samples=config.bootstrap_samples, confidence=config.confidence,
                                       seed=config.random_state)
        means.append(round(float(values.mean()), 6))
        sentiments.append(round(float(sorted_sentiment[bounds[g]:bounds[g + 1]].mean()), 6))
        lows.append(round(low, 6))
        highs.append(round(high, 6))
    table = keyed.to_frame(index=False) if isinstance(keyed, pd.MultiIndex) else pd.DataFrame({keys[0]: keyed})
    table["units"] = sizes
    table["mean_stance"], table["ci_low"], table["ci_high"] = means, lows, highs
    for label in ("negative", "neutral", "positive"):
        counts = np.bincount(ids, weights=(stance == label).astype(float), minlength=len(sizes))
        table[f"share_{label}"] = [round(float(c) / n, 6) for c, n in zip(counts.tolist(), sizes.tolist())]
    table["mean_sentiment"] = sentiments
    return table[[*keys, *STAT_COLUMNS]]


def aggregate_by_article(mentions: pd.DataFrame, config: ReportConfig | None = None) -> pd.DataFrame:
    """Per article x actor: units, mean stance with interval, label shares, mean sentiment."""
    config = config or ReportConfig()
    table = _aggregate(mentions, ["article_id", "actor"], config)
    meta = mentions.drop_duplicates("article_id").set_index("article_id")[["date", "title", "source"]]
    table = table.join(meta, on="article_id")
    return table[["article_id", "date", "source", "title", "actor", *STAT_COLUMNS]]


def period_of(date: Any, freq: str) -> str:
    """The period label of an ISO date: the day, the Monday of its week, or the month.

    Examples
    --------
    >>> period_of("2025-10-23", "week"), period_of("2025-10-23", "month"), period_of(None, "day")
    ('2025-10-20', '2025-10', 'undated')
    """
    if freq not in FREQS:
        raise ValueError(bad_value("freq", freq, FREQS))
    if date is None or (isinstance(date, float) and np.isnan(date)) or date == "":
        return UNDATED
    day = pd.Timestamp(str(date)).date()
    if freq == "day":
        return day.isoformat()
    if freq == "week":
        return (day - pd.Timedelta(days=day.weekday())).isoformat()
    return f"{day.year:04d}-{day.month:02d}"


def aggregate_by_date(mentions: pd.DataFrame, freq: str = "day", config: ReportConfig | None = None) -> pd.DataFrame:
    """Per period x actor (``freq``: day, week or month), plus a rolling mean over periods.

    Undated articles form the period ``undated`` (sorted last), which the rolling mean skips.
    """
    config = config or ReportConfig()
    if freq not in FREQS:
        raise ValueError(bad_value("freq", freq, FREQS))
    frame = mentions.assign(period=[period_of(d, freq) for d in mentions["date"]])
    table = _aggregate(frame, ["period", "actor"], config)
    table["dated"] = table["period"] != UNDATED
    table = table.sort_values(["dated", "period", "actor"], ascending=[False, True, True], kind="stable")
    rolling = []
    for _, group in table[table["dated"]].groupby("actor", sort=True):
        weighted = (group["mean_stance"] * group["units"]).rolling(config.rolling_window, min_periods=1).sum()
        units = group["units"].rolling(config.rolling_window, min_periods=1).sum()
        rolling.append((weighted / units).round(6))
    table["rolling_mean_stance"] = pd.concat(rolling) if rolling else np.nan
    table.insert(1, "freq", freq)
    return table.drop(columns="dated").reset_index(drop=True)


def aggregate_by_actor(mentions: pd.DataFrame, config: ReportConfig | None = None) -> pd.DataFrame:
    """Per actor over the whole corpus, sorted by number of units (most first)."""
    config = config or ReportConfig()
    table = _aggregate(mentions, ["actor"], config)
    names = mentions.drop_duplicates("actor").set_index("actor")["actor_name"] if "actor_name" in mentions else None
    if names is not None:
        table.insert(1, "actor_name", table["actor"].map(names))
    articles = mentions.groupby("actor")["article_id"].nunique()
    table.insert(2, "articles", table["actor"].map(articles).astype(int))
    return table.sort_values(["units", "actor"], ascending=[False, True], kind="stable").reset_index(drop=True)


def aggregate_by_source(mentions: pd.DataFrame, config: ReportConfig | None = None) -> pd.DataFrame:
    """Per source x actor."""
    return _aggregate(mentions, ["source", "actor"], config or ReportConfig())


def top_actors(mentions: pd.DataFrame, n: int = 5, min_mentions: int = 3) -> list[str]:
    """The ``n`` actors with most units (ties by id), among those with ``min_mentions`` or more."""
    counts = mentions.groupby("actor").size()
    counts = counts[counts >= min_mentions]
    ordered = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return [actor for actor, _ in ordered[:n]]
