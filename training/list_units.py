"""List the (sentence, actor) units of a corpus for labelling.

Runs the project's own article reading, sentence splitting and mention detection and writes
one JSON line per unit, with the neighbouring sentences as context, plus one readable page
per article (or per batch of news-pool passages). The output carries no labels: people add
them by reading. It holds third-party text, so it belongs in a scratch folder, never in the
project.

    python -m training.list_units --out units.jsonl --articles-dir articles/        # sample corpus
    python -m training.list_units --pool ../shared/corpus/news_pool/pool.jsonl \\
        --out scratch/news_units.jsonl --articles-dir scratch/pages --batches 20     # news pool
"""

from __future__ import annotations

import argparse
import json
import random
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from stance.articles import articles_from_text, load_articles
from stance.dataset import read_external_corpus
from stance.mentions import ArticleMentions, iter_article_mentions
from stance.nlp import load_nlp
from stance.records import Article


def unit_id(doc_id: str, sentence_index: int, actor: str) -> str:
    """``seeds/002_326afa099a296fc4.txt#3``, 14, putin -> ``seeds-002-a03-s014-putin``;
    ``news/A0001``, 3, trump -> ``news-A0001-s003-trump``."""
    news = re.match(r"^news/(\w+)$", doc_id)
    if news:
        return f"news-{news.group(1)}-s{sentence_index:03d}-{actor}"
    match = re.match(r"^(\w+)/(\d+)_[0-9a-f]+\.txt#(\d+)$", doc_id)
    if not match:
        raise ValueError(f"unexpected doc_id {doc_id!r}")
    folder, number, article = match.groups()
    return f"{folder}-{number}-a{int(article):02d}-s{sentence_index:03d}-{actor}"


def pool_articles(pool: Path) -> tuple[list[Article], dict[str, dict[str, Any]]]:
    """Every pool passage read as the product reads a plain-text file (date line included)."""
    records = read_external_corpus(pool)
    articles = []
    for key, record in records.items():
        found = articles_from_text(record["text"], f"news/{key}")
        if len(found) != 1:
            raise ValueError(f"pool passage {key}: read as {len(found)} articles, expected 1")
        articles.append(_with_id(found[0], f"news/{key}", record))
    return articles, records


def _with_id(article: Article, new_id: str, record: dict[str, Any]) -> Article:
    from dataclasses import replace

    return replace(article, id=new_id, source=str(record.get("domain") or article.source), url=record.get("url"))


def unit_rows(items: Iterable[ArticleMentions]) -> list[dict[str, Any]]:
    """One row per detected unit, with the sentence, its neighbours and the mention offsets."""
    rows = []
    for item in items:
        sents = item.sentences
        for m in item.mentions:
            i = m.sentence_index
            rows.append({
                "id": unit_id(item.article.id, i, m.actor), "doc_id": item.article.id, "sentence_index": i,
                "date": item.article.date.isoformat() if item.article.date else None,
                "sentence": m.sentence, "actor": m.actor, "mention": m.surface,
                "start": m.target_span[0], "end": m.target_span[1], "kind": m.kind,
                "previous": sents[i - 1].text if i > 0 else None,
                "next": sents[i + 1].text if i + 1 < len(sents) else None,
            })
    rows.sort(key=lambda r: str(r["id"]))
    return rows


def article_page(item: ArticleMentions, header: str = "") -> list[str]:
    """A readable page: every sentence with its index, and the units found in it."""
    lines = [f"## {item.article.id}  date={item.article.date}  title={item.article.title}"]
    if header:
        lines.append(header)
    lines.append("")
    by_sentence: dict[int, list[str]] = {}
    for m in item.mentions:
        by_sentence.setdefault(m.sentence_index, []).append(
            f"{unit_id(item.article.id, m.sentence_index, m.actor)}  ({m.surface!r}, {m.kind})")
    for s in item.sentences:
        lines.append(f"[s{s.index:03d}] {s.text}")
        for unit in by_sentence.get(s.index, []):
            lines.append(f"      UNIT {unit}")
    return lines + [""]


def batches(items: Sequence[ArticleMentions], n: int, seed: int) -> list[list[ArticleMentions]]:
    """Shuffle passages (seeded) and deal them into ``n`` batches of about equal unit counts."""
    order = list(items)
    random.Random(seed).shuffle(order)
    groups: list[list[ArticleMentions]] = [[] for _ in range(n)]
    load = [0] * n
    for item in sorted(order, key=lambda it: -len(it.mentions)):
        k = min(range(n), key=lambda j: (load[j], len(groups[j])))
        groups[k].append(item)
        load[k] += len(item.mentions) + 1
    for group in groups:
        group.sort(key=lambda it: it.article.id)
    return groups


def main(argv: Sequence[str] | None = None) -> int:
    """Write the units (and readable pages) for the labelling pass."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--articles-dir", type=Path)
    parser.add_argument("--pool", type=Path, help="list the news pool (pool.jsonl) instead of the sample corpus")
    parser.add_argument("--batches", type=int, default=1, help="news pool: number of page batches for labellers")
    parser.add_argument("--seed", type=int, default=20261203)
    args = parser.parse_args(argv)
    if args.pool:
        articles, records = pool_articles(args.pool)
    else:
        articles, records = [a for a in load_articles().articles if a.duplicate_of is None], {}
    items = list(iter_article_mentions(articles, load_nlp()))
    rows = unit_rows(items)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with args.out.open("w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
    if args.articles_dir:
        args.articles_dir.mkdir(parents=True, exist_ok=True)
        if args.pool:
            for k, group in enumerate(batches(items, args.batches, args.seed), start=1):
                lines = [f"# Batch {k:02d}: {len(group)} passages, {sum(len(it.mentions) for it in group)} detected units", ""]
                for item in group:
                    record = records[item.article.id.removeprefix("news/")]
                    lines += article_page(item, f"outlet={record.get('domain')}  url={record.get('url')}")
                (args.articles_dir / f"batch_{k:02d}.md").write_text("\n".join(lines), encoding="utf-8")
        else:
            for item in items:
                name = item.article.id.replace("/", "_").replace("#", "_a")
                (args.articles_dir / f"{name}.md").write_text("\n".join(article_page(item)), encoding="utf-8")
    print(f"{len(rows)} units from {len(items)} articles -> {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
