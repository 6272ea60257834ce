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
    assert row["ci_low"] <= row["mean_stance"] <= row["ci_high"]
    single = table[(table["article_id"] == "a2")].iloc[0]
    assert np.isnan(single["ci_low"]) and np.isnan(single["ci_high"])


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
    assert bootstrap_interval(values, key="g") == bootstrap_interval(values, key="g")
    assert bootstrap_interval(values, key="g") != bootstrap_interval(values, key="h")


def test_aggregates_top_actors_respects_min_mentions():
    assert top_actors(frame(), n=5, min_mentions=3) == ["trump"]


def test_aggregates_many_groups_match_one_group_at_a_time():
    """The column-wise aggregate equals the per-group definition, bootstrap included."""
    from stance.aggregates import _aggregate
    from stance.config import ReportConfig

    rng = np.random.default_rng(3)
    n = 600
    df = pd.DataFrame({
        "article_id": rng.choice([f"a{i}" for i in range(40)], n), "actor": rng.choice(["trump", "putin", "merz"], n),
        "stance": rng.choice(["negative", "neutral", "positive"], n), "stance_score": rng.uniform(-1, 1, n).round(6),
        "sentiment_score": rng.uniform(-1, 1, n).round(6)})
    config = ReportConfig()
    table = _aggregate(df, ["article_id", "actor"], config)
    for row in table.sample(15, random_state=1).itertuples():
        group = df[(df["article_id"] == row.article_id) & (df["actor"] == row.actor)]
        scores = group["stance_score"].to_numpy()
        low, high = bootstrap_interval(scores, key=f"{row.article_id}|{row.actor}", seed=config.random_state)
        assert (row.units, row.mean_stance) == (len(group), round(float(scores.mean()), 6))
        assert (row.ci_low, row.ci_high) == (round(low, 6), round(high, 6)) or len(group) < 2
        assert row.share_negative == round(float((group["stance"] == "negative").mean()), 6)
        assert row.mean_sentiment == round(float(group["sentiment_score"].mean()), 6)
