"""List the (sentence, actor) units of the sample corpus for labelling.

Runs the project's own article splitting and mention detection over every unique article
of the bundled sample corpus and writes one JSON line per unit, with the neighbouring
sentences as context. The output carries no labels: people add them by reading.

    python -m training.list_units --out units.jsonl --articles-dir articles/
"""

from __future__ import annotations

import argparse
import json
import re
from collections.abc import Sequence
from pathlib import Path

from stance.articles import load_articles
from stance.mentions import iter_article_mentions
from stance.nlp import load_nlp


def unit_id(doc_id: str, sentence_index: int, actor: str) -> str:
    """``seeds/002_326afa099a296fc4.txt#3``, 14, putin -> ``seeds-002-a03-s014-putin``."""
    match = re.match(r"^(\w+)/(\d+)_[0-9a-f]+\.txt#(\d+)$", doc_id)
    if not match:
        raise ValueError(f"unexpected sample doc_id {doc_id!r}")
    folder, number, article = match.groups()
    return f"{folder}-{number}-a{int(article):02d}-s{sentence_index:03d}-{actor}"


def main(argv: Sequence[str] | None = None) -> int:
    """Write the units (and one readable page per article) for the labelling pass."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--articles-dir", type=Path)
    args = parser.parse_args(argv)
    corpus = load_articles()
    unique = [a for a in corpus.articles if a.duplicate_of is None]
    rows = []
    for item in iter_article_mentions(unique, load_nlp()):
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
        if args.articles_dir:
            args.articles_dir.mkdir(parents=True, exist_ok=True)
            name = item.article.id.replace("/", "_").replace("#", "_a")
            lines = [f"# {item.article.id}  date={item.article.date}  title={item.article.title}", ""]
            by_sentence: dict[int, list[str]] = {}
            for m in item.mentions:
                by_sentence.setdefault(m.sentence_index, []).append(f"{m.actor} ({m.surface!r}, {m.kind})")
            for s in sents:
                lines.append(f"[s{s.index:03d}] {s.text}")
                if s.index in by_sentence:
                    lines.append(f"      UNITS: {'; '.join(by_sentence[s.index])}")
            (args.articles_dir / f"{name}.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    rows.sort(key=lambda r: str(r["id"]))
    with args.out.open("w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
    print(f"{len(rows)} units from {len(unique)} articles -> {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
