"""Stage 8, aggregates: tables over the mentions table (one row per scored unit).

Every table gives, per group: the number of units and of distinct articles, the mean
stance score with a 95% interval, the share of negative / neutral / positive units, the
mean sentiment score and a ``small_group`` flag.

Intervals: the units of one article are not independent (one article's sentences about an
actor tend to lean the same way), so the interval is a **cluster bootstrap over articles**:
each of the 1,000 resamples draws the group's articles with replacement and takes the mean
of all their units (sum of the drawn articles' scores / their number of units); the
interval is the 2.5th to 97.5th percentile of those means. Each group has its own seeded
generator (the config's ``random_state`` and the group's key), so the same input gives the
same numbers and a group's interval does not depend on the other groups. A group whose
units all come from **one article** has no interval (empty ``ci_low``/``ci_high``): one
article says nothing about how another article would portray the actor. So
``by_article.csv`` (one article per row) has no intervals.

``small_group`` is true when a group has fewer than ``ReportConfig.min_group_units``
(default 10) units or fewer than ``ReportConfig.min_group_articles`` (default 3) articles;
its mean rests on too little to compare with others, and the plots draw it faded. In
``by_article.csv`` every row is one article, so there only the unit rule applies.

Dates: undated articles are counted in an ``undated`` row, never on a date; articles whose
date was flagged implausible (see :func:`stance.articles.flag_implausible_dates`) are
counted in an ``implausible`` row of ``by_date.csv``, not on their date.
"""

from __future__ import annotations

import zlib
from collections.abc import Collection, Sequence
from typing import Any

import numpy as np
import pandas as pd

from .config import ReportConfig
from .errors import bad_value

UNDATED = "undated"
IMPLAUSIBLE = "implausible"
"""The ``by_date.csv`` period of articles whose date was flagged implausible."""
FREQS = ("day", "week", "month")
STAT_COLUMNS = ("units", "articles", "mean_stance", "ci_low", "ci_high", "share_negative", "share_neutral", "share_positive",
                "mean_sentiment", "small_group")
_MAX_DRAWS = 2_000_000  # article draws handled at once: memory stays flat for any corpus


def bootstrap_interval(values: np.ndarray, articles: Sequence[Any] | np.ndarray | None = None, *, key: str,
                       samples: int = 1000, confidence: float = 0.95, seed: int = 42) -> tuple[float, float]:
    """Percentile interval of the mean from a bootstrap that resamples articles, not units.

    Parameters
    ----------
    values : array of float
        The units' scores.
    articles : sequence, optional
        The article of each unit (same length as ``values``). Each resample draws the
        articles with replacement and takes the mean over all units of the drawn articles.
        Without it every unit is its own article (the plain bootstrap of the mean).
    key : str
        The group's name; with ``seed`` it seeds the generator, so the interval of a group
        does not depend on any other group.
    samples, confidence, seed
        Number of resamples, coverage of the interval, base seed.

    Returns
    -------
    (low, high)
        NaN, NaN when there are fewer than two units or fewer than two articles.

    Examples
    --------
    >>> lo, hi = bootstrap_interval(np.array([-1.0, 0.0, 1.0, 0.5]), key="x")
    >>> lo < 0.125 < hi
    True
    >>> bootstrap_interval(np.array([-1.0, 1.0]), ["a1", "a1"], key="x")
    (nan, nan)
    """
    values = np.asarray(values, dtype=float)
    codes = np.arange(len(values)) if articles is None else np.unique(np.asarray(articles, dtype=str), return_inverse=True)[1]
    sums = np.bincount(codes, weights=values)
    counts = np.bincount(codes).astype(float)
    lows, highs = _cluster_intervals(sums, counts, np.array([0, len(sums)]), [key], samples=samples,
                                     confidence=confidence, seed=seed)
    return (float(lows[0]), float(highs[0]))


def _cluster_intervals(sums: np.ndarray, counts: np.ndarray, offsets: np.ndarray, keys: Sequence[str], *, samples: int,
                       confidence: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Cluster-bootstrap intervals of many groups at once.

    Group ``g`` has the articles ``offsets[g]:offsets[g + 1]`` with score sums ``sums`` and
    unit counts ``counts``. Each group draws ``samples`` x k article indices (k its number of
    articles) from its own generator, in one call or, for a very large group, in chunks whose
    size depends only on k; the gathering and summing of the draws is done for many groups
    at once, which is where the time goes. Groups with fewer than two articles get NaN.
    """
    lows = np.full(len(keys), np.nan)
    highs = np.full(len(keys), np.nan)
    alpha = (1 - confidence) / 2
    quantiles = [alpha, 1 - alpha]
    batch: list[int] = []
    draws: list[np.ndarray] = []
    drawn = 0

    def means_of(index: np.ndarray, k: int) -> np.ndarray:
        """The resample means of draws laid out as consecutive runs of k article indices."""
        starts = np.arange(0, len(index), k)
        return np.add.reduceat(sums[index], starts) / np.add.reduceat(counts[index], starts)

    def flush() -> None:
        nonlocal drawn
        if batch:
            ks = np.diff(offsets)[batch]
            index = np.concatenate(draws)
            starts = (np.repeat(np.concatenate([[0], np.cumsum(ks * samples)[:-1]]), samples)
                      + np.tile(np.arange(samples), len(ks)) * np.repeat(ks, samples))
            means = (np.add.reduceat(sums[index], starts) / np.add.reduceat(counts[index], starts)).reshape(len(batch), samples)
            lows[batch], highs[batch] = np.quantile(means, quantiles, axis=1)
        batch.clear()
        draws.clear()
        drawn = 0

    sizes = np.diff(offsets)
    dtype = np.int32 if len(sums) < 2**31 else np.int64  # int32 draws are about three times faster
    for g in np.flatnonzero(sizes >= 2).tolist():
        k, first = int(sizes[g]), int(offsets[g])
        rng = np.random.default_rng([seed, zlib.crc32(keys[g].encode("utf-8"))])
        if k * samples <= _MAX_DRAWS:
            draws.append(first + rng.integers(0, k, size=k * samples, dtype=dtype))
            batch.append(g)
            drawn += k * samples
            if drawn >= _MAX_DRAWS:
                flush()
            continue
        rows = max(1, _MAX_DRAWS // k)
        means = np.concatenate([means_of(first + rng.integers(0, k, size=k * min(rows, samples - done), dtype=dtype), k)
                                for done in range(0, samples, rows)])
        lows[g], highs[g] = np.quantile(means[None, :], quantiles, axis=1)[:, 0]
    flush()
    return lows, highs


def _aggregate(mentions: pd.DataFrame, keys: Sequence[str], config: ReportConfig, *, pooled: bool = True) -> pd.DataFrame:
    """Per group of ``keys``: the statistics of :data:`STAT_COLUMNS`, computed column-wise.

    Counts, means and shares come from one grouped pass; per-article sums and counts from a
    second; only the drawing of article indices runs per group (each group has its own
    seeded generator, so its interval does not depend on the others). ``pooled=False``: the
    groups are single articles, so ``small_group`` looks at the units only.
    """
    if not len(mentions):
        return pd.DataFrame(columns=[*keys, *STAT_COLUMNS])
    grouped = mentions.groupby(list(keys), sort=True, dropna=False)
    ids = grouped.ngroup().to_numpy()
    sizes = np.bincount(ids)
    n_groups = len(sizes)
    scores = mentions["stance_score"].to_numpy(dtype=float)
    sentiment = mentions["sentiment_score"].to_numpy(dtype=float)
    stance = mentions["stance"].to_numpy(dtype=object)
    keyed = grouped.size().index
    labels = ["|".join(str(v) for v in (value if isinstance(value, tuple) else (value,))) for value in keyed]
    # One cluster per (group, article); articles in id order within a group, so a group's
    # draws do not depend on which other articles the corpus holds.
    article_codes, article_ids = pd.factorize(mentions["article_id"].astype(str), sort=True)
    clusters, cluster_of = np.unique(ids.astype(np.int64) * len(article_ids) + article_codes, return_inverse=True)
    cluster_group = clusters // len(article_ids)
    sums = np.bincount(cluster_of, weights=scores, minlength=len(clusters))
    counts = np.bincount(cluster_of, minlength=len(clusters)).astype(float)
    articles = np.bincount(cluster_group, minlength=n_groups)
    offsets = np.concatenate([[0], np.cumsum(articles)])
    lows, highs = _cluster_intervals(sums, counts, offsets, labels, samples=config.bootstrap_samples,
                                     confidence=config.confidence, seed=config.random_state)
    table = keyed.to_frame(index=False) if isinstance(keyed, pd.MultiIndex) else pd.DataFrame({keys[0]: keyed})
    table["units"] = sizes
    table["articles"] = articles
    table["mean_stance"] = (np.bincount(ids, weights=scores, minlength=n_groups) / sizes).round(6)
    table["ci_low"], table["ci_high"] = lows.round(6), highs.round(6)
    for label in ("negative", "neutral", "positive"):
        counted = np.bincount(ids, weights=(stance == label).astype(float), minlength=n_groups)
        table[f"share_{label}"] = (counted / sizes).round(6)
    table["mean_sentiment"] = (np.bincount(ids, weights=sentiment, minlength=n_groups) / sizes).round(6)
    small = sizes < config.min_group_units
    table["small_group"] = (small | (articles < config.min_group_articles)) if pooled else small
    return table[[*keys, *STAT_COLUMNS]]


def aggregate_by_article(mentions: pd.DataFrame, config: ReportConfig | None = None) -> pd.DataFrame:
    """Per article x actor: units, mean stance, label shares, mean sentiment (no interval: one article)."""
    config = config or ReportConfig()
    table = _aggregate(mentions, ["article_id", "actor"], config, pooled=False)
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


def period_start(period: str) -> pd.Timestamp:
    """The first day of a period label (a day, the Monday of a week, or ``YYYY-MM``).

    Examples
    --------
    >>> str(period_start("2025-10").date()), str(period_start("2025-10-20").date())
    ('2025-10-01', '2025-10-20')
    """
    return pd.Timestamp(period + "-01" if len(period) == 7 else period)


def period_number(period: str, freq: str) -> int:
    """Consecutive integers for consecutive periods (days, weeks or months), for calendar gaps.

    Examples
    --------
    >>> period_number("2025-11", "month") - period_number("2025-09", "month")
    2
    """
    start = period_start(period)
    if freq == "month":
        return start.year * 12 + start.month - 1
    ordinal = start.toordinal()
    return ordinal // 7 if freq == "week" else ordinal


def aggregate_by_date(mentions: pd.DataFrame, freq: str = "day", config: ReportConfig | None = None, *,
                      implausible: Collection[str] = ()) -> pd.DataFrame:
    """Per period x actor (``freq``: day, week or month), plus a rolling mean over the calendar.

    ``rolling_mean_stance`` is the mean over the units of the last ``rolling_window``
    calendar periods (this one included; periods without units count as periods, so the
    rolling mean never reaches across a gap longer than the window). Undated articles form
    the period ``undated`` and the articles in ``implausible`` (ids of articles whose date was
    flagged implausible) the period ``implausible``; both are sorted after the dated periods
    and have no rolling mean.
    """
    config = config or ReportConfig()
    if freq not in FREQS:
        raise ValueError(bad_value("freq", freq, FREQS))
    codes, dates = pd.factorize(mentions["date"], use_na_sentinel=False)
    periods = np.array([period_of(d, freq) for d in dates], dtype=object)[codes] if len(codes) else np.array([], dtype=object)
    if implausible:
        periods[mentions["article_id"].astype(str).isin(set(map(str, implausible))).to_numpy()] = IMPLAUSIBLE
    needed = ["actor", "article_id", "stance", "stance_score", "sentiment_score"]
    frame = mentions[needed].assign(period=periods)  # not a copy of every column (the sentences)
    table = _aggregate(frame, ["period", "actor"], config)
    rank = table["period"].map({IMPLAUSIBLE: 1, UNDATED: 2}).fillna(0)
    table = table.assign(_rank=rank).sort_values(["_rank", "period", "actor"], kind="stable").drop(columns="_rank")
    table["rolling_mean_stance"] = _calendar_rolling(table, freq, config.rolling_window)
    table.insert(1, "freq", freq)
    return table.reset_index(drop=True)


def _calendar_rolling(table: pd.DataFrame, freq: str, window: int) -> pd.Series:
    """Per actor, the unit-weighted mean stance over the last ``window`` calendar periods."""
    result = pd.Series(np.nan, index=table.index, dtype=float)
    dated = table[~table["period"].isin([UNDATED, IMPLAUSIBLE])]
    for _, group in dated.groupby("actor", sort=True):
        number = np.array([period_number(p, freq) for p in group["period"]])
        weighted = np.concatenate([[0.0], np.cumsum((group["mean_stance"] * group["units"]).to_numpy(dtype=float))])
        units = np.concatenate([[0.0], np.cumsum(group["units"].to_numpy(dtype=float))])
        first = np.searchsorted(number, number - window + 1, side="left")
        last = np.arange(1, len(number) + 1)
        result[group.index] = ((weighted[last] - weighted[first]) / (units[last] - units[first])).round(6)
    return result


def aggregate_by_actor(mentions: pd.DataFrame, config: ReportConfig | None = None) -> pd.DataFrame:
    """Per actor over the whole corpus, sorted by number of units (most first)."""
    config = config or ReportConfig()
    table = _aggregate(mentions, ["actor"], config)
    names = mentions.drop_duplicates("actor").set_index("actor")["actor_name"] if "actor_name" in mentions else None
    if names is not None:
        table.insert(1, "actor_name", table["actor"].map(names))
    return table.sort_values(["units", "actor"], ascending=[False, True], kind="stable").reset_index(drop=True)


def aggregate_by_source(mentions: pd.DataFrame, config: ReportConfig | None = None) -> pd.DataFrame:
    """Per source x actor."""
    return _aggregate(mentions, ["source", "actor"], config or ReportConfig())


def rank_actors(units: pd.Series, n: int, min_mentions: int = 3) -> list[str]:
    """The top-N rule of every table, plot and summary: the ``n`` actors with most units (ties by
    id), among those with ``min_mentions`` or more. ``units`` holds the units per actor.

    Examples
    --------
    >>> rank_actors(pd.Series({"merz": 4, "putin": 9, "macron": 4, "vance": 1}), 3, min_mentions=2)
    ['putin', 'macron', 'merz']
    """
    counts = units[units >= min_mentions]
    ordered = sorted(counts.items(), key=lambda item: (-item[1], str(item[0])))
    return [actor for actor, _ in ordered[:n]]


def top_actors(mentions: pd.DataFrame, n: int = 5, min_mentions: int = 3) -> list[str]:
    """The ``n`` actors with most units in a mentions table (:func:`rank_actors`)."""
    return rank_actors(mentions.groupby("actor").size(), n, min_mentions)
