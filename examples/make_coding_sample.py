"""Rebuild ``examples/coding_sample.csv`` (+ ``coding_sample.key.jsonl``): a coded sheet for the README walkthrough.

Step 1 draws 60 units from the bundled sample corpus exactly as a user would::

    stance sample <bundled sample corpus folder> --n 60 --seed 1 --out examples/coding_sample.csv

Step 2 fills the ``stance`` and ``sentiment`` cells from the project's gold labels of the
sample corpus, ``training/data/sample_gold.jsonl`` (labelled by reading each unit in its
article, per ``training/ANNOTATION.md``). A sheet row and a gold unit match when article id
(``doc_id``), actor, sentence text and the target's offsets in the sentence are equal. No
model, lexicon or rule writes a label: a row without a gold match stays empty (uncoded).

Run from the repository root: ``python examples/make_coding_sample.py``.
"""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHEET = ROOT / "examples" / "coding_sample.csv"
GOLD = ROOT / "training" / "data" / "sample_gold.jsonl"


def draw() -> None:
    """Step 1: ``stance sample`` on the bundled sample corpus (replaces the sheet and key)."""
    from stance.cli import main
    from stance.resources import sample_corpus_dir

    code = main(["sample", str(sample_corpus_dir()), "--n", "60", "--seed", "1", "--out", str(SHEET), "--jobs", "1",
                 "--force"])
    if code:
        raise SystemExit(code)
    from stance.io import lock_path

    lock_path(SHEET).unlink(missing_ok=True)  # the (empty) lock file `stance sample` leaves beside its output


def fill() -> tuple[int, int]:
    """Step 2: copy the gold labels into the sheet; return (rows filled, rows left uncoded)."""
    from stance.coding import read_coding_sheet

    gold = {}
    for line in GOLD.read_text(encoding="utf-8").splitlines():
        unit = json.loads(line)
        gold[(unit["doc_id"], unit["actor"], unit["sentence"], unit["start"], unit["end"])] = unit
    units = {u.unit_id: u for u in read_coding_sheet(SHEET)}
    with SHEET.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))
    header, body = rows[0], rows[1:]
    col = {name: header.index(name) for name in ("unit_id", "stance", "sentiment")}
    filled = 0
    for row in body:
        u = units[row[col["unit_id"]]]
        match = gold.get((u.article_id, u.actor, u.sentence, u.start, u.end))
        if match is not None and match.get("stance") and match.get("sentiment"):
            row[col["stance"]], row[col["sentiment"]] = match["stance"], match["sentiment"]
            filled += 1
    with SHEET.open("w", encoding="utf-8-sig", newline="") as handle:
        csv.writer(handle, lineterminator="\r\n").writerows([header, *body])
    return filled, len(body) - filled


if __name__ == "__main__":
    draw()
    done, left = fill()
    print(f"{SHEET.relative_to(ROOT)}: {done} rows filled from {GOLD.relative_to(ROOT)}, {left} left uncoded", file=sys.stderr)
