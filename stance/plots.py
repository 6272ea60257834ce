"""Stage 9, plots: matplotlib figures from the aggregate tables (and the confusion matrices
of ``stance evaluate``, ``stance validate`` and the model report).

Every function takes a DataFrame (from :mod:`stance.aggregates`; :func:`plot_confusion`: a
metrics dict) and an optional ``ax``,
returns the ``Figure`` and never calls ``plt.show()``; figures are ``matplotlib.figure.Figure``
objects saved without pyplot, so importing this module leaves the user's matplotlib backend
alone. Every figure has a bounded size whatever the corpus: the heatmap, the actor overview
and the timeline draw a capped number of actors/articles and say so in their title; text from the data (titles, actor names) is
escaped so that ``$`` never starts matplotlib mathtext. Colours are the Okabe-Ito
colour-blind-safe palette; the heatmap uses the diverging ``RdBu`` map centred at 0.
Groups flagged ``small_group`` in the tables (few units or few articles) are drawn hollow
and faded, with a legend entry saying so. The timeline has a true calendar axis: periods
without units are gaps, and undated articles and articles with an implausible date are
left off it (their unit counts are in the legend).
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import matplotlib
import matplotlib.dates as mdates
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.colors import TwoSlopeNorm
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from .aggregates import IMPLAUSIBLE, UNDATED, period_number, period_start, rank_actors
from .config import ReportConfig
from .io import atomic_write_bytes
from .records import LABELS

OKABE_ITO = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000")
STANCE_AXIS = "Mean stance score (−1 negative … +1 positive)"


def _new_axes(ax: Axes | None, size: tuple[float, float]) -> tuple[Figure, Axes]:
    if ax is not None:
        figure = ax.figure
        assert isinstance(figure, Figure)
        return figure, ax
    figure = Figure(figsize=size, layout="constrained")
    return figure, figure.add_subplot()


def _empty(ax: Axes, min_mentions: int, what: str) -> None:
    """Say on the plot that nothing qualifies, instead of drawing empty axes."""
    ax.set_axis_off()
    ax.text(0.5, 0.5, f"No actor has at least {min_mentions} units: nothing to show in the {what}.",
            ha="center", va="center", fontsize=11, transform=ax.transAxes)


def _label(row: Any) -> str:
    """The actor's display name (or id), escaped for matplotlib."""
    name = row.get("actor_name") if hasattr(row, "get") else None
    return escape_mathtext(str(name) if isinstance(name, str) and name else str(row["actor"]))


def plot_timeline(by_date: pd.DataFrame, actors: Sequence[str] | None = None, *, ax: Axes | None = None,
                  top: int = 5, min_mentions: int = 3, names: dict[str, str] | None = None,
                  max_slots: int = 45, min_group_units: int | None = None, min_group_articles: int | None = None) -> Figure:
    """Mean stance per period for the selected actors (default: top ``top`` by units), on a calendar axis.

    Each point sits at the start of its period (the day, the Monday of the week, the first of
    the month) on a true time axis, so periods without units are gaps: an actor's line joins
    two points only when their periods are next to each other. Bars are 95% intervals (over
    articles); points of small groups (``small_group``, see :mod:`stance.aggregates`) are
    drawn hollow and faded, and the legend says so. With up to ``max_slots`` periods the unit
    count is written at each point. Units of undated articles and of articles whose date was
    flagged implausible are not placed on the axis; their counts are given in the legend.
    ``min_group_units``/``min_group_articles`` only word the legend note (default: the
    :class:`~stance.config.ReportConfig` values).
    """
    names = names or {}
    off_axis = by_date["period"].isin([UNDATED, IMPLAUSIBLE])
    dated = by_date[~off_axis].copy()
    totals = by_date.groupby("actor")["units"].sum()
    chosen = actors is None
    if actors is None:
        actors = rank_actors(totals, top, min_mentions)
    dated = dated[dated["actor"].isin(actors)]
    undated = by_date[by_date["period"] == UNDATED].set_index("actor")["units"]
    implausible = by_date[by_date["period"] == IMPLAUSIBLE].set_index("actor")["units"]
    freq = str(by_date["freq"].iloc[0]) if "freq" in by_date and len(by_date) else "day"
    periods = sorted(dated["period"].unique())
    labelled = len(periods) <= max_slots
    figure, ax = _new_axes(ax, (min(max(10.0, 0.9 * len(periods) + 5), 25.0) if labelled else 14.0, 5.8))
    if dated.empty:
        _empty(ax, min_mentions, "timeline")
        return figure
    length = {"day": 1.0, "week": 7.0, "month": 30.4}.get(freq, 1.0)  # days per period
    dated["x"] = mdates.date2num(pd.to_datetime([period_start(p) for p in dated["period"]]))
    dated["n"] = [period_number(p, freq) for p in dated["period"]]
    width = 0.5 * length
    offsets = np.linspace(-width / 2, width / 2, len(actors)) if len(actors) > 1 else np.zeros(1)
    counts: list[tuple[str, float, float, str]] = []
    handles: list[Any] = []
    any_small = False
    for i, actor in enumerate(actors):
        rows = dated[dated["actor"] == actor].sort_values("x")
        if rows.empty:
            continue
        color = OKABE_ITO[i % len(OKABE_ITO)]
        x = rows["x"].to_numpy() + offsets[i]
        y = rows["mean_stance"].to_numpy(dtype=float)
        small = _small(rows)
        any_small = any_small or bool(small.any())
        extra = [f"+{int(table.get(actor, 0))} {what}" for table, what in ((undated, "undated"), (implausible, "implausible date"))
                 if int(table.get(actor, 0))]
        legend = f"{escape_mathtext(names.get(actor, actor))} ({int(rows['units'].sum())} units" + "".join(f", {e}" for e in extra) + ")"
        low, high = rows["ci_low"].fillna(rows["mean_stance"]).to_numpy(), rows["ci_high"].fillna(rows["mean_stance"]).to_numpy()
        ax.vlines(x[~small], low[~small], high[~small], color=color, alpha=0.35, linewidth=4)
        ax.vlines(x[small], low[small], high[small], color=color, alpha=0.12, linewidth=4)
        breaks = np.flatnonzero(np.diff(rows["n"].to_numpy()) > 1) + 1  # an empty period between: no line across
        ax.plot(np.insert(x, breaks, np.nan), np.insert(y, breaks, np.nan), color=color, linewidth=1.6)
        ax.scatter(x[~small], y[~small], color=color, s=30, zorder=3)
        ax.scatter(x[small], y[small], facecolor="white", edgecolor=color, alpha=0.55, s=30, zorder=3)
        handles.append(Line2D([], [], color=color, marker="o", linewidth=1.6, label=legend))
        counts += [(f"{int(n)}", float(xi), float(yi), color) for xi, yi, n in zip(x, y, rows["units"])]
    if any_small:
        handles.append(_small_handle(min_group_units, min_group_articles))
    ax.axhline(0, color="0.4", linewidth=0.8, linestyle="--")
    ax.set_ylim(-1.05, 1.05)
    ax.set_ylabel(STANCE_AXIS)
    first, last = float(dated["x"].min()), float(dated["x"].max())
    pad = max(length, 0.04 * (last - first))
    ax.set_xlim(first - pad, last + pad)
    locator = mdates.AutoDateLocator(minticks=3, maxticks=10)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
    what = {"day": "days", "week": "weeks", "month": "months"}.get(freq, "periods")
    label = {"day": "Article date", "week": "Week (starting Monday)", "month": "Month"}.get(freq, "Date")
    ax.set_xlabel(f"{label} (calendar axis: {what} without units are gaps)")
    counted = "number by each point: units" if labelled else "units per point: by_date.csv"
    shown = f" (the {len(actors)} of {len(totals)} actors with most units)" if chosen and len(actors) < len(totals) else ""
    ax.set_title(f"How the top actors are portrayed over time{shown}\n(bars: 95% interval over articles; {counted})")
    ax.grid(axis="y", alpha=0.3)
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False, fontsize=9, title="Actor")
    if labelled:  # with many periods the counts would only hide each other
        _place_labels(ax, [(text, x, y) for text, x, y, _ in counts], [36.0] * len(counts), offsets=_COUNT_OFFSETS,
                      fontsize=7, colors=[color for *_, color in counts])
    return figure


def _small(table: pd.DataFrame) -> np.ndarray:
    """The ``small_group`` column as booleans (all False for a table without it)."""
    if "small_group" not in table:
        return np.zeros(len(table), dtype=bool)
    return table["small_group"].astype(str).str.lower().isin(["true", "1"]).to_numpy()


def _small_note(min_group_units: int | None, min_group_articles: int | None) -> str:
    defaults = ReportConfig()
    units = defaults.min_group_units if min_group_units is None else min_group_units
    articles = defaults.min_group_articles if min_group_articles is None else min_group_articles
    return f"hollow, faded: small group\n(< {units} units or < {articles} articles)"


def _small_handle(min_group_units: int | None, min_group_articles: int | None) -> Line2D:
    """Legend entry explaining the hollow, faded points of small groups."""
    return Line2D([], [], linestyle="none", marker="o", markerfacecolor="white", markeredgecolor="0.3", alpha=0.55,
                  label=_small_note(min_group_units, min_group_articles))


def plot_heatmap(by_article: pd.DataFrame, *, ax: Axes | None = None, min_mentions: int = 3,
                 max_actors: int = 12, max_articles: int = 36, names: dict[str, str] | None = None) -> Figure:
    """Actor x article mean stance on a diverging map centred at 0; cells show the unit count.

    Articles are ordered by date (undated last); actors with fewer than ``min_mentions``
    units in total are left out. With more than ``max_articles`` articles, the ones with
    most units of the shown actors are drawn (the title says how many of how many), so the
    figure stays the same size whatever the corpus.
    """
    names = names or {}
    totals = by_article.groupby("actor")["units"].sum()
    eligible = sorted(totals[totals >= min_mentions].items(), key=lambda kv: (-kv[1], kv[0]))
    actors = [a for a, _ in eligible[:max_actors]]
    table = by_article[by_article["actor"].isin(actors)]
    weight = table.groupby("article_id")["units"].sum()
    all_articles = len(weight)
    kept = sorted(weight.items(), key=lambda kv: (-kv[1], kv[0]))[:max_articles]
    table = table[table["article_id"].isin([a for a, _ in kept])]
    articles = (table.drop_duplicates("article_id")[["article_id", "date", "title"]]
                .assign(_undated=lambda d: d["date"].isna())
                .sort_values(["_undated", "date", "article_id"], kind="stable"))
    order = list(articles["article_id"])
    values = table.pivot(index="actor", columns="article_id", values="mean_stance").reindex(index=actors, columns=order)
    counts = table.pivot(index="actor", columns="article_id", values="units").reindex(index=actors, columns=order)
    width = min(max(8.0, 0.6 * len(order) + 4), 24.0)
    figure, ax = _new_axes(ax, (width, max(4.0, 0.5 * len(actors) + 3.2)))
    if not actors:
        _empty(ax, min_mentions, "heatmap")
        return figure
    image = ax.imshow(values.to_numpy(dtype=float), cmap="RdBu", norm=TwoSlopeNorm(vcenter=0.0, vmin=-1.0, vmax=1.0), aspect="auto")
    for (r, c), n in np.ndenumerate(counts.to_numpy(dtype=float)):
        if not np.isnan(n):
            v = values.iat[r, c]
            ax.text(c, r, f"{int(n)}", ha="center", va="center", fontsize=8, color="white" if abs(v) > 0.55 else "black")
    labels = []
    for _, row in articles.iterrows():
        date = row["date"] if isinstance(row["date"], str) else "undated"
        title = textwrap.shorten(str(row["title"] or row["article_id"]), 28, placeholder="…")
        labels.append(escape_mathtext(f"{date}\n{title}"))
    ax.set_xticks(range(len(order)), labels, rotation=55, ha="right", fontsize=7.5, rotation_mode="anchor")
    ax.set_yticks(range(len(actors)), [escape_mathtext(names.get(a, a)) for a in actors], fontsize=9)
    shown = [f"the {len(order)} of {all_articles} articles"] if len(order) < all_articles else []
    shown += [f"the {len(actors)} of {len(eligible)} actors"] if len(actors) < len(eligible) else []
    note = f"\n({' and '.join(shown)} with most units)" if shown else ""
    ax.set_title(f"Mean stance per actor and article (number = units; blank = not mentioned){note}")
    ax.set_xlabel("Article (ordered by date)")
    colorbar = figure.colorbar(image, ax=ax, shrink=0.85, pad=0.01)
    colorbar.set_label("Mean stance score")
    return figure


def plot_confusion(result: dict[str, Any], *, ax: Axes | None = None, title: str = "") -> Figure:
    """A confusion matrix: counts and row shares (colour: share of the true class), with the macro-F1.

    ``result`` holds ``confusion`` (``labels`` and ``matrix``, rows = true, columns = predicted)
    and ``macro_f1``, as :func:`stance.training.metrics` returns them.
    """
    labels = list(result["confusion"].get("labels") or LABELS)
    matrix = np.asarray(result["confusion"]["matrix"], dtype=float)
    share = matrix / np.maximum(matrix.sum(axis=1, keepdims=True), 1)
    figure, ax = _new_axes(ax, (5.2, 4.4))
    image = ax.imshow(share, cmap="Blues", vmin=0, vmax=1)
    for (r, c), v in np.ndenumerate(matrix):
        ax.text(c, r, f"{int(v)}\n{share[r, c]:.0%}", ha="center", va="center", fontsize=9, color="white" if share[r, c] > 0.6 else "black")
    ax.set_xticks(range(len(labels)), labels)
    ax.set_yticks(range(len(labels)), labels)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true (gold)")
    ax.set_title(f"{escape_mathtext(title)}\nmacro-F1 {result['macro_f1']:.3f}", fontsize=9)
    figure.colorbar(image, ax=ax, shrink=0.8, label="share of the true class")
    return figure


def escape_mathtext(text: str) -> str:
    r"""Text as matplotlib draws it literally: ``$`` would start mathtext.

    Examples
    --------
    >>> escape_mathtext("Kosten: $5 und $10")
    'Kosten: \\$5 und \\$10'
    """
    return text.replace("$", r"\$")


def plot_actor_overview(by_actor: pd.DataFrame, *, ax: Axes | None = None, min_mentions: int = 3,
                        max_actors: int = 20, min_group_units: int | None = None,
                        min_group_articles: int | None = None) -> Figure:
    """Mean stance per actor with 95% intervals (over articles), sorted, with the number of units.

    Small groups (``small_group``) are drawn hollow and faded; the legend says so.
    """
    eligible = by_actor[by_actor["units"] >= min_mentions]
    chosen = rank_actors(eligible.set_index("actor")["units"], max_actors, min_mentions)
    table = eligible[eligible["actor"].isin(chosen)].sort_values(["mean_stance", "actor"])
    figure, ax = _new_axes(ax, (9, max(3.5, 0.42 * len(table) + 1.8)))
    if table.empty:
        _empty(ax, min_mentions, "actor overview")
        return figure
    y = np.arange(len(table))
    small = _small(table)
    colors = np.array([OKABE_ITO[3] if v < -0.05 else OKABE_ITO[0] if v > 0.05 else "0.45" for v in table["mean_stance"]])
    err_low = (table["mean_stance"] - table["ci_low"]).clip(lower=0).fillna(0).to_numpy()
    err_high = (table["ci_high"] - table["mean_stance"]).clip(lower=0).fillna(0).to_numpy()
    means = table["mean_stance"].to_numpy(dtype=float)
    for part, alpha in ((~small, 1.0), (small, 0.35)):
        if part.any():
            ax.errorbar(means[part], y[part], xerr=[err_low[part], err_high[part]], fmt="none", ecolor="0.35", capsize=3,
                        linewidth=1, alpha=alpha)
    ax.scatter(means[~small], y[~small], c=list(colors[~small]), s=55, zorder=3)
    ax.scatter(means[small], y[small], facecolor="white", edgecolor=list(colors[small]), linewidth=1.4, s=55, alpha=0.6, zorder=3)
    for yi, (_, row) in zip(y, table.iterrows()):
        articles = f", {int(row['articles'])} art." if "articles" in row and row["articles"] == row["articles"] else ""
        ax.annotate(f"{int(row['units'])} units{articles}", (1.0, yi), xycoords=("axes fraction", "data"), xytext=(6, 0),
                    textcoords="offset points", va="center", fontsize=8, color="0.3")
    ax.set_yticks(y, [_label(row) for _, row in table.iterrows()])
    ax.axvline(0, color="0.4", linewidth=0.8, linestyle="--")
    ax.set_xlim(-1.05, 1.05)
    ax.set_xlabel("Mean stance score (−1 negative … +1 positive), bars: 95% interval over articles")
    shown = f"; the {len(table)} of {len(eligible)} with most units" if len(table) < len(eligible) else ""
    ax.set_title(f"How each actor is portrayed (actors with at least {min_mentions} units{shown})")
    ax.grid(axis="x", alpha=0.3)
    if small.any():
        ax.legend(handles=[_small_handle(min_group_units, min_group_articles)], loc="lower left", bbox_to_anchor=(1.0, 1.0),
                  frameon=False, fontsize=8)
    return figure


def plot_stance_vs_sentiment(by_actor: pd.DataFrame, *, ax: Axes | None = None, min_mentions: int = 3,
                             max_labels: int = 25, min_group_units: int | None = None,
                             min_group_articles: int | None = None) -> Figure:
    """Mean stance toward each actor against the mean sentiment of their sentences.

    Points below the diagonal: the actor is portrayed worse than the tone around them.
    Marker area grows with the number of units; small groups are drawn hollow and faded.
    """
    table = by_actor[by_actor["units"] >= min_mentions]
    figure, ax = _new_axes(ax, (9, 8))
    if table.empty:
        _empty(ax, min_mentions, "stance/sentiment plot")
        return figure
    sizes = 30 + 250 * np.sqrt(table["units"] / max(table["units"].max(), 1))
    small = _small(table)
    ax.scatter(table["mean_sentiment"][~small], table["mean_stance"][~small], s=sizes[~small], color=OKABE_ITO[0], alpha=0.6,
               edgecolor="white")
    ax.scatter(table["mean_sentiment"][small], table["mean_stance"][small], s=sizes[small], facecolor="white",
               edgecolor=OKABE_ITO[0], alpha=0.45, linewidth=1.2)
    ax.plot([-1, 1], [-1, 1], color="0.5", linestyle=":", linewidth=1)
    ax.axhline(0, color="0.8", linewidth=0.8)
    ax.axvline(0, color="0.8", linewidth=0.8)
    lo = min(-0.6, float(table[["mean_sentiment", "mean_stance"]].min().min()) - 0.1) if len(table) else -1
    hi = max(0.6, float(table[["mean_sentiment", "mean_stance"]].max().max()) + 0.1) if len(table) else 1
    ax.set_xlim(max(lo, -1.05), min(hi, 1.05))
    ax.set_ylim(max(lo, -1.05), min(hi, 1.05))
    ax.set_aspect("equal")
    ax.set_xlabel("Mean sentiment of the sentences (−1 … +1)")
    ax.set_ylabel("Mean stance toward the actor (−1 … +1)")
    ranked = {actor: rank for rank, actor in enumerate(rank_actors(table.set_index("actor")["units"], max_labels, min_mentions=0))}
    labelled = table[table["actor"].isin(ranked)]
    labelled = labelled.iloc[np.argsort([ranked[a] for a in labelled["actor"]], kind="stable")]  # most units first
    named = f"label = units; labelled: the {len(labelled)} of {len(table)} actors with most units" if len(labelled) < len(table) else "label = units"
    ax.set_title(f"Stance toward each actor vs. tone of their sentences\n(below the diagonal: portrayed worse than the tone; {named})")
    _place_labels(ax, [(f"{_label(row)} ({int(row['units'])})", row["mean_sentiment"], row["mean_stance"])
                       for _, row in labelled.iterrows()], list(sizes[labelled.index]))
    handles: list[Any] = [Line2D([], [], color="0.5", linestyle=":", linewidth=1, label="stance = sentiment")]
    if small.any():
        handles.append(_small_handle(min_group_units, min_group_articles))
    ax.legend(handles=handles, loc="lower right", frameon=False, fontsize=8)
    ax.grid(alpha=0.25)
    return figure


_LABEL_OFFSETS = tuple(
    [(7, 4, "left"), (7, -12, "left"), (-7, 4, "right"), (-7, -12, "right"), (0, 12, "center"), (0, -20, "center")]
    + [(round(dx * r), round(dy * r), "left" if dx > 0 else "right" if dx < 0 else "center")
       for r in (22, 34, 48) for dx, dy in ((1, 0.6), (1, -0.8), (-1, 0.6), (-1, -0.8), (0, 1), (0, -1.2), (1, 0), (-1, 0))]
)


# Unit counts on the timeline: below the point, above it, then farther out (no leader lines).
_COUNT_OFFSETS = ((0, -11, "center"), (0, 10, "center"), (0, -21, "center"), (0, 20, "center"), (8, -11, "left"), (-8, -11, "right"))


def _place_labels(ax: Axes, labels: list[tuple[str, float, float]], point_sizes: Sequence[float] = (), *,
                  offsets: Sequence[tuple[int, int, str]] = _LABEL_OFFSETS, fontsize: float = 8,
                  colors: Sequence[str] | None = None) -> None:
    """Annotate points, trying ``offsets`` in turn until a label overlaps neither another label
    nor a marker; offsets beyond the first six get a leader line."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.transforms import Bbox

    figure = ax.figure
    canvas = figure.canvas if isinstance(figure.canvas, FigureCanvasAgg) else FigureCanvasAgg(figure)  # type: ignore[arg-type]
    engine = figure.get_layout_engine()
    if engine is not None:  # final axes position first, so label boxes are measured where they end up
        engine.execute(figure)  # type: ignore[arg-type]
    renderer = canvas.get_renderer()
    scale = figure.dpi / 72.0
    obstacles: list[Any] = []
    for (_, x, y), size in zip(labels, point_sizes or [30.0] * len(labels)):
        cx, cy = ax.transData.transform((x, y))
        radius = (size ** 0.5) / 2 * scale
        obstacles.append(Bbox.from_extents(cx - radius, cy - radius, cx + radius, cy + radius))
    taken = _BoxIndex(obstacles)
    for index, (text, x, y) in enumerate(labels):
        chosen = None
        color = colors[index] if colors else None
        for k, (dx, dy, ha) in enumerate(offsets):
            arrow = {"arrowstyle": "-", "color": "0.55", "linewidth": 0.6} if k >= 6 else None
            note = ax.annotate(text, (x, y), textcoords="offset points", xytext=(dx, dy), ha=ha, va="center", fontsize=fontsize,
                               arrowprops=arrow, color=color)
            box = note.get_window_extent(renderer).padded(2 * scale)
            inside = ax.get_window_extent(renderer).contains(box.x0, box.y0) and ax.get_window_extent(renderer).contains(box.x1, box.y1)
            if inside and not taken.overlaps(box):
                chosen = box
                break
            note.remove()
        if chosen is None:
            dx, dy, ha = offsets[0]
            note = ax.annotate(text, (x, y), textcoords="offset points", xytext=(dx, dy), ha=ha, va="center", fontsize=fontsize,
                               color=color)
            chosen = note.get_window_extent(renderer)
        taken.add(chosen)


class _BoxIndex:
    """Boxes bucketed on a coarse pixel grid, so an overlap test looks only at nearby boxes."""

    def __init__(self, boxes: Sequence[Any] = (), cell: float = 64.0) -> None:
        self.cell = cell
        self.cells: dict[tuple[int, int], list[Any]] = {}
        for box in boxes:
            self.add(box)

    def _keys(self, box: Any) -> list[tuple[int, int]]:
        c = self.cell
        return [(i, j) for i in range(int(box.x0 // c), int(box.x1 // c) + 1) for j in range(int(box.y0 // c), int(box.y1 // c) + 1)]

    def add(self, box: Any) -> None:
        for key in self._keys(box):
            self.cells.setdefault(key, []).append(box)

    def overlaps(self, box: Any) -> bool:
        return any(box.overlaps(other) for key in self._keys(box) for other in self.cells.get(key, ()))


def save_figure(figure: Figure, path: str | Path, *, dpi: int = 150) -> list[Path]:
    """Save a figure as PNG and SVG next to each other (atomically); return both paths."""
    import io

    base = Path(path).with_suffix("")
    written = []
    for suffix in (".png", ".svg"):
        buffer = io.BytesIO()
        with matplotlib.rc_context({"svg.hashsalt": "stance"}):  # stable element ids: same figure, same bytes
            figure.savefig(buffer, format=suffix[1:], dpi=dpi,
                           metadata={"Software": None} if suffix == ".png" else {"Date": None, "Creator": None})
        target = base.with_suffix(suffix)
        atomic_write_bytes(target, buffer.getvalue())
        written.append(target)
    return written
