from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from stance.aggregates import (aggregate_by_actor, aggregate_by_article, aggregate_by_date, aggregate_by_source,
                               bootstrap_interval, period_of, top_actors)


def frame():
    rows = [
        ("a1", "2025-10-20", "dpa", "trump", "negative", -0.8, -0.5),
        ("a1", "2025-10-20", "dpa", "trump", "neutral", 0.0, -0.2),
        ("a1", "2025-10-20", "dpa", "putin", "negative", -0.6, -0.5),
        ("a2", "2025-10-22", "taz", "trump", "positive", 0.7, 0.4),
        ("a3", None, "taz", "trump", "negative", -0.4, -0.1),
        ("a3", None, "taz", "putin", "negative", -0.9, -0.1),
    ]
    cols = ["article_id", "date", "source", "actor", "stance", "stance_score", "sentiment_score"]
    df = pd.DataFrame(rows, columns=cols)
    df["actor_name"] = df["actor"].str.title()
    df["title"] = "T"
    return df


def test_aggregates_by_article_values():
    table = aggregate_by_article(frame())
    row = table[(table["article_id"] == "a1") & (table["actor"] == "trump")].iloc[0]
    assert row["units"] == 2 and row["mean_stance"] == pytest.approx(-0.4)
    assert row["share_negative"] == 0.5 and row["share_neutral"] == 0.5 and row["share_positive"] == 0
    assert row["mean_sentiment"] == pytest.approx(-0.35)
    assert row["articles"] == 1 and bool(row["small_group"])
    # one article per row: no interval (the cluster bootstrap has a single article to draw)
    assert table["ci_low"].isna().all() and table["ci_high"].isna().all()


def test_aggregates_undated_row_never_on_a_date():
    table = aggregate_by_date(frame())
    assert list(table["period"]) == ["2025-10-20", "2025-10-20", "2025-10-22", "undated", "undated"]
    undated = table[table["period"] == "undated"]
    assert set(undated["actor"]) == {"trump", "putin"} and undated["units"].sum() == 2
    assert undated["rolling_mean_stance"].isna().all()
    trump = table[(table["actor"] == "trump") & (table["period"] != "undated")]
    assert list(trump["rolling_mean_stance"].round(4)) == [-0.4, round((-0.8 + 0.0 + 0.7) / 3, 4)]


@pytest.mark.parametrize("freq, periods", [("week", ["2025-10-20"]), ("month", ["2025-10"])])
def test_aggregates_week_and_month(freq, periods):
    table = aggregate_by_date(frame(), freq)
    assert sorted(set(table["period"]) - {"undated"}) == periods
    assert set(table["freq"]) == {freq}


def test_aggregates_bad_freq():
    with pytest.raises(ValueError, match="freq"):
        period_of("2025-10-20", "year")


def test_aggregates_by_actor_and_source():
    by_actor = aggregate_by_actor(frame())
    assert list(by_actor["actor"]) == ["trump", "putin"] and list(by_actor["articles"]) == [3, 2]
    by_source = aggregate_by_source(frame())
    assert set(zip(by_source["source"], by_source["actor"])) == {("dpa", "trump"), ("dpa", "putin"), ("taz", "trump"), ("taz", "putin")}


def test_aggregates_bootstrap_seeded_per_group():
    values = np.array([-1.0, -0.5, 0.0, 0.2, 0.9])
    articles = ["a", "b", "c", "d", "e"]
    assert bootstrap_interval(values, key="g") == bootstrap_interval(values, key="g")
    assert bootstrap_interval(values, key="g") != bootstrap_interval(values, key="h")
    assert bootstrap_interval(values, articles, key="g") == bootstrap_interval(values, articles, key="g")
    assert bootstrap_interval(values, articles, key="g") != bootstrap_interval(values, articles, key="h")


def clustered():
    """Four articles with ten identical scores each: the units say far more than they know."""
    scores = [-0.8, -0.2, 0.3, 0.9]
    rows = [(f"a{k}", "2025-10-20", "dpa", "merz", "neutral", score, 0.0) for k, score in enumerate(scores) for _ in range(10)]
    return pd.DataFrame(rows, columns=["article_id", "date", "source", "actor", "stance", "stance_score", "sentiment_score"])


def test_aggregates_interval_resamples_articles_not_units():
    df = clustered()
    row = aggregate_by_actor(df).iloc[0]
    by_unit = bootstrap_interval(df["stance_score"].to_numpy(), key="merz")
    by_article = bootstrap_interval(df["stance_score"].to_numpy(), df["article_id"], key="merz")
    assert (row["ci_low"], row["ci_high"]) == (round(by_article[0], 6), round(by_article[1], 6))
    assert (row["units"], row["articles"], bool(row["small_group"])) == (40, 4, False)
    unit_width, article_width = by_unit[1] - by_unit[0], by_article[1] - by_article[0]
    assert article_width > 0.8 and article_width > 2.5 * unit_width
    # the article-level interval equals the one of the four article means (ten units each)
    means = df.groupby("article_id")["stance_score"].mean().to_numpy()
    assert by_article == pytest.approx(bootstrap_interval(means, ["a0", "a1", "a2", "a3"], key="merz"))


def test_aggregates_one_article_or_one_unit_has_no_interval():
    df = clustered()
    one_article = aggregate_by_actor(df[df["article_id"] == "a2"]).iloc[0]
    assert one_article["units"] == 10 and one_article["articles"] == 1 and bool(one_article["small_group"])
    assert np.isnan(one_article["ci_low"]) and np.isnan(one_article["ci_high"])
    assert all(np.isnan(bootstrap_interval(np.array([0.5]), key="x")))
    assert all(np.isnan(bootstrap_interval(np.array([0.5, -0.5]), ["a", "a"], key="x")))


def test_aggregates_small_group_thresholds():
    from stance.config import ReportConfig

    df = clustered()
    assert not aggregate_by_actor(df)["small_group"].iloc[0]
    assert aggregate_by_actor(df, ReportConfig(min_group_units=41))["small_group"].iloc[0]
    assert aggregate_by_actor(df, ReportConfig(min_group_articles=5))["small_group"].iloc[0]
    assert aggregate_by_actor(df[df["article_id"].isin(["a0", "a1"])])["small_group"].iloc[0]  # 20 units, 2 articles


def test_aggregates_interval_does_not_depend_on_other_groups_or_row_order():
    df = clustered()
    other = clustered().assign(actor="putin", article_id=lambda d: "b" + d["article_id"])
    alone = aggregate_by_actor(df)
    together = aggregate_by_actor(pd.concat([other, df.iloc[::-1]]))
    row = together[together["actor"] == "merz"].iloc[0]
    assert (row["ci_low"], row["ci_high"]) == (alone["ci_low"].iloc[0], alone["ci_high"].iloc[0])


def test_aggregates_top_actors_respects_min_mentions():
    assert top_actors(frame(), n=5, min_mentions=3) == ["trump"]


def test_aggregates_many_groups_match_one_group_at_a_time():
    """The column-wise aggregate equals the per-group definition, bootstrap included."""
    from stance.aggregates import _aggregate
    from stance.config import ReportConfig

    rng = np.random.default_rng(3)
    n = 600
    df = pd.DataFrame({
        "article_id": rng.choice([f"a{i}" for i in range(40)], n), "source": rng.choice([f"s{i}" for i in range(8)], n),
        "actor": rng.choice(["trump", "putin", "merz"], n),
        "stance": rng.choice(["negative", "neutral", "positive"], n), "stance_score": rng.uniform(-1, 1, n).round(6),
        "sentiment_score": rng.uniform(-1, 1, n).round(6)})
    config = ReportConfig()
    table = _aggregate(df, ["source", "actor"], config)
    assert table["articles"].min() >= 2
    for row in table.sample(15, random_state=1).itertuples():
        group = df[(df["source"] == row.source) & (df["actor"] == row.actor)]
        scores = group["stance_score"].to_numpy()
        low, high = bootstrap_interval(scores, group["article_id"], key=f"{row.source}|{row.actor}", seed=config.random_state)
        assert (row.units, row.articles) == (len(group), group["article_id"].nunique())
        assert row.mean_stance == round(float(scores.mean()), 6)
        assert (row.ci_low, row.ci_high) == (round(low, 6), round(high, 6)) or row.articles < 2
        assert row.share_negative == round(float((group["stance"] == "negative").mean()), 6)
        assert row.mean_sentiment == round(float(group["sentiment_score"].mean()), 6)


def test_aggregates_implausible_dates_get_their_own_row():
    table = aggregate_by_date(frame(), implausible={"a2"})
    assert list(table["period"]) == ["2025-10-20", "2025-10-20", "implausible", "undated", "undated"]
    row = table[table["period"] == "implausible"].iloc[0]
    assert (row["actor"], row["units"]) == ("trump", 1) and np.isnan(row["rolling_mean_stance"])
    assert table["units"].sum() == len(frame())


def test_aggregates_rolling_mean_spans_calendar_periods_not_rows():
    df = frame()
    df.loc[df["article_id"] == "a2", "date"] = "2025-10-25"  # five days after a1: outside a three-day window
    trump = aggregate_by_date(df).query("actor == 'trump' and period != 'undated'")
    assert list(trump["rolling_mean_stance"]) == [-0.4, 0.7]
    weekly = aggregate_by_date(df, "week").query("actor == 'trump' and period != 'undated'")
    assert list(weekly["period"]) == ["2025-10-20"] and weekly["rolling_mean_stance"].iloc[0] == pytest.approx(-0.1 / 3, abs=1e-6)
