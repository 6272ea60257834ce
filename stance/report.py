"""The ``stance report`` main job: analyse a corpus and write tables, plots, report.md and report.html.

What is written is safe to open: CSV cells that a spreadsheet would run as a formula get a
leading ``'`` (:func:`neutralise_formulas`; JSONL and Parquet keep the values verbatim), text
from the input is escaped in ``report.md`` (:func:`escape_markdown`), and the report folder
is replaced as a whole (:class:`stance.io.StagedFolder`).
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from .aggregates import IMPLAUSIBLE, UNDATED, aggregate_by_actor, aggregate_by_article, aggregate_by_date, aggregate_by_source, top_actors
from .config import ReportConfig
from .io import StagedFolder, atomic_write_text, escape_control, output_lock
from .records import CorpusResult
from .tables import write_table

PLOT_NAMES = ("timeline", "heatmap", "actor_overview", "stance_vs_sentiment")
TABLE_NAMES = ("mentions.csv", "articles.csv", "by_article.csv", "by_date.csv", "by_actor.csv", "by_source.csv")
PLOT_FILES = tuple(f"{name}{suffix}" for name in PLOT_NAMES for suffix in (".png", ".svg"))
REPORT_FILES = (*TABLE_NAMES, *PLOT_FILES, "report.md", "report.html", "plots", "report_html.png")
"""Every name ``stance report`` writes into its folder (``plots`` is ``stance plot``'s default folder,
``report_html.png`` the screenshot of report.html that ``tests/headless_chromium.py`` takes)."""
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


def draw_plots(mentions: pd.DataFrame, out: Path, config: ReportConfig, freq: str = "day",
               tables: Mapping[str, pd.DataFrame] | None = None, *, implausible: Collection[str] = ()) -> list[Path]:
    """Draw the four plots from a mentions table into ``out`` (PNG and SVG).

    ``tables`` may hold ``by_article.csv``, ``by_date.csv`` and ``by_actor.csv`` already
    aggregated from ``mentions`` (with the same ``config`` and ``freq``); missing ones are computed.
    ``implausible``: ids of articles whose date was flagged implausible (:func:`implausible_articles`),
    left off the timeline.
    """
    from .plots import plot_actor_overview, plot_heatmap, plot_stance_vs_sentiment, plot_timeline, save_figure

    given = tables or {}
    builders: dict[str, Callable[[], pd.DataFrame]] = {
        "by_article.csv": lambda: aggregate_by_article(mentions, config),
        "by_date.csv": lambda: aggregate_by_date(mentions, freq, config, implausible=implausible),
        "by_actor.csv": lambda: aggregate_by_actor(mentions, config),
    }
    by_article, by_date, by_actor = (given[name] if name in given else build() for name, build in builders.items())
    names = dict(zip(mentions["actor"], mentions.get("actor_name", mentions["actor"])))
    units, articles = config.min_group_units, config.min_group_articles
    figures = {
        "timeline": plot_timeline(by_date, top=config.top_actors, min_mentions=config.min_mentions, names=names,
                                  min_group_units=units, min_group_articles=articles),
        "heatmap": plot_heatmap(by_article, min_mentions=config.min_mentions, names=names),
        "actor_overview": plot_actor_overview(by_actor, min_mentions=config.min_mentions, min_group_units=units,
                                              min_group_articles=articles),
        "stance_vs_sentiment": plot_stance_vs_sentiment(by_actor, min_mentions=config.min_mentions, min_group_units=units,
                                                        min_group_articles=articles),
    }
    written: list[Path] = []
    for name in PLOT_NAMES:
        written += save_figure(figures[name], out / f"{name}.png", dpi=config.dpi)
    return written


def write_report(result: CorpusResult, out: str | Path | StagedFolder, *, config: ReportConfig | None = None,
                 freq: str = "day", model_info: dict[str, Any] | None = None,
                 progress: Callable[[str], None] | None = None, validation: Mapping[str, Any] | None = None) -> ReportFiles:
    """Write mentions/articles/aggregate CSVs, the four plots, ``report.md`` and ``report.html`` into ``out``.

    The folder is replaced as a whole: everything is written into a hidden staging folder
    next to ``out`` and swapped in at the end, so an interrupted or failed run leaves the
    previous report as it was. ``out`` may be a :class:`~stance.io.StagedFolder` the caller
    has already entered (and holds the lock of); otherwise the lock is taken here.
    ``model_info["metrics"]`` (the model's measured quality) and ``validation`` (a parsed
    ``validation.json`` of ``stance validate``) are stated in the reports (:func:`quality_summary`).

    Raises
    ------
    OutputFolderError
        If ``out`` is locked by another run, not writable, or a folder with other content.
    """
    if isinstance(out, StagedFolder):
        return _write_staged(result, out, config or ReportConfig(), freq, model_info, progress, validation)
    with output_lock(out), StagedFolder(out, REPORT_FILES, kind="report") as staged:
        return _write_staged(result, staged, config or ReportConfig(), freq, model_info, progress, validation)


def _write_staged(result: CorpusResult, staged: StagedFolder, config: ReportConfig, freq: str,
                  model_info: dict[str, Any] | None, progress: Callable[[str], None] | None,
                  validation: Mapping[str, Any] | None = None) -> ReportFiles:
    """Write every file into the staging folder, then swap it in."""
    files = _write_files(result, staged.path, config, freq, model_info, progress, validation)
    staged.commit()
    moved = [staged.target / path.name for path in (*files.tables, *files.plots, files.report)]
    return ReportFiles(staged.target, tuple(moved[:len(files.tables)]), tuple(moved[len(files.tables):-1]), moved[-1])


def _write_files(result: CorpusResult, folder: Path, config: ReportConfig, freq: str, model_info: dict[str, Any] | None,
                 progress: Callable[[str], None] | None, validation: Mapping[str, Any] | None = None) -> ReportFiles:
    mentions = result.mentions
    tables = {
        "mentions.csv": mentions,
        "articles.csv": result.articles,
        "by_article.csv": aggregate_by_article(mentions, config),
        "by_date.csv": aggregate_by_date(mentions, freq, config, implausible=implausible_articles(result.articles)),
        "by_actor.csv": aggregate_by_actor(mentions, config),
        "by_source.csv": aggregate_by_source(mentions, config),
    }
    written = [write_table(frame, folder / name) for name, frame in tables.items()]
    if progress:
        progress("plots")
    plots = draw_plots(mentions, folder, config, freq, tables) if len(mentions) else []
    report = folder / "report.md"
    atomic_write_text(report, render_markdown(result, tables, config, freq, model_info or {}, validation=validation))
    from .html_report import render_html

    svgs = {path.stem: path.read_text(encoding="utf-8") for path in plots if path.suffix == ".svg"}
    atomic_write_text(folder / "report.html", render_html(result, tables, config, freq, model_info or {}, plots=svgs,
                                                               quality=quality_summary(model_info, validation)))
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
    """Every warning, duplicate, skip and undated article as ``(kind, example line)``.

    An implausible date says where its units went: the ``implausible`` row of by_date.csv, not the timeline.
    """
    articles = result.articles
    flagged = implausible_articles(articles)
    units = dict(zip(articles["article_id"].astype(str), articles["units"])) if flagged else {}
    for warning in result.warnings:
        line = escape_markdown(warning)
        head, sep, message = warning.partition(": ")
        if sep and head in flagged and _IMPLAUSIBLE_RE.match(message):
            line = (f"{escape_markdown(head)}: not on the timeline, its {int(units.get(head, 0))} units are in the {IMPLAUSIBLE} "
                    f"row of by_date.csv; {escape_markdown(message)}")
        yield _warning_kind(_strip_id(warning)), line
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


_CLASS_ORDER = ("negative", "neutral", "positive")


def _number(data: Any, *path: str) -> float | None:
    """``data[path[0]][path[1]]...`` as a float, or None when a key is missing or the value is not a number."""
    for key in path:
        if not isinstance(data, Mapping) or key not in data:
            return None
        data = data[key]
    if isinstance(data, bool) or not isinstance(data, (int, float)) or data != data:
        return None
    return float(data)


def _per_class_f1(result: Any) -> str:
    """``"; F1 per class: negative 0.58, neutral 0.82"`` from a metrics dict's ``per_class`` (empty if none)."""
    per_class = result.get("per_class") if isinstance(result, Mapping) else None
    if not isinstance(per_class, Mapping):
        return ""
    labels = [label for label in _CLASS_ORDER if label in per_class] + sorted(str(k) for k in per_class if k not in _CLASS_ORDER)
    parts = [f"{label} {f1:.2f}" for label in labels if (f1 := _number(per_class, label, "f1")) is not None]
    return f"; F1 per class: {', '.join(parts)}" if parts else ""


def _units(n: float | None) -> str:
    return f" ({int(n):,} units)" if n is not None else ""


def _user_cv_lines(metrics: Mapping[str, Any]) -> list[str]:
    """The before/after figures of a model adapted with ``stance train --add`` (cross-validated on the added units).

    Examples
    --------
    >>> _user_cv_lines({"stance_user_cv_before": {"macro_f1": 0.41, "n": 80}, "stance_user_cv_after": {"macro_f1": 0.52, "n": 80}})
    ['Adapted with your own labelled units: stance macro-F1 on them 0.41 trained on the --data training set alone, 0.52 after adding them (80 units, cross-validated with folds grouped by article).']
    """
    lines = []
    for task in ("stance", "sentiment"):
        before, after = metrics.get(f"{task}_user_cv_before"), metrics.get(f"{task}_user_cv_after")
        f1_before, f1_after = _number(before, "macro_f1"), _number(after, "macro_f1")
        if f1_before is None or f1_after is None:
            continue
        n = _number(after, "n")
        lines.append(f"Adapted with your own labelled units: {task} macro-F1 on them {f1_before:.2f} trained on the --data "
                     f"training set alone, {f1_after:.2f} after adding them ({f'{int(n):,} units, ' if n is not None else ''}"
                     "cross-validated with folds grouped by article).")
    return lines


def _validation_model(model_info: Mapping[str, Any] | None, validation: Mapping[str, Any]) -> str | None:
    """``None`` when the validation is of the report's model (same ``model_sha256``); else the clause that says whose it is."""
    own = validation.get("model")
    sha = own.get("sha256") if isinstance(own, Mapping) else None
    mine = model_info.get("model_sha256") if isinstance(model_info, Mapping) else None
    if isinstance(sha, str) and sha and sha == mine:
        return None
    if not isinstance(sha, str) or not sha:
        return ("these are figures of a model the validation file does not name (its key did not record one), "
                "not necessarily of the model used for this report")
    path = own.get("path") if isinstance(own, Mapping) else None
    name = f"{path}, sha256 {sha[:12]}" if isinstance(path, str) and path else f"sha256 {sha[:12]}"
    if not isinstance(mine, str) or not mine:
        return f"these are figures of the model {name}; this report cannot tell whether that is the model used for it"
    return f"these are figures of another model ({name}), not of the model used for this report"


def quality_summary(model_info: Mapping[str, Any] | None, validation: Mapping[str, Any] | None) -> list[str]:
    """Plain sentences on how far the scores can be trusted: the model's measured quality and the user's own.

    The model's figures come from ``model_info["metrics"]`` (the metrics saved in the model's
    ``model.json``: ``stance_news_dev``, ``sentiment_news_dev``, ``stance_news_dev_actor_means``);
    the user's from a ``validation.json`` written by ``stance validate``. A missing or
    non-numeric figure leaves its sentence (or part) out; nothing here raises. The sentences
    use no Markdown, so report.md and report.html show them alike. The validation file's own
    notes (its ``warnings``, such as units drawn as the most uncertain) follow, at most three.

    The validation sentence says plainly when the validation is not of the report's model:
    when its ``model.sha256`` differs from ``model_info["model_sha256"]`` (for example the
    packaged model was validated, then adapted with ``stance train --add``), it names the
    other model; when the validation file names no model, it says so.

    Parameters
    ----------
    model_info : mapping or None
        What ``stance report`` knows of the model; its ``metrics`` and ``model_sha256`` are read here.
    validation : mapping or None
        The parsed validation file (``n_units``, ``model``, ``stance`` and ``sentiment`` with
        ``macro_f1``, ``per_class``, ``krippendorff_alpha``, ``cohen_kappa``).

    Returns
    -------
    list of str

    Examples
    --------
    >>> info = {"metrics": {"stance_news_dev": {"macro_f1": 0.648, "n": 2638, "per_class": {"negative": {"f1": 0.576}}}}}
    >>> quality_summary(info, None)[0]
    'Stance model, measured on the held-out news development split (2,638 units): macro-F1 0.65; F1 per class: negative 0.58.'
    >>> own = {"n_units": 120, "model": {"path": "m", "sha256": "ab" * 32}, "stance": {"macro_f1": 0.5, "cohen_kappa": 0.41}}
    >>> quality_summary({"model_sha256": "ab" * 32}, own)[-1]
    "On your own labelled units (validation file, 120 units): stance macro-F1 0.50; agreement with your labels: Cohen's kappa 0.41."
    >>> quality_summary({"model_sha256": "cd" * 32}, own)[-1]
    "On your own labelled units (validation file, 120 units), but these are figures of another model (m, sha256 abababababab), not of the model used for this report: stance macro-F1 0.50; agreement with your labels: Cohen's kappa 0.41."
    """
    metrics = model_info.get("metrics") if isinstance(model_info, Mapping) else None
    metrics = metrics if isinstance(metrics, Mapping) else {}
    lines: list[str] = []
    stance = metrics.get("stance_news_dev")
    if (f1 := _number(stance, "macro_f1")) is not None:
        lines.append(f"Stance model, measured on the held-out news development split{_units(_number(stance, 'n'))}: "
                     f"macro-F1 {f1:.2f}{_per_class_f1(stance)}.")
    sentiment = metrics.get("sentiment_news_dev")
    if (f1 := _number(sentiment, "macro_f1")) is not None:
        lines.append(f"Sentiment model on the same split{_units(_number(sentiment, 'n'))}: macro-F1 {f1:.2f}{_per_class_f1(sentiment)}.")
    means = metrics.get("stance_news_dev_actor_means")
    error, r = _number(means, "mean_abs_error"), _number(means, "pearson_r")
    if error is not None or r is not None:
        actors, least = _number(means, "actors"), _number(means, "min_units")
        who = f" ({int(actors)} actors" + (f" with at least {int(least)} units" if least is not None else "") + ")" if actors is not None else ""
        figures = ([f"mean absolute error {error:.2f}"] if error is not None else []) + ([f"Pearson r {r:.2f}"] if r is not None else [])
        lines.append(f"Mean stance per actor on that split{who}: {', '.join(figures)} against the labels.")
    if lines:
        lines.append("These figures hold for news like the development data; on other outlets, topics or years "
                     "the quality can be lower, so check the scores on a labelled sample of your own corpus.")
    else:
        lines.append("The model file holds no measured quality figures.")
    lines += _user_cv_lines(metrics)
    if not isinstance(validation, Mapping):
        lines.append("No validation of your own was given: label a sample of your units, run stance validate and pass "
                     "its validation.json to stance report --validation to state the quality on your corpus.")
        return lines
    own = validation.get("stance")
    parts = []
    if (f1 := _number(own, "macro_f1")) is not None:
        parts.append(f"stance macro-F1 {f1:.2f}{_per_class_f1(own)}")
    agreement = [f"{name} {value:.2f}" for name, key in (("Krippendorff's alpha", "krippendorff_alpha"), ("Cohen's kappa", "cohen_kappa"))
                 if (value := _number(own, key)) is not None]
    if agreement:
        parts.append(f"agreement with your labels: {', '.join(agreement)}")
    if (f1 := _number(validation, "sentiment", "macro_f1")) is not None:
        parts.append(f"sentiment macro-F1 {f1:.2f}")
    if parts:
        n = _number(validation, "n_units")
        count = f", {int(n):,} units" if n is not None else ""
        other = _validation_model(model_info, validation)
        lines.append(f"On your own labelled units (validation file{count}){f', but {other}' if other else ''}: "
                     f"{'; '.join(parts)}.")
    else:
        lines.append("The validation file holds no figures this report knows.")
    notes = validation.get("warnings")
    if isinstance(notes, (list, tuple)):
        lines += [f"Validation note: {note}" for note in notes[:3] if isinstance(note, str) and note]
    return lines


_IMPLAUSIBLE_RE = re.compile(r"(?:^|; )implausible date \d{4}-\d{2}-\d{2}:")


def implausible_articles(articles: pd.DataFrame) -> frozenset[str]:
    """The ids of the articles whose date was flagged implausible (from the ``warnings`` column).

    Their units are counted in the ``implausible`` row of ``by_date.csv`` and left off the
    timeline; ``articles.csv`` and ``mentions.csv`` keep the date as written.

    Examples
    --------
    >>> articles = pd.DataFrame({"article_id": ["a", "b"], "warnings": [
    ...     "implausible date 2031-01-01: the other articles of f.txt are dated 2025-10-01 to 2025-10-03", ""]})
    >>> sorted(implausible_articles(articles))
    ['a']
    """
    if "warnings" not in articles or not len(articles):
        return frozenset()
    flagged = articles["warnings"].fillna("").astype(str).str.contains(_IMPLAUSIBLE_RE)
    return frozenset(articles.loc[flagged, "article_id"].astype(str))


def render_markdown(result: CorpusResult, tables: dict[str, pd.DataFrame], config: ReportConfig, freq: str,
                    model_info: dict[str, Any], *, validation: Mapping[str, Any] | None = None) -> str:
    """The text of ``report.md``: summary, model quality, warnings, plots, top actors and evidence.

    Text from the input (ids, titles, actor names, sentences) is escaped
    (:func:`escape_markdown`); repeated warnings are summarised (:func:`summarise_warnings`);
    the model quality comes from :func:`quality_summary`.
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
        f"tone of the sentence. Intervals: 95% seeded bootstrap over articles ({config.bootstrap_samples:,} resamples, each "
        "drawing the group's articles with replacement, since the units of one article are not independent); a group "
        "whose units all come from one article has no interval. "
        f"Groups with fewer than {config.min_group_units} units or {config.min_group_articles} articles are marked small "
        "(column small_group) and drawn hollow and faded in the plots: compare them with care. "
        f"Plots leave out actors with fewer than {config.min_mentions} units; the tables keep them. "
        "In the CSV files a text cell that starts with =, +, -, @, a tab or a carriage return has a leading ' so "
        "that spreadsheets do not run it as a formula.",
    ]
    if model_info:
        lines += ["", f"Model: {escape_markdown(model_info.get('path', 'default'))} (stance "
                      f"{escape_markdown(model_info.get('version', '?'))}, trained on {escape_markdown(model_info.get('rows', '?'))} units)."]
    lines += ["", "## Model quality", ""]
    lines += [f"- {escape_markdown(sentence)}" for sentence in quality_summary(model_info, validation)]
    lines += ["", "## Warnings", ""]
    lines += summarise_warnings(result)
    lines += ["", "## Plots", ""]
    for name, caption in (("actor_overview", "Mean stance per actor"), ("timeline", f"Stance over time (per {freq})"),
                          ("heatmap", "Actor × article"), ("stance_vs_sentiment", "Stance vs. sentiment")):
        lines += [f"### {caption}", "", f"![{caption}]({name}.png)", ""]
    lines += ["## Top actors", "", "| actor | units | articles | mean stance | 95% interval | negative | neutral | positive | "
              "mean sentiment | small group |", "|---|---:|---:|---:|---|---:|---:|---:|---:|---|"]
    for row in by_actor.head(10).itertuples():
        lines.append(
            f"| {escape_markdown(getattr(row, 'actor_name', row.actor))} | {row.units} | {row.articles} | {_fmt(row.mean_stance)} | "
            f"{_fmt(row.ci_low)} … {_fmt(row.ci_high)} | {row.share_negative:.0%} | {row.share_neutral:.0%} | "
            f"{row.share_positive:.0%} | {_fmt(row.mean_sentiment)} | {_small_mark(row)} |"
        )
    tops = top_actors(mentions, config.top_actors, config.min_mentions) if len(mentions) else []
    lines += _period_table(by_date[by_date["actor"].isin(tops)], freq)
    lines += ["", "## Evidence", "", "For each top actor, the most negative sentences among the units predicted negative and "
              "the most positive among those predicted positive (by stance score).", ""]
    for actor in tops:
        rows = mentions[mentions["actor"] == actor]
        name = rows["actor_name"].iloc[0] if "actor_name" in rows else actor
        lines += [f"### {escape_markdown(name)}", ""]
        for label, chosen in evidence(rows, config.evidence_per_actor):
            if chosen.empty:
                lines.append(f"- {label}: no unit of this actor is predicted {label.split()[-1]}")
            for r in chosen.itertuples():
                sentence = escape_markdown(textwrap.shorten(str(r.sentence), 400, placeholder=" …"))
                lines.append(f"- {label} ({r.stance}, {r.stance_score:+.2f}; {escape_markdown(r.article_id)}): {sentence}")
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def evidence(units: pd.DataFrame, per_label: int) -> list[tuple[str, pd.DataFrame]]:
    """The evidence sentences of one actor: ``[("most negative", rows), ("most positive", rows)]``.

    "Most negative" sentences are drawn only from the units predicted ``negative`` (lowest
    stance score first), "most positive" only from those predicted ``positive`` (highest
    first); ties by article id and sentence. A list may be empty: the actor has no unit of that class.

    Examples
    --------
    >>> units = pd.DataFrame({"stance": ["neutral", "negative", "positive"], "stance_score": [-0.6, -0.4, 0.2],
    ...                       "article_id": ["a", "a", "b"], "sentence_index": [0, 1, 0]})
    >>> [(label, list(rows["stance_score"])) for label, rows in evidence(units, 2)]
    [('most negative', [-0.4]), ('most positive', [0.2])]
    """
    order = ["stance_score", "article_id", "sentence_index"]
    negative = units[units["stance"] == "negative"].sort_values(order, kind="stable")
    positive = units[units["stance"] == "positive"].sort_values(order, ascending=[False, True, True], kind="stable")
    return [("most negative", negative.head(per_label)), ("most positive", positive.head(per_label))]


def _small_mark(row: Any) -> str:
    """``yes`` for a row flagged ``small_group`` (a CSV read back has it as text), else empty."""
    return "yes" if str(getattr(row, "small_group", False)).lower() in ("true", "1") else ""


def _period_table(by_date: pd.DataFrame, freq: str) -> list[str]:
    """The per-period table of the top actors, at most :data:`PERIOD_ROWS` rows (by_date.csv has all)."""
    lines = ["", f"## Per {freq}", ""]
    if len(by_date) > PERIOD_ROWS:
        lines += [f"The first {PERIOD_ROWS} of {len(by_date)} rows; by_date.csv has them all.", ""]
    if by_date["period"].eq(IMPLAUSIBLE).any():
        lines += [f"Period {IMPLAUSIBLE}: articles whose date was flagged implausible (see Warnings); they are not on the timeline.", ""]
    lines += ["| period | actor | units | articles | mean stance | 95% interval | rolling mean | small group |",
              "|---|---|---:|---:|---:|---|---:|---|"]
    for row in by_date.head(PERIOD_ROWS).itertuples():
        lines.append(f"| {escape_markdown(row.period)} | {escape_markdown(row.actor)} | {row.units} | {row.articles} | "
                     f"{_fmt(row.mean_stance)} | {_fmt(row.ci_low)} … {_fmt(row.ci_high)} | {_fmt(row.rolling_mean_stance)} | "
                     f"{_small_mark(row)} |")
    return lines
