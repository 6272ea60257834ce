"""The ``stance report`` main job: analyse a corpus and write tables, plots and report.md.

What is written is safe to open: CSV cells that a spreadsheet would run as a formula get a
leading ``'`` (:func:`neutralise_formulas`; JSONL and Parquet keep the values verbatim), text
from the input is escaped in ``report.md`` (:func:`escape_markdown`), and the report folder
is replaced as a whole (:class:`stance.io.StagedFolder`).
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from .aggregates import UNDATED, aggregate_by_actor, aggregate_by_article, aggregate_by_date, aggregate_by_source, top_actors
from .config import ReportConfig
from .io import StagedFolder, atomic_open, atomic_write_text, escape_control, output_lock
from .pipeline import CorpusResult

PLOT_NAMES = ("timeline", "heatmap", "actor_overview", "stance_vs_sentiment")
TABLE_NAMES = ("mentions.csv", "articles.csv", "by_article.csv", "by_date.csv", "by_actor.csv", "by_source.csv")
PLOT_FILES = tuple(f"{name}{suffix}" for name in PLOT_NAMES for suffix in (".png", ".svg"))
REPORT_FILES = (*TABLE_NAMES, *PLOT_FILES, "report.md", "plots")
"""Every name ``stance report`` writes into its folder (``plots`` is ``stance plot``'s default folder)."""
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER_RE = re.compile(r"[+-]?\d+(?:[.,]\d+)?(?:[eE][+-]?\d+)?\Z")  # "-1", "+0.5": text that is a number
WARNING_EXAMPLES = 10  # examples listed in report.md per kind of warning; articles.csv has them all
WARNING_KINDS = 20  # kinds listed one by one; the rest are counted together
EXAMPLE_CHARS = 240
PERIOD_ROWS = 250  # rows of the per-period table in report.md; by_date.csv has them all


@dataclass(frozen=True, slots=True)
class ReportFiles:
    """What ``write_report`` wrote."""

    folder: Path
    tables: tuple[Path, ...]
    plots: tuple[Path, ...]
    report: Path


def neutralise_formulas(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` whose text cells cannot run as spreadsheet formulas (OWASP).

    A text cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return gets
    a leading ``'``; numbers (a negative score too, also as text: ``"-1"``) and missing values
    are left as they are.

    Examples
    --------
    >>> frame = pd.DataFrame({"id": ["=1+1", "@SUM(A1)", "-x", "-1"], "score": [-0.5, 0.1, 0.2, 0.3]})
    >>> neutralise_formulas(frame).to_dict("list")
    {'id': ["'=1+1", "'@SUM(A1)", "'-x", '-1'], 'score': [-0.5, 0.1, 0.2, 0.3]}
    """
    result = frame.copy(deep=False)
    for name in frame.columns:
        column = frame[name]
        if not (pd.api.types.is_object_dtype(column) or pd.api.types.is_string_dtype(column)):
            continue
        risky = column.map(_is_formula_like).astype(bool)
        if risky.any():
            fixed = column.copy()
            fixed[risky] = "'" + column[risky].astype(str)
            result[name] = fixed
    return result


def _is_formula_like(value: object) -> bool:
    """A text cell a spreadsheet could run: starts with a formula character and is not a plain number."""
    return isinstance(value, str) and value.startswith(FORMULA_PREFIXES) and not _PLAIN_NUMBER_RE.match(value)


def write_table(frame: pd.DataFrame, path: Path) -> Path:
    """Write a DataFrame as CSV (UTF-8, ``\\n``, fixed float format), atomically.

    Text cells that a spreadsheet would run as a formula are neutralised first
    (:func:`neutralise_formulas`).
    """
    with atomic_open(path, "w") as handle:
        neutralise_formulas(frame).to_csv(handle, index=False, lineterminator="\n", float_format="%.6g")
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


def write_report(result: CorpusResult, out: str | Path | StagedFolder, *, config: ReportConfig | None = None,
                 freq: str = "day", model_info: dict[str, Any] | None = None,
                 progress: Callable[[str], None] | None = None) -> ReportFiles:
    """Write mentions/articles/aggregate CSVs, the four plots and ``report.md`` into ``out``.

    The folder is replaced as a whole: everything is written into a hidden staging folder
    next to ``out`` and swapped in at the end, so an interrupted or failed run leaves the
    previous report as it was. ``out`` may be a :class:`~stance.io.StagedFolder` the caller
    has already entered (and holds the lock of); otherwise the lock is taken here.

    Raises
    ------
    OutputFolderError
        If ``out`` is locked by another run, not writable, or a folder with other content.
    """
    if isinstance(out, StagedFolder):
        return _write_staged(result, out, config or ReportConfig(), freq, model_info, progress)
    with output_lock(out), StagedFolder(out, REPORT_FILES, kind="report") as staged:
        return _write_staged(result, staged, config or ReportConfig(), freq, model_info, progress)


def _write_staged(result: CorpusResult, staged: StagedFolder, config: ReportConfig, freq: str,
                  model_info: dict[str, Any] | None, progress: Callable[[str], None] | None) -> ReportFiles:
    """Write every file into the staging folder, then swap it in."""
    files = _write_files(result, staged.path, config, freq, model_info, progress)
    staged.commit()
    moved = [staged.target / path.name for path in (*files.tables, *files.plots, files.report)]
    return ReportFiles(staged.target, tuple(moved[:len(files.tables)]), tuple(moved[len(files.tables):-1]), moved[-1])


def _write_files(result: CorpusResult, folder: Path, config: ReportConfig, freq: str, model_info: dict[str, Any] | None,
                 progress: Callable[[str], None] | None) -> ReportFiles:
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


_MARKDOWN_RE = re.compile(r"([\\`*_\[\]()<>#|!~&@{}])")
_AUTOLINK_RE = re.compile(r"(?i)(?<=[a-z])(?=://)|(?<=www)(?=\.)")


def escape_markdown(text: object) -> str:
    r"""Input text as literal Markdown: it renders as written, never as a heading, link or HTML.

    Control characters are shown as escapes (:func:`stance.io.escape_control`), Markdown
    and HTML punctuation is backslash-escaped (``|`` too, so the text is safe in a table
    cell) and bare URLs are broken up so they are not turned into links.

    Examples
    --------
    >>> print(escape_markdown("x`\n# [click](http://evil.example) <b>|"))
    x\`\\n\# \[click\]\(http\://evil.example\) \<b\>\|
    """
    return _AUTOLINK_RE.sub("\\\\", _MARKDOWN_RE.sub(r"\\\1", escape_control(text)))


def _warning_kind(message: str) -> str:
    """What kind of warning or skip reason a message is: its text up to the first ``:`` or ``;``,
    with quoted values and numbers left out.

    Examples
    --------
    >>> _warning_kind("date '31.02.2025' is not a valid date; the article is treated as undated")
    'date … is not a valid date'
    >>> _warning_kind("implausible date 2026-10-21: the other articles of a.txt are dated 2025-10-01 to 2025-10-03")
    'implausible date …'
    """
    general = re.sub(r"'[^']*'|\"[^\"]*\"|\d+(?:[.,-]\d+)*", "…", message)
    return re.split(r"[:;]", general, maxsplit=1)[0].strip()[:80] or "other"


def _strip_id(warning: str) -> str:
    """A corpus warning (``"<article id>: <message>"``) without its article id."""
    head, sep, tail = warning.partition(": ")
    return tail if sep else warning


def _warning_items(result: CorpusResult) -> Iterable[tuple[str, str]]:
    """Every warning, duplicate, skip and undated article as ``(kind, example line)``."""
    articles = result.articles
    for warning in result.warnings:
        yield _warning_kind(_strip_id(warning)), escape_markdown(warning)
    for r in articles[articles["status"] == "duplicate"].itertuples():
        yield "duplicate", f"{escape_markdown(r.article_id)} repeats {escape_markdown(r.duplicate_of)} and is counted once"
    for skip in result.skipped:
        yield f"skipped: {_warning_kind(skip.reason)}", escape_markdown(skip)
    undated = articles[(articles["status"] == "ok") & articles["date"].isna()]
    for r in undated.itertuples():
        yield "undated", (f"{escape_markdown(r.article_id)} has no date; its {int(r.units)} units are in the {UNDATED} row of "
                          "by_date.csv, not on the timeline")


def summarise_warnings(result: CorpusResult, examples: int = WARNING_EXAMPLES, kinds: int = WARNING_KINDS) -> list[str]:
    """The Warnings section of report.md: warnings grouped by kind, with a count and a few examples each.

    The most frequent ``kinds`` kinds are listed with up to ``examples`` examples; the rest
    are counted together. ``articles.csv`` (columns ``status``, ``warnings``, ``reason``)
    keeps every one, so report.md stays small whatever the corpus.
    """
    counts: dict[str, int] = {}
    shown: dict[str, list[str]] = {}
    for kind, line in _warning_items(result):
        counts[kind] = counts.get(kind, 0) + 1
        chosen = shown.setdefault(kind, [])
        if len(chosen) < examples:
            chosen.append(textwrap.shorten(line, EXAMPLE_CHARS, placeholder=" …"))
    if not counts:
        return ["- none"]
    order = sorted(counts, key=lambda k: (-counts[k], k))
    lines = [f"{sum(counts.values())} in {len(counts)} kind(s); articles.csv lists every one (columns `status`, "
             "`warnings`, `reason`).", ""]
    for kind in order[:kinds]:
        lines.append(f"- **{escape_markdown(kind)}** ({counts[kind]})")
        lines += [f"  - {line}" for line in shown[kind]]
        if counts[kind] > len(shown[kind]):
            lines.append(f"  - … and {counts[kind] - len(shown[kind])} more")
    rest = order[kinds:]
    if rest:
        lines.append(f"- **other kinds** ({sum(counts[k] for k in rest)} in {len(rest)} kinds; see articles.csv)")
    return lines


def render_markdown(result: CorpusResult, tables: dict[str, pd.DataFrame], config: ReportConfig, freq: str,
                    model_info: dict[str, Any]) -> str:
    """The text of ``report.md``: summary, plots, top actors, warnings and evidence.

    Text from the input (ids, titles, actor names, sentences) is escaped
    (:func:`escape_markdown`); repeated warnings are summarised (:func:`summarise_warnings`).
    """
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
        f"Plots leave out actors with fewer than {config.min_mentions} units; the tables keep them. "
        "In the CSV files a text cell that starts with =, +, -, @, a tab or a carriage return has a leading ' so "
        "that spreadsheets do not run it as a formula.",
    ]
    if model_info:
        lines += ["", f"Model: {escape_markdown(model_info.get('path', 'default'))} (stance "
                      f"{escape_markdown(model_info.get('version', '?'))}, trained on {escape_markdown(model_info.get('rows', '?'))} units)."]
    lines += ["", "## Warnings", ""]
    lines += summarise_warnings(result)
    lines += ["", "## Plots", ""]
    for name, caption in (("actor_overview", "Mean stance per actor"), ("timeline", f"Stance over time (per {freq})"),
                          ("heatmap", "Actor × article"), ("stance_vs_sentiment", "Stance vs. sentiment")):
        lines += [f"### {caption}", "", f"![{caption}]({name}.png)", ""]
    lines += ["## Top actors", "", "| actor | units | articles | mean stance | 95% interval | negative | neutral | positive | mean sentiment |",
              "|---|---:|---:|---:|---|---:|---:|---:|---:|"]
    for row in by_actor.head(10).itertuples():
        lines.append(
            f"| {escape_markdown(getattr(row, 'actor_name', row.actor))} | {row.units} | {row.articles} | {_fmt(row.mean_stance)} | "
            f"{_fmt(row.ci_low)} … {_fmt(row.ci_high)} | {row.share_negative:.0%} | {row.share_neutral:.0%} | "
            f"{row.share_positive:.0%} | {_fmt(row.mean_sentiment)} |"
        )
    tops = top_actors(mentions, config.top_actors, config.min_mentions) if len(mentions) else []
    lines += _period_table(by_date[by_date["actor"].isin(tops)], freq)
    lines += ["", "## Evidence", "", "The most negative and most positive sentences for each top actor (by stance score).", ""]
    for actor in tops:
        rows = mentions[mentions["actor"] == actor].sort_values(["stance_score", "article_id", "sentence_index"], kind="stable")
        name = rows["actor_name"].iloc[0] if "actor_name" in rows else actor
        lines += [f"### {escape_markdown(name)}", ""]
        picks = [("most negative", rows.head(config.evidence_per_actor)), ("most positive", rows.tail(config.evidence_per_actor).iloc[::-1])]
        for label, chosen in picks:
            for r in chosen.itertuples():
                sentence = escape_markdown(textwrap.shorten(str(r.sentence), 400, placeholder=" …"))
                lines.append(f"- {label} ({r.stance}, {r.stance_score:+.2f}; {escape_markdown(r.article_id)}): {sentence}")
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def _period_table(by_date: pd.DataFrame, freq: str) -> list[str]:
    """The per-period table of the top actors, at most :data:`PERIOD_ROWS` rows (by_date.csv has all)."""
    lines = ["", f"## Per {freq}", ""]
    if len(by_date) > PERIOD_ROWS:
        lines += [f"The first {PERIOD_ROWS} of {len(by_date)} rows; by_date.csv has them all.", ""]
    lines += ["| period | actor | units | mean stance | rolling mean |", "|---|---|---:|---:|---:|"]
    for row in by_date.head(PERIOD_ROWS).itertuples():
        lines.append(f"| {escape_markdown(row.period)} | {escape_markdown(row.actor)} | {row.units} | {_fmt(row.mean_stance)} | "
                     f"{_fmt(row.rolling_mean_stance)} |")
    return lines
