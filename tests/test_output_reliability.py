"""What ``stance`` writes: one consistent output folder, safe CSV/Markdown, bounded plots (issue #14)."""

from __future__ import annotations

import csv
import errno
import json
import os
import signal
import struct
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from stance.cli import main
from stance.io import OUTPUT_MARKER, OutputFolderError, StagedFolder, escape_control, output_lock
from stance.report import REPORT_FILES, escape_markdown
from stance.tables import neutralise_formulas

OLD_TEXT = "Kritiker werfen Putin Kriegsverbrechen vor. Selenskyj dankte Trump. Trump lobt Merz.\n"
NEW_TEXT = "Putin kritisierte Trump scharf. Trump lobt Putin. Merz lobt Putin. Macron traf Merz.\n"


def corpus(folder: Path, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "a.txt").write_text(text, encoding="utf-8")
    return folder


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


@pytest.fixture()
def old_report(tmp_path):
    """A finished report in ``tmp_path/out`` and a different corpus to overwrite it with."""
    out = tmp_path / "out"
    assert main(["report", str(corpus(tmp_path / "old", OLD_TEXT)), "--out", str(out), "--quiet", "--jobs", "1"]) == 0
    return out, snapshot(out), corpus(tmp_path / "new", NEW_TEXT)


def staging_left(out: Path) -> list[Path]:
    return sorted(out.parent.glob(f".{out.name}.stance-*-*"))


# --- the output folder is replaced as one set -------------------------------------------------


def test_output_report_writes_marker_and_replaces_the_folder_as_a_whole(old_report):
    out, before, new = old_report
    assert main(["report", str(new), "--out", str(out), "--quiet", "--jobs", "1"]) == 0
    after = snapshot(out)
    assert OUTPUT_MARKER in after and set(after) <= {OUTPUT_MARKER, *REPORT_FILES}
    assert after["mentions.csv"] != before["mentions.csv"] and after["report.md"] != before["report.md"]
    assert staging_left(out) == []


def test_output_sigterm_while_writing_keeps_previous_output(old_report, monkeypatch, capsys):
    import stance.report

    out, before, new = old_report
    real, calls = stance.report.write_table, []

    def write_then_term(frame, path):
        calls.append(path)
        written = real(frame, path)
        if len(calls) == 2:  # two new tables exist: the worst moment for a SIGTERM
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(1)
        return written

    monkeypatch.setattr(stance.report, "write_table", write_then_term)
    assert main(["report", str(new), "--out", str(out), "--jobs", "1", "--quiet"]) == 130
    assert snapshot(out) == before
    assert staging_left(out) == []
    assert "is unchanged" in capsys.readouterr().err


def test_output_disk_full_keeps_previous_output(old_report, monkeypatch, capsys):
    import stance.report

    out, before, new = old_report
    real, calls = stance.report.write_table, []

    def write_until_full(frame, path):
        calls.append(path)
        if len(calls) == 3:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(frame, path)

    monkeypatch.setattr(stance.report, "write_table", write_until_full)
    assert main(["report", str(new), "--out", str(out), "--jobs", "1", "--quiet"]) == 2
    assert snapshot(out) == before
    assert staging_left(out) == []
    err = capsys.readouterr().err
    assert "No space left on device" in err and "previous output is unchanged" in err


KILL_SCRIPT = """
import os, sys
import stance.report
real, calls = stance.report.write_table, []
def write_then_die(frame, path):
    calls.append(path)
    written = real(frame, path)
    if len(calls) == 2:
        os.kill(os.getpid(), 9)
    return written
stance.report.write_table = write_then_die
from stance.cli import main
sys.exit(main(sys.argv[1:]))
"""


def test_output_kill_9_keeps_previous_output_and_next_run_cleans_up(old_report):
    out, before, new = old_report
    done = subprocess.run([sys.executable, "-c", KILL_SCRIPT, "report", str(new), "--out", str(out), "--jobs", "1", "-q"],
                          capture_output=True, timeout=300)
    assert done.returncode == -9
    assert snapshot(out) == before
    left = staging_left(out)  # SIGKILL cannot be caught: the staging folder stays until the next run
    assert len(left) == 1 and left[0].name.startswith(".out.stance-tmp-")
    assert main(["report", str(new), "--out", str(out), "--quiet", "--jobs", "1"]) == 0
    assert staging_left(out) == []
    assert snapshot(out)["mentions.csv"] != before["mentions.csv"]


def test_output_second_concurrent_run_exits_2(tmp_path, capsys):
    out = tmp_path / "out"
    with output_lock(out):  # as if another run were writing
        assert main(["report", str(corpus(tmp_path / "in", NEW_TEXT)), "--out", str(out), "--jobs", "1"]) == 2
    assert "another stance run is writing" in capsys.readouterr().err
    assert not out.exists()


def test_output_parent_not_writable_exit_2_before_analysis(tmp_path, monkeypatch, capsys):
    import stance.pipeline

    def must_not_run(*args, **kwargs):
        raise AssertionError("the analysis started although --out cannot be written")

    monkeypatch.setattr(stance.pipeline, "analyze_corpus", must_not_run)
    (tmp_path / "file").write_text("not a folder", encoding="utf-8")
    assert main(["report", str(corpus(tmp_path / "in", NEW_TEXT)), "--out", str(tmp_path / "file" / "out")]) == 2
    assert "OutputFolderError" in capsys.readouterr().err


def test_output_refuses_to_replace_a_folder_with_other_files(tmp_path, capsys):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "thesis.tex").write_text("years of work", encoding="utf-8")
    assert main(["report", str(corpus(tmp_path / "in", NEW_TEXT)), "--out", str(out), "--jobs", "1", "-q"]) == 2
    assert "thesis.tex" in capsys.readouterr().err
    assert (out / "thesis.tex").read_text(encoding="utf-8") == "years of work"


def test_output_refuses_input_inside_out(tmp_path, capsys):
    data = corpus(tmp_path / "data", NEW_TEXT)
    assert main(["report", str(data), "--out", str(tmp_path), "--jobs", "1", "-q"]) == 2
    assert "inside --out" in capsys.readouterr().err
    assert (data / "a.txt").is_file()


def test_output_stale_staging_of_dead_run_is_removed(tmp_path):
    out = tmp_path / "out"
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True).stdout.strip()
    stale = tmp_path / f".out.stance-tmp-{dead}"
    stale.mkdir()
    (stale / "mentions.csv").write_text("half", encoding="utf-8")
    assert main(["report", str(corpus(tmp_path / "in", NEW_TEXT)), "--out", str(out), "--jobs", "1", "-q"]) == 0
    assert not stale.exists() and (out / "report.md").is_file()


def test_output_analyze_removes_temporary_files_of_a_killed_run(tmp_path):
    out = tmp_path / "m.csv"
    left = tmp_path / ".m.csv.0123abcd.tmp"  # what atomic_open leaves when the process is killed
    left.write_text("half a table", encoding="utf-8")
    assert main(["analyze", str(corpus(tmp_path / "in", NEW_TEXT)), "--out", str(out), "--jobs", "1", "-q"]) == 0
    assert not left.exists() and out.is_file()


def test_output_staged_folder_discards_on_error_and_keeps_old(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "report.md").write_text("old", encoding="utf-8")  # an older stance report, without the marker
    with pytest.raises(RuntimeError), StagedFolder(out, ["report.md"], kind="report") as staged:
        (staged.path / "report.md").write_text("new", encoding="utf-8")
        raise RuntimeError("boom")
    assert (out / "report.md").read_text(encoding="utf-8") == "old" and staging_left(out) == []
    with StagedFolder(out, ["report.md"], kind="report") as staged:
        (staged.path / "report.md").write_text("new", encoding="utf-8")
        staged.commit()
    assert (out / "report.md").read_text(encoding="utf-8") == "new"
    with pytest.raises(OutputFolderError, match="holds stance report output, not plots output"):
        StagedFolder(out, ["report.md"], kind="plots").__enter__()


def test_output_run_into_input_folder_does_not_read_its_own_report(tmp_path):
    data = corpus(tmp_path / "data", NEW_TEXT)
    out = data / "report"
    assert main(["report", str(data), "--out", str(out), "--quiet", "--jobs", "1"]) == 0
    first = (out / "mentions.csv").read_bytes()
    assert main(["report", str(data), "--out", str(out), "--quiet", "--jobs", "1"]) == 0
    assert (out / "mentions.csv").read_bytes() == first
    with open(out / "articles.csv", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert [Path(r["path"]).name for r in rows if r["status"] != "skipped"] == ["a.txt"]
    assert not any("/report/" in r["path"] for r in rows)  # nothing inside the report folder was opened


# --- CSV formula injection ----------------------------------------------------------------------

EVIL = {"id": "=1+1", "title": '=HYPERLINK("http://evil.example","x")', "source": "@SUM(A1:A9)",
        "text": '=HYPERLINK("http://evil.example") Putin hat den Krieg begonnen. Putin lobt Trump. Trump lobt Putin.'}


def test_output_csv_cells_cannot_run_as_formulas(tmp_path):
    data = tmp_path / "x.jsonl"
    data.write_text(json.dumps(EVIL) + "\n", encoding="utf-8")
    out = tmp_path / "out"
    assert main(["report", str(data), "--out", str(out), "--quiet", "--jobs", "1"]) == 0
    seen_prefixed = False
    for path in sorted(out.glob("*.csv")):
        with open(path, encoding="utf-8", newline="") as handle:
            for row in csv.reader(handle):
                for cell in row:
                    if cell[:1] in ("=", "+", "@", "\t", "\r"):
                        pytest.fail(f"{path.name}: formula cell {cell!r}")
                    if cell.startswith("-"):
                        float(cell)  # a negative number stays a number
                    seen_prefixed |= cell.startswith("'=")
    assert seen_prefixed
    mentions = pd.read_csv(out / "mentions.csv")
    assert (mentions["stance_score"] < 0).any() or (mentions["stance_score"] >= 0).all()
    assert pd.api.types.is_float_dtype(mentions["stance_score"])


def test_output_jsonl_keeps_values_verbatim(tmp_path):
    data = tmp_path / "x.jsonl"
    data.write_text(json.dumps(EVIL) + "\n", encoding="utf-8")
    out = tmp_path / "m.jsonl"
    assert main(["analyze", str(data), "--out", str(out), "--quiet", "--jobs", "1"]) == 0
    first = json.loads(out.read_text(encoding="utf-8").splitlines()[0])
    assert first["article_id"] == "=1+1" and first["source"] == "@SUM(A1:A9)"


def test_output_neutralise_formulas_leaves_numbers():
    frame = pd.DataFrame({"id": ["-1", "+x", "\tx", "a=b", "-1+1"], "score": [-0.5, 0.0, 1.0, -1.0, 0.5]})
    result = neutralise_formulas(frame)
    assert result["id"].tolist() == ["-1", "'+x", "'\tx", "a=b", "'-1+1"]  # a number written as text stays
    assert result["score"].tolist() == [-0.5, 0.0, 1.0, -1.0, 0.5]
    assert frame["id"].tolist()[0] == "-1"  # the caller's frame is not changed


# --- terminal and Markdown injection ------------------------------------------------------------


def test_output_escape_control_shows_escapes():
    assert escape_control("a\x1b[31mb\x07\u202ec\nd") == "a\\x1b[31mb\\x07\\u202ec\\nd"
    assert escape_control("Orbán – „Zitat“") == "Orbán – „Zitat“"


def test_output_report_md_escapes_ids_and_sentences(tmp_path):
    rows = [
        {"id": "\x1b]2;PWNED\x07\x1b[31mred", "date": "31.02.2025", "text": "Putin lobt Trump sehr. Merz lobt Putin."},
        {"id": "x`\n\n# INJECTED HEADING\n\n[click](http://evil.example)", "title": "<img src=x onerror=alert(1)>",
         "text": "Putin lobt Trump. Putin kritisiert Trump *fett* | <b>x</b>. Trump lobt Putin."},
    ]
    data = tmp_path / "x.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    out = tmp_path / "out"
    assert main(["report", str(data), "--out", str(out), "--quiet", "--jobs", "1"]) == 0
    text = (out / "report.md").read_text(encoding="utf-8")
    assert "\x1b" not in text and "\x07" not in text
    assert not any(line.startswith("#") and "INJECTED" in line for line in text.splitlines())
    assert "](http" not in text and "<b>" not in text and "<img" not in text and "*fett*" not in text


def test_output_escape_markdown():
    assert escape_markdown("# a [b](c) <i>x</i> | `d` *e* _f_") == (
        "\\# a \\[b\\]\\(c\\) \\<i\\>x\\</i\\> \\| \\`d\\` \\*e\\* \\_f\\_")
    assert "\n" not in escape_markdown("a\nb")


def test_output_report_md_summarises_repeated_warnings(tmp_path):
    from stance.config import ReportConfig
    from stance.pipeline import ARTICLE_COLUMNS, CorpusResult
    from stance.records import Skipped
    from stance.report import render_markdown

    mentions = synthetic_mentions(20)
    articles = [dict.fromkeys(ARTICLE_COLUMNS) | {"article_id": f"a{i}", "status": "ok", "date": "2025-01-01", "units": 4}
                for i in range(20)]
    articles += [dict.fromkeys(ARTICLE_COLUMNS) | {"article_id": f"copy-{i}-with-a-long-name", "status": "duplicate",
                                                   "duplicate_of": f"a{i % 20}"} for i in range(19_980)]
    skipped = tuple(Skipped("big.jsonl", f"invalid JSON: Expecting value (column {i})", f"line {i}") for i in range(5000))
    warnings = tuple(f"a{i}: date '{i}.13.2025' is not a valid date; the article is treated as undated" for i in range(5000))
    result = CorpusResult(mentions, pd.DataFrame(articles, columns=list(ARTICLE_COLUMNS)), skipped, warnings)
    tables = {"by_actor.csv": _aggregate("by_actor", mentions), "by_date.csv": _aggregate("by_date", mentions)}
    text = render_markdown(result, tables, ReportConfig(), "day", {})
    assert len(text.encode("utf-8")) < 200_000
    assert "**duplicate** (19980)" in text and "… and 19970 more" in text
    assert "**skipped: invalid JSON** (5000)" in text and "**date … is not a valid date** (5000)" in text


def _aggregate(name, mentions):
    from stance.aggregates import aggregate_by_actor, aggregate_by_date

    return aggregate_by_actor(mentions) if name == "by_actor" else aggregate_by_date(mentions)


# --- plots: bounded size, literal text -----------------------------------------------------------

MATHTEXT = "$\\foo{$"


def synthetic_mentions(n_articles: int, units: int = 4, n_actors: int = 40, seed: int = 3) -> pd.DataFrame:
    """A mentions table shaped like the pipeline's, with titles and actor names that are broken mathtext."""
    rng = np.random.default_rng(seed)
    n = n_articles * units
    article = np.repeat(np.arange(n_articles), units)
    days = pd.Timestamp("2020-01-01") + pd.to_timedelta(rng.integers(0, 1500, n_articles), unit="D")
    proba = rng.dirichlet(np.ones(3), n)
    label = np.array(["negative", "neutral", "positive"])[proba.argmax(1)]
    actor = np.array([f"actor{i:02d}" for i in range(n_actors)])[rng.integers(0, n_actors, n)]
    return pd.DataFrame({
        "article_id": [f"a{i}" for i in article], "source": [f"src{i % 50}" for i in article],
        "title": [f"Kosten {MATHTEXT} steigen, Nummer {i}" for i in article],
        "date": np.array(days.strftime("%Y-%m-%d"))[article], "sentence_index": np.tile(np.arange(units), n_articles),
        "actor": actor, "actor_name": [f"{MATHTEXT} {a}" for a in actor], "surface": actor, "kind": "name",
        "start": 0, "end": 5, "stance": label, "stance_score": proba[:, 2] - proba[:, 0], "p_negative": proba[:, 0],
        "p_neutral": proba[:, 1], "p_positive": proba[:, 2], "sentiment": label,
        "sentiment_score": proba[:, 0] - proba[:, 2], "sentence": "Ein Satz.",
    })


def png_size(path: Path) -> tuple[int, int]:
    width, height = struct.unpack(">II", path.read_bytes()[16:24])
    return width, height


@pytest.mark.parametrize("freq", ["day", "month"])
def test_output_plots_bounded_for_20000_articles(tmp_path, freq):
    from stance.config import ReportConfig
    from stance.report import draw_plots

    mentions = synthetic_mentions(20_000)
    started = time.perf_counter()
    written = draw_plots(mentions, tmp_path, ReportConfig(), freq)
    assert time.perf_counter() - started < 90
    pngs = [p for p in written if p.suffix == ".png"]
    assert len(pngs) == 4
    for png in pngs:
        assert max(png_size(png)) < 4000, (png.name, png_size(png))


def test_output_plots_draw_mathtext_literally(tmp_path):
    from stance.aggregates import aggregate_by_actor, aggregate_by_date
    from stance.plots import plot_actor_overview, plot_stance_vs_sentiment, plot_timeline, save_figure

    mentions = synthetic_mentions(30, n_actors=3)
    names = dict(zip(mentions["actor"], mentions["actor_name"]))
    by_actor = aggregate_by_actor(mentions).assign(actor_name=lambda t: t["actor"].map(names))
    figures = [plot_timeline(aggregate_by_date(mentions), names=names), plot_actor_overview(by_actor),
               plot_stance_vs_sentiment(by_actor)]
    for k, figure in enumerate(figures):
        save_figure(figure, tmp_path / f"p{k}.png")
        texts = [t.get_text() for t in figure.findobj(lambda a: hasattr(a, "get_text"))]
        assert any("\\$\\foo{\\$" in t for t in texts)


def test_output_user_files_in_a_marked_output_folder_are_never_deleted(old_report, capsys):
    out, before, new = old_report
    assert main(["report", str(new), "--out", str(out), "--quiet", "--jobs", "1"]) == 0  # now marked
    (out / "notes.txt").write_text("mine", encoding="utf-8")
    (out / "mydata").mkdir()
    (out / "mydata" / "important.csv").write_text("a,b\n", encoding="utf-8")
    marked = snapshot(out)
    assert main(["report", str(new), "--out", str(out), "--quiet", "--jobs", "1"]) == 2
    assert "notes.txt" in capsys.readouterr().err
    assert snapshot(out) == marked and (out / "mydata" / "important.csv").is_file()


def test_output_current_folder_is_never_replaced(tmp_path, monkeypatch, capsys):
    corpus = tmp_path / "in.txt"
    corpus.write_text(NEW_TEXT, encoding="utf-8")
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    assert main(["report", str(corpus), "--out", ".", "--quiet", "--jobs", "1"]) == 2
    assert "current folder" in capsys.readouterr().err
    assert main(["report", str(corpus), "--out", "..", "--quiet", "--jobs", "1"]) == 2
    assert work.is_dir() and corpus.is_file()


def test_output_symlinked_out_replaces_the_real_folder_and_keeps_the_link(tmp_path):
    corpus = tmp_path / "in.txt"
    corpus.write_text(NEW_TEXT, encoding="utf-8")
    real = tmp_path / "real"
    real.mkdir()
    link = tmp_path / "link"
    link.symlink_to(real, target_is_directory=True)
    assert main(["report", str(corpus), "--out", str(link), "--quiet", "--jobs", "1"]) == 0
    assert link.is_symlink() and (real / "report.md").is_file()
