"""Speed and memory benchmark: real news first, scaling rows on the resampled sample, the report job.

    python benchmarks/run.py --out benchmarks/RESULTS.md

1. **News pool** (``../shared/corpus/news_pool/pool.jsonl``, about 280k words of distinct real
   news from 505 outlets; read from there, never copied): in one fresh process, ``--rounds``
   rounds (default 3) of
   (a) reading the file as ``stance`` reads it, (b) the spaCy tokenizer alone over the same
   texts, (c) the full analysis with one job (reading included: ``analyze_corpus`` on the file).
   The floor is (a) + (b); each round gives a ratio (c) / floor, and the table shows medians.
2. **Scaling rows** on synthetic corpora resampled from the paragraphs of the sample (13
   articles), 10x, 100x and 200x: every (size, jobs) is measured ``--repeats`` times (default
   5), each in a fresh process (so worker start-up is paid every time), the job counts taking
   turns (1, 2 | 2, 1 | 1, 2 ...) so that a slow spell of the machine does not fall on one of
   them only; the 2-job/1-job ratio of each repeat is listed too. Peak
   memory is the high-water mark of the main process plus each worker's. The resampled text
   repeats words far more than real news (about 3% distinct words at 10x against about 30% in
   the pool), so these rows flatter every cache; they show scaling with size and jobs, not
   speed on real text.
3. **Report job**: ``stance report`` against ``stance analyze`` on the 100x corpus, one job, each
   as a fresh command, ``--repeats`` times, taking turns (analyze, report | report, analyze
   ...); the ratio of the medians.
4. **Archive scale** (only with ``--scale``; several minutes): ``benchmarks/scale.py`` on its
   20,000-article archive (local jobs, Parquet input, Dask), written into the same ``--out``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
POOL = HERE.parent.parent / "shared" / "corpus" / "news_pool" / "pool.jsonl"


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


def pool_child(path: str, rounds: int) -> None:
    """Rounds of read / tokenize / full analysis on the news pool, in this process; print JSON."""
    import stance
    from stance.articles import iter_corpus
    from stance.nlp import load_nlp
    from stance.records import Article

    analyzer = stance.load()
    nlp = load_nlp()
    results = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        texts = [a.text for a in iter_corpus(path) if isinstance(a, Article)]
        read = time.perf_counter() - t0
        t1 = time.perf_counter()
        tokens = sum(len(doc) for doc in nlp.tokenizer.pipe(texts, batch_size=64))
        tokenize = time.perf_counter() - t1
        t2 = time.perf_counter()
        result = stance.analyze_corpus(path, analyzer=analyzer, jobs=1)
        full = time.perf_counter() - t2
        results.append({"read_s": read, "tokenize_s": tokenize, "full_s": full, "ratio": full / (read + tokenize)})
    words = sum(len(t.split()) for t in texts)
    print(json.dumps({"rounds": results, "words": words, "tokens": tokens, "units": len(result.mentions),
                      "articles": int((result.articles["status"] == "ok").sum()),
                      "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))


def scaling_child(folder: str, jobs: int) -> None:
    """One analysis of ``folder`` with ``jobs`` in this fresh process; print JSON with peak memory."""
    import stance

    analyzer = stance.load()
    started = time.perf_counter()
    result = stance.analyze_corpus(folder, analyzer=analyzer, jobs=jobs)
    seconds = time.perf_counter() - started
    workers = _descendant_peaks_mb()
    print(json.dumps({"jobs": jobs, "seconds": seconds, "units": len(result.mentions),
                      "articles": int((result.articles["status"] == "ok").sum()),
                      "peak_main_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                      "peak_workers_mb": workers}))


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
    for pid in sorted(mine):
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    peaks.append(round(int(line.split()[1]) / 1024, 1))
        except OSError:
            continue
    return peaks


def _child(*args: str) -> dict:
    out = subprocess.run([sys.executable, __file__, *args], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def _timed(command: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True)
    return time.perf_counter() - started


def startup_times() -> dict[str, float]:
    """Best of three wall-clock times of ``import stance``, ``stance --help`` and ``stance.load()``."""
    commands = {
        "import_stance_s": [sys.executable, "-c", "import stance"],
        "cli_help_s": [sys.executable, "-m", "stance.cli", "--help"],
        "load_model_s": [sys.executable, "-c", "import stance; stance.load()"],
    }
    return {name: round(min(_timed(command) for _ in range(3)), 2) for name, command in commands.items()}


def main() -> int:
    """Run every part, print progress and write the results block of RESULTS.md."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--pool", type=Path, default=POOL)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10, 100, 200])
    parser.add_argument("--jobs", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--repeats", type=int, default=5, help="fresh processes per scaling row and report command")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of the news-pool measurement (one process)")
    parser.add_argument("--out", type=Path, default=HERE / "RESULTS.md")
    parser.add_argument("--scale", action="store_true", help="also run benchmarks/scale.py (20,000-article archive) into --out")
    parser.add_argument("--pool-child", nargs=2, help=argparse.SUPPRESS)
    parser.add_argument("--scaling-child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    args.jobs = list(dict.fromkeys(args.jobs))
    if args.repeats < 1 or args.rounds < 1:
        parser.error("--repeats and --rounds must be at least 1")
    if args.pool_child:
        pool_child(args.pool_child[0], int(args.pool_child[1]))
        return 0
    if args.scaling_child:
        scaling_child(args.scaling_child[0], int(args.scaling_child[1]))
        return 0
    orders = [args.jobs[turn:] + args.jobs[:turn] for turn in range(min(len(args.jobs), args.repeats))]
    results: dict = {"command": " ".join(["benchmarks/run.py", *sys.argv[1:]]), "repeats": args.repeats,
                     "orders": orders if len(args.jobs) > 1 else []}
    if args.pool.is_file():
        results["pool"] = _child("--pool-child", str(args.pool), str(args.rounds))
        print("pool:", json.dumps(_pool_summary(results["pool"])), flush=True)
    else:
        print(f"news pool not found at {args.pool}: the real-news rows are left out", flush=True)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for size in args.sizes:
            folder = Path(tmp) / f"x{size}"
            articles, words = build_corpus(folder, size)
            by_jobs: dict[int, list[dict]] = {jobs: [] for jobs in args.jobs}
            for repeat in range(args.repeats):
                for jobs in orders[repeat % len(orders)]:  # taking turns: 1, 2 | 2, 1 | 1, 2 ...
                    by_jobs[jobs].append(_child("--scaling-child", str(folder), str(jobs)))
            for jobs, runs in by_jobs.items():
                row = {"size": size, "jobs": jobs, "articles": articles, "words": words, "units": runs[0]["units"],
                       "seconds": statistics.median(r["seconds"] for r in runs), "runs": [r["seconds"] for r in runs],
                       "peak_main_mb": max(r["peak_main_mb"] for r in runs),
                       "peak_sum_mb": max(r["peak_main_mb"] + sum(r["peak_workers_mb"]) for r in runs),
                       "workers": max(len(r["peak_workers_mb"]) for r in runs)}
                rows.append(row)
                print(json.dumps(row), flush=True)
            if size == 100:
                commands = {"analyze": ["stance", "analyze", str(folder), "--out", f"{tmp}/m.csv", "--jobs", "1", "-q"],
                            "report": ["stance", "report", str(folder), "--out", f"{tmp}/r", "--jobs", "1", "-q"]}
                timed: dict[str, list[float]] = {"analyze": [], "report": []}
                for repeat in range(args.repeats):
                    for name in ("analyze", "report") if repeat % 2 == 0 else ("report", "analyze"):
                        timed[name].append(_timed(commands[name]))
                analyze, report = timed["analyze"], timed["report"]
                results["report"] = {"analyze_s": statistics.median(analyze), "report_s": statistics.median(report)}
                print(json.dumps(results["report"]), flush=True)
    results["scaling"] = rows
    results["startup"] = startup_times()
    write_results(args.out, results)
    if args.scale:
        from scale import main as scale_main

        return scale_main(["--out", str(args.out)])
    return 0


def _paired_ratios(rows: list[dict]) -> dict[int, list[float]]:
    """Per size, the 1-job time over the 2-job time of each repeat (the two runs are neighbours)."""
    by_size: dict[int, dict[int, list[float]]] = {}
    for r in rows:
        by_size.setdefault(r["size"], {})[r["jobs"]] = r["runs"]
    return {size: [a / b for a, b in zip(runs[1], runs[2])] for size, runs in by_size.items() if 1 in runs and 2 in runs}


def _pool_summary(pool: dict) -> dict:
    rounds = pool["rounds"]
    return {key: round(statistics.median(r[key] for r in rounds), 2) for key in ("read_s", "tokenize_s", "full_s", "ratio")}


def write_results(path: Path, results: dict) -> None:
    """Write the results block (between the markers) of RESULTS.md."""
    lines = [f"Command: `python {results['command']}` (run from the project root).", "",
             f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, {platform.platform()}.", ""]
    pool = results.get("pool")
    if pool:
        m = _pool_summary(pool)
        lines += [f"### Real news: the news pool, one job (medians of {len(pool['rounds'])} rounds in one process)", "",
                  f"{pool['articles']:,} passages, {pool['words']:,} words, {pool['tokens']:,} tokens, {pool['units']:,} units.", "",
                  "| part | seconds (median) | per round |", "|---|---:|---|"]
        for key, name in (("read_s", "reading (as `stance` reads the file)"), ("tokenize_s", "spaCy tokenizer alone"),
                          ("full_s", "full analysis, reading included (`analyze_corpus`)")):
            per_round = ", ".join(f"{r[key]:.2f}" for r in pool["rounds"])
            lines.append(f"| {name} | {m[key]} | {per_round} |")
        ratios = ", ".join(f"{r['ratio']:.2f}" for r in pool["rounds"])
        lines += ["", f"**Full analysis / (reading + tokenizer): {m['ratio']}x** (median of the rounds' ratios: "
                  f"{ratios}); {pool['words'] / m['full_s']:,.0f} words/s; peak memory {pool['peak_rss_mb']:.0f} MiB.", ""]
    rows = results["scaling"]
    repeats = results["repeats"]
    orders = " | ".join(", ".join(map(str, order)) for order in results["orders"])
    turns = f", the job counts taking turns: {orders} ..." if orders else ""
    lines += [f"### Scaling on the resampled sample (medians of {repeats} fresh processes per row{turns})", "",
              "| size | jobs | articles | words | units | analysis s | words/s | speed-up vs 1 job | peak main MiB | peak summed MiB (main + workers) |",
              "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    single = {r["size"]: r["seconds"] for r in rows if r["jobs"] == 1}
    for r in rows:
        speedup = f"{single[r['size']] / r['seconds']:.2f}" if r["size"] in single else "–"
        lines.append(f"| {r['size']}x | {r['jobs']} | {r['articles']:,} | {r['words']:,} | {r['units']:,} | {r['seconds']:.2f} | "
                     f"{r['words'] / r['seconds']:,.0f} | {speedup} | {r['peak_main_mb']:.0f} | {r['peak_sum_mb']:.0f} |")
    lines += ["", "Each run in seconds, repeat by repeat: "
              + "; ".join(f"{r['size']}x {r['jobs']} job{'s' if r['jobs'] > 1 else ''}: " + ", ".join(f"{s:.2f}" for s in r["runs"])
                          for r in rows) + "."]
    pairs = _paired_ratios(rows)
    if pairs:
        lines += ["", "Speed-up of 2 jobs over 1 job within each repeat: " + "; ".join(
            f"{size}x: {', '.join(f'{x:.2f}' for x in ratios)} (median {statistics.median(ratios):.2f})" for size, ratios in pairs.items())
            + ". With an odd number of repeats one job count goes first once more often."]
    report = results.get("report")
    if report:
        lines += ["", f"`stance report` on the 100x corpus: {report['report_s']:.2f} s against {report['analyze_s']:.2f} s for "
                  f"`stance analyze` (fresh commands, one job, medians of {repeats}): **{report['report_s'] / report['analyze_s']:.2f}x**."]
    startup = results["startup"]
    lines += ["", "Start-up (best of 3, fresh processes): " + ", ".join(f"{k[:-2].replace('_', ' ')} {v} s" for k, v in startup.items()) + "."]
    block = "\n".join(lines)
    begin, end = "<!-- results:begin -->", "<!-- results:end -->"
    text = path.read_text(encoding="utf-8") if path.exists() else f"# Benchmark results\n\n{begin}\n{end}\n"
    if begin not in text:
        text += f"\n{begin}\n{end}\n"
    head, rest = text.split(begin, 1)
    tail = rest.split(end, 1)[1]
    path.write_text(f"{head}{begin}\n{block}\n{end}{tail}", encoding="utf-8")


if __name__ == "__main__":
    raise SystemExit(main())
