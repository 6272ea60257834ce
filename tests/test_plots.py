from __future__ import annotations

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
    assert len(labels) == 2 and labels[0].startswith("trump") and "undated" in labels[0]


def test_plots_draw_on_given_axes(sample_result):
    outer = Figure()
    ax = outer.add_subplot()
    assert plot_actor_overview(aggregate_by_actor(sample_result.mentions), ax=ax) is outer
