"""The ``stance`` command on a real terminal, its options, and what it prints (issue #14)."""

from __future__ import annotations

import argparse
import json
import os
import select
import sys
import time
from pathlib import Path

import pytest

from stance.cli import build_parser, main

TINY = "Putin kritisierte Trump scharf. Trump lobt Putin. Merz lobt Putin.\n"


def tiny_corpus(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "a.txt").write_text(TINY, encoding="utf-8")
    return folder


def run_in_pty(argv: list[str], cwd: Path, timeout: float = 240.0) -> tuple[int, str]:
    """Run ``python -m stance.cli ARGV`` with a pseudo-terminal as stdin/stdout/stderr; return (exit code, output)."""
    import pty

    pid, fd = pty.fork()
    if pid == 0:  # the child: a process whose streams are a terminal, as in an interactive shell
        try:
            os.chdir(cwd)
            os.execv(sys.executable, [sys.executable, "-m", "stance.cli", *argv])
        finally:
            os._exit(127)
    chunks: list[bytes] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 1.0)
        if not ready:
            continue
        try:
            data = os.read(fd, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    else:
        os.kill(pid, 9)
    _, status = os.waitpid(pid, 0)
    os.close(fd)
    return os.waitstatus_to_exitcode(status), b"".join(chunks).decode("utf-8", "replace")


def test_cli_report_under_pseudo_terminal_writes_output(tmp_path):
    tiny_corpus(tmp_path / "in")
    code, output = run_in_pty(["report", "in", "--out", "out", "--jobs", "1"], tmp_path)
    assert code == 0, output
    assert "TypeError" not in output and "articles analysed" in output
    assert (tmp_path / "out" / "report.md").is_file() and (tmp_path / "out" / "mentions.csv").is_file()


def test_cli_verbose_accepted_before_and_after_subcommand():
    parser = build_parser()
    assert parser.parse_args(["-v", "report"]).verbose is True
    assert parser.parse_args(["report", "-v"]).verbose is True
    assert parser.parse_args(["report"]).verbose is False
    assert parser.parse_args(["-q", "actors"]).quiet is True


def test_cli_verbose_before_subcommand_runs(capsys):
    assert main(["-v", "actors", "--json"]) == 0
    assert {"trump", "putin"} <= {row["id"] for row in json.loads(capsys.readouterr().out)}


def test_cli_every_option_has_help():
    parser = build_parser()
    subparsers = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    missing = [f"{name} {action.dest}" for name, sub in [("stance", parser), *subparsers.choices.items()]
               for action in sub._actions
               if not isinstance(action, argparse._SubParsersAction) and not (action.help or "").strip()]
    assert missing == []


def test_cli_plot_default_out_is_next_to_the_table(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    tiny_corpus(tmp_path / "in")
    table = tmp_path / "tables" / "m.csv"
    assert main(["analyze", "in", "--out", str(table), "--quiet", "--jobs", "1"]) == 0
    assert main(["plot", str(table), "--quiet"]) == 0
    assert len(list((tmp_path / "tables" / "plots").glob("*.png"))) == 4
    assert not (tmp_path / "reports").exists()


def test_cli_plot_refuses_to_replace_the_tables_folder(tmp_path):
    tiny_corpus(tmp_path / "in")
    out = tmp_path / "out"
    assert main(["report", str(tmp_path / "in"), "--out", str(out), "--quiet", "--jobs", "1"]) == 0
    assert main(["plot", str(out / "mentions.csv"), "--out", str(out), "--quiet"]) == 2
    assert (out / "by_actor.csv").is_file() and (out / "report.md").is_file()


def test_cli_explain_matches_target_ignoring_case_and_says_which_span(capsys):
    assert main(["explain", "Kritiker werfen Putin Lügen vor.", "putin", "--top", "3"]) == 0
    out = capsys.readouterr().out
    assert "target: 'Putin' at characters 16-21" in out and "stance=" in out


def test_cli_empty_input_folder_exit_2_and_nothing_written(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    out = tmp_path / "out"
    assert main(["report", str(tmp_path / "empty"), "--out", str(out), "--jobs", "1"]) == 2
    assert "no input files found" in capsys.readouterr().err
    assert not out.exists()
    assert not list(tmp_path.glob(".out.stance-tmp-*"))


@pytest.mark.parametrize("command, out_name", [("report", "out"), ("analyze", "m.csv")])
def test_cli_duplicates_and_exclude_reach_the_reader(tmp_path, monkeypatch, command, out_name):
    import stance.pipeline
    from stance.config import IngestConfig

    seen: list[IngestConfig] = []

    def fake(*paths, ingest=None, **kwargs):
        seen.append(ingest)
        raise KeyboardInterrupt  # stop here: the call is what is tested

    monkeypatch.setattr(stance.pipeline, "analyze_corpus", fake)
    out = tmp_path / out_name
    assert main([command, str(tiny_corpus(tmp_path / "in")), "--out", str(out), "--duplicates", "per-source", "-q"]) == 130
    assert seen[0].duplicates == "per-source"
    assert str(out.resolve()) in seen[0].exclude
    assert main([command, str(tmp_path / "in"), "--out", str(out), "--duplicates", "sometimes"]) == 2


def test_cli_summary_escapes_terminal_control_characters(tmp_path, capsys):
    folder = tiny_corpus(tmp_path / "in")
    rows = [{"id": "\x1b]2;PWNED\x07\x1b[31mred", "date": "31.02.2025", "text": "Putin lobt Trump sehr. Merz lobt Putin."}]
    (folder / "x.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    (folder / "\x1b]2;PWNED\x07.txt").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(100))  # skipped: its name is printed
    assert main(["report", str(folder), "--out", str(tmp_path / "out"), "--jobs", "1"]) == 0
    captured = capsys.readouterr()
    printed = captured.out + captured.err
    assert "\x1b" not in printed and "\x07" not in printed


def test_cli_summary_escapes_whatever_the_result_holds(tmp_path, monkeypatch, capsys):
    import pandas as pd

    import stance.pipeline
    from stance.pipeline import ARTICLE_COLUMNS, MENTION_COLUMNS, CorpusResult
    from stance.records import Skipped

    evil = "\x1b]2;PWNED\x07\x1b[31mred\n# not a line of ours"
    articles = pd.DataFrame([dict.fromkeys(ARTICLE_COLUMNS) | {"article_id": evil, "status": "ok", "units": 0}],
                            columns=list(ARTICLE_COLUMNS))
    result = CorpusResult(pd.DataFrame({c: pd.Series(dtype=object) for c in MENTION_COLUMNS}), articles,
                          (Skipped(evil, "binary file"),), (f"{evil}: date '31.02.2025' is not a valid date",))
    monkeypatch.setattr(stance.pipeline, "analyze_corpus", lambda *paths, **kwargs: result)
    assert main(["analyze", str(tiny_corpus(tmp_path / "in")), "--out", str(tmp_path / "m.csv"), "--jobs", "1"]) == 0
    printed = capsys.readouterr().out
    assert "\x1b" not in printed and "\x07" not in printed
    assert "\\x1b]2;PWNED\\x07\\x1b[31mred\\n# not a line of ours" in printed
    assert not any(line.startswith("# not") for line in printed.splitlines())


def test_cli_error_messages_escape_control_characters(tmp_path, capsys):
    assert main(["report", str(tmp_path / "no\x1b[2Jpe"), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "\x1b" not in err and "\\x1b[2J" in err
