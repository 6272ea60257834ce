"""Build ``training/data/news.jsonl`` from the labellers' files: labels by reference, no text.

The news pool (``../shared/corpus/news_pool/pool.jsonl``) is third-party text that the project
never stores. Its units are listed again here with the product's own reading, sentence splitting
and mention detection (as ``python -m training.list_units --pool`` listed them for labelling), and
each labelled unit is written as a reference: passage id, url and outlet, the sentence's
character offsets in the passage and the SHA-256 of its text, the mention offsets in the
sentence, the actor, the labels and the note. ``stance.dataset.load_units`` joins the
references with the pool again at training time and checks every hash.

    python -m training.build_news --pool ../shared/corpus/news_pool/pool.jsonl \\
        --labels scratch/labels/*.jsonl --out training/data/news.jsonl

A label file holds one JSON object per unit: ``{"id": "news-A0004-s001-trump", "stance": ...,
"sentiment": ..., "note": ...}``; ``"actor_error": true`` for a detection that does not refer
to the actor; ``"added": true`` with the verbatim ``mention`` for a reference that detection
missed. Every detected unit must have exactly one record.
"""

from __future__ import annotations

import argparse
import json
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from stance.actors import load_actors
from stance.dataset import news_split, sentence_sha256
from stance.io import write_jsonl
from stance.mentions import iter_article_mentions
from stance.nlp import load_nlp
from stance.records import LABELS, Mention

from .list_units import pool_articles, unit_id

_ID_RE = re.compile(r"^news-(\w+)-s(\d{3})-([a-z0-9_]+)$")
_LABEL_FIELDS = {"id", "stance", "sentiment", "note", "actor_error", "added", "mention"}


@dataclass(frozen=True, slots=True)
class PoolSentence:
    """One sentence of a pool passage, located in the passage's raw text."""

    passage: str
    index: int
    text: str
    raw_start: int
    raw_end: int


@dataclass(frozen=True, slots=True)
class PoolUnits:
    """Every sentence and detected unit of the pool, as the product reads it."""

    sentences: dict[tuple[str, int], PoolSentence]
    detected: dict[str, Mention]
    records: dict[str, dict[str, Any]]
    labelled_as_detected: frozenset[str] = frozenset()


def read_pool_units(pool: Path) -> PoolUnits:
    """List the pool's sentences (with their offsets in the raw passage) and detected units."""
    articles, records = pool_articles(pool)
    sentences: dict[tuple[str, int], PoolSentence] = {}
    detected: dict[str, Mention] = {}
    for item in iter_article_mentions(articles, load_nlp()):
        passage = item.article.id.removeprefix("news/")
        raw = records[passage]["text"]
        cursor = 0
        for sentence in item.sentences:
            found = raw.find(sentence.text, cursor)
            if found < 0:
                raise ValueError(f"pool passage {passage}: sentence {sentence.index} is not verbatim in the passage")
            sentences[(passage, sentence.index)] = PoolSentence(passage, sentence.index, sentence.text, found, found + len(sentence.text))
            cursor = found + len(sentence.text)
        for mention in item.mentions:
            detected[unit_id(item.article.id, mention.sentence_index, mention.actor)] = mention
    return PoolUnits(sentences, detected, records)


def read_labels(paths: Iterable[Path]) -> list[tuple[str, dict[str, Any]]]:
    """``(where, record)`` for every label record of the given files."""
    rows = []
    for path in paths:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if line.strip():
                rows.append((f"{path}:{number}", json.loads(line)))
    return rows


def adjudicate(labels: Sequence[tuple[str, dict[str, Any]]], decisions: Sequence[tuple[str, dict[str, Any]]]) -> list[tuple[str, dict[str, Any]]]:
    """The labels with every unit that has an adjudicated record replaced by that record.

    Raises
    ------
    ValueError
        If a decision names a unit that has no first label.
    """
    decided = {str(r.get("id")): (where, r) for where, r in decisions}
    known = {str(r.get("id")) for _, r in labels}
    unknown = sorted(set(decided) - known)
    if unknown:
        raise ValueError(f"adjudicated units without a first label: {', '.join(unknown[:10])}")
    return [decided.get(str(r.get("id")), (where, r)) for where, r in labels]


def build_records(pool: PoolUnits, labels: Sequence[tuple[str, dict[str, Any]]], *, annotators: dict[str, str],
                  require_all: bool = True) -> list[dict[str, Any]]:
    """Reference records for every label; raises ValueError listing every problem."""
    registry = load_actors()
    pool = replace(pool, labelled_as_detected=frozenset(str(r.get("id")) for _, r in labels if r.get("added") is not True))
    problems: list[str] = []
    out: dict[str, dict[str, Any]] = {}
    sentiment_of: dict[tuple[str, int], str] = {}
    for where, label in labels:
        record = _reference_record(pool, where, label, registry, problems)
        if record is None:
            continue
        if record["id"] in out:
            problems.append(f"{where}: second record for {record['id']}")
            continue
        key = (record["ref"], int(_ID_RE.match(record["id"]).group(2)))  # type: ignore[union-attr]
        if record["sentiment"] is not None and sentiment_of.setdefault(key, record["sentiment"]) != record["sentiment"]:
            problems.append(f"{where}: sentiment differs from another unit of the same sentence")
        annotator = annotators.get(where.rsplit(":", 1)[0])
        if annotator:
            record["annotator"] = annotator
        out[record["id"]] = record
    if require_all:
        missing = sorted(set(pool.detected) - set(out))
        if missing:
            problems.append(f"{len(missing)} detected units have no label record, e.g. {', '.join(missing[:5])}")
    if problems:
        raise ValueError("\n".join(problems[:100]))
    return [out[k] for k in sorted(out)]


def _reference_record(pool: PoolUnits, where: str, label: dict[str, Any], registry: Any,
                      problems: list[str]) -> dict[str, Any] | None:
    uid = str(label.get("id", ""))
    match = _ID_RE.match(uid)
    if not match:
        problems.append(f"{where}: bad unit id {uid!r}")
        return None
    passage, index, actor = match.group(1), int(match.group(2)), match.group(3)
    extra = set(label) - _LABEL_FIELDS
    sentence = pool.sentences.get((passage, index))
    if extra or sentence is None or actor not in registry:
        problems.append(f"{where}: unknown fields {sorted(extra)}" if extra else
                        f"{where}: no sentence {index} in passage {passage}" if sentence is None else
                        f"{where}: unknown actor {actor!r}")
        return None
    added = label.get("added") is True
    if not added and uid not in pool.detected:
        if label.get("actor_error") is True:
            return None  # the detector no longer finds this wrong match: nothing to record
        problems.append(f"{where}: {uid} is not a detected unit (added?)")
        return None
    if added and uid in pool.detected:
        if uid in pool.labelled_as_detected:
            problems.append(f"{where}: {uid} is a detected unit, not an added one")
            return None
        added = False  # added by hand, and found by the detector since (registry extended): a detected unit now
    if added:
        mention = str(label.get("mention") or "")
        start = sentence.text.find(mention) if mention else -1
        if start < 0:
            problems.append(f"{where}: mention {mention!r} is not in the sentence")
            return None
        end, kind = start + len(mention), "added"
    else:
        detected = pool.detected[uid]
        (start, end), mention, kind = detected.target_span, detected.surface, detected.kind
    actor_error = label.get("actor_error") is True
    stance, sentiment = (None, None) if actor_error else (label.get("stance"), label.get("sentiment"))
    if not actor_error and (stance not in LABELS or sentiment not in LABELS):
        problems.append(f"{where}: stance/sentiment must be one of {', '.join(LABELS)}")
        return None
    source = pool.records[passage]
    record: dict[str, Any] = {
        "id": uid, "doc_id": f"news/{passage}", "source": "news", "corpus": "news_pool", "ref": passage,
        "url": source.get("url"), "outlet": source.get("domain"),
        "sentence_start": sentence.raw_start, "sentence_end": sentence.raw_end,
        "sentence_sha256": sentence_sha256(sentence.text), "split": news_split(str(source.get("domain"))),
        "actor": actor, "mention": mention, "start": start, "end": end, "kind": kind,
        "stance": stance, "sentiment": sentiment,
    }
    if added:
        record["added"] = True
    if actor_error:
        record["actor_error"] = True
    if label.get("note"):
        record["note"] = str(label["note"])
    return record


def main(argv: Sequence[str] | None = None) -> int:
    """Write news.jsonl and print its counts."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--pool", type=Path, default=Path("../shared/corpus/news_pool/pool.jsonl"))
    parser.add_argument("--labels", type=Path, nargs="+", required=True)
    parser.add_argument("--adjudicated", type=Path, nargs="*", default=[],
                        help="label files whose records replace the first labels of the same unit (adjudication)")
    parser.add_argument("--annotator-prefix", default="session-", help="annotator name = prefix + label file stem")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--partial", action="store_true", help="allow detected units without a label (for a subset)")
    args = parser.parse_args(argv)
    pool = read_pool_units(args.pool)
    labels = adjudicate(read_labels(args.labels), read_labels(args.adjudicated))
    annotators = {str(p): f"{args.annotator_prefix}{p.stem}" for p in args.labels}
    annotators.update({str(p): "maintainer (adjudication)" for p in args.adjudicated})
    records = build_records(pool, labels, annotators=annotators, require_all=not args.partial)
    write_jsonl(args.out, records)
    usable = [r for r in records if r["stance"] is not None]
    print(f"{len(records)} records ({len(usable)} labelled, {sum('actor_error' in r for r in records)} actor errors, "
          f"{sum('added' in r for r in records)} added) from {len({r['ref'] for r in usable})} passages and "
          f"{len({r['outlet'] for r in usable})} outlets -> {args.out}")
    print("split:", dict(Counter(r["split"] for r in usable)), " stance:", dict(Counter(r["stance"] for r in usable)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
