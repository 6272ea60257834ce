"""The ``stance`` command: a thin layer over the library.

Exit codes: 0 success, 2 bad usage or bad input, 1 internal error. User errors print one
line (``ErrorType: message``) without a traceback unless ``--verbose`` is given.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from . import __version__
from .errors import InputFormatError, StanceError

EXIT_OK, EXIT_INTERNAL, EXIT_USAGE = 0, 1, 2
log = logging.getLogger("stance.cli")


def _add_common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging and tracebacks")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress bar or summary")


def _add_model_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", type=Path, help="model folder (default: the packaged German model)")
    parser.add_argument("--actors", type=Path, help="actor registry TOML/JSON that extends (or, with replace = true, replaces) the default")
    parser.add_argument("--jobs", type=int, default=0, help="worker processes (default 0 = all cores)")


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
    parser.add_argument("--version", action="version", version=f"stance {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    p = sub.add_parser("report", help="analyse a corpus and write tables, plots and report.md",
                       description="Analyse a corpus (default: the bundled sample) and write mentions.csv, articles.csv, "
                                   "by_article.csv, by_date.csv, by_actor.csv, by_source.csv, four plots (PNG+SVG) and report.md.")
    p.add_argument("corpus", nargs="*", type=Path, help="files or folders (default: bundled sample corpus)")
    p.add_argument("--out", type=Path, default=Path("reports"), help="output folder (default: reports/)")
    p.add_argument("--min-mentions", type=int, default=3, help="leave actors with fewer units out of the plots (default 3)")
    p.add_argument("--freq", choices=("day", "week", "month"), default="day", help="period of by_date.csv and the timeline")
    _add_model_args(p)
    _add_common(p)

    p = sub.add_parser("analyze", help="score every (sentence, actor) unit and write one table",
                       description="Analyse a corpus and write the mentions table as .csv, .jsonl or .parquet.")
    p.add_argument("corpus", nargs="*", type=Path, help="files or folders (default: bundled sample corpus)")
    p.add_argument("--out", type=Path, required=True, help="output file: .csv, .jsonl or .parquet")
    _add_model_args(p)
    _add_common(p)

    p = sub.add_parser("plot", help="redraw every plot from a saved mentions.csv",
                       description="Redraw the four plots from a mentions table written by `stance report` or `stance analyze`.")
    p.add_argument("mentions", type=Path, help="mentions.csv (or .jsonl/.parquet)")
    p.add_argument("--out", type=Path, default=Path("reports"), help="output folder (default: reports/)")
    p.add_argument("--min-mentions", type=int, default=3)
    p.add_argument("--freq", choices=("day", "week", "month"), default="day")
    _add_common(p)

    p = sub.add_parser("actors", help="list the actor registry", description="List actor ids, names, aliases and dated roles.")
    p.add_argument("--actors", type=Path, help="registry file to list (extends the default unless replace = true)")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    _add_common(p)

    p = sub.add_parser("explain", help="score one sentence toward a target and show the features that decided it",
                       description="Stance toward TARGET (its first occurrence in SENTENCE) with the top weighted features.")
    p.add_argument("sentence")
    p.add_argument("target", help="text of the target span, e.g. 'Putin'")
    p.add_argument("--model", type=Path)
    p.add_argument("--top", type=int, default=12)
    _add_common(p)

    p = sub.add_parser("train", help="fit the stance and sentiment models and save them",
                       description="Validate the labelled data, report grouped cross-validation and development-split "
                                   "metrics, fit both models and save them (model.npz + model.json).")
    p.add_argument("--data", type=Path, nargs="+", required=True, help="labelled JSONL files or folders (e.g. training/data)")
    p.add_argument("--out", type=Path, required=True, help="model folder to write")
    p.add_argument("--config", type=Path, help="TOML config ([model], [data] and [corpora] tables), e.g. training/config.toml")
    p.add_argument("--no-eval", action="store_true", help="skip the development-split metrics")
    p.add_argument("--cv", action="store_true", help="also cross-validate on the sample gold (secondary figure; slower)")
    _add_corpora_args(p)
    _add_common(p)

    p = sub.add_parser("evaluate", help="evaluate a model on labelled data",
                       description="Print macro-F1, per-class precision/recall/F1, accuracy and the confusion matrix; "
                                   "write them as JSON and a confusion-matrix PNG.")
    p.add_argument("--model", type=Path, help="model folder (default: packaged model)")
    p.add_argument("--data", type=Path, nargs="+", required=True, help="labelled JSONL files")
    p.add_argument("--split", choices=("all", "dev", "train"), default="all", help="only records of this split (news and GerNTSA records carry one)")
    p.add_argument("--task", choices=("stance", "sentiment"), default="stance")
    p.add_argument("--out", type=Path, default=Path("reports/evaluation"), help="folder for metrics.json and confusion.png")
    p.add_argument("--config", type=Path, help="TOML config whose [corpora] table gives the external corpora")
    _add_corpora_args(p)
    _add_common(p)

    p = sub.add_parser("model-report", help="write reports/model: final models vs. baselines, per actor, features",
                       description="Cross-validated and development-split results of the final models side by side with "
                                   "the baselines, per-actor results, confusion matrix and top features.")
    p.add_argument("--data", type=Path, nargs="+", default=[Path("training/data")])
    p.add_argument("--config", type=Path, default=None)
    p.add_argument("--out", type=Path, default=Path("reports/model"))
    _add_corpora_args(p)
    _add_common(p)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``stance`` command; return the exit code."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return int(exc.code or 0) if isinstance(exc.code, int) else EXIT_USAGE
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    handler = globals()[f"cmd_{args.command.replace('-', '_')}"]
    previous = _interrupt_on_sigterm()
    try:
        return int(handler(args))
    except StanceError as exc:
        if args.verbose:
            log.exception("failed")
        print(f"{type(exc).__name__}: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("interrupted; no partial output files were left behind", file=sys.stderr)
        return 130
    except Exception as exc:  # an internal error: report it, with traceback under --verbose
        if args.verbose:
            log.exception("internal error")
        print(f"internal error: {type(exc).__name__}: {exc} (run with --verbose for the traceback)", file=sys.stderr)
        return EXIT_INTERNAL
    finally:
        _restore_sigterm(previous)


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


def _analyze(args: argparse.Namespace) -> Any:
    from .pipeline import analyze_corpus
    from .scoring import load

    _check_inputs(args.corpus)
    analyzer = load(args.model, actors=args.actors)
    bar = None
    if not args.quiet and sys.stderr.isatty():
        from tqdm import tqdm

        bar = tqdm(desc="articles", unit=" art", file=sys.stderr)
    try:
        result = analyze_corpus(*args.corpus, analyzer=analyzer, jobs=args.jobs, progress=bar.update if bar else None)
    finally:
        if bar:
            bar.close()
    return result, analyzer


def _summary(result: Any, seconds: float, out: Path) -> str:
    status = result.articles["status"].value_counts()
    lines = [
        f"stance: {int(status.get('ok', 0))} articles analysed, {int(status.get('duplicate', 0))} duplicate(s), "
        f"{int(status.get('skipped', 0))} skipped; {len(result.mentions)} units in {seconds:.1f} s -> {out}",
    ]
    if len(result.mentions):
        top = result.mentions.groupby("actor")["stance_score"].agg(["size", "mean"]).sort_values("size", ascending=False).head(5)
        lines.append("  top actors: " + ", ".join(f"{a} {int(r['size'])} units (mean {r['mean']:+.2f})" for a, r in top.iterrows()))
    for warning in result.warnings:
        lines.append(f"  warning: {warning}")
    for skip in result.skipped:
        lines.append(f"  skipped: {skip}")
    return "\n".join(lines)


def _nothing_read(result: Any) -> bool:
    """True when inputs were given but not one article could be analysed."""
    return bool(len(result.skipped)) and not result.analysed_count


def _finish(result: Any, started: float, out: Path, quiet: bool) -> int:
    if not quiet:
        print(_summary(result, time.perf_counter() - started, out))
    if _nothing_read(result):
        print("InputFormatError: no input could be analysed (every file or row was skipped; reasons above)", file=sys.stderr)
        return EXIT_USAGE
    return EXIT_OK


def cmd_report(args: argparse.Namespace) -> int:
    """``stance report``."""
    from .config import ReportConfig
    from .report import write_report

    if args.min_mentions < 1:
        raise InputFormatError(f"--min-mentions must be >= 1, got {args.min_mentions}")
    started = time.perf_counter()
    result, analyzer = _analyze(args)
    info = {"path": args.model or "packaged default", "version": analyzer.metadata.get("versions", {}).get("stance"),
            "rows": analyzer.metadata.get("trained_on", {}).get("stance_rows")}
    config = ReportConfig(min_mentions=args.min_mentions, freq=args.freq)
    write_report(result, args.out, config=config, freq=args.freq, model_info=info)
    return _finish(result, started, args.out, args.quiet)


def cmd_analyze(args: argparse.Namespace) -> int:
    """``stance analyze``."""
    from .report import write_mentions

    if args.out.suffix.lower() not in (".csv", ".jsonl", ".parquet"):
        raise InputFormatError(f"--out {args.out}: expected a .csv, .jsonl or .parquet file")
    started = time.perf_counter()
    result, _ = _analyze(args)
    write_mentions(result.mentions, args.out)
    return _finish(result, started, args.out, args.quiet)


def cmd_plot(args: argparse.Namespace) -> int:
    """``stance plot``."""
    import pandas as pd

    from .config import ReportConfig
    from .report import draw_plots

    path: Path = args.mentions
    if not path.is_file():
        raise InputFormatError(f"{path}: no such file")
    try:
        if path.suffix == ".parquet":
            frame = pd.read_parquet(path)
        elif path.suffix == ".jsonl":
            frame = pd.read_json(path, lines=True, dtype={"date": str})
        else:
            frame = pd.read_csv(path, dtype={"date": str, "article_id": str})
    except Exception as exc:
        raise InputFormatError(f"{path}: cannot read the mentions table: {exc}") from exc
    needed = {"article_id", "actor", "stance", "stance_score", "sentiment_score", "date"}
    missing = sorted(needed - set(frame.columns))
    if missing:
        raise InputFormatError(f"{path}: not a mentions table, missing column(s) {', '.join(missing)}")
    if frame.empty:
        raise InputFormatError(f"{path}: the mentions table has no rows")
    frame["date"] = frame["date"].where(frame["date"].notna() & (frame["date"] != "None"), None)
    written = draw_plots(frame, args.out, ReportConfig(min_mentions=args.min_mentions), args.freq)
    if not args.quiet:
        print(f"stance: {len(written)} plot files -> {args.out}")
    return EXIT_OK


def cmd_actors(args: argparse.Namespace) -> int:
    """``stance actors``."""
    from .actors import load_actors, registry_as_rows

    rows = registry_as_rows(load_actors(args.actors))
    if args.json:
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return EXIT_OK
    for row in rows:
        print(f"{row['id']:<14} {row['name']:<28} {row['aliases']}")
        if row["roles"]:
            print(f"{'':<14} roles: {row['roles']}")
    print(f"{len(rows)} actors")
    return EXIT_OK


def cmd_explain(args: argparse.Namespace) -> int:
    """``stance explain``."""
    from .scoring import load

    start = args.sentence.find(args.target)
    if start < 0:
        raise InputFormatError(f"target {args.target!r} does not occur in the sentence")
    analyzer = load(args.model)
    print(analyzer.explain(args.sentence, start, start + len(args.target), top=args.top))
    return EXIT_OK


def cmd_train(args: argparse.Namespace) -> int:
    """``stance train``."""
    from .config import load_data_policy, load_model_config
    from .training import train

    meta = train(args.data, args.out, config=load_model_config(args.config), policy=load_data_policy(args.config),
                 evaluate=not args.no_eval, cv=args.cv, corpora=_corpora(args))
    if not args.quiet:
        print(f"stance: trained on {meta['trained_on']['stance_rows']} stance / {meta['trained_on']['sentiment_rows']} "
              f"sentiment units in {meta['train_seconds']} s -> {args.out}")
        for name, result in meta["metrics"].items():
            if "macro_f1" in result:
                print(f"  {name:<22} macro-F1 {result['macro_f1']:.3f}  accuracy {result['accuracy']:.3f}  (n={result['n']})")
    return EXIT_OK


def cmd_evaluate(args: argparse.Namespace) -> int:
    """``stance evaluate``."""
    from .evaluation import evaluate_model_on

    report = evaluate_model_on(args.model, args.data, split=args.split, task=args.task, out=args.out, corpora=_corpora(args))
    if not args.quiet:
        print(report)
    return EXIT_OK


def cmd_model_report(args: argparse.Namespace) -> int:
    """``stance model-report``."""
    from .config import load_data_policy, load_model_config
    from .evaluation import write_model_report

    path = write_model_report(args.data, args.out, config=load_model_config(args.config), policy=load_data_policy(args.config),
                              corpora=_corpora(args))
    if not args.quiet:
        print(f"stance: model report -> {path}")
    return EXIT_OK


if __name__ == "__main__":
    raise SystemExit(main())
