"""The ``stance report`` main job: analyse a corpus and write tables, plots and report.md."""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from .aggregates import UNDATED, aggregate_by_actor, aggregate_by_article, aggregate_by_date, aggregate_by_source, top_actors
from .config import ReportConfig
from .io import atomic_open, atomic_write_text
from .pipeline import CorpusResult

PLOT_NAMES = ("timeline", "heatmap", "actor_overview", "stance_vs_sentiment")


@dataclass(frozen=True, slots=True)
class ReportFiles:
    """What ``write_report`` wrote."""

    folder: Path
    tables: tuple[Path, ...]
    plots: tuple[Path, ...]
    report: Path


def write_table(frame: pd.DataFrame, path: Path) -> Path:
    """Write a DataFrame as CSV (UTF-8, ``\\n``, fixed float format), atomically."""
    with atomic_open(path, "w") as handle:
        frame.to_csv(handle, index=False, lineterminator="\n", float_format="%.6g")
    return path


def write_mentions(frame: pd.DataFrame, path: Path) -> Path:
    """Write the mentions table as ``.csv``, ``.jsonl`` or ``.parquet`` (atomically)."""
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return write_table(frame, path)
    if suffix == ".jsonl":
        with atomic_open(path, "w") as handle:
            frame.to_json(handle, orient="records", lines=True, force_ascii=False)
        return path
    if suffix == ".parquet":
        import io

        from .io import atomic_write_bytes

        buffer = io.BytesIO()
        frame.to_parquet(buffer, index=False)
        atomic_write_bytes(path, buffer.getvalue())
        return path
    raise ValueError(f"output format of {path.name}: expected .csv, .jsonl or .parquet")


def draw_plots(mentions: pd.DataFrame, out: Path, config: ReportConfig, freq: str = "day",
               tables: Mapping[str, pd.DataFrame] | None = None) -> list[Path]:
    """Draw the four plots from a mentions table into ``out`` (PNG and SVG).

    ``tables`` may hold ``by_article.csv``, ``by_date.csv`` and ``by_actor.csv`` already
    aggregated from ``mentions`` (with the same ``config`` and ``freq``); missing ones are computed.
    """
    from .plots import plot_actor_overview, plot_heatmap, plot_stance_vs_sentiment, plot_timeline, save_figure

    given = tables or {}
    builders: dict[str, Callable[[], pd.DataFrame]] = {
        "by_article.csv": lambda: aggregate_by_article(mentions, config),
        "by_date.csv": lambda: aggregate_by_date(mentions, freq, config),
        "by_actor.csv": lambda: aggregate_by_actor(mentions, config),
    }
    by_article, by_date, by_actor = (given[name] if name in given else build() for name, build in builders.items())
    names = dict(zip(mentions["actor"], mentions.get("actor_name", mentions["actor"])))
    figures = {
        "timeline": plot_timeline(by_date, top=config.top_actors, min_mentions=config.min_mentions, names=names),
        "heatmap": plot_heatmap(by_article, min_mentions=config.min_mentions, names=names),
        "actor_overview": plot_actor_overview(by_actor, min_mentions=config.min_mentions),
        "stance_vs_sentiment": plot_stance_vs_sentiment(by_actor, min_mentions=config.min_mentions),
    }
    written: list[Path] = []
    for name in PLOT_NAMES:
        written += save_figure(figures[name], out / f"{name}.png", dpi=config.dpi)
    return written


def write_report(result: CorpusResult, out: str | Path, *, config: ReportConfig | None = None, freq: str = "day",
                 model_info: dict[str, Any] | None = None, progress: Callable[[str], None] | None = None) -> ReportFiles:
    """Write mentions/articles/aggregate CSVs, the four plots and ``report.md`` into ``out``."""
    config = config or ReportConfig()
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    mentions = result.mentions
    tables = {
        "mentions.csv": mentions,
        "articles.csv": result.articles,
        "by_article.csv": aggregate_by_article(mentions, config),
        "by_date.csv": aggregate_by_date(mentions, freq, config),
        "by_actor.csv": aggregate_by_actor(mentions, config),
        "by_source.csv": aggregate_by_source(mentions, config),
    }
    written = [write_table(frame, folder / name) for name, frame in tables.items()]
    if progress:
        progress("plots")
    plots = draw_plots(mentions, folder, config, freq, tables) if len(mentions) else []
    report = folder / "report.md"
    atomic_write_text(report, render_markdown(result, tables, config, freq, model_info or {}))
    return ReportFiles(folder, tuple(written), tuple(plots), report)


def _fmt(value: Any, digits: int = 2) -> str:
    if value is None or (isinstance(value, float) and value != value):
        return "–"
    if isinstance(value, float):
        return f"{value:+.{digits}f}"
    return str(value)


def render_markdown(result: CorpusResult, tables: dict[str, pd.DataFrame], config: ReportConfig, freq: str,
                    model_info: dict[str, Any]) -> str:
    """The text of ``report.md``: summary, plots, top actors, warnings and evidence."""
    mentions, articles = result.mentions, result.articles
    status = articles["status"].value_counts()
    by_actor = tables["by_actor.csv"]
    by_date = tables["by_date.csv"]
    lines = [
        "# Stance report",
        "",
        f"{int(status.get('ok', 0))} articles analysed, {int(status.get('duplicate', 0))} duplicate(s) counted once, "
        f"{int(status.get('skipped', 0))} input(s) skipped; {len(mentions)} scored (sentence, actor) units of "
        f"{mentions['actor'].nunique() if len(mentions) else 0} actors.",
        "",
        "Stance score = P(positive) − P(negative) toward the actor, in [−1, 1]; sentiment score likewise for the "
        "tone of the sentence. Intervals: 95% seeded bootstrap of the mean (1,000 resamples). "
        f"Plots leave out actors with fewer than {config.min_mentions} units; the tables keep them.",
    ]
    if model_info:
        lines += ["", f"Model: `{model_info.get('path', 'default')}` (stance {model_info.get('version', '?')}, "
                      f"trained on {model_info.get('rows', '?')} units)."]
    lines += ["", "## Warnings", ""]
    warn_lines = [f"- {w}" for w in result.warnings]
    warn_lines += [f"- duplicate: `{r.article_id}` repeats `{r.duplicate_of}` and is counted once"
                   for r in articles[articles["status"] == "duplicate"].itertuples()]
    warn_lines += [f"- skipped: `{s}`" for s in result.skipped]
    undated = articles[(articles["status"] == "ok") & articles["date"].isna()]
    warn_lines += [f"- undated: `{r.article_id}` has no date; its {int(r.units)} units are in the `{UNDATED}` row of by_date.csv, not on the timeline"
                   for r in undated.itertuples()]
    lines += warn_lines or ["- none"]
    lines += ["", "## Plots", ""]
    for name, caption in (("actor_overview", "Mean stance per actor"), ("timeline", f"Stance over time (per {freq})"),
                          ("heatmap", "Actor × article"), ("stance_vs_sentiment", "Stance vs. sentiment")):
        lines += [f"### {caption}", "", f"![{caption}]({name}.png)", ""]
    lines += ["## Top actors", "", "| actor | units | articles | mean stance | 95% interval | negative | neutral | positive | mean sentiment |",
              "|---|---:|---:|---:|---|---:|---:|---:|---:|"]
    for row in by_actor.head(10).itertuples():
        lines.append(
            f"| {getattr(row, 'actor_name', row.actor)} | {row.units} | {row.articles} | {_fmt(row.mean_stance)} | "
            f"{_fmt(row.ci_low)} … {_fmt(row.ci_high)} | {row.share_negative:.0%} | {row.share_neutral:.0%} | "
            f"{row.share_positive:.0%} | {_fmt(row.mean_sentiment)} |"
        )
    lines += ["", f"## Per {freq}", "", "| period | actor | units | mean stance | rolling mean |", "|---|---|---:|---:|---:|"]
    tops = top_actors(mentions, config.top_actors, config.min_mentions) if len(mentions) else []
    for row in by_date[by_date["actor"].isin(tops)].itertuples():
        lines.append(f"| {row.period} | {row.actor} | {row.units} | {_fmt(row.mean_stance)} | {_fmt(row.rolling_mean_stance)} |")
    lines += ["", "## Evidence", "", "The most negative and most positive sentences for each top actor (by stance score).", ""]
    for actor in tops:
        rows = mentions[mentions["actor"] == actor].sort_values(["stance_score", "article_id", "sentence_index"], kind="stable")
        name = rows["actor_name"].iloc[0] if "actor_name" in rows else actor
        lines += [f"### {name}", ""]
        picks = [("most negative", rows.head(config.evidence_per_actor)), ("most positive", rows.tail(config.evidence_per_actor).iloc[::-1])]
        for label, chosen in picks:
            for r in chosen.itertuples():
                sentence = textwrap.shorten(str(r.sentence), 400, placeholder=" …")
                lines.append(f"- {label} ({r.stance}, {r.stance_score:+.2f}; `{r.article_id}`): {sentence}")
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"
