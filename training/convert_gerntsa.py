"""Convert GerNTSA (CC BY 4.0, see training/DATA.md) into the project's record format.

Keeps every record and its label (target-level polarity = our ``stance``); GerNTSA has no
sentence ``sentiment``. The records hold labels by reference, not text: the GerNTSA id, the
sentence's offsets and SHA-256; training reads the sentence from GerNTSA itself
(``../shared/datasets/gerntsa/train.jsonl`` or ``--gerntsa PATH``). The target is mapped to a registry actor id when the target text is
an actor name, else ``actor`` is null. ``split`` is the fixed grouped development split
(:func:`stance.dataset.gerntsa_split`, by sentence, so no sentence is on both sides).

    python -m training.convert_gerntsa ../shared/datasets/gerntsa/train.jsonl training/data/gerntsa.jsonl
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from stance.dataset import gerntsa_split, sentence_sha256
from stance.io import write_jsonl
from stance.mentions import find_mentions


def target_actor(target: str) -> str | None:
    """The registry actor a GerNTSA target names, if it is exactly one actor's name."""
    found = find_mentions(target)
    if len(found) == 1 and found[0].start == 0 and found[0].end >= len(target.rstrip(".")):
        return found[0].actor
    return None


def convert(source: Path) -> list[dict[str, object]]:
    """Read GerNTSA JSONL and return records in the project format, sorted by id."""
    rows = []
    for number, line in enumerate(source.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        raw = json.loads(line)
        sentence, start, end = raw["sentence"], int(raw["start"]), int(raw["end"])
        if sentence[start:end] != raw["target"]:
            raise ValueError(f"{source}:{number}: target offsets do not match")
        digest = gerntsa_split(sentence)
        rows.append({
            "id": f"gerntsa-{raw['id']}", "doc_id": f"gerntsa/{raw['id']}", "source": "gerntsa",
            "corpus": "gerntsa", "ref": raw["id"], "sentence_start": 0, "sentence_end": len(sentence),
            "sentence_sha256": sentence_sha256(sentence), "actor": target_actor(raw["target"]), "mention": raw["target"],
            "start": start, "end": end, "stance": raw["polarity"], "sentiment": None, "split": digest,
        })
    return drop_conflicts(rows)


def drop_conflicts(rows: list[dict[str, object]]) -> list[dict[str, object]]:
    """Drop records whose id occurs more than once (the source has one id twice, with
    different labels for the same sentence and target: no reliable label); sort by id."""
    counts = Counter(r["id"] for r in rows)
    dropped = sorted(str(k) for k, v in counts.items() if v > 1)
    if dropped:
        print(f"dropped {sum(counts[k] for k in dropped)} records with a repeated id and conflicting labels: {dropped}")
    kept = [r for r in rows if counts[r["id"]] == 1]
    kept.sort(key=lambda r: str(r["id"]))
    return kept


def main(argv: Sequence[str] | None = None) -> int:
    """Convert and write the file; print counts."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", type=Path)
    parser.add_argument("out", type=Path)
    args = parser.parse_args(argv)
    rows = convert(args.source)
    write_jsonl(args.out, rows)
    counts = Counter((r["split"], r["stance"]) for r in rows)
    actors = Counter(r["actor"] for r in rows if r["actor"])
    print(f"{len(rows)} records -> {args.out}; by split and label: {dict(sorted(counts.items()))}; "
          f"{sum(actors.values())} targets are registry actors: {actors.most_common(10)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
