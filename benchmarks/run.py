"""Speed and memory benchmark of the full analysis at 1x, 10x and 100x the sample corpus.

    python benchmarks/run.py --sizes 1 10 100 --jobs 1 2 --out benchmarks/RESULTS.md

For each size a corpus of synthetic articles is built from the paragraphs of the sample
corpus: article k of copy c draws its paragraphs with a seeded RNG from the pool of all
sample paragraphs, so ids and texts differ and duplicate detection keeps them. Each run is
a fresh process (so peak RSS is that run's own): read + split + sentences + mentions + both
models + aggregates (no plots). A spaCy tokenizer-only pass over the same texts, in the same
process, gives the floor.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def build_corpus(folder: Path, copies: int, seed: int = 7) -> tuple[int, int]:
    """Write ``copies`` x 13 synthetic articles into ``folder``; return (articles, words)."""
    import stance

    corpus = stance.load_articles()
    paragraphs = [p for a in corpus.unique_articles for p in a.text.split("\n\n") if len(p.split()) > 3]
    sizes = [len(a.text.split("\n\n")) for a in corpus.unique_articles]
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    articles = words = 0
    for c in range(copies):
        lines = []
        for k, size in enumerate(sizes):
            day = 1 + (c * len(sizes) + k) % 28
            month = 1 + (c // 3) % 12
            body = rng.sample(paragraphs, k=min(size, len(paragraphs)))
            lines.append(f"Bench-Artikel {c}-{k} | Redaktion. {day:02d}.{month:02d}.2025.\n")
            lines.append("\n\n".join(body) + "\n\n")
            articles += 1
            words += sum(len(p.split()) for p in body)
        (folder / f"copy_{c:04d}.txt").write_text("".join(lines), encoding="utf-8")
    return articles, words


def child(folder: str, jobs: int) -> None:
    """Run one measurement in this (fresh) process and print JSON."""
    started = time.perf_counter()
    import stance
    from stance.aggregates import aggregate_by_actor, aggregate_by_article, aggregate_by_date
    from stance.articles import iter_corpus
    from stance.nlp import load_nlp
    from stance.records import Article

    analyzer = stance.load()
    load_nlp()
    setup = time.perf_counter() - started
    t0 = time.perf_counter()
    texts = [a.text for a in iter_corpus(folder) if isinstance(a, Article)]
    nlp = load_nlp()
    tokens = sum(len(doc) for doc in nlp.tokenizer.pipe(texts, batch_size=64))
    tokenizer_seconds = time.perf_counter() - t0
    words = sum(len(t.split()) for t in texts)
    del texts
    t1 = time.perf_counter()
    result = stance.analyze_corpus(folder, analyzer=analyzer, jobs=jobs)
    aggregate_by_article(result.mentions), aggregate_by_date(result.mentions), aggregate_by_actor(result.mentions)
    full_seconds = time.perf_counter() - t1
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    workers = max([resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, *_descendant_peaks_mb()])
    print(json.dumps({
        "jobs": jobs, "articles": int((result.articles["status"] == "ok").sum()),
        "duplicates": int((result.articles["status"] == "duplicate").sum()), "words": words, "tokens": tokens,
        "units": len(result.mentions), "setup_s": round(setup, 2), "tokenizer_s": round(tokenizer_seconds, 2),
        "full_s": round(full_seconds, 2), "peak_rss_mb": round(own, 1), "peak_worker_rss_mb": round(workers, 1),
    }))


def _descendant_peaks_mb() -> list[float]:
    """Peak RSS (VmHWM) of every live descendant process, e.g. the joblib workers."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                parents[int(entry.name)] = int(fields[1])
            except (OSError, IndexError, ValueError):
                continue
    mine, frontier = set(), {os.getpid()}
    while frontier:
        frontier = {pid for pid, parent in parents.items() if parent in frontier} - mine
        mine |= frontier
    peaks = []
    for pid in mine:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    peaks.append(int(line.split()[1]) / 1024)
        except OSError:
            continue
    return peaks


def startup_times() -> dict[str, float]:
    """Best of three wall-clock times of ``import stance``, ``stance --help`` and ``stance.load()``."""
    commands = {
        "import_stance_s": [sys.executable, "-c", "import stance"],
        "cli_help_s": [sys.executable, "-m", "stance.cli", "--help"],
        "load_model_s": [sys.executable, "-c", "import stance; stance.load()"],
    }
    times = {}
    for name, command in commands.items():
        runs = []
        for _ in range(3):
            started = time.perf_counter()
            subprocess.run(command, check=True, capture_output=True)
            runs.append(time.perf_counter() - started)
        times[name] = round(min(runs), 2)
    return times


def main() -> int:
    """Build the corpora, run every (size, jobs) in a fresh process, write RESULTS.md."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1, 10, 100])
    parser.add_argument("--jobs", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--out", type=Path, default=HERE / "RESULTS.md")
    parser.add_argument("--child", nargs=2, metavar=("FOLDER", "JOBS"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child[0], int(args.child[1]))
        return 0
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for size in args.sizes:
            folder = Path(tmp) / f"x{size}"
            build_corpus(folder, size)
            for jobs in args.jobs:
                out = subprocess.run([sys.executable, __file__, "--child", str(folder), str(jobs)], capture_output=True, text=True, check=True)
                row = json.loads(out.stdout.strip().splitlines()[-1])
                row["size"] = size
                rows.append(row)
                print(_line(row), flush=True)
    startup = startup_times()
    print(startup)
    write_results(args.out, rows, " ".join(sys.argv), startup)
    return 0


def _line(r: dict) -> str:
    return (f"{r['size']:>4}x jobs={r['jobs']}: {r['articles']} articles, {r['words']:,} words, {r['units']:,} units; "
            f"full {r['full_s']} s = {r['words'] / r['full_s']:,.0f} words/s, {r['articles'] / r['full_s']:.1f} articles/s; "
            f"tokenizer {r['tokenizer_s']} s (ratio {r['full_s'] / max(r['tokenizer_s'], 1e-9):.1f}); "
            f"peak RSS {r['peak_rss_mb']} MB (workers {r['peak_worker_rss_mb']} MB)")


def write_results(path: Path, rows: list[dict], command: str, startup: dict[str, float]) -> None:
    """Write the results table with the machine description."""
    lines = ["# Benchmark results", "", f"Command: `python {command}` (run from the project root).", "",
             f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, {platform.platform()}.", "",
             "| size | jobs | articles | words | units | full analysis s | words/s | articles/s | tokenizer-only s | full / tokenizer | peak RSS main MB | peak RSS worker MB |",
             "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        lines.append(f"| {r['size']}x | {r['jobs']} | {r['articles']} | {r['words']:,} | {r['units']:,} | {r['full_s']} | "
                     f"{r['words'] / r['full_s']:,.0f} | {r['articles'] / r['full_s']:.1f} | {r['tokenizer_s']} | "
                     f"{r['full_s'] / max(r['tokenizer_s'], 1e-9):.1f} | {r['peak_rss_mb']} | {r['peak_worker_rss_mb']} |")
    lines += ["", "Start-up (best of 3, fresh processes): " + ", ".join(f"{k[:-2].replace('_', ' ')} {v} s" for k, v in startup.items()) + "."]
    block = "\n".join(lines[2:])
    begin, end = "<!-- results:begin -->", "<!-- results:end -->"
    text = path.read_text(encoding="utf-8") if path.exists() else f"# Benchmark results\n\n{begin}\n{end}\n"
    if begin not in text:
        text += f"\n{begin}\n{end}\n"
    head, rest = text.split(begin, 1)
    tail = rest.split(end, 1)[1]
    path.write_text(f"{head}{begin}\n{block}\n{end}{tail}", encoding="utf-8")


if __name__ == "__main__":
    raise SystemExit(main())
