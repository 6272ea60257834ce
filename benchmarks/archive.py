"""Archive benchmark: `stance report` on a 20,000-article synthetic archive, and reading time
against corpus size.

    python benchmarks/archive.py --out benchmarks/RESULTS.md

1. **Report on an archive**: a synthetic archive of 20,000 articles (varied sentences built
   from templates, registry actors, random numbers, 40 outlets, dates over two years; 5% are
   agency copies of an earlier article under another outlet, so the duplicate handling is
   exercised) is written as JSONL; ``stance report --jobs 1`` runs on it as a fresh command.
   Measured: wall time, peak memory (high-water mark of the command; one job, so one
   process), the pixel size of every PNG written, and the size of ``report.md`` and ``report.html``.
2. **Reading scales linearly**: ``iter_corpus`` over 10,000 and 50,000 articles of the same
   generator (one JSONL file each), median of 3 rounds in one process; the ratio of the
   medians (linear reading gives about 5x).

The block between ``<!-- archive:begin -->`` and ``<!-- archive:end -->`` in the output file
is replaced; the rest of the file is kept.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import resource
import statistics
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
BEGIN, END = "<!-- archive:begin -->", "<!-- archive:end -->"

ACTORS = ["Putin", "Trump", "Selenskyj", "Merz", "Macron", "Orbán", "Lawrow", "Rubio", "Scholz", "Biden",
          "Xi Jinping", "Erdoğan", "Meloni", "Witkoff", "Peskow", "Vance", "Starmer", "Tusk"]
VERBS = ["kritisierte", "lobte", "warnte", "traf", "verurteilte", "unterstützte", "dankte", "beschuldigte",
         "empfing", "ignorierte", "verteidigte", "bedrohte", "begrüßte", "widersprach"]
OBJECTS = ["die Regierung", "den Plan", "die Sanktionen", "das Abkommen", "die Waffenruhe", "die NATO",
           "den Gipfel", "die Verhandlungen", "die Opposition", "die Zölle", "den Haushalt", "die Hilfen"]
PLACES = ["in Berlin", "in Moskau", "in Kiew", "in Washington", "in Brüssel", "in Paris", "in Budapest",
          "am Rande des Gipfels", "im Parlament", "vor Journalisten"]
SPEAKERS = ["Beobachter", "Experten", "Diplomaten", "Kritiker", "Analysten", "Abgeordnete", "Sprecher",
            "Regierungskreise", "Insider", "Ökonomen"]
ADJECTIVES = ["scharf", "heftig", "ausdrücklich", "überraschend", "erneut", "deutlich", "vorsichtig",
              "öffentlich", "mehrfach", "entschieden"]


def sentence(rng: random.Random) -> str:
    a, b = rng.sample(ACTORS, 2)
    kind = rng.randrange(4)
    if kind == 0:
        return (f"{a} {rng.choice(VERBS)} {b} {rng.choice(ADJECTIVES)} {rng.choice(PLACES)} wegen "
                f"{rng.choice(OBJECTS)}, sagten {rng.choice(SPEAKERS)}.")
    if kind == 1:
        return (f"Nach Angaben von {rng.choice(SPEAKERS)} sollen {rng.randint(2, 99_999)} Menschen von "
                f"{rng.choice(OBJECTS)} betroffen sein, {a} schwieg dazu.")
    if kind == 2:
        return (f"Die Kosten für {rng.choice(OBJECTS)} stiegen um {rng.randint(1, 90)},{rng.randint(0, 9)} "
                f"Prozent, was {a} als {rng.choice(['Erfolg', 'Fehler', 'Skandal', 'Chance'])} bezeichnete.")
    return (f"{rng.choice(SPEAKERS)} erwarten, dass {a} und {b} {rng.choice(PLACES)} über "
            f"{rng.choice(OBJECTS)} sprechen, ein Termin steht seit dem {rng.randint(1, 28)}. Mai fest.")


def write_archive(path: Path, articles: int, seed: int = 20_000) -> int:
    """Write ``articles`` synthetic JSONL articles (5% agency copies); return the number of words."""
    rng = random.Random(seed)
    start = dt.date(2024, 1, 1)
    written: list[str] = []
    words = 0
    with path.open("w", encoding="utf-8") as out:
        for i in range(articles):
            if written and rng.random() < 0.05:
                text = rng.choice(written)
            else:
                text = " ".join(sentence(rng) for _ in range(rng.randint(4, 12)))
                written.append(text)
                if len(written) > 500:
                    written.pop(0)
            words += len(text.split())
            row = {"id": f"a{i:06d}", "source": f"outlet{rng.randrange(40):02d}",
                   "date": (start + dt.timedelta(days=rng.randrange(730))).isoformat(),
                   "title": f"Meldung {i}: {rng.choice(ACTORS)} und {rng.choice(OBJECTS)}", "text": text}
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
    return words


def png_size(path: Path) -> tuple[int, int]:
    """Width and height of a PNG from its IHDR chunk."""
    with path.open("rb") as handle:
        header = handle.read(24)
    width, height = struct.unpack(">II", header[16:24])
    return width, height


def report_run(folder: Path, articles: int) -> dict:
    corpus = folder / "archive.jsonl"
    words = write_archive(corpus, articles)
    out = folder / "report"
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    started = time.perf_counter()
    done = subprocess.run(["stance", "report", str(corpus), "--out", str(out), "--jobs", "1", "-q"],
                          capture_output=True, text=True)
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    if done.returncode != 0:
        raise SystemExit(f"stance report failed ({done.returncode}): {done.stderr[-2000:]}")
    plots = {p.name: png_size(p) for p in sorted(out.glob("*.png"))}
    return {"articles": articles, "words": words, "seconds": round(seconds, 1),
            "peak_mb": round(max(peak, before) / 1024), "plots": plots,
            "report_md_kb": round((out / "report.md").stat().st_size / 1024, 1),
            "report_html_kb": round((out / "report.html").stat().st_size / 1024, 1)}


def reading_run(folder: Path, sizes: tuple[int, int], rounds: int) -> dict:
    from stance.articles import iter_corpus

    times: dict[int, list[float]] = {}
    for size in sizes:
        path = folder / f"read_{size}.jsonl"
        write_archive(path, size, seed=size)
        times[size] = []
        for _ in range(rounds):
            started = time.perf_counter()
            count = sum(1 for _ in iter_corpus(path))
            times[size].append(time.perf_counter() - started)
        assert count >= size  # every row is accounted for
    small, large = sizes
    medians = {size: statistics.median(values) for size, values in times.items()}
    return {"sizes": list(sizes), "medians": {str(k): round(v, 2) for k, v in medians.items()},
            "rounds": {str(k): [round(x, 2) for x in v] for k, v in times.items()},
            "ratio": round(medians[large] / medians[small], 2)}


def render(report: dict, reading: dict) -> str:
    largest = max(max(size) for size in report["plots"].values())
    plots = ", ".join(f"{name} {w}x{h}" for name, (w, h) in report["plots"].items())
    small, large = reading["sizes"]
    return "\n".join([
        BEGIN,
        "Command: `python benchmarks/archive.py --out benchmarks/RESULTS.md` (run from the project root).",
        "",
        f"**`stance report` on a {report['articles']:,}-article synthetic archive** ({report['words']:,} words, "
        f"one job): {report['seconds']} s, peak memory {report['peak_mb']:,} MiB (target < 2,048), largest plot side "
        f"{largest} px (target < 4,000), `report.md` {report['report_md_kb']} KiB (target < 200), "
        f"`report.html` {report['report_html_kb']:,} KiB.",
        "",
        f"Plots: {plots}.",
        "",
        f"**Reading** (`iter_corpus`, medians of {len(reading['rounds'][str(small)])} rounds): {small:,} articles {reading['medians'][str(small)]} s, "
        f"{large:,} articles {reading['medians'][str(large)]} s: **{reading['ratio']}x** for 5x the articles "
        f"(target at most 5.5x). Rounds: {reading['rounds']}.",
        END,
    ])


def write_block(path: Path, block: str) -> None:
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    if BEGIN in text and END in text:
        text = text[:text.index(BEGIN)] + block + text[text.index(END) + len(END):]
    else:
        text = text.rstrip("\n") + "\n\n## Archive scale\n\n" + block + "\n"
    path.write_text(text, encoding="utf-8")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=20_000, help="archive size for the report run")
    parser.add_argument("--read-sizes", type=int, nargs=2, default=[10_000, 50_000], help="two corpus sizes to read")
    parser.add_argument("--rounds", type=int, default=3, help="rounds per reading size")
    parser.add_argument("--out", type=Path, help="results file to update (default: print only)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="stance-archive-") as tmp:
        report = report_run(Path(tmp), args.articles)
        reading = reading_run(Path(tmp), tuple(args.read_sizes), args.rounds)
    block = render(report, reading)
    print(block)
    if args.out:
        write_block(args.out, block)
    return 0


if __name__ == "__main__":
    sys.exit(main())
