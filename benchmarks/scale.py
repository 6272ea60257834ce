"""Archive scale benchmark: `stance analyze` on a 20,000-article archive, local jobs against Dask.

    python benchmarks/scale.py --out benchmarks/RESULTS.md
    python benchmarks/scale.py --articles 400 --small 100 --out /tmp/scale.md   # quick check

1. **Archive**: 20,000 synthetic articles (``--articles``) of 6-12 sentences each, 40 outlets,
   dates over two years, unique ids. The sentences are drawn at run time from the news pool
   (``../shared/corpus/news_pool/pool.jsonl``, split into sentences; never copied into the
   repository) and shuffled across articles; the names of registry actors in them are swapped
   for random ones from ``archive.ACTORS``, and an article that names none gets one sentence of
   ``archive.sentence`` (so most articles have mentions and no two articles are near-copies).
   Without the pool every sentence comes from ``archive.sentence``. The archive is written
   twice, as ``archive.jsonl.gz`` and as ``archive.parquet`` (row groups of 2,000 rows; columns
   id, title, date, source, url, text); its first 2,000 articles (``--small``) are written as a
   second ``small.jsonl.gz`` for the memory-scaling row.
2. **Configurations** (:data:`CONFIGS`, the one place that lists the command lines): each is a
   fresh ``python -m stance.cli analyze`` process writing Parquet output; 1 and 2 local jobs on
   the JSONL.gz archive, 2 jobs on the Parquet archive, a 2-worker Dask LocalCluster started by
   the command, and 1 job on the small archive.
3. **Measured** for each run: wall time of the command (start-up, reading, model loading and
   cluster start included), words/s (words of the articles' text, counted once while writing,
   divided by the wall time), and memory: the process tree of the command (the command and
   every descendant: joblib workers, Dask scheduler/nanny/worker processes) is polled with
   psutil every 0.1 s; "peak sum" is the highest sum of the tree's RSS at one poll (shared
   pages of forked workers are counted in each process, so this overstates the physical use a
   little), "peak process" the highest single process's high-water mark (``VmHWM`` of each
   process, and ``ru_maxrss`` of ``os.wait4`` on the command: exact, not polled). Without
   psutil only the latter is known, and the block says so.
4. **Ratios** from the same run: throughput of 2 jobs / 1 job, Dask 2 workers / local 2 jobs
   (target at least 0.80), peak memory (summed) of the 20,000-article / 2,000-article 1-job runs
   (target at most 1.3). Times are medians of ``--rounds`` runs (default 1: a round takes
   several minutes; the rounds run the configurations in turn), memory peaks the highest.

The block between ``<!-- scale:begin -->`` and ``<!-- scale:end -->`` in the ``--out`` file is
replaced (appended with a heading when the markers are absent); the rest of the file is kept.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gzip
import json
import os
import platform
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:  # archive.py is a sibling script, not a package module
    sys.path.insert(0, str(HERE))

from archive import ACTORS, sentence  # noqa: E402

POOL = HERE.parent.parent / "shared" / "corpus" / "news_pool" / "pool.jsonl"
BEGIN, END = "<!-- scale:begin -->", "<!-- scale:end -->"
OUTLETS = 40
ROW_GROUP = 2_000
POLL_SECONDS = 0.1
START_DATE = dt.date(2024, 1, 1)

# --- The configurations: edit the command lines here. ------------------------------------------
# Placeholders: {jsonl} / {parquet} / {small} are the archives, {out} a fresh output path per run.
STANCE = [sys.executable, "-m", "stance.cli"]
OUT_ARGS = ["--out", "{out}", "--out-format", "parquet"]


@dataclass(frozen=True)
class Config:
    """One configuration: a short key, a label for the table and the ``stance`` arguments."""

    key: str
    label: str
    args: list[str]


CONFIGS = [
    Config("jobs1", "JSONL.gz, 1 job", ["analyze", "{jsonl}", *OUT_ARGS, "--jobs", "1", "--quiet"]),
    Config("jobs2", "JSONL.gz, 2 jobs", ["analyze", "{jsonl}", *OUT_ARGS, "--jobs", "2", "--quiet"]),
    Config("parquet2", "Parquet, 2 jobs", ["analyze", "{parquet}", *OUT_ARGS, "--jobs", "2", "--quiet"]),
    Config("dask2", "JSONL.gz, Dask LocalCluster, 2 workers",
           ["analyze", "{jsonl}", *OUT_ARGS, "--engine", "dask", "--workers", "2", "--quiet"]),
    Config("small1", "small JSONL.gz, 1 job", ["analyze", "{small}", *OUT_ARGS, "--jobs", "1", "--quiet"]),
]
# ------------------------------------------------------------------------------------------------

# Pool passages: a leading "date YYYY-MM" of the page, and sentence ends before a capital or a quote.
DATE_LINE = re.compile(r"(?:^|(?<=\n))[ \t]*date \d{4}-\d{2}(?:-\d{2})?[ \t]*\n?")
SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-ZÄÖÜ„\"»])")
FIRST_NAMES = {"Trump": "Donald", "Putin": "Wladimir", "Selenskyj": "Wolodymyr", "Merz": "Friedrich",
               "Macron": "Emmanuel", "Orbán": "Viktor", "Lawrow": "Sergej", "Rubio": "Marco", "Scholz": "Olaf",
               "Biden": "Joe", "Erdoğan": "Recep Tayyip", "Meloni": "Giorgia", "Witkoff": "Steve",
               "Peskow": "Dmitri", "Vance": "JD", "Starmer": "Keir", "Tusk": "Donald"}
_names = "|".join(re.escape(a) for a in sorted(ACTORS, key=len, reverse=True))
_firsts = "|".join(sorted({re.escape(f) for f in FIRST_NAMES.values()}, key=len, reverse=True))
ACTOR_NAME = re.compile(rf"\b(?:(?:{_firsts}) )?({_names})(s?)\b")


# --- Building the archive -----------------------------------------------------------------------

def pool_sentences(path: Path) -> list[str]:
    """Sentences of 5-60 words of the pool's passages, in file order (empty without the pool)."""
    if not path.is_file():
        return []
    sentences: list[str] = []
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            text = DATE_LINE.sub("", json.loads(line).get("text") or "")
            for paragraph in text.splitlines():
                for part in SENTENCE_END.split(paragraph.strip()):
                    part = " ".join(part.split())
                    if 5 <= len(part.split()) <= 60 and part[-1] in ".!?\"“»":
                        sentences.append(part)
    return sentences


def vary_actors(text: str, rng: random.Random) -> str:
    """Swap each registry actor named in ``text`` (with or without first name) for a random one."""
    return ACTOR_NAME.sub(lambda m: rng.choice(ACTORS) + m.group(2), text)


def article_text(rng: random.Random, sentences: list[str]) -> str:
    """6-12 sentences: shuffled pool sentences with varied actors, else template sentences."""
    count = rng.randint(6, 12)
    if not sentences:
        return " ".join(sentence(rng) for _ in range(count))
    chosen = [vary_actors(s, rng) for s in rng.sample(sentences, count)]
    if not any(ACTOR_NAME.search(s) for s in chosen) and rng.random() < 0.9:
        chosen.insert(rng.randrange(count + 1), sentence(rng))
    return " ".join(chosen)


def iter_articles(count: int, sentences: list[str], seed: int = 12) -> Iterator[dict]:
    """``count`` article rows (id, title, date, source, url, text) of one seeded generator."""
    rng = random.Random(seed)
    for i in range(count):
        text = article_text(rng, sentences)
        outlet = rng.randrange(OUTLETS)
        date = START_DATE + dt.timedelta(days=rng.randrange(730))
        title = " ".join(text.split()[:8]).rstrip(",.:;")
        yield {"id": f"s{i:06d}", "title": title, "date": date, "source": f"outlet{outlet:02d}",
               "url": f"https://outlet{outlet:02d}.example/{date:%Y/%m/%d}/s{i:06d}", "text": text}


@dataclass
class Archive:
    """The written archives and what they hold."""

    jsonl: Path
    parquet: Path
    small: Path
    articles: int
    small_articles: int
    words: int = 0
    small_words: int = 0
    with_actor: int = 0
    origin: str = ""
    sentences: int = 0
    sizes_mb: dict[str, float] = field(default_factory=dict)


def _jsonl_line(row: dict) -> str:
    return json.dumps({**row, "date": row["date"].isoformat()}, ensure_ascii=False) + "\n"


def _parquet_table(rows: list[dict]):  # -> pyarrow.Table
    import pyarrow as pa

    columns = {name: [row[name] for row in rows] for name in ("id", "title", "date", "source", "url", "text")}
    schema = pa.schema([("id", pa.string()), ("title", pa.string()), ("date", pa.date32()),
                        ("source", pa.string()), ("url", pa.string()), ("text", pa.string())])
    return pa.Table.from_pydict(columns, schema=schema)


def write_archives(folder: Path, articles: int, small: int, pool: Path) -> Archive:
    """Write archive.jsonl.gz, archive.parquet and small.jsonl.gz in one pass of the generator."""
    import pyarrow.parquet as pq

    sentences = pool_sentences(pool)
    archive = Archive(folder / "archive.jsonl.gz", folder / "archive.parquet", folder / "small.jsonl.gz",
                      articles, min(small, articles), sentences=len(sentences),
                      origin=f"news pool `{pool}` ({len(sentences):,} sentences)" if sentences
                      else "the template generator of `benchmarks/archive.py` (news pool not found)")
    batch: list[dict] = []
    with gzip.open(archive.jsonl, "wt", encoding="utf-8") as big, \
            gzip.open(archive.small, "wt", encoding="utf-8") as little, \
            pq.ParquetWriter(archive.parquet, _parquet_table([]).schema) as parquet:
        for i, row in enumerate(iter_articles(articles, sentences)):
            words = len(row["text"].split())
            line = _jsonl_line(row)
            big.write(line)
            archive.words += words
            archive.with_actor += bool(ACTOR_NAME.search(row["text"]))
            if i < archive.small_articles:
                little.write(line)
                archive.small_words += words
            batch.append(row)
            if len(batch) == ROW_GROUP:
                parquet.write_table(_parquet_table(batch), row_group_size=ROW_GROUP)
                batch = []
        if batch:
            parquet.write_table(_parquet_table(batch), row_group_size=ROW_GROUP)
    archive.sizes_mb = {p.name: p.stat().st_size / 2**20 for p in (archive.jsonl, archive.parquet, archive.small)}
    return archive


# --- Measuring ----------------------------------------------------------------------------------

@dataclass
class Run:
    """One run of one configuration."""

    key: str
    command: list[str]
    out: Path = Path()
    seconds: float = 0.0
    returncode: int = 0
    peak_sum_mb: float = 0.0
    peak_process_mb: float = 0.0
    processes: int = 0
    units: int | None = None
    error: str = ""
    note: str = ""
    leftovers: list[int] = field(default_factory=list)


def _hwm_mb(pid: int) -> float:
    """High-water mark of a process's resident memory (``VmHWM``), 0 where unknown."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except (OSError, ValueError):
        pass
    return 0.0


def _poll_tree(root, seen: dict) -> float:  # root: psutil.Process; seen: (pid, create_time) -> peak MiB
    """Sum of the tree's RSS now, in MiB; updates every process's peak in ``seen``."""
    import psutil

    try:
        procs = [root, *root.children(recursive=True)]
    except psutil.Error:
        return 0.0
    total = 0.0
    for proc in procs:
        try:
            rss = proc.memory_info().rss / 2**20
            key = (proc.pid, proc.create_time())
        except psutil.Error:
            continue
        total += rss
        seen[key] = max(seen.get(key, 0.0), rss, _hwm_mb(proc.pid))
    return total


def _end_leftovers(seen: dict, grace: float = 10.0) -> list[int]:
    """Processes the command started that are still alive ``grace`` seconds after it ended (a
    stray Dask or joblib worker): terminate them and return their pids. Workers that shut down
    on their own within the grace time (loky's do, a moment after their parent) are not listed."""
    import psutil

    alive = []
    for pid, created in seen:
        try:
            proc = psutil.Process(pid)
            if proc.create_time() == created:
                alive.append(proc)
        except psutil.Error:
            continue
    _, alive = psutil.wait_procs(alive, timeout=grace)
    for proc in alive:
        try:
            proc.terminate()
        except psutil.Error:
            continue
    _, stubborn = psutil.wait_procs(alive, timeout=5)
    for proc in stubborn:
        try:
            proc.kill()
        except psutil.Error:
            continue
    return sorted(proc.pid for proc in alive)


def measure(command: list[str], timeout: float) -> Run:
    """Run ``command`` as a fresh process; wall time and memory of its process tree.

    The command is reaped with ``os.wait4``, whose ``ru_maxrss`` is the high-water mark of the
    command or of the largest descendant it reaped: exact, and the figure kept without psutil.
    """
    try:
        import psutil
    except ImportError:
        psutil = None
    run = Run(key="", command=command)
    seen: dict = {}
    with tempfile.TemporaryFile("w+", encoding="utf-8") as stderr:  # a file: a full pipe would block the command
        started = time.perf_counter()
        proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=stderr, text=True)
        root = psutil.Process(proc.pid) if psutil else None
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if root is not None:
                run.peak_sum_mb = max(run.peak_sum_mb, _poll_tree(root, seen))
            if time.perf_counter() - started > timeout and not run.error:
                proc.kill()
                run.error = f"killed after the timeout of {timeout:.0f} s. "
            time.sleep(POLL_SECONDS)
        run.seconds = time.perf_counter() - started
        proc.returncode = run.returncode = os.waitstatus_to_exitcode(status)
        stderr.seek(0)
        if run.returncode != 0:
            run.error += stderr.read().strip()[-600:]
    reaped_mb = usage.ru_maxrss / 1024
    run.peak_process_mb = max([reaped_mb, *seen.values()])
    run.peak_sum_mb = max(run.peak_sum_mb, run.peak_process_mb)  # a sum is never below one of its terms' peak
    if root is not None:
        run.processes = len(seen)
        run.leftovers = _end_leftovers(seen)
    return run


def count_units(out: Path) -> int | None:
    """Rows of the mentions output: one Parquet file, or the ``mentions/`` parts of a dataset
    folder (``--out-format parquet``); None if unreadable."""
    try:
        import pyarrow.dataset as ds

        target = out / "mentions" if (out / "mentions").is_dir() else out
        return ds.dataset(str(target), format="parquet", exclude_invalid_files=True).count_rows()
    except Exception:  # the output layout may change while the CLI is developed: report, do not fail
        return None


def cli_flags() -> set[str]:
    """The options ``stance analyze --help`` lists."""
    done = subprocess.run([*STANCE, "analyze", "--help"], capture_output=True, text=True, check=True)
    return set(re.findall(r"(?<![\w-])(--[a-z][a-z-]*)", done.stdout))


def resolve(config: Config, archive: Archive, out: Path, flags: set[str]) -> tuple[list[str] | None, str]:
    """The command line of ``config`` and a note: None when the CLI lacks one of its options.

    Without ``--out-format`` (the CLI before the Parquet-folder output), the output is one
    ``mentions.parquet`` file in ``out`` instead, and the note says so.
    """
    args = list(config.args)
    note = ""
    if "--out-format" not in flags and "--out-format" in args:
        i = args.index("--out-format")
        del args[i:i + 2]
        out = out / "mentions.parquet"
        note = "no `--out-format` in this CLI: one `.parquet` file as `--out`"
    missing = [a for a in args if a.startswith("--") and a not in flags]
    if missing:
        return None, f"not run: `stance analyze` has no {', '.join(f'`{m}`' for m in missing)}"
    places = {"{jsonl}": archive.jsonl, "{parquet}": archive.parquet, "{small}": archive.small, "{out}": out}
    return [*STANCE, *(str(places.get(a, a)) for a in args)], note


def run_config(config: Config, archive: Archive, folder: Path, flags: set[str], round_no: int, timeout: float) -> Run | str:
    """One fresh run of ``config`` (its output removed afterwards), or the reason it was not run."""
    out = folder / f"{config.key}-r{round_no}"
    command, note = resolve(config, archive, out, flags)
    if command is None:
        return note
    if note:  # the output is a file inside ``out``
        out.mkdir(parents=True, exist_ok=True)
    run = measure(command, timeout)
    run.key, run.out, run.note = config.key, out, note
    target = out / "mentions.parquet" if note else out
    run.units = count_units(target) if run.returncode == 0 else None
    shutil.rmtree(out, ignore_errors=True)
    return run


# --- Summing up ---------------------------------------------------------------------------------

@dataclass
class Row:
    """A configuration over all rounds."""

    config: Config
    words: int
    runs: list[Run] = field(default_factory=list)
    skipped: str = ""

    @property
    def ok(self) -> list[Run]:
        return [r for r in self.runs if r.returncode == 0]

    @property
    def seconds(self) -> float | None:
        return statistics.median(r.seconds for r in self.ok) if self.ok else None

    @property
    def words_per_s(self) -> float | None:
        return self.words / self.seconds if self.seconds else None

    @property
    def peak_sum_mb(self) -> float | None:
        return max(r.peak_sum_mb for r in self.ok) if self.ok else None

    @property
    def peak_process_mb(self) -> float | None:
        return max(r.peak_process_mb for r in self.ok) if self.ok else None


def _ratio(a: float | None, b: float | None) -> float | None:
    return a / b if a and b else None


def ratios(rows: dict[str, Row], archive: Archive) -> list[tuple[str, float | None, str, bool | None]]:
    """(name, value, target text, met) for each ratio; value None where a run is missing."""
    sizes = f"{archive.articles:,} / {archive.small_articles:,} articles"
    def get(key: str, attr: str) -> float | None:
        return getattr(rows[key], attr) if key in rows else None

    jobs = _ratio(get("jobs2", "words_per_s"), get("jobs1", "words_per_s"))
    parquet = _ratio(get("parquet2", "words_per_s"), get("jobs2", "words_per_s"))
    dask = _ratio(get("dask2", "words_per_s"), get("jobs2", "words_per_s"))
    memory = _ratio(get("jobs1", "peak_sum_mb"), get("small1", "peak_sum_mb"))
    memory_process = _ratio(get("jobs1", "peak_process_mb"), get("small1", "peak_process_mb"))
    return [
        ("throughput `--jobs 2` / `--jobs 1` (JSONL.gz)", jobs, "(none)", None),
        ("throughput Parquet / JSONL.gz input (2 jobs)", parquet, "(none)", None),
        ("throughput Dask 2 workers / local `--jobs 2`", dask, ">= 0.80", None if dask is None else dask >= 0.80),
        (f"peak memory (summed) {sizes}, 1 job", memory, "<= 1.3", None if memory is None else memory <= 1.3),
        (f"peak memory (largest process) {sizes}, 1 job", memory_process, "(none)", None),
    ]


def machine() -> str:
    """Cores, RAM, CPU model and Python of this machine."""
    try:
        import psutil

        ram = f"{psutil.virtual_memory().total / 2**30:.0f} GiB RAM"
        physical = psutil.cpu_count(logical=False)
    except ImportError:
        ram = f"{os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30:.0f} GiB RAM"
        physical = None
    model = ""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        model = next((line.split(":", 1)[1].strip() for line in cpuinfo.read_text().splitlines()
                      if line.startswith("model name")), "")
    cores = f"{os.cpu_count()} cores" + (f" ({physical} physical)" if physical else "")
    return ", ".join(x for x in (platform.machine(), model, cores, ram, f"Python {platform.python_version()}") if x)


def _mb(value: float | None) -> str:
    return "-" if value is None else f"{value:,.0f}"


def _show(run: Run, archive: Archive) -> str:
    """The command as typed: ``stance`` for the interpreter prefix, placeholders for the paths."""
    names = {str(archive.jsonl): "ARCHIVE.jsonl.gz", str(archive.parquet): "ARCHIVE.parquet",
             str(archive.small): "SMALL.jsonl.gz", str(run.out): "OUTDIR"}
    shown = []
    for arg in run.command[len(STANCE):]:
        if arg.startswith(str(run.out)):
            arg = "OUTDIR" + arg[len(str(run.out)):]
        shown.append(names.get(arg, arg))
    return " ".join(["stance", *shown])


def _intro(archive: Archive, rounds: int, command: str, psutil_ok: bool) -> list[str]:
    """Command, machine, archive and how it was measured."""
    per_article = archive.words / max(archive.articles, 1)
    sizes = archive.sizes_mb
    memory = ("command polled every 0.1 s with psutil: peak sum = highest summed RSS of all its processes at one poll "
              "(at least the peak process), "
              "peak process = highest high-water mark of one process (VmHWM, and `ru_maxrss` of the reaped command); "
              "highest over the rounds." if psutil_ok else
              "command's `os.wait4` resource usage only (psutil missing): both columns are the high-water mark of the "
              "largest single process of the tree, not a sum.")
    return [f"Command: `{command}` (run from the project root).", "", f"Machine: {machine()}.", "",
            f"Archive: {archive.articles:,} articles, {archive.words:,} words (about {per_article:.0f} per article), "
            f"{OUTLETS} outlets, dates {START_DATE} to {START_DATE + dt.timedelta(days=729)}; sentences from "
            f"{archive.origin}, shuffled across articles, actor names varied; {archive.with_actor / max(archive.articles, 1):.0%} "
            f"of the articles name an actor of `archive.ACTORS`. Written as `ARCHIVE.jsonl.gz` "
            f"({sizes['archive.jsonl.gz']:,.1f} MiB) and `ARCHIVE.parquet` ({sizes['archive.parquet']:,.1f} MiB, row groups "
            f"of {ROW_GROUP:,}); `SMALL.jsonl.gz` is its first {archive.small_articles:,} articles ({archive.small_words:,} words).",
            "", "Each run is a fresh command (`stance` = `python -m stance.cli`); time is the wall time of the command "
            f"(start-up, model loading and cluster start included), median of {rounds} round(s), the rounds in brackets; "
            f"memory is the process tree of the {memory}"]


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _config_rows(rows: list[Row], archive: Archive) -> list[str]:
    """The table of the configurations."""
    lines = ["| configuration | command | s | words/s | peak sum MiB | peak process MiB | processes | units |",
             "|---|---|---:|---:|---:|---:|---:|---:|"]
    for row in rows:
        if row.skipped or not row.ok:
            why = row.skipped or "; ".join(f"exit {r.returncode}: {r.error.splitlines()[-1] if r.error else ''}" for r in row.runs)
            lines.append(f"| {row.config.label} | {_cell(why)} | - | - | - | - | - | - |")
            continue
        run = row.ok[0]
        units = "-" if run.units is None else f"{run.units:,}"
        rounds_s = ", ".join(f"{r.seconds:.1f}" if r.returncode == 0 else f"exit {r.returncode}" for r in row.runs)
        lines.append(f"| {row.config.label} | `{_show(run, archive)}` | {row.seconds:.1f} ({rounds_s}) | "
                     f"{row.words_per_s:,.0f} | {_mb(row.peak_sum_mb)} | {_mb(row.peak_process_mb)} | "
                     f"{max(r.processes for r in row.ok) or '-'} | {units} |")
    runs = [r for row in rows for r in row.runs]
    notes = sorted({r.note for r in runs if r.note}
                   | {f"pids {r.leftovers} of `{r.key}` were still alive 10 s after the command and were ended" for r in runs if r.leftovers}
                   | {f"a round of `{r.key}` failed (exit {r.returncode}): {_cell(r.error.splitlines()[-1] if r.error else '')}"
                      for row in rows if row.ok for r in row.runs if r.returncode})
    return lines + ([""] + [f"Note: {n}." for n in notes] if notes else [])


def _ratio_rows(rows: list[Row], archive: Archive) -> list[str]:
    """The table of the ratios and their targets."""
    lines = ["| ratio (same run) | value | target | met |", "|---|---:|---|---|"]
    for name, value, target, met in ratios({row.config.key: row for row in rows}, archive):
        shown = "-" if value is None else f"{value:.2f}"
        verdict = "" if target == "(none)" else "n/a" if met is None else "met" if met else "**not met**"
        lines.append(f"| {name} | {shown} | {target} | {verdict} |")
    return lines


def render(archive: Archive, rows: list[Row], rounds: int, command: str, psutil_ok: bool) -> str:
    """The markdown block between the markers."""
    return "\n".join([BEGIN, *_intro(archive, rounds, command, psutil_ok), "", *_config_rows(rows, archive), "",
                      *_ratio_rows(rows, archive), END])


def write_block(path: Path, block: str) -> None:
    """Replace the block between the markers of ``path`` (append it under a heading if absent)."""
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    if BEGIN in text and END in text:
        text = text[:text.index(BEGIN)] + block + text[text.index(END) + len(END):]
    else:
        text = text.rstrip("\n") + ("\n\n" if text else "") + "## Archive scale: local jobs and Dask\n\n" + block + "\n"
    path.write_text(text, encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    """Build the archives, run every configuration ``--rounds`` times, print and write the block."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--articles", type=int, default=20_000, help="articles of the archive (default 20,000)")
    parser.add_argument("--small", type=int, default=2_000, help="articles of the small archive (default 2,000)")
    parser.add_argument("--rounds", type=int, default=1, help="runs of every configuration (default 1; times are medians)")
    parser.add_argument("--out", type=Path, help="results file whose scale block is replaced (default: print only)")
    parser.add_argument("--keep", type=Path, help="write the archives into this folder and keep them (default: a temporary folder)")
    parser.add_argument("--pool", type=Path, default=POOL, help="news pool to draw sentences from (default ../shared/corpus/news_pool/pool.jsonl)")
    parser.add_argument("--only", nargs="+", choices=[c.key for c in CONFIGS], help="run only these configurations")
    parser.add_argument("--timeout", type=float, default=3600, help="seconds before a run is killed (default 3600)")
    args = parser.parse_args(argv)
    command = " ".join(["python benchmarks/scale.py", *(sys.argv[1:] if argv is None else argv)])
    try:
        import psutil  # noqa: F401

        psutil_ok = True
    except ImportError:
        psutil_ok = False
        print("psutil is missing: memory is the largest process's high-water mark (os.wait4), not a sum", flush=True)
    with tempfile.TemporaryDirectory(prefix="stance-scale-") as tmp:
        folder = args.keep or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        started = time.perf_counter()
        archive = write_archives(folder, args.articles, args.small, args.pool)
        print(f"archives written in {time.perf_counter() - started:.1f} s: {archive.articles:,} articles, "
              f"{archive.words:,} words; sentences from {archive.origin}", flush=True)
        rows = run_all(archive, Path(tmp) / "out", args)
    block = render(archive, rows, args.rounds, command, psutil_ok)
    print(block)
    if args.out:
        write_block(args.out, block)
    return 0


def run_all(archive: Archive, folder: Path, args: argparse.Namespace) -> list[Row]:
    """Every configuration ``args.rounds`` times, the configurations in turn within a round."""
    flags = cli_flags()
    configs = [c for c in CONFIGS if not args.only or c.key in args.only]
    rows = [Row(c, archive.small_words if "{small}" in c.args else archive.words) for c in configs]
    for round_no in range(1, args.rounds + 1):
        for row in rows:
            if row.skipped:
                continue
            result = run_config(row.config, archive, folder, flags, round_no, args.timeout)
            if isinstance(result, str):
                row.skipped = result
                print(f"{row.config.key}: {result}", flush=True)
                continue
            row.runs.append(result)
            print(json.dumps({"config": row.config.key, "round": round_no, "seconds": round(result.seconds, 2),
                              "returncode": result.returncode, "peak_sum_mb": round(result.peak_sum_mb),
                              "peak_process_mb": round(result.peak_process_mb), "processes": result.processes,
                              "units": result.units, "error": result.error[-300:]}), flush=True)
    return rows


if __name__ == "__main__":
    sys.exit(main())
