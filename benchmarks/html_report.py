"""Time ``render_html`` and measure ``report.html`` for a 100,000-mention corpus.

The committed sample's mentions (reports/sample/mentions.csv, real sentences) are repeated
under new article ids and dates until there are 100,000 units; the aggregates are computed
as ``stance report`` does (not timed), then the page is rendered (timed)::

    python benchmarks/html_report.py [UNITS]
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pandas as pd

from stance.aggregates import aggregate_by_actor, aggregate_by_article, aggregate_by_date, aggregate_by_source
from stance.config import ReportConfig
from stance.html_report import render_html
from stance.pipeline import CorpusResult

ROOT = Path(__file__).resolve().parents[1]


def main(units: int = 100_000) -> None:
    sample = pd.read_csv(ROOT / "reports" / "sample" / "mentions.csv", keep_default_na=False, na_values=[""])
    copies = -(-units // len(sample))
    parts = []
    for i in range(copies):
        part = sample.copy()
        part["article_id"] = part["article_id"] + f"~{i}"
        part["source"] = part["source"] + f"~{i % 200}"
        part["date"] = (pd.to_datetime(part["date"]) + pd.Timedelta(days=i % 365)).dt.strftime("%Y-%m-%d")
        parts.append(part)
    mentions = pd.concat(parts, ignore_index=True).head(units)
    articles = pd.DataFrame({"article_id": mentions["article_id"].unique(), "status": "ok", "date": "2025-10-20"})
    config = ReportConfig()
    start = time.perf_counter()
    tables = {"mentions.csv": mentions, "articles.csv": articles, "by_article.csv": aggregate_by_article(mentions, config),
              "by_date.csv": aggregate_by_date(mentions, "day", config), "by_actor.csv": aggregate_by_actor(mentions, config),
              "by_source.csv": aggregate_by_source(mentions, config)}
    aggregated = time.perf_counter() - start
    svgs = {p.stem: p.read_text(encoding="utf-8") for p in (ROOT / "reports" / "sample").glob("*.svg")}
    start = time.perf_counter()
    text = render_html(CorpusResult(mentions, articles), tables, config, "day", {}, plots=svgs)
    rendered = time.perf_counter() - start
    rows = ", ".join(f"{name} {len(frame):,}" for name, frame in tables.items())
    print(f"{len(mentions):,} mentions ({rows}); aggregates {aggregated:.1f} s (not part of render_html)")
    print(f"render_html: {rendered:.2f} s, report.html {len(text.encode('utf-8')) / 1e6:.1f} MB")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000)
