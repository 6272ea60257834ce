"""The ``stance`` command: a thin layer over the library.

Exit codes: 0 success, 2 bad usage or bad input, 1 internal error, 130 interrupted. User
errors print one line (``ErrorType: message``) without a traceback unless ``--verbose`` is
given. Everything printed that comes from the input is shown with control characters
escaped (:func:`stance.io.escape_control`).

``report``, ``analyze`` and ``plot`` lock their ``--out`` (a second run into the same
``--out`` exits 2), check that it can be written before the analysis starts, and replace it
as a whole at the end: an interrupted or failed run leaves the previous output as it was.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from . import __version__
from .config import RANDOM_STATE
from .errors import InputFormatError, StanceError
from .io import escape_control

EXIT_OK, EXIT_INTERNAL, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130
DEFAULT_REPORT = Path("reports/report")
log = logging.getLogger("stance.cli")


def _add_common(parser: argparse.ArgumentParser, *, top: bool = False) -> None:
    """``-v`` and ``-q``; accepted before the subcommand too (the subcommand's default does not
    overwrite the value given before it)."""
    default = False if top else argparse.SUPPRESS
    parser.add_argument("-v", "--verbose", action="store_true", default=default, help="debug logging and tracebacks")
    parser.add_argument("-q", "--quiet", action="store_true", default=default, help="no progress bar or summary")


def _add_reading_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--duplicates", choices=("drop", "keep", "per-source"), default="drop",
                        help="repeated articles: drop (count once, default), keep (analyse every copy) or per-source "
                             "(drop repeats within one source only; agency copies in other outlets are kept)")
    parser.add_argument("--any-language", action="store_true",
                        help="score every article; by default an article whose function words are clearly not "
                             "German is skipped with the reason (the models are trained on German)")
    parser.add_argument("--extra-columns", action="store_true",
                        help="copy the input columns stance does not use (author, section, ...) into the mentions "
                             "table too; they are always in articles.csv")


def _add_model_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", type=Path, help="model folder (default: the packaged German model)")
    parser.add_argument("--actors", type=Path, help="actor registry TOML/JSON that extends (or, with replace = true, replaces) the default")
    parser.add_argument("--jobs", type=int, default=0, help="worker processes (default 0 = all cores)")


def _add_language_arg(parser: argparse.ArgumentParser, what: str) -> None:
    from .lang import DEFAULT_LANGUAGE, available_languages

    parser.add_argument("--language", default=DEFAULT_LANGUAGE, choices=available_languages(), metavar="CODE",
                        help=f"{what}: one of {', '.join(available_languages())} (default {DEFAULT_LANGUAGE})")


def _add_training_jobs_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--jobs", type=_positive_int, default=2, metavar="N",
                        help="worker processes of the fits and cross-validation folds (default 2)")


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _add_corpora_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--pool", type=Path, help="the news pool (pool.jsonl or its folder) that news.jsonl refers to "
                        "(default: [corpora] in --config, else ../shared/corpus/news_pool/)")
    parser.add_argument("--gerntsa", type=Path, help="GerNTSA train.jsonl that gerntsa.jsonl refers to "
                        "(default: [corpora] in --config, else ../shared/datasets/gerntsa/train.jsonl)")


def _corpora(args: argparse.Namespace) -> dict[str, Any]:
    """External corpus paths: command-line options over the config's [corpora] table."""
    from .config import load_corpora_config

    paths: dict[str, Any] = dict(load_corpora_config(getattr(args, "config", None)))
    for name, value in (("news_pool", args.pool), ("gerntsa", args.gerntsa)):
        if value is not None:
            paths[name] = value
    return paths


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand."""
    parser = argparse.ArgumentParser(prog="stance", description="How German news text portrays political actors.")
    parser.add_argument("--version", action="version", version=f"stance {__version__}", help="print the version and exit")
    _add_common(parser, top=True)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    p = sub.add_parser("report", help="analyse a corpus and write tables, plots, report.md and report.html",
                       description="Analyse a corpus (default: the bundled sample) and write mentions.csv, articles.csv, "
                                   "by_article.csv, by_date.csv, by_actor.csv, by_source.csv, four plots (PNG+SVG), report.md and "
                                   "report.html (the same as one self-contained web page).")
    p.add_argument("corpus", nargs="*", type=Path, help="files or folders (default: bundled sample corpus)")
    p.add_argument("--out", type=Path, default=DEFAULT_REPORT, help=f"output folder, replaced as a whole (default: {DEFAULT_REPORT}/)")
    p.add_argument("--min-mentions", type=int, default=3, help="leave actors with fewer units out of the plots (default 3)")
    p.add_argument("--freq", choices=("day", "week", "month"), default="day", help="period of by_date.csv and the timeline")
    p.add_argument("--validation", type=Path, metavar="JSON", help="validation.json of `stance validate` (the model checked "
                   "against your own labels): its figures are stated in the report next to the model's own")
    _add_reading_args(p)
    _add_model_args(p)
    _add_common(p)

    p = sub.add_parser("analyze", help="score every (sentence, actor) unit and write one table",
                       description="Analyse a corpus and write the mentions table as .csv, .jsonl or .parquet.")
    p.add_argument("corpus", nargs="*", type=Path, help="files or folders (default: bundled sample corpus)")
    p.add_argument("--out", type=Path, required=True, help="output file: .csv, .jsonl or .parquet; with --out-format parquet "
                   "a folder")
    p.add_argument("--out-format", choices=("parquet",), help="parquet: write --out as a partitioned Parquet dataset "
                   "(mentions/ and articles/ part by part as the run goes, the aggregates as CSV, dataset.json), for archives")
    p.add_argument("--resume", action="store_true", help="with --out-format parquet: continue an interrupted run of the same "
                   "command, scoring only the parts it had not written (the final tables are identical)")
    p.add_argument("--part-items", type=_positive_int, default=None, metavar="N",
                   help="with --out-format parquet: input items per part (default 1000)")
    p.add_argument("--engine", choices=("local", "dask"), default="local",
                   help="local (default): this machine, --jobs processes; dask: a Dask cluster (pip install 'stance[dask]'), "
                        "with --out-format parquet")
    p.add_argument("--scheduler", metavar="ADDRESS", help="with --engine dask: the scheduler to use (tcp://host:8786); "
                   "default: start a local cluster of --workers processes")
    p.add_argument("--workers", type=_positive_int, default=2, metavar="N",
                   help="with --engine dask and no --scheduler: worker processes of the local cluster (default 2)")
    _add_reading_args(p)
    _add_model_args(p)
    _add_common(p)

    p = sub.add_parser("plot", help="redraw every plot from a saved mentions.csv",
                       description="Redraw the four plots from a mentions table written by `stance report` or `stance analyze`.")
    p.add_argument("mentions", type=Path, help="mentions.csv (or .jsonl/.parquet, or the folder of `stance analyze --out-format parquet`)")
    p.add_argument("--out", type=Path, help="output folder for the plots, replaced as a whole "
                                            "(default: a 'plots' folder next to the mentions table)")
    p.add_argument("--min-mentions", type=int, default=3, help="leave actors with fewer units out of the plots (default 3)")
    p.add_argument("--freq", choices=("day", "week", "month"), default="day", help="period of the timeline (default day)")
    _add_common(p)

    p = sub.add_parser("actors", help="list the actor registry", description="List actor ids, names, aliases and dated roles.")
    p.add_argument("--actors", type=Path, help="registry file to list (extends the default unless replace = true)")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    _add_common(p)

    p = sub.add_parser("explain", help="score one sentence toward a target and show the features that decided it",
                       description="Stance toward TARGET (its first occurrence in SENTENCE, ignoring case) with the top "
                                   "weighted features.")
    p.add_argument("sentence", help="the sentence to score, in quotes")
    p.add_argument("target", help="text of the target span, e.g. 'Putin' (matched ignoring case)")
    p.add_argument("--model", type=Path, help="model folder (default: the packaged German model)")
    p.add_argument("--top", type=int, default=12, help="number of features to show (default 12)")
    _add_common(p)

    p = sub.add_parser("train", help="fit the stance and sentiment models and save them",
                       description="Validate the labelled data, report grouped cross-validation and development-split "
                                   "metrics, fit both models and save them (model.npz + model.json).")
    p.add_argument("--data", type=Path, nargs="+", required=True, help="labelled JSONL files or folders (e.g. training/data)")
    p.add_argument("--out", type=Path, required=True, help="model folder to write")
    p.add_argument("--config", type=Path, help="TOML config ([model], [data] and [corpora] tables), e.g. training/config.toml")
    p.add_argument("--no-eval", action="store_true", help="skip the development-split metrics")
    p.add_argument("--cv", action="store_true", help="also cross-validate on the sample gold (secondary figure; slower)")
    p.add_argument("--add", type=Path, metavar="SHEET", help="a coding sheet (.csv or .jsonl, written by `stance sample`) whose coded "
                   "units join the training data; prints and saves how the model does on them before and after "
                   "(cross-validated, grouped by article)")
    p.add_argument("--add-source", default="user", metavar="NAME", help="source name of the added units (default: user)")
    p.add_argument("--add-weight", type=float, metavar="W", help="sample weight of the added units "
                   "(default: user_weight in [data], 3.0 like the news units)")
    p.add_argument("--add-cv-folds", type=int, metavar="K", help="folds of the before/after cross-validation on the added "
                   "units (at least 2; default: cv_folds in [data], 5; fewer when there are fewer articles; 0 = none, faster)")
    p.add_argument("--actors", type=Path, help="actor registry TOML/JSON (extends the default unless replace = true) that the "
                   "labelled units' actors come from; give the same file to `stance report` with this model")
    _add_language_arg(p, "the language pack the models are built in (spaCy pipeline, actor registry, lexicon, cue and frame "
                         "words), recorded in model.json")
    _add_training_jobs_arg(p)
    _add_corpora_args(p)
    _add_common(p)

    p = sub.add_parser("evaluate", help="evaluate a model on labelled data",
                       description="Print macro-F1, per-class precision/recall/F1, accuracy and the confusion matrix; "
                                   "write them as JSON and a confusion-matrix PNG.")
    p.add_argument("--model", type=Path, help="model folder (default: packaged model)")
    p.add_argument("--data", type=Path, nargs="+", required=True, help="labelled JSONL files")
    p.add_argument("--split", choices=("all", "dev", "train"), default="all", help="only records of this split (news and GerNTSA records carry one)")
    p.add_argument("--task", choices=("stance", "sentiment"), default="stance", help="which model to evaluate (default stance)")
    p.add_argument("--out", type=Path, default=Path("reports/evaluation"), help="folder for metrics.json and confusion.png")
    p.add_argument("--config", type=Path, help="TOML config whose [corpora] table gives the external corpora")
    p.add_argument("--actors", type=Path, help="actor registry TOML/JSON that the labelled units' actors come from "
                   "(extends the default unless replace = true)")
    _add_corpora_args(p)
    _add_common(p)

    p = sub.add_parser("model-report", help="write reports/model: final models vs. baselines, per actor, features",
                       description="Cross-validated and development-split results of the final models side by side with "
                                   "the baselines, per-actor results, confusion matrix and top features.")
    p.add_argument("--data", type=Path, nargs="+", default=[Path("training/data")],
                   help="labelled JSONL files or folders (default: training/data)")
    p.add_argument("--config", type=Path, default=None, help="TOML config ([model], [data] and [corpora] tables)")
    p.add_argument("--out", type=Path, default=Path("reports/model"), help="output folder (default: reports/model)")
    p.add_argument("--actors", type=Path, help="actor registry TOML/JSON that the labelled units' actors come from "
                   "(extends the default unless replace = true)")
    _add_language_arg(p, "the language pack the compared models are built in")
    _add_training_jobs_arg(p)
    _add_corpora_args(p)
    _add_common(p)

    p = sub.add_parser("sample", help="draw units for hand coding into a coding sheet (for `stance validate`)",
                       description="Draw (sentence, actor) units of a corpus analysis, or of a saved mentions table, into a "
                                   "coding sheet for hand coding: the target is marked as [[...]], one sentence of context on "
                                   "each side, empty stance/sentiment/note cells. The model's labels go into a key file beside "
                                   "the sheet (<stem>.key.jsonl), not into the sheet; the key also names the model "
                                   "(model_path, model_sha256), the sheet and the draw settings.")
    p.add_argument("corpus", nargs="*", type=Path, help="files or folders (default: bundled sample corpus); with --mentions "
                   "they are only read for the context sentences")
    p.add_argument("--out", type=Path, required=True, help="the coding sheet: .csv (UTF-8 with BOM, for Excel/LibreOffice) or "
                   ".jsonl; the key file <stem>.key.jsonl is written beside it")
    p.add_argument("--n", type=int, default=300, help="units to draw (default 300; all units if there are fewer)")
    p.add_argument("--by", choices=("actor", "source", "date"), help="stratify by actor, source or month of the date: "
                   "at least one unit per stratum when --n allows, the rest in proportion to the strata's sizes")
    p.add_argument("--seed", type=int, default=RANDOM_STATE, help=f"seed of the draw; the same input and seed give the same "
                   f"sheet (default {RANDOM_STATE})")
    p.add_argument("--uncertain", type=float, default=0.0, metavar="Q", help="share of --n taken from the units with the "
                   "lowest maximum stance probability (default 0: none)")
    p.add_argument("--mentions", type=Path, help="draw from a saved mentions table (mentions.csv of `stance report`, or .jsonl/"
                   ".parquet) instead of analysing the corpus; context cells stay empty unless a corpus is given too")
    p.add_argument("--force", action="store_true", help="replace --out even if it already holds coded rows, or its key "
                   "file <stem>.key.jsonl belongs to another sheet (coding.csv and coding.jsonl share coding.key.jsonl)")
    _add_reading_args(p)
    _add_model_args(p)
    _add_common(p)

    p = sub.add_parser("validate", help="compare a hand-coded sheet with the model (and a second coder)",
                       description="Macro-F1, accuracy, per-class precision/recall/F1, confusion matrix, Krippendorff's "
                                   "alpha and Cohen's kappa of the model against the coder, for stance and sentiment; mean "
                                   "stance per actor and per source with article-bootstrap intervals; with --coder2 the "
                                   "inter-coder agreement. Writes validation.json, validation.md and confusion plots.")
    p.add_argument("sheet", type=Path, help="the coded sheet (.csv or .jsonl) written by `stance sample`")
    p.add_argument("--key", type=Path, help="the key file with the model's labels (default: <sheet stem>.key.jsonl beside "
                   "the sheet)")
    p.add_argument("--coder2", type=Path, help="a second coder's copy of the sheet, matched by unit_id")
    p.add_argument("--out", type=Path, help="output folder, replaced as a whole (default: <sheet stem>_validation beside "
                   "the sheet)")
    p.add_argument("--seed", type=int, default=RANDOM_STATE, help=f"seed of the article bootstrap (default {RANDOM_STATE})")
    p.add_argument("--bootstrap", type=int, default=1000, help="bootstrap resamples for the per-group intervals (default 1000)")
    _add_common(p)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``stance`` command; return the exit code."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return int(exc.code or 0) if isinstance(exc.code, int) else EXIT_USAGE
    _setup_logging(args.verbose)
    handler = globals()[f"cmd_{args.command.replace('-', '_')}"]
    previous = _interrupt_on_sigterm()
    try:
        return int(handler(args))
    except StanceError as exc:
        if args.verbose:
            log.exception("failed")
        print(f"{type(exc).__name__}: {safe_text(exc)}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as exc:  # an internal error: report it, with traceback under --verbose
        if args.verbose:
            log.exception("internal error")
        print(f"internal error: {type(exc).__name__}: {safe_text(exc)} (run with --verbose for the traceback)", file=sys.stderr)
        return EXIT_INTERNAL
    finally:
        _restore_sigterm(previous)


def safe_text(text: object) -> str:
    r"""Text for the terminal: control characters escaped line by line (line breaks kept).

    Examples
    --------
    >>> print(safe_text("first\n\x1b[31msecond"))
    first
    \x1b[31msecond
    """
    return "\n".join(escape_control(line) for line in str(text).split("\n"))


class _SafeFormatter(logging.Formatter):
    """Log records with control characters escaped (messages may quote the input)."""

    def format(self, record: logging.LogRecord) -> str:
        return safe_text(super().format(record))


def _setup_logging(verbose: bool) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(_SafeFormatter("%(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=logging.DEBUG if verbose else logging.WARNING, handlers=[handler])


def _raise_interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def _interrupt_on_sigterm() -> Any:
    """Treat SIGTERM like Ctrl-C, so atomic writes remove their temporary files."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        return None
    return signal.signal(signal.SIGTERM, _raise_interrupt)


def _restore_sigterm(previous: Any) -> None:
    import signal

    if previous is not None:
        signal.signal(signal.SIGTERM, previous)


def _check_inputs(paths: Sequence[Path]) -> None:
    missing = [str(p) for p in paths if not p.exists()]
    if missing and len(missing) == len(paths):
        raise InputFormatError(f"{', '.join(missing)}: no such file or folder")


def _check_not_inside(inputs: Sequence[Path], out: Path) -> None:
    """Refuse an input that is ``out`` or inside it: the output is replaced as a whole."""
    target = out.resolve()
    for path in inputs:
        resolved = path.resolve()
        if resolved == target or target in resolved.parents:
            raise InputFormatError(f"input {path} is inside --out {out}, which is replaced as a whole; "
                                   "choose an --out outside the inputs")


def _ingest_config(args: argparse.Namespace, exclude: Sequence[Path]) -> Any:
    """Reading options: duplicate handling, and the output paths the reader must skip."""
    from .config import IngestConfig

    return IngestConfig(exclude=tuple(str(p.resolve()) for p in exclude), duplicates=args.duplicates)


def _analyze(args: argparse.Namespace, exclude: Sequence[Path] = ()) -> Any:
    from .pipeline import analyze_corpus
    from .scoring import load

    _check_inputs(args.corpus)
    analyzer = load(args.model, actors=args.actors)
    _warn_registry_mismatch(analyzer.metadata, args.actors)
    bar = None
    if not args.quiet and sys.stderr.isatty():
        from tqdm import tqdm

        bar = tqdm(desc="articles", unit=" art", file=sys.stderr)
    try:
        result = analyze_corpus(*args.corpus, analyzer=analyzer, jobs=args.jobs, ingest=_ingest_config(args, exclude),
                                check_language=not args.any_language, extra_columns_in_mentions=args.extra_columns,
                                progress=bar.update if bar is not None else None)
    finally:
        if bar is not None:  # ``if bar`` raises TypeError: a bar without a total has no truth value
            bar.close()
    return result, analyzer


def _warn_registry_mismatch(metadata: dict[str, Any], actors: Path | None) -> None:
    """Warn when a model trained with a registry of the user's own is used without ``--actors``."""
    from .actors import DEFAULT_REGISTRY_SOURCE

    trained_with = str(metadata.get("trained_on", {}).get("actors") or "")
    if actors is None and trained_with and trained_with != DEFAULT_REGISTRY_SOURCE:
        log.warning("this model was trained with the actor registry %s; without --actors only the default actors are "
                    "found (pass --actors with that file to find the others)", trained_with)


def _summary(result: Any, seconds: float, out: Path) -> str:
    """The one-screen summary; everything from the input in it has control characters escaped."""
    status = result.articles["status"].value_counts()
    lines = [
        f"stance: {int(status.get('ok', 0))} articles analysed, {int(status.get('duplicate', 0))} duplicate(s), "
        f"{int(status.get('skipped', 0))} skipped; {len(result.mentions)} units in {seconds:.1f} s -> {escape_control(out)}",
    ]
    if len(result.mentions):
        from .aggregates import top_actors

        scores = result.mentions.groupby("actor")["stance_score"].agg(["size", "mean"])
        top = scores.loc[top_actors(result.mentions, n=5, min_mentions=1)]
        lines.append("  top actors: " + ", ".join(f"{escape_control(a)} {int(r['size'])} units (mean {r['mean']:+.2f})"
                                                 for a, r in top.iterrows()))
    lines += _listed("warning", [str(w) for w in result.warnings])
    lines += _listed("skipped", [str(s) for s in result.skipped])
    return "\n".join(lines)


SUMMARY_LINES = 20  # warnings (and skips) listed in the terminal summary; report.md and articles.csv have all


def _listed(label: str, items: Sequence[str]) -> list[str]:
    """At most :data:`SUMMARY_LINES` items, escaped, then how many more there are."""
    lines = [f"  {label}: {escape_control(item)}" for item in items[:SUMMARY_LINES]]
    if len(items) > SUMMARY_LINES:
        lines.append(f"  ... and {len(items) - SUMMARY_LINES} more {label} line(s) (all in articles.csv)")
    return lines


def _nothing_read(result: Any, args: argparse.Namespace, out: Path, started: float) -> int | None:
    """Exit 2 with the reason when not one article could be analysed (the output is not written)."""
    if result.analysed_count:
        return None
    if not args.quiet:
        print(_summary(result, time.perf_counter() - started, out))
    if len(result.articles) and not args.quiet:
        why = "no input could be analysed (every file or row was skipped; reasons above)"
    elif len(result.articles):  # quiet: no summary above, so the first reasons go into the message
        reasons = "; ".join(str(s) for s in result.skipped[:3])
        more = f"; and {len(result.skipped) - 3} more" if len(result.skipped) > 3 else ""
        why = f"no input could be analysed (every file or row was skipped: {reasons}{more})"
    else:
        from .config import IngestConfig

        where = ", ".join(str(p) for p in args.corpus) or "the input"
        why = (f"no input files found in {where} (empty, unreadable, or no file of the types "
               f"{', '.join(IngestConfig().suffixes)})")
    print(f"InputFormatError: {escape_control(why)}; {escape_control(out)} was not written", file=sys.stderr)
    return EXIT_USAGE


def _finish(result: Any, started: float, out: Path, quiet: bool) -> int:
    if not quiet:
        print(_summary(result, time.perf_counter() - started, out))
    return EXIT_OK


def _interrupted(out: Path, committed: bool) -> int:
    """Say truthfully what an interrupt left behind."""
    if committed:
        print(f"interrupted after the new output was complete in {escape_control(out)}", file=sys.stderr)
    else:
        print(f"interrupted; {escape_control(out)} is unchanged (the unfinished new output was removed)", file=sys.stderr)
    return EXIT_INTERRUPTED


def _write_step(out: Path, write: Callable[[], object]) -> int | None:
    """Run the writing; a write error (disk full, permissions) exits 2 with a true message.

    The writing is staged (or one atomic file), so on such an error the previous output stays.
    """
    try:
        write()
    except OSError as exc:
        if isinstance(exc, StanceError):
            raise
        print(f"OutputFolderError: cannot write {escape_control(out)}: {escape_control(exc.strerror or exc)}; "
              "the previous output is unchanged", file=sys.stderr)
        return EXIT_USAGE
    return None


def cmd_report(args: argparse.Namespace) -> int:
    """``stance report``: lock and check ``--out``, analyse, write a staged folder, swap it in."""
    from .config import ReportConfig
    from .io import StagedFolder, output_lock
    from .report import REPORT_FILES, write_report

    if args.min_mentions < 1:
        raise InputFormatError(f"--min-mentions must be >= 1, got {args.min_mentions}")
    out: Path = args.out
    _check_not_inside(args.corpus, out)
    validation = _read_validation(args.validation) if args.validation is not None else None
    started = time.perf_counter()
    with output_lock(out) as lock, StagedFolder(out, REPORT_FILES, kind="report") as staged:
        try:
            result, analyzer = _analyze(args, exclude=(out, lock, staged.path))
            failed = _nothing_read(result, args, out, started)
            if failed is not None:
                return failed
            info = {"path": args.model or "packaged default", "version": analyzer.metadata.get("versions", {}).get("stance"),
                    "rows": analyzer.metadata.get("trained_on", {}).get("stance_rows"), "metrics": analyzer.metadata.get("metrics"),
                    "model_sha256": analyzer.metadata.get("model_sha256")}
            config = ReportConfig(min_mentions=args.min_mentions, freq=args.freq)
            failed = _write_step(out, lambda: write_report(result, staged, config=config, freq=args.freq, model_info=info,
                                                           validation=validation))
        except KeyboardInterrupt:
            return _interrupted(out, staged.committed)
    return failed if failed is not None else _finish(result, started, out, args.quiet)


def _read_validation(path: Path) -> dict[str, Any]:
    """The parsed ``validation.json`` of ``stance validate``; a missing or malformed file is an InputFormatError."""
    if not path.is_file():
        raise InputFormatError(f"--validation {path}: no such file (write one with `stance validate`)")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise InputFormatError(f"--validation {path}: not a JSON file: {exc}") from exc
    if not isinstance(data, dict):
        raise InputFormatError(f"--validation {path}: expected a JSON object as `stance validate` writes, got {type(data).__name__}")
    return data


def cmd_analyze(args: argparse.Namespace) -> int:
    """``stance analyze``: lock and check ``--out``, analyse, write the table atomically."""
    from .io import clean_stale_temp_files, output_lock
    from .tables import write_mentions

    out: Path = args.out
    _check_dataset_args(args)
    if args.out_format == "parquet":
        return _analyze_archive(args)
    if out.suffix.lower() not in (".csv", ".jsonl", ".parquet"):
        raise InputFormatError(f"--out {out}: expected a .csv, .jsonl or .parquet file")
    if out.is_dir():
        raise InputFormatError(f"--out {out}: is a folder; expected a .csv, .jsonl or .parquet file")
    _check_not_inside(args.corpus, out)
    started = time.perf_counter()
    written = False
    with output_lock(out) as lock:
        clean_stale_temp_files(out)
        try:
            result, _ = _analyze(args, exclude=(out, lock))
            failed = _nothing_read(result, args, out, started)
            if failed is not None:
                return failed
            failed = _write_step(out, lambda: write_mentions(result.mentions, out))
            written = failed is None
        except KeyboardInterrupt:
            return _interrupted(out, written)
    return failed if failed is not None else _finish(result, started, out, args.quiet)


def _analyze_archive(args: argparse.Namespace) -> int:
    """``stance analyze --out-format parquet``: a Parquet dataset folder, part by part, resumable."""
    from .archive import analyze_archive
    from .io import lock_path, partial_path
    from .scoring import load
    from .tables import PART_ITEMS

    out: Path = args.out
    _check_inputs(args.corpus)
    _check_not_inside(args.corpus, out)
    analyzer = load(args.model, actors=args.actors)
    _warn_registry_mismatch(analyzer.metadata, args.actors)
    if args.engine == "dask" and not args.verbose:  # Dask logs every worker start and stop at INFO
        try:
            import distributed  # noqa: F401 - its import sets its loggers' levels; ours must come after
        except ImportError:
            pass
        logging.getLogger("distributed").setLevel(logging.WARNING)
    bar = None
    if not args.quiet and sys.stderr.isatty() and args.engine == "local":
        from tqdm import tqdm

        bar = tqdm(desc="items", unit=" item", file=sys.stderr)
    try:
        run = analyze_archive(args.corpus, out, analyzer=analyzer, jobs=args.jobs,
                              ingest=_ingest_config(args, (out, lock_path(out), partial_path(out.resolve() if out.is_symlink() else out))),
                              check_language=not args.any_language, part_items=args.part_items or PART_ITEMS,
                              resume=args.resume, engine=args.engine, scheduler=args.scheduler, workers=args.workers,
                              actors_file=args.actors, progress=bar.update if bar is not None else None)
    except KeyboardInterrupt:
        print(f"interrupted; {escape_control(out)} is unchanged; the parts written so far are kept: run the same command "
              "with --resume to continue", file=sys.stderr)
        return EXIT_INTERRUPTED
    finally:
        if bar is not None:
            bar.close()
    if not args.quiet:
        status = run.status
        resumed = f" ({run.resumed_parts} part(s) from the interrupted run)" if run.resumed_parts else ""
        lines = [f"stance: {status.get('ok', 0)} articles analysed, {status.get('duplicate', 0)} duplicate(s), "
                 f"{status.get('skipped', 0)} skipped; {run.units} units in {run.parts} part(s){resumed}, "
                 f"{run.seconds:.1f} s -> {escape_control(out)}"]
        lines += _listed("warning", list(run.warnings)) + _listed("skipped", list(run.skipped))
        print("\n".join(lines))
    return EXIT_OK


def _check_dataset_args(args: argparse.Namespace) -> None:
    """Options that only a Parquet dataset run takes."""
    if args.out_format != "parquet":
        given = [flag for flag, on in (("--resume", args.resume), ("--part-items", args.part_items is not None),
                                       ("--engine dask", args.engine == "dask")) if on]
        if given:
            raise InputFormatError(f"{', '.join(given)}: only with --out-format parquet (a dataset folder written part by part)")
    if args.engine != "dask" and args.scheduler:
        raise InputFormatError("--scheduler: only with --engine dask")


def _read_mentions(path: Path, *, sentences: bool = True) -> Any:
    from .tables import read_mentions

    return read_mentions(path, sentences=sentences)


def _implausible_next_to(mentions: Path) -> frozenset[str]:
    """Ids of articles with an implausible date, from the articles table next to a mentions table (if there is one)."""
    from .report import implausible_articles
    from .tables import read_article_warnings

    try:
        articles = read_article_warnings(mentions)
    except Exception:  # noqa: BLE001 - no readable articles table: every date is drawn as written
        log.debug("cannot read the articles next to %s; implausible dates are drawn as written", mentions, exc_info=True)
        return frozenset()
    return implausible_articles(articles) if articles is not None else frozenset()


def cmd_plot(args: argparse.Namespace) -> int:
    """``stance plot``: redraw the plots into ``--out`` (default: ``plots`` next to the table, or inside a dataset folder),
    replaced as a whole."""
    from .config import ReportConfig
    from .io import StagedFolder, output_lock
    from .report import PLOT_FILES, draw_plots

    path: Path = args.mentions
    out: Path = args.out if args.out is not None else (path if path.is_dir() else path.parent) / "plots"
    _check_not_inside([path], out)
    frame = _read_mentions(path, sentences=False)
    implausible = _implausible_next_to(path)
    with output_lock(out), StagedFolder(out, PLOT_FILES, kind="plots") as staged:
        written: list[Path] = []

        def draw() -> None:
            written.extend(draw_plots(frame, staged.path, ReportConfig(min_mentions=args.min_mentions), args.freq,
                                      implausible=implausible))
            staged.commit()

        try:
            failed = _write_step(out, draw)
        except KeyboardInterrupt:
            return _interrupted(out, staged.committed)
    if failed is None and not args.quiet:
        print(f"stance: {len(written)} plot files -> {escape_control(out)}")
    return failed if failed is not None else EXIT_OK


def cmd_actors(args: argparse.Namespace) -> int:
    """``stance actors``."""
    from .actors import load_actors, registry_as_rows

    rows = registry_as_rows(load_actors(args.actors))
    if args.json:
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return EXIT_OK
    for row in rows:
        print(escape_control(f"{row['id']:<14} {row['name']:<28} {row['aliases']}"))
        if row["roles"]:
            print(escape_control(f"{'':<14} roles: {row['roles']}"))
    print(f"{len(rows)} actors")
    return EXIT_OK


def cmd_explain(args: argparse.Namespace) -> int:
    """``stance explain``."""
    import re

    from .scoring import load

    found = re.search(re.escape(args.target), args.sentence, flags=re.IGNORECASE) if args.target else None
    if found is None:
        raise InputFormatError(f"target {args.target!r} does not occur in the sentence (compared ignoring case)")
    start, end = found.span()
    analyzer = load(args.model)
    print(safe_text(f"target: {found.group()!r} at characters {start}-{end}"))
    print(safe_text(analyzer.explain(args.sentence, start, end, top=args.top)))
    return EXIT_OK


def cmd_train(args: argparse.Namespace) -> int:
    """``stance train``."""
    from .actors import load_actors
    from .config import load_data_policy, load_model_config
    from .training import format_user_cv, train

    if args.add is None and (args.add_weight is not None or args.add_cv_folds is not None):
        raise InputFormatError("--add-weight and --add-cv-folds need --add SHEET")
    if args.add_weight is not None and not args.add_weight >= 0:
        raise InputFormatError(f"--add-weight must be a non-negative number, got {args.add_weight}")
    if args.add_cv_folds is not None and (args.add_cv_folds < 0 or args.add_cv_folds == 1):
        raise InputFormatError(f"--add-cv-folds must be 0 (no before/after figures) or at least 2 folds, got {args.add_cv_folds}")
    meta = train(args.data, args.out, config=load_model_config(args.config), policy=load_data_policy(args.config),
                 registry=load_actors(args.actors, language=args.language), evaluate=not args.no_eval, cv=args.cv,
                 corpora=_corpora(args), add=args.add, add_source=args.add_source, add_weight=args.add_weight,
                 add_cv_folds=args.add_cv_folds, language=args.language, n_jobs=args.jobs)
    if not args.quiet:
        print(f"stance: trained on {meta['trained_on']['stance_rows']} stance / {meta['trained_on']['sentiment_rows']} "
              f"sentiment units in {meta['train_seconds']} s -> {args.out}")
        added = meta["trained_on"].get("added")
        if added:
            print(safe_text(f"  added {added['units']} coded units from {added['file']} ({added['uncoded_rows']} row(s) without a stance skipped)"))
            if added.get("replaced_data_units"):
                print(f"  warning: {added['replaced_data_units']} added unit(s) repeat a --data unit (same sentence and actor); "
                      "the model learns your label and leaves the --data copy out")
        for name, result in meta["metrics"].items():
            if "macro_f1" in result and "_user_cv_" not in name:
                print(f"  {name:<22} macro-F1 {result['macro_f1']:.3f}  accuracy {result['accuracy']:.3f}  (n={result['n']})")
        user_cv = format_user_cv(meta["metrics"])
        if user_cv:
            print(safe_text(user_cv))
    return EXIT_OK


def cmd_evaluate(args: argparse.Namespace) -> int:
    """``stance evaluate``."""
    from .training import evaluate_model_on

    report = evaluate_model_on(args.model, args.data, split=args.split, task=args.task, out=args.out, corpora=_corpora(args),
                               actors=args.actors)
    if not args.quiet:
        print(report)
    return EXIT_OK


def cmd_model_report(args: argparse.Namespace) -> int:
    """``stance model-report``."""
    from .config import load_data_policy, load_model_config
    from .training import write_model_report

    path = write_model_report(args.data, args.out, config=load_model_config(args.config), policy=load_data_policy(args.config),
                              corpora=_corpora(args), actors=args.actors, n_jobs=args.jobs, language=args.language)
    if not args.quiet:
        print(f"stance: model report -> {path}")
    return EXIT_OK



def _check_sheet_replaceable(out: Path, force: bool) -> None:
    """Refuse, unless ``--force``, to overwrite a sheet that holds coded rows (or is not a coding sheet), and to
    overwrite a key file that another sheet wrote (``coding.csv`` and ``coding.jsonl`` share ``coding.key.jsonl``).

    A key is taken as the sheet's own when the sheet exists and the key's records name it (``sheet``) or, in a key
    from before ``sheet`` was recorded, name no sheet; a key without its sheet belongs to another (or a deleted) sheet.
    """
    from .coding import key_path, read_coding_sheet, read_key
    from .errors import CodingSheetError

    if force:
        return
    key = key_path(out)
    if key.exists():
        try:
            names = {record.get("sheet") for record in read_key(key).values()}
        except CodingSheetError:
            names = {"?"}
        if not out.exists() or names - {None, out.name}:
            others = sorted(str(n) for n in names if n and n != out.name)
            owner = f"belongs to {', '.join(others)}" if others else "has no sheet beside it (was the sheet deleted?)"
            raise CodingSheetError(f"--out {out}: the key file {key} already exists and {owner}; a new sample would "
                                   "replace the model's labels in it. Choose another --out or pass --force")
    if not out.exists():
        return
    try:
        coded = sum(unit.coded for unit in read_coding_sheet(out))
    except CodingSheetError as exc:
        raise CodingSheetError(f"--out {out} exists and is not a readable coding sheet ({exc}); choose another --out "
                               "or pass --force to replace it") from exc
    if coded:
        raise CodingSheetError(f"--out {out} already holds {coded} coded row(s), which a new sample would replace; "
                               "choose another --out or pass --force")


def cmd_sample(args: argparse.Namespace) -> int:
    """``stance sample``: analyse (or read a mentions table), draw units, write the sheet and its key."""
    from collections import Counter

    from .coding import corpus_sentences, draw_sample, key_path, locate_targets, restore_text_cells, write_coding_sheet
    from .io import clean_stale_temp_files, output_lock

    out: Path = args.out
    if out.suffix.lower() not in (".csv", ".jsonl"):
        raise InputFormatError(f"--out {out}: expected a .csv or .jsonl file")
    if out.is_dir():
        raise InputFormatError(f"--out {out}: is a folder; expected a .csv or .jsonl file")
    if args.n < 1:
        raise InputFormatError(f"--n must be >= 1, got {args.n}")
    if not 0.0 <= args.uncertain <= 1.0:
        raise InputFormatError(f"--uncertain must be a share between 0 and 1, got {args.uncertain}")
    key = key_path(out)
    _check_sheet_replaceable(out, args.force)
    started = time.perf_counter()
    with output_lock(out) as lock:
        for path in (out, key):
            clean_stale_temp_files(path)
        exclude = (out, key, lock)
        registry, language = None, None
        if args.mentions is not None:
            frame = _read_mentions(args.mentions)
            if args.mentions.suffix.lower() not in (".jsonl", ".parquet"):
                frame = restore_text_cells(frame)
        else:
            result, analyzer = _analyze(args, exclude=exclude)
            failed = _nothing_read(result, args, out, started)
            if failed is not None:
                return failed
            frame, registry, language = result.mentions, analyzer.registry, analyzer.language
        sample = draw_sample(frame, args.n, by=args.by, seed=args.seed, uncertain=args.uncertain)
        model = None
        if args.mentions is None:
            version = analyzer.metadata.get("versions", {}).get("stance")
            model = {"path": str(analyzer.model_path) if args.model is not None else f"packaged default (stance {version})",
                     "sha256": analyzer.metadata.get("model_sha256")}
        else:
            log.warning("drawn from the saved mentions table %s: the key cannot name the model that scored it, so a "
                        "report cannot match the validation to its model", args.mentions)
        sentences = None
        if args.mentions is None or args.corpus:
            if args.corpus:
                _check_inputs(args.corpus)
            sentences = corpus_sentences(*args.corpus, article_ids=set(sample["article_id"].astype(str)),
                                         ingest=_ingest_config(args, exclude), registry=registry, language=language)
        else:
            log.warning("drawn from %s without the corpus: the context_before/context_after cells are empty "
                        "(give the corpus files too to fill them)", args.mentions)
        sample = locate_targets(sample, sentences)
        failed = _write_step(out, lambda: write_coding_sheet(sample, out, model=model))
    if failed is not None:
        return failed
    if not args.quiet:
        draws = Counter(sample["draw"])
        how = ", ".join(f"{count} {name}" for name, count in sorted(draws.items()))
        print(f"stance: {len(sample)} of {len(frame)} units drawn ({how}; seed {args.seed}) in "
              f"{time.perf_counter() - started:.1f} s -> {escape_control(out)} (key: {escape_control(key)})")
        if args.by:
            strata = Counter(sample.loc[sample["draw"] == "stratified", "stratum"])
            print("  per " + args.by + ": " + escape_control(", ".join(f"{name or '(none)'} {count}"
                                                                      for name, count in sorted(strata.items()))))
    return EXIT_OK


def cmd_validate(args: argparse.Namespace) -> int:
    """``stance validate``: compare the coded sheet with the key (and a second coder), write the folder."""
    from .validation import render_summary, validate, write_validation

    sheet: Path = args.sheet
    out: Path = args.out if args.out is not None else sheet.parent / f"{sheet.stem}_validation"
    if args.bootstrap < 1:
        raise InputFormatError(f"--bootstrap must be >= 1, got {args.bootstrap}")
    _check_not_inside([p for p in (sheet, args.key, args.coder2) if p is not None], out)
    result = validate(sheet, key=args.key, coder2=args.coder2, seed=args.seed, samples=args.bootstrap)
    failed = _write_step(out, lambda: write_validation(result, out))
    if failed is not None:
        return failed
    if not args.quiet:
        print(safe_text(render_summary(result)).rstrip())
        print(f"\nstance: validation of {result['n_units']} coded units -> {escape_control(out)}")
    return EXIT_OK

if __name__ == "__main__":
    raise SystemExit(main())
