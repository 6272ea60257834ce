"""report.html: escaping, self-containment, caps for big corpora, and a check in headless Chromium."""

from __future__ import annotations

import json
import re
import time
from collections import defaultdict
from html.parser import HTMLParser

import numpy as np
import pandas as pd
import pytest
from headless_chromium import Chromium, find_chromium

from stance.config import ReportConfig
from stance.html_report import EMBEDDED_ROWS, PAGE_ROWS, TABLES, inline_svg, markdown_list, render_html, sample_rows
from stance.pipeline import ARTICLE_COLUMNS, CorpusResult
from stance.records import Skipped
from stance.report import REPORT_FILES, write_report

HOSTILE_NAME = '<img src=x onerror="window.pwned=1">'
HOSTILE_TITLE = "</script><script>window.pwned=2</script>"
HOSTILE_ID = "a\x1b]2;PWNED\x07\"'><svg onload=window.pwned=3>"


def make_result(n_articles: int = 30, units: int = 6, n_actors: int = 8, seed: int = 5, hostile: bool = True) -> CorpusResult:
    """A small corpus result shaped like the pipeline's, with hostile text in ids, titles, names and sentences."""
    rng = np.random.default_rng(seed)
    n = n_articles * units
    article = np.repeat(np.arange(n_articles), units)
    days = (pd.Timestamp("2025-10-01") + pd.to_timedelta(rng.integers(0, 20, n_articles), unit="D")).strftime("%Y-%m-%d")
    proba = rng.dirichlet(np.ones(3), n)
    label = np.array(["negative", "neutral", "positive"])[proba.argmax(1)]
    actors = [f"actor{i}" for i in range(n_actors)]
    actor = np.array(actors)[rng.integers(0, n_actors, n)]
    names = {a: f"Name {a}" for a in actors}
    ids = [f"art{i}" for i in range(n_articles)]
    titles = [f"Titel {i}" for i in range(n_articles)]
    if hostile:
        names["actor0"], ids[0], titles[1] = HOSTILE_NAME, HOSTILE_ID, HOSTILE_TITLE
    targets = [names[a].split()[-1] if not names[a].startswith("<") else "Zielperson" for a in actor]
    sentences = [f"Am Montag sagte {t} in Berlin <b>etwas</b> & mehr." for t in targets]
    starts = [s.index(t) for s, t in zip(sentences, targets)]
    mentions = pd.DataFrame({
        "article_id": [ids[i] for i in article], "source": [f"quelle{i % 4}.txt" for i in article],
        "title": [titles[i] for i in article], "date": [None if i == 2 else days[i] for i in article],
        "sentence_index": np.tile(np.arange(units), n_articles), "actor": actor, "actor_name": [names[a] for a in actor],
        "surface": targets, "kind": "name", "start": starts, "end": [s + len(t) for s, t in zip(starts, targets)],
        "stance": label, "stance_score": proba[:, 2] - proba[:, 0], "p_negative": proba[:, 0], "p_neutral": proba[:, 1],
        "p_positive": proba[:, 2], "sentiment": label, "sentiment_score": proba[:, 2] - proba[:, 0], "sentence": sentences,
    })
    articles = pd.DataFrame([dict.fromkeys(ARTICLE_COLUMNS) | {"article_id": a, "source": f"quelle{i % 4}.txt", "status": "ok",
                                                              "date": None if i == 2 else days[i], "units": units}
                             for i, a in enumerate(ids)])
    warnings = (f"{ids[0]}: implausible date 2026-10-21: {HOSTILE_TITLE}",) if hostile else ()
    skipped = (Skipped("x.jsonl", f"invalid JSON {HOSTILE_NAME}", "line 3"),) if hostile else ()
    return CorpusResult(mentions, articles, skipped=skipped, warnings=warnings)


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    """A report written by write_report (plots included) on the hostile corpus: (folder, html text, result)."""
    out = tmp_path_factory.mktemp("html") / "report"
    result = make_result()
    write_report(result, out, config=ReportConfig(min_mentions=2, bootstrap_samples=50),
                 model_info={"path": HOSTILE_NAME, "version": "1", "rows": 3})
    return out, (out / "report.html").read_text(encoding="utf-8"), result


ALLOWED_TAGS = {"html", "head", "meta", "title", "style", "body", "header", "h1", "h2", "h3", "h4", "nav", "a", "main", "section",
                "div", "b", "span", "p", "ul", "li", "strong", "code", "figure", "figcaption", "form", "label", "select", "option",
                "input", "button", "noscript", "script", "article", "small", "q", "mark",
                # matplotlib's SVG
                "svg", "defs", "g", "path", "use", "clippath", "clipPath", "text", "image", "rect", "polyline", "line",
                "circle", "ellipse", "polygon", "lineargradient", "stop", "pattern"}


class StartTags(HTMLParser):
    """Every element and attribute name in a page."""

    def __init__(self) -> None:
        super().__init__()
        self.names: set[str] = set()
        self.attributes: set[str] = set()
        self.values: defaultdict[str, set[str]] = defaultdict(set)

    def handle_starttag(self, tag, attrs):
        self.names.add(tag)
        self.attributes |= {name for name, _ in attrs}
        for name, value in attrs:
            self.values[name].add(value or "")


def data_blobs(text: str) -> dict[str, dict]:
    return {m.group(1): json.loads(m.group(2))
            for m in re.finditer(r'<script type="application/json" id="data-([\w.]+)">(.*?)</script>', text, re.DOTALL)}


def cells(blob: dict, name: str) -> set:
    i = [c["name"] for c in blob["columns"]].index(name)
    return {row[i] for row in blob["rows"]}


def test_html_report_written_with_the_report(report):
    out, text, _ = report
    assert "report.html" in REPORT_FILES and text.startswith("<!DOCTYPE html>")
    for section in ("summary", "warnings", "plots", "tables", "evidence"):
        assert f'<section id="{section}">' in text
    assert text.count("<figure") == 4 and text.count("<svg") == 4
    assert set(data_blobs(text)) == {spec.file.removesuffix(".csv") for spec in TABLES}


def test_html_report_escapes_hostile_text(report):
    _, text, result = report
    assert text.count("<script") == len(TABLES) + 1  # the JSON blobs and the page's own script, nothing from the input
    tags = StartTags()
    tags.feed(text)
    assert tags.names <= ALLOWED_TAGS, tags.names - ALLOWED_TAGS
    assert not [name for name in tags.attributes if name.startswith("on") or name in ("src", "action", "formaction")]
    assert "\x1b" not in text and "\x07" not in text
    assert "&lt;img src=x onerror=&quot;window.pwned=1&quot;&gt;" in text  # shown as text (evidence heading, filter)
    assert "&lt;/script&gt;&lt;script&gt;" in text  # the warning, as text
    blobs = data_blobs(text)  # the JSON parses back to the input text (control characters shown as escapes)
    assert HOSTILE_TITLE in cells(blobs["by_article"], "title")
    assert HOSTILE_NAME in cells(blobs["by_actor"], "actor_name")
    assert "a\\x1b]2;PWNED\\x07\"'><svg onload=window.pwned=3>" in cells(blobs["mentions"], "article_id")


def test_html_report_is_self_contained(report):
    _, text, _ = report
    assert "http://" not in text and "https://" not in text
    tags = StartTags()
    tags.feed(text)
    assert "src" not in tags.attributes and "action" not in tags.attributes
    links = tags.values["href"] | tags.values["xlink:href"]  # within the page (nav, SVG <use>) and the heatmap's inline PNG
    assert links and all(link.startswith(("#", "data:image/png;base64,")) for link in links)
    assert all(url.startswith("#") for url in re.findall(r"url\(([^)]*)\)", text))
    assert "Content-Security-Policy" in text and "default-src 'none'" in text


def test_html_report_evidence_marks_the_target(report):
    _, text, result = report
    assert "<mark>Zielperson</mark>" in text and "&lt;b&gt;etwas&lt;/b&gt; &amp; mehr." in text
    assert re.search(r'<span class="score (neg|pos|neu)">[+-]\d\.\d\d</span>', text)


def test_html_report_evidence_comes_from_the_predicted_class():
    """'most positive' lists only units predicted positive; an actor without one says so (as report.md does)."""
    result = make_result(n_articles=6, units=4, n_actors=1, hostile=False)
    mentions = result.mentions.copy()
    mentions["stance"] = ["negative" if score < 0 else "neutral" for score in mentions["stance_score"]]
    text = render_html(CorpusResult(mentions, result.articles), {"mentions.csv": mentions}, ReportConfig(), "day", {})
    evidence = text[text.index('<article class="evidence">'):]
    assert "No unit of this actor is predicted positive." in evidence
    shown = [float(v) for v in re.findall(r'<span class="score \w+">([+-]\d\.\d\d)</span>', evidence)]
    assert shown and all(v < 0 for v in shown)


def test_html_report_same_text_twice(report):
    _, text, result = report
    tables = {"mentions.csv": result.mentions}
    assert render_html(result, tables, ReportConfig(), "day", {}) == render_html(result, tables, ReportConfig(), "day", {})


def test_html_report_caps_100000_mentions():
    result = make_result(n_articles=10_000, units=10, n_actors=60, hostile=False)
    mentions = result.mentions
    by_actor = mentions.groupby("actor", as_index=False).agg(actor_name=("actor_name", "first"), units=("stance", "size"))
    start = time.perf_counter()
    text = render_html(result, {"mentions.csv": mentions, "by_actor.csv": by_actor, "by_article.csv": mentions}, ReportConfig(),
                       "day", {})
    seconds = time.perf_counter() - start
    blobs = data_blobs(text)
    assert len(mentions) == 100_000 and len(blobs["mentions"]["rows"]) <= EMBEDDED_ROWS
    assert blobs["mentions"]["total"] == 100_000 and f"{len(blobs['mentions']['rows']):,} of 100,000 rows" in text
    embedded_actors = cells(blobs["mentions"], "actor")
    assert embedded_actors == set(mentions["actor"])  # the actor filter finds every actor
    assert len(text.encode("utf-8")) < 10_000_000 and seconds < 10


def test_sample_rows_spreads_over_actors():
    frame = pd.DataFrame({"actor": ["a"] * 100 + ["b"] * 3 + ["c"] * 10, "n": range(113)})
    chosen = sample_rows(frame, 20)
    assert len(chosen) <= 20 and chosen["actor"].value_counts().to_dict() == {"a": 8, "c": 8, "b": 3}
    assert chosen["n"].is_monotonic_increasing and sample_rows(frame, 500) is frame


def test_inline_svg_strips_prolog_and_prefixes_ids():
    svg = ('<?xml version="1.0"?>\n<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" "http://www.w3.org/x.dtd">\n'
           '<svg xmlns:xlink="http://www.w3.org/1999/xlink" width="10pt" height="5pt" viewBox="0 0 10 5" '
           'xmlns="http://www.w3.org/2000/svg" version="1.1"><metadata><rdf:RDF xmlns:dc="http://purl.org/dc"/></metadata>'
           '<!-- Putin <script> --><defs><path id="m1" d="M0 0"/><clipPath id="p2"/></defs>'
           '<use xlink:href="#m1"/><g clip-path="url(#p2)"/></svg>\n')
    out = inline_svg(svg, "timeline", "<Zeit>")
    assert out.startswith('<svg viewBox="0 0 10 5" role="img" aria-label="&lt;Zeit&gt;">') and "http" not in out
    assert 'id="timeline-m1"' in out and 'href="#timeline-m1"' in out and "url(#timeline-p2)" in out
    assert "<!--" not in out and "<script" not in out


def test_markdown_list_renders_the_warnings_shape():
    lines = ["2 in 1 kind(s); see `articles.csv`.", "", r"- **kind \<x\>** (2)", r"  - a\*b", "  - c", "- **other** (1)"]
    assert markdown_list(lines) == (
        "<p>2 in 1 kind(s); see <code>articles.csv</code>.</p>\n<ul>\n<li><strong>kind &lt;x&gt;</strong> (2)\n<ul>\n"
        "<li>a*b\n</li>\n<li>c\n</li></ul>\n</li>\n<li><strong>other</strong> (1)\n</li></ul>")


# --- in a real browser -------------------------------------------------------------------------------------------

needs_chromium = pytest.mark.skipif(find_chromium() is None, reason="no Chromium found (apt-get install chromium; .ci/run "
                                                                     "installs it when apt is available)")

VISIBLE_COLUMN = """((table, column) => {
  const root = document.querySelector(`.data-table[data-source="data-${table}"]`);
  const names = [...root.querySelectorAll("thead th")].map((th) => th.textContent);
  const i = names.indexOf(column);
  return [...root.querySelectorAll("tbody tr")].map((tr) => tr.cells[i].textContent);
})"""


def column(browser: Chromium, table: str, name: str) -> list[str]:
    return browser.evaluate(f"{VISIBLE_COLUMN}({json.dumps(table)}, {json.dumps(name)})")


def status(browser: Chromium, table: str) -> str:
    return browser.evaluate(f'document.querySelector(`.data-table[data-source="data-{table}"] .status`).textContent')


def set_filter(browser: Chromium, element: str, value: str) -> None:
    browser.evaluate(f"(() => {{ const e = document.getElementById({json.dumps(element)}); e.value = {json.dumps(value)};"
                     " e.dispatchEvent(new Event('change')); })()")


@needs_chromium
def test_html_report_in_headless_chromium(report, tmp_path):
    out, text, result = report
    with Chromium() as browser:
        browser.open(out / "report.html")
        assert browser.errors == []
        assert browser.evaluate("window.pwned === undefined && document.querySelectorAll('img, main script').length === 0")
        assert HOSTILE_NAME in browser.evaluate("document.body.textContent")  # shown as text
        assert browser.evaluate("document.querySelectorAll('#plots svg').length") == 4

        # sorting: click the "units" header of the per-actor table, then again
        click = ("document.querySelector('.data-table[data-source=\"data-by_actor\"] th:nth-child({})"
                 " button').click()")
        names = browser.evaluate("[...document.querySelectorAll('.data-table[data-source=\"data-by_actor\"] th')]"
                                 ".map((th) => th.textContent)")
        units_at = names.index("units") + 1
        browser.evaluate(click.format(units_at))
        ascending = [int(v.replace(",", "")) for v in column(browser, "by_actor", "units")]
        assert ascending == sorted(ascending) and len(set(ascending)) > 1
        browser.evaluate(click.format(units_at))
        descending = [int(v.replace(",", "")) for v in column(browser, "by_actor", "units")]
        assert descending == sorted(ascending, reverse=True)
        expected = result.mentions.groupby("actor").size().sort_values(ascending=False).tolist()
        assert descending == expected[:PAGE_ROWS]
        # text sort: per-source table by source
        browser.evaluate("document.querySelector('.data-table[data-source=\"data-by_source\"] th button').click()")
        sources = column(browser, "by_source", "source")
        assert sources == sorted(sources)

        # the actor filter: only that actor's rows, in every table that has the column
        set_filter(browser, "filter-actor", "actor3")
        actors = column(browser, "mentions", "actor")
        n = int((result.mentions["actor"] == "actor3").sum())
        assert set(actors) == {"actor3"} and len(actors) == min(n, PAGE_ROWS)
        assert f"of {n} (filtered from {len(result.mentions)})" in status(browser, "mentions")
        assert set(column(browser, "by_article", "actor")) == {"actor3"}
        assert column(browser, "by_actor", "actor") == ["actor3"]

        # source and date filters on top
        set_filter(browser, "filter-source", "quelle1")
        assert set(column(browser, "mentions", "source")) == {"quelle1.txt"}
        day = result.mentions["date"].dropna().iloc[0]
        set_filter(browser, "filter-source", "")
        set_filter(browser, "filter-actor", "")
        set_filter(browser, "filter-from", day)
        set_filter(browser, "filter-to", day)
        assert set(column(browser, "mentions", "date")) == {day}
        assert set(column(browser, "by_date", "period")) == {day}

        # paging
        browser.evaluate("document.getElementById('filter-reset').click()")
        browser.evaluate("new Promise((done) => setTimeout(done, 50))")
        assert status(browser, "mentions").startswith(f"rows 1–{PAGE_ROWS} of {len(result.mentions)},")
        browser.evaluate("[...document.querySelectorAll('.data-table[data-source=\"data-mentions\"] .pager button')]"
                         ".find((b) => b.textContent.startsWith('next')).click()")
        assert status(browser, "mentions").startswith(f"rows {PAGE_ROWS + 1}–{2 * PAGE_ROWS} of")
        sentence = browser.evaluate("document.querySelector('.data-table[data-source=\"data-mentions\"] tbody mark').textContent")
        assert sentence in set(result.mentions["surface"])

        shot = browser.screenshot(tmp_path / "report_html.png", max_height=2000)
        assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 20_000
        assert browser.errors == []
