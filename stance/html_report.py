"""``report.html``: the report as one self-contained web page.

The page holds the summary, the model line, the warnings, the four plots (inline SVG), the
tables (sortable by clicking a column header, filterable by actor, source and date, paged)
and the evidence sentences of the top actors with the target highlighted. It loads nothing:
no external URL, no CDN, no font; a Content-Security-Policy allows only its own script (by
hash) and forbids every other load.

Text from the input never becomes markup or code: in the HTML it is escaped
(:func:`html.escape`, control characters shown as escapes by :func:`stance.io.escape_control`),
the tables travel as JSON inside ``<script type="application/json">`` with ``<``, ``>`` and
``&`` written as ``\\u003c`` and so on, and the script puts cell text in with ``textContent``.

The page stays small and fast for big corpora: each table embeds at most
:data:`EMBEDDED_ROWS` rows (spread over the actors, so the actor filter finds every actor;
the page says so and the CSV files have all rows), the browser shows :data:`PAGE_ROWS` rows
per page, and the evidence lists ``ReportConfig.evidence_per_actor`` sentences per side.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from .aggregates import top_actors
from .config import ReportConfig
from .io import escape_control
from .records import CorpusResult
from .report import evidence, summarise_warnings

EMBEDDED_ROWS = 5_000  # rows per table embedded in report.html; the CSV files have them all
PAGE_ROWS = 25  # rows per page of a table in the browser
CONTEXT_CHARS = 200  # characters kept on each side of the target in a sentence of the mentions table
EVIDENCE_CONTEXT_CHARS = 600  # the same in the evidence lists
FLOAT_DIGITS = 4  # decimals of the numbers embedded in the tables
PLOT_CAPTIONS = (("actor_overview", "Mean stance per actor"), ("timeline", "Stance over time (per {freq})"),
                 ("heatmap", "Actor × article"), ("stance_vs_sentiment", "Stance vs. sentiment"))


@dataclass(frozen=True, slots=True)
class TableSpec:
    """One table of the page: the CSV it comes from and the columns the filters use."""

    file: str
    title: str
    columns: tuple[str, ...] | None = None  # None: every column of the CSV
    first: tuple[str, ...] = ()  # columns shown first (the rest follow in the CSV's order)
    date: str | None = None  # the column the date filter reads
    source: str | None = None  # the column the source filter reads


TABLES = (
    TableSpec("by_actor.csv", "Per actor"),
    TableSpec("by_source.csv", "Per source", source="source"),
    TableSpec("by_date.csv", "Per period", columns=("period", "actor", "units", "mean_stance", "ci_low", "ci_high",
                                                    "share_negative", "share_neutral", "share_positive", "mean_sentiment",
                                                    "rolling_mean_stance"), date="period"),
    TableSpec("by_article.csv", "Per article", first=("date", "actor", "units", "mean_stance", "ci_low", "ci_high", "title"),
              date="date", source="source"),
    TableSpec("mentions.csv", "Mentions (scored sentence × actor units)",
              columns=("date", "actor", "stance", "stance_score", "sentence", "surface", "sentiment", "sentiment_score",
                       "source", "article_id", "sentence_index"), date="date", source="source"),
)


def h(value: object) -> str:
    """Input text as HTML text or attribute value: control characters shown as escapes, markup escaped.

    Examples
    --------
    >>> h('<script>alert("x")</script>\\x1b[31m')
    '&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;\\\\x1b[31m'
    """
    return html.escape(escape_control(value), quote=True)


_INLINE_RE = re.compile(r"\\(.)|\*\*|`", re.DOTALL)


def markdown_inline(text: str) -> str:
    r"""One line of the report's own Markdown (as :func:`stance.report.summarise_warnings` writes it) as HTML.

    Only what that Markdown uses is understood: ``\x`` escapes (:func:`stance.report.escape_markdown`),
    ``**bold**`` and ```code```; everything else is escaped text.

    Examples
    --------
    >>> markdown_inline(r"- **kind** \<b\> `status` \*x\*")
    '- <strong>kind</strong> &lt;b&gt; <code>status</code> *x*'
    """
    out: list[str] = []
    open_tags: list[str] = []
    pos = 0
    for match in _INLINE_RE.finditer(text):
        out.append(html.escape(text[pos:match.start()]))
        pos = match.end()
        if match.group(1) is not None:
            out.append(html.escape(match.group(1)))
            continue
        tag = "strong" if match.group() == "**" else "code"
        if tag in open_tags:
            while open_tags:
                last = open_tags.pop()
                out.append(f"</{last}>")
                if last == tag:
                    break
        else:
            open_tags.append(tag)
            out.append(f"<{tag}>")
    out.append(html.escape(text[pos:]))
    out += [f"</{tag}>" for tag in reversed(open_tags)]
    return "".join(out)


def markdown_list(lines: Sequence[str]) -> str:
    """Paragraphs and a two-level ``- `` list (the shape of the Warnings section of report.md) as HTML."""
    parts: list[str] = []
    depth = 0
    for line in lines:
        level = 2 if line.startswith("  - ") else 1 if line.startswith("- ") else 0
        if level > depth:
            parts += ["<ul>"] * (level - depth)
        elif level < depth:
            parts += ["</li></ul>"] * (depth - level)
            if level:
                parts.append("</li>")
        elif level:
            parts.append("</li>")
        depth = level
        if level:
            parts.append(f"<li>{markdown_inline(line.lstrip()[2:])}")
        elif line.strip():
            parts.append(f"<p>{markdown_inline(line)}</p>")
    parts += ["</li></ul>"] * depth
    return "\n".join(parts)


_SVG_HEAD_RE = re.compile(r"\A.*?(?=<svg\b)", re.DOTALL)
_SVG_DROP_RE = re.compile(r"<!--.*?-->|<metadata>.*?</metadata>\s*", re.DOTALL)
_SVG_ROOT_RE = re.compile(r"<svg\b[^>]*>")
_SVG_ID_RE = re.compile(r'\bid="([^"]*)"')
_SVG_REF_RE = re.compile(r'(url\(#|href="#)([^")]*)')
_SVG_ROOT_ATTR_RE = re.compile(r'\s(?:xmlns(?::\w+)?|width|height|version)="[^"]*"')


def inline_svg(svg: str, prefix: str, label: str) -> str:
    """An SVG file as an element for an HTML page.

    The XML prolog, doctype, comments and metadata go; the namespace declarations, width
    and height of the root go too (the HTML parser knows SVG; CSS sizes it from its
    ``viewBox``); every ``id`` and ``#`` reference gets ``prefix``, so several plots on one
    page do not share ids. ``label`` becomes the accessible name (escaped).
    """
    body = _SVG_DROP_RE.sub("", _SVG_HEAD_RE.sub("", svg, count=1))
    root = _SVG_ROOT_RE.search(body)
    if root is None:
        return ""
    start = _SVG_ROOT_ATTR_RE.sub("", root.group())[:-1] + f' role="img" aria-label="{h(label)}">'
    body = body[:root.start()] + start + body[root.end():]
    body = _SVG_ID_RE.sub(lambda m: f'id="{prefix}-{m.group(1)}"', body)
    return _SVG_REF_RE.sub(lambda m: f"{m.group(1)}{prefix}-{m.group(2)}", body).strip()


def sample_rows(frame: pd.DataFrame, limit: int, by: str = "actor") -> pd.DataFrame:
    """At most ``limit`` rows of ``frame`` in their order, spread over the values of ``by``.

    Each value of ``by`` keeps its first ``k`` rows, ``k`` as large as the limit allows, so
    a filter on ``by`` finds rows of every value (while there are fewer values than ``limit``).

    Examples
    --------
    >>> frame = pd.DataFrame({"actor": ["a"] * 8 + ["b"] * 2, "n": range(10)})
    >>> sample_rows(frame, 6)["n"].tolist()
    [0, 1, 2, 3, 8, 9]
    """
    if len(frame) <= limit:
        return frame
    if by not in frame.columns:
        return frame.head(limit)
    rank = frame.groupby(by, sort=False).cumcount().to_numpy()
    counts = frame[by].value_counts().to_numpy()
    low, high = 0, int(counts.max())  # the largest k with sum(min(count, k)) <= limit
    while low < high:
        mid = (low + high + 1) // 2
        if int(pd.Series(counts).clip(upper=mid).sum()) <= limit:
            low = mid
        else:
            high = mid - 1
    if low == 0:
        return frame.head(limit)
    return frame[rank < low]


def _text(value: object) -> str:
    return "" if value is None or (isinstance(value, float) and value != value) else str(value)


def _marked(sentence: object, surface: object, start: object = None, end: object = None, *,
            context: int = CONTEXT_CHARS) -> list[str]:
    """A sentence as ``[before, target, after]`` (control characters escaped, long context cut).

    ``start``/``end`` are used when they point at ``surface`` in the sentence; otherwise (in
    the mentions table they are offsets into the article text) the first occurrence of
    ``surface`` is the target; without one nothing is marked.

    Examples
    --------
    >>> _marked("Heute lobte Merz den Plan.", "Merz", 120, 124)
    ['Heute lobte ', 'Merz', ' den Plan.']
    """
    text, target = _text(sentence), _text(surface)
    try:
        first, last = int(start), int(end)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        first = last = -1
    if not (0 <= first < last <= len(text) and text[first:last] == target):
        first = text.find(target) if target else -1
        last = first + len(target)
    if first < 0:
        first = last = len(text)
    before, target, after = text[:first], text[first:last], text[last:]
    if len(before) > context:
        before = "…" + before[-context:]
    if len(after) > context:
        after = after[:context] + "…"
    return [escape_control(before), escape_control(target), escape_control(after)]


def _json_for_script(text: str) -> str:
    """JSON text that can stand inside ``<script type="application/json">``: no ``<``, ``>`` or ``&``."""
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def table_json(frame: pd.DataFrame, spec: TableSpec, limit: int = EMBEDDED_ROWS) -> tuple[str, int]:
    """The embedded form of a table (JSON text for a script element) and the number of rows embedded."""
    order = [*spec.first, *(spec.columns or tuple(frame.columns))]
    columns = [c for c in dict.fromkeys(order) if c in frame.columns]
    shown = sample_rows(frame, limit)
    data: dict[str, Any] = {}
    kinds = []
    for name in columns:
        column = shown[name]
        if pd.api.types.is_bool_dtype(column) or not pd.api.types.is_numeric_dtype(column):
            if name == "sentence" and "surface" in shown.columns:
                data[name] = [_marked(*row) for row in zip(column, shown["surface"])]
                kinds.append("marked")
                continue
            data[name] = [None if pd.isna(v) else escape_control(v) for v in column]
            kinds.append("text")
        else:
            kinds.append("int" if pd.api.types.is_integer_dtype(column) else "float")
            data[name] = column.round(FLOAT_DIGITS).to_numpy()
    body = pd.DataFrame(data, index=range(len(shown)), columns=columns)
    rows = body.to_json(orient="values", double_precision=FLOAT_DIGITS, force_ascii=False)
    head = json.dumps({"columns": [{"name": n, "type": k} for n, k in zip(columns, kinds)],
                       "actor": "actor" if "actor" in columns else None, "source": spec.source, "date": spec.date,
                       "total": len(frame)}, ensure_ascii=False)
    return _json_for_script(f'{head[:-1]},"rows":{rows}}}'), len(shown)


def _summary(result: CorpusResult, config: ReportConfig, model_info: Mapping[str, Any]) -> str:
    mentions, articles = result.mentions, result.articles
    status = articles["status"].value_counts()
    figures = [("articles analysed", int(status.get("ok", 0))), ("duplicates counted once", int(status.get("duplicate", 0))),
               ("inputs skipped", int(status.get("skipped", 0))), ("scored units", len(mentions)),
               ("actors", int(mentions["actor"].nunique()) if len(mentions) else 0)]
    cards = "".join(f'<div class="card"><b>{value:,}</b><span>{label}</span></div>' for label, value in figures)
    parts = [f'<div class="cards">{cards}</div>',
             "<p>Stance score = P(positive) − P(negative) toward the actor, in [−1, 1]; sentiment score likewise for the "
             f"tone of the sentence. Intervals: 95% seeded bootstrap that resamples articles (units cluster within articles; "
             f"{config.bootstrap_samples:,} resamples); "
             f"a group from one article has none. Groups with fewer than {config.min_group_units} units or "
             f"{config.min_group_articles} articles are flagged as small and drawn faded. Plots leave out actors "
             f"with fewer than {config.min_mentions} units; the tables keep them.</p>"]
    if model_info:
        parts.append(f"<p>Model: {h(model_info.get('path', 'default'))} (stance {h(model_info.get('version', '?'))}, "
                     f"trained on {h(model_info.get('rows', '?'))} units).</p>")
    return "\n".join(parts)


def _plots(plots: Mapping[str, str], freq: str) -> str:
    figures = []
    for name, caption in PLOT_CAPTIONS:
        if name in plots:
            text = caption.format(freq=freq)
            figures.append(f'<figure id="plot-{name}">{inline_svg(plots[name], name, text)}'
                           f"<figcaption>{h(text)}</figcaption></figure>")
    return "\n".join(figures) or "<p>No plots: no scored units.</p>"


def _filters(tables: Mapping[str, pd.DataFrame]) -> str:
    by_actor = tables.get("by_actor.csv", pd.DataFrame(columns=["actor"]))
    names = by_actor["actor_name"] if "actor_name" in by_actor else by_actor["actor"]
    pairs = sorted(zip(by_actor["actor"], names), key=lambda pair: (str(pair[1]).casefold(), str(pair[0])))
    options = "".join(f'<option value="{h(actor)}">{h(name)}{"" if name == actor else f" ({h(actor)})"}</option>'
                      for actor, name in pairs)
    return ('<form id="filters" class="filters" autocomplete="off">'
            f'<label>Actor <select id="filter-actor"><option value="">all actors</option>{options}</select></label>'
            '<label>Source contains <input id="filter-source" type="search" placeholder="any source"></label>'
            '<label>Date from <input id="filter-from" type="date"></label>'
            '<label>to <input id="filter-to" type="date"></label>'
            '<button type="reset" id="filter-reset">Reset</button></form>'
            '<p class="note">The filters apply to every table that has the column: actor to all, source to the '
            "per-source, per-article and mentions tables, date to the per-period, per-article and mentions tables "
            "(a month or week period matches when it overlaps the range; undated rows are left out while a date is "
            "set). Click a column header to sort (again to reverse).</p>")


def _tables(tables: Mapping[str, pd.DataFrame]) -> tuple[str, str]:
    """The table sections and their JSON script elements."""
    sections, scripts = [], []
    for number, spec in enumerate(TABLES):
        if spec.file not in tables:
            continue
        frame = tables[spec.file]
        payload, shown = table_json(frame, spec)
        key = spec.file.removesuffix(".csv")
        scripts.append(f'<script type="application/json" id="data-{key}">{payload}</script>')
        note = (f"{len(frame):,} rows; {spec.file} has the same rows." if shown == len(frame) else
                f"{shown:,} of {len(frame):,} rows are on this page (the first ones of each actor, in the order of "
                f"{spec.file}); {spec.file} has them all.")
        sections.append(f'<section class="table-section"><h3 id="table-{key}">{h(spec.title)}</h3><p class="note">{note}</p>'
                        f'<div class="data-table" data-source="data-{key}" data-page-rows="{PAGE_ROWS}" id="t{number}">'
                        "<noscript>The interactive table needs JavaScript; the CSV file has the rows.</noscript></div></section>")
    return "\n".join(sections), "\n".join(scripts)


def _evidence(mentions: pd.DataFrame, config: ReportConfig) -> str:
    tops = top_actors(mentions, config.top_actors, config.min_mentions) if len(mentions) else []
    if not tops:
        return f"<p>No actor has {config.min_mentions} or more units.</p>"
    n = config.evidence_per_actor
    parts = [f"<p>For each of the top {len(tops)} actors (most units) the {n} most negative sentences among the units "
             f"predicted negative and the {n} most positive among those predicted positive (by stance score), the target "
             "highlighted; the mentions table and mentions.csv have every unit.</p>"]
    for actor in tops:
        rows = mentions[mentions["actor"] == actor]
        name = rows["actor_name"].iloc[0] if "actor_name" in rows else actor
        parts.append(f'<article class="evidence"><h3>{h(name)} <small>{len(rows):,} units, mean stance '
                     f"{rows['stance_score'].mean():+.2f}</small></h3>")
        for label, chosen in evidence(rows, n):
            if not len(chosen):
                parts.append(f"<h4>{label}</h4><p class=\"note\">No unit of this actor is predicted {label.split()[-1]}.</p>")
                continue
            items = []
            for r in chosen.itertuples():
                before, target, after = (html.escape(part) for part in _marked(r.sentence, r.surface, r.start, r.end,
                                                                                      context=EVIDENCE_CONTEXT_CHARS))
                marked = f"{before}<mark>{target}</mark>{after}" if target else before + after
                tone = "neg" if r.stance_score < 0 else "pos" if r.stance_score > 0 else "neu"
                items.append(f'<li><span class="score {tone}">{r.stance_score:+.2f}</span> <span class="label">{h(r.stance)}</span> '
                             f"<q>{marked}</q> <span class=\"where\">{h(r.article_id)}"
                             f"{'' if pd.isna(r.date) else ', ' + h(r.date)}</span></li>")
            parts.append(f"<h4>{label}</h4><ul>{''.join(items)}</ul>")
        parts.append("</article>")
    return "\n".join(parts)


def render_html(result: CorpusResult, tables: Mapping[str, pd.DataFrame], config: ReportConfig, freq: str,
                model_info: Mapping[str, Any], *, plots: Mapping[str, str] | None = None,
                quality: Sequence[str] = ()) -> str:
    """The text of ``report.html``: summary, model quality, warnings, plots, tables and evidence.

    ``tables`` maps the CSV names (``by_actor.csv``, ..., ``mentions.csv``) to their frames;
    ``plots`` maps plot names (``timeline``, ...) to the text of their SVG files; ``quality``
    holds the model-quality sentences (plain text, :func:`stance.report.quality_summary`).
    The result is deterministic.
    """
    table_html, table_data = _tables(tables)
    sections = [
        ("summary", "Summary", _summary(result, config, model_info)),
        ("model", "Model quality", "\n".join(f"<p>{h(line)}</p>" for line in quality)) if quality else None,
        ("warnings", "Warnings", markdown_list(summarise_warnings(result))),
        ("plots", "Plots", _plots(plots or {}, freq)),
        ("tables", "Tables", _filters(tables) + table_html),
        ("evidence", "Evidence", _evidence(result.mentions, config)),
    ]
    present = [s for s in sections if s is not None]
    nav = "".join(f'<a href="#{key}">{title}</a>' for key, title, _ in present)
    body = "\n".join(f'<section id="{key}"><h2>{title}</h2>\n{content}\n</section>' for key, title, content in present)
    script_hash = base64.b64encode(hashlib.sha256(SCRIPT.encode("utf-8")).digest()).decode("ascii")
    policy = (f"default-src 'none'; script-src 'sha256-{script_hash}'; style-src 'unsafe-inline'; img-src data:; "
              "base-uri 'none'; form-action 'none'")
    return (f'<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            f'<meta http-equiv="Content-Security-Policy" content="{policy}">\n'
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n<meta name="color-scheme" content="light">\n'
            f"<title>Stance report</title>\n<style>{STYLE}</style>\n</head>\n<body>\n"
            f'<header><h1>Stance report</h1><nav>{nav}</nav></header>\n<main>\n{body}\n</main>\n'
            f"{table_data}\n<script>{SCRIPT}</script>\n</body>\n</html>\n")


STYLE = """
:root { color-scheme: light; --fg: #1d2430; --muted: #5b6575; --line: #dde2ea; --bg: #ffffff; --soft: #f5f7fa;
  --accent: #2458a6; --neg: #b3261e; --pos: #1e7b34; --mark: #ffe58a; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", "DejaVu Sans", sans-serif;
  color: var(--fg); background: var(--soft); }
header { background: var(--fg); color: #fff; padding: .8rem 1.5rem; display: flex; flex-wrap: wrap; align-items: baseline;
  gap: .5rem 2rem; position: sticky; top: 0; z-index: 2; }
header h1 { margin: 0; font-size: 1.3rem; }
header nav a { color: #cfe0ff; margin-right: 1rem; text-decoration: none; }
header nav a:hover { text-decoration: underline; }
main { max-width: 1200px; margin: 0 auto; padding: 1rem 1.5rem 3rem; }
section { background: var(--bg); border: 1px solid var(--line); border-radius: 8px; padding: .4rem 1.4rem 1.2rem;
  margin: 1.2rem 0; }
section section { border: 0; padding: 0; margin: 1.4rem 0 0; }
h2 { font-size: 1.25rem; border-bottom: 1px solid var(--line); padding-bottom: .3rem; }
h3 { font-size: 1.05rem; margin: 1.2rem 0 .3rem; }
h3 small { color: var(--muted); font-weight: normal; margin-left: .4rem; }
h4 { margin: .6rem 0 .2rem; font-size: .95rem; color: var(--muted); }
.note { color: var(--muted); font-size: .9rem; margin: .2rem 0 .6rem; }
.cards { display: flex; flex-wrap: wrap; gap: .8rem; margin: 1rem 0; }
.card { background: var(--soft); border: 1px solid var(--line); border-radius: 6px; padding: .5rem 1rem; min-width: 9rem; }
.card b { display: block; font-size: 1.4rem; }
.card span { color: var(--muted); font-size: .85rem; }
#warnings ul { padding-left: 1.3rem; margin: .3rem 0; }
#warnings li { margin: .15rem 0; overflow-wrap: anywhere; }
#warnings ul ul { color: var(--muted); font-size: .9rem; }
code { background: var(--soft); padding: 0 .25rem; border-radius: 3px; font-size: .9em; }
figure { margin: 1rem 0 1.6rem; }
figure svg { display: block; width: 100%; height: auto; max-height: 80vh; }
figcaption { text-align: center; color: var(--muted); font-size: .9rem; }
.filters { display: flex; flex-wrap: wrap; gap: .6rem 1.2rem; align-items: end; background: var(--soft);
  border: 1px solid var(--line); border-radius: 6px; padding: .6rem .8rem; position: sticky; top: 3.2rem; z-index: 1; }
.filters label { display: flex; flex-direction: column; font-size: .8rem; color: var(--muted); }
.filters select, .filters input, .filters button { font: inherit; font-size: .9rem; padding: .25rem .4rem;
  border: 1px solid #b9c1cd; border-radius: 4px; background: #fff; color: var(--fg); }
.filters select { max-width: 18rem; }
.table-wrap { overflow-x: auto; border: 1px solid var(--line); border-radius: 6px; }
table { border-collapse: collapse; width: 100%; font-size: .85rem; }
th, td { padding: .3rem .55rem; border-bottom: 1px solid var(--line); text-align: left; vertical-align: top; white-space: nowrap; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.long { min-width: 32rem; max-width: 48rem; white-space: normal; }
tbody tr:nth-child(even) { background: #fafbfc; }
tbody tr:hover { background: #eef3fb; }
th { background: var(--soft); position: sticky; top: 0; }
th button { all: unset; cursor: pointer; font-weight: 600; white-space: nowrap; }
th button:focus-visible { outline: 2px solid var(--accent); }
th[aria-sort=ascending] button::after { content: " ▲"; color: var(--accent); }
th[aria-sort=descending] button::after { content: " ▼"; color: var(--accent); }
.pager { display: flex; gap: .5rem; align-items: center; margin: .4rem 0; font-size: .85rem; color: var(--muted); }
.pager button { font: inherit; padding: .1rem .6rem; border: 1px solid #b9c1cd; border-radius: 4px; background: #fff;
  cursor: pointer; }
.pager button:disabled { opacity: .4; cursor: default; }
mark { background: var(--mark); padding: 0 .1rem; border-radius: 2px; }
.evidence ul { list-style: none; padding: 0; margin: 0; }
.evidence li { margin: .35rem 0; padding: .35rem .6rem; background: var(--soft); border-radius: 4px; }
.evidence q { quotes: "„" "“"; }
.score { display: inline-block; min-width: 3.3rem; text-align: center; font-weight: 600; border-radius: 3px; color: #fff;
  font-variant-numeric: tabular-nums; }
.score.neg { background: var(--neg); } .score.pos { background: var(--pos); } .score.neu { background: var(--muted); }
.label, .where { color: var(--muted); font-size: .85rem; }
.where { display: block; overflow-wrap: anywhere; }
"""

SCRIPT = """
(() => {
  "use strict";
  const collator = new Intl.Collator("de", {numeric: true, sensitivity: "base"});
  const filters = {actor: "", source: "", from: "", to: ""};
  const tables = [];
  const text = (v) => (v === null || v === undefined) ? "" : Array.isArray(v) ? v.join("") : String(v);
  const el = (tag, props) => Object.assign(document.createElement(tag), props || {});

  function inDateRange(value) {
    if (!filters.from && !filters.to) return true;
    if (typeof value !== "string" || !/^[0-9]{4}/.test(value)) return false;
    const cut = (a, b) => { const n = Math.min(a.length, b.length); return [a.slice(0, n), b.slice(0, n)]; };
    if (filters.from) { const [a, b] = cut(value, filters.from); if (a < b) return false; }
    if (filters.to) { const [a, b] = cut(value, filters.to); if (a > b) return false; }
    return true;
  }

  function format(value, column) {
    if (value === null || value === undefined) return "–";
    if (column.type === "float") {
      if (column.name.startsWith("share_")) return Math.round(100 * value) + "%";
      return (value > 0 ? "+" : "") + value.toFixed(3);
    }
    if (column.type === "int") return value.toLocaleString("en");
    return text(value);
  }

  class Table {
    constructor(root) {
      const spec = JSON.parse(document.getElementById(root.dataset.source).textContent);
      Object.assign(this, {root, spec, rows: spec.rows, view: spec.rows, page: 0, sortColumn: -1, sortDirection: 1,
                           pageRows: Number(root.dataset.pageRows) || 25});
      const index = (name) => name ? spec.columns.findIndex((c) => c.name === name) : -1;
      this.actorIndex = index(spec.actor);
      this.sourceIndex = index(spec.source);
      this.dateIndex = index(spec.date);
      const table = el("table");
      const head = table.createTHead().insertRow();
      this.headers = spec.columns.map((column, i) => {
        const th = el("th", {scope: "col", className: column.type === "int" || column.type === "float" ? "num" : ""});
        const button = el("button", {type: "button", textContent: column.name, title: "sort by " + column.name});
        button.addEventListener("click", () => this.sortBy(i));
        th.append(button);
        head.append(th);
        return th;
      });
      this.body = table.createTBody();
      const wrap = el("div", {className: "table-wrap"});
      wrap.append(table);
      this.status = el("span", {className: "status"});
      const button = (label, move) => {
        const b = el("button", {type: "button", textContent: label});
        b.addEventListener("click", () => { this.page = move(this.page, this.pages()); this.render(); });
        return b;
      };
      this.buttons = [button("« first", () => 0), button("‹ previous", (p) => Math.max(0, p - 1)),
                      button("next ›", (p, n) => Math.min(n - 1, p + 1)), button("last »", (p, n) => n - 1)];
      const pager = el("div", {className: "pager"});
      pager.append(...this.buttons, this.status);
      root.replaceChildren(wrap, pager);
      this.update();
    }

    pages() { return Math.max(1, Math.ceil(this.view.length / this.pageRows)); }

    sortBy(i) {
      this.sortDirection = this.sortColumn === i ? -this.sortDirection : 1;
      this.sortColumn = i;
      this.headers.forEach((th, j) => {
        if (j === i) th.setAttribute("aria-sort", this.sortDirection > 0 ? "ascending" : "descending");
        else th.removeAttribute("aria-sort");
      });
      this.update();
    }

    update() {
      const {actorIndex: a, sourceIndex: s, dateIndex: d} = this;
      const source = filters.source.toLocaleLowerCase();
      this.view = this.rows.filter((row) =>
        (a < 0 || !filters.actor || row[a] === filters.actor) &&
        (s < 0 || !source || text(row[s]).toLocaleLowerCase().includes(source)) &&
        (d < 0 || inDateRange(row[d])));
      const c = this.sortColumn;
      if (c >= 0) {
        const numeric = ["int", "float"].includes(this.spec.columns[c].type);
        const dir = this.sortDirection;
        this.view = this.view.slice().sort((x, y) => {
          const p = x[c], q = y[c];
          if (p === null || p === undefined) return (q === null || q === undefined) ? 0 : 1;
          if (q === null || q === undefined) return -1;
          return dir * (numeric ? p - q : collator.compare(text(p), text(q)));
        });
      }
      this.page = 0;
      this.render();
    }

    render() {
      const start = this.page * this.pageRows;
      const rows = this.view.slice(start, start + this.pageRows).map((row) => {
        const tr = el("tr");
        this.spec.columns.forEach((column, i) => {
          const td = tr.insertCell();
          const value = row[i];
          if (column.type === "marked" && Array.isArray(value)) {
            td.className = "long";
            td.append(value[0]);
            if (value[1]) td.append(el("mark", {textContent: value[1]}));
            td.append(value[2]);
          } else {
            td.textContent = format(value, column);
            if (column.type === "int" || column.type === "float") td.className = "num";
            else if (column.name === "title") td.className = "long";
          }
        });
        return tr;
      });
      this.body.replaceChildren(...rows);
      const total = this.view.length;
      const filtered = total === this.rows.length ? "" : ` (filtered from ${this.rows.length.toLocaleString("en")})`;
      this.status.textContent = total ? `rows ${(start + 1).toLocaleString("en")}–${(start + rows.length).toLocaleString("en")} ` +
        `of ${total.toLocaleString("en")}${filtered}, page ${this.page + 1} of ${this.pages()}` : `no rows${filtered}`;
      const last = this.page >= this.pages() - 1;
      [this.page === 0, this.page === 0, last, last].forEach((off, i) => { this.buttons[i].disabled = off; });
    }
  }

  const inputs = {actor: "filter-actor", source: "filter-source", from: "filter-from", to: "filter-to"};
  const refresh = () => {
    for (const [key, id] of Object.entries(inputs)) filters[key] = document.getElementById(id).value.trim();
    tables.forEach((t) => t.update());
  };
  for (const id of Object.values(inputs)) {
    const input = document.getElementById(id);
    if (input) { input.addEventListener("input", refresh); input.addEventListener("change", refresh); }
  }
  const form = document.getElementById("filters");
  if (form) {
    form.addEventListener("submit", (event) => event.preventDefault());
    form.addEventListener("reset", () => setTimeout(refresh, 0));
  }
  document.querySelectorAll(".data-table").forEach((root) => tables.push(new Table(root)));
  window.stanceReport = {tables, filters, refresh};
})();
"""
