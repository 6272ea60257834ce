from __future__ import annotations

import matplotlib.dates as mdates
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from stance.aggregates import aggregate_by_actor, aggregate_by_article, aggregate_by_date
from stance.plots import plot_actor_overview, plot_heatmap, plot_stance_vs_sentiment, plot_timeline, save_figure


def test_plots_return_figures_and_save_png_svg(sample_result, tmp_path):
    mentions = sample_result.mentions
    figures = [
        plot_timeline(aggregate_by_date(mentions)),
        plot_heatmap(aggregate_by_article(mentions)),
        plot_actor_overview(aggregate_by_actor(mentions)),
        plot_stance_vs_sentiment(aggregate_by_actor(mentions)),
    ]
    for k, figure in enumerate(figures):
        assert isinstance(figure, Figure)
        png, svg = save_figure(figure, tmp_path / f"p{k}.png")
        assert png.read_bytes().startswith(b"\x89PNG") and png.stat().st_size > 5000
        assert b"<svg" in svg.read_bytes()[:500]


def test_plots_timeline_leaves_out_small_actors(sample_result):
    by_date = aggregate_by_date(sample_result.mentions)
    figure = plot_timeline(by_date, min_mentions=100)
    labels = [t.get_text() for t in figure.axes[0].get_legend().get_texts()]
    assert len(labels) == 3 and labels[0].startswith("trump") and "undated" in labels[0]
    assert labels[2].startswith("hollow, faded: small group")


def test_plots_draw_on_given_axes(sample_result):
    outer = Figure()
    ax = outer.add_subplot()
    assert plot_actor_overview(aggregate_by_actor(sample_result.mentions), ax=ax) is outer


def dated_mentions():
    """Merz on 1, 2 and 10 October (a gap of a week), three articles a day; one article dated 2031."""
    rows = []
    for day, score in (("2025-10-01", -0.5), ("2025-10-02", 0.0), ("2025-10-10", 0.5)):
        rows += [(f"{day}-{k}", day, "merz", score + 0.1 * k) for k in range(3) for _ in range(4)]
    rows += [("far", "2031-01-01", "merz", 0.9)] * 4
    df = pd.DataFrame(rows, columns=["article_id", "date", "actor", "stance_score"])
    return df.assign(source="dpa", title="T", stance="neutral", sentiment_score=0.0)


def test_plots_timeline_calendar_axis_shows_gaps_and_leaves_off_implausible_dates():
    by_date = aggregate_by_date(dated_mentions(), implausible={"far"})
    assert list(by_date["period"]) == ["2025-10-01", "2025-10-02", "2025-10-10", "implausible"]
    figure = plot_timeline(by_date)
    ax = figure.axes[0]
    line = next(line for line in ax.get_lines() if len(line.get_xdata()) > 1)
    x = np.asarray(line.get_xdata(), dtype=float)
    assert np.isnan(x).sum() == 1  # 2 -> 10 October: the line breaks
    days = mdates.date2num(pd.to_datetime(["2025-10-01", "2025-10-02", "2025-10-10"]))
    assert np.allclose(x[~np.isnan(x)], days)  # points at their dates, not in evenly spaced slots
    low, high = ax.get_xlim()
    assert low < days[0] and days[-1] < high < days[-1] + 30  # 2031 is not on the axis
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels[0] == "merz (36 units, +4 implausible date)"


def test_plots_small_groups_are_faded_and_explained():
    from stance.config import ReportConfig

    mentions = dated_mentions()
    big = aggregate_by_actor(mentions)
    assert not big["small_group"].any()
    figure = plot_actor_overview(big)
    assert figure.axes[0].get_legend() is None
    small = aggregate_by_actor(mentions, ReportConfig(min_group_articles=50))
    for figure in (plot_actor_overview(small, min_group_articles=50), plot_stance_vs_sentiment(small, min_group_articles=50)):
        texts = [t.get_text() for t in figure.axes[0].get_legend().get_texts()]
        assert any("small group" in t and "< 50 articles" in t for t in texts)


def test_plots_import_leaves_the_matplotlib_backend_alone(tmp_path):
    """No matplotlib.use() at import: a notebook's or GUI's backend stays as the user chose."""
    import subprocess
    import sys

    code = ("import sys, pathlib; import matplotlib; matplotlib.use('svg'); import stance.plots, stance.report, stance.training; "
            "from stance.plots import save_figure; from matplotlib.figure import Figure; "
            "f = Figure(); f.add_subplot().plot([0, 1]); save_figure(f, pathlib.Path(sys.argv[1]) / 'x'); "
            "print(matplotlib.get_backend())")
    done = subprocess.run([sys.executable, "-c", code, str(tmp_path)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "svg"
    assert (tmp_path / "x.png").stat().st_size > 0
