"""Bad input never crashes a run: every input is scored or skipped with its reason."""

from __future__ import annotations

import csv
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import stance
from stance.articles import load_articles
from stance.config import IngestConfig
from stance.cli import main

GOOD = "Putin lehnte den Vorschlag ab. Trump zeigte sich enttäuscht."


def _statuses(result):
    return dict(zip(result.articles["path"].astype(str).str.split("/").str[-1], result.articles["status"]))


def test_robustness_bad_files_do_not_stop_the_batch(tmp_path, analyzer):
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "good.txt").write_text(GOOD, encoding="utf-8")
    (folder / "empty.txt").write_bytes(b"")
    (folder / "blank.md").write_text("   \n\t\n", encoding="utf-8")
    (folder / "binary.txt").write_bytes(os.urandom(2048).replace(b"\n", b"\x00"))
    (folder / "image.txt").write_bytes(b"\x89PNG\r\n\x1a\n" + os.urandom(4096))
    (folder / "latin1.txt").write_bytes("Selenskyj würdigte die Unterstützung Macrons.".encode("latin-1"))
    (folder / "utf16.txt").write_bytes("Lawrow wies die Vorwürfe zurück.".encode("utf-16"))
    (folder / "rows.jsonl").write_text('{"text": "Merz reiste nach Kiew."}\n{not json}\n{"id": "r3", "text": "Scholz schwieg."}\n', encoding="utf-8")
    (folder / "notext.csv").write_text("title,body\nA,B\n", encoding="utf-8")
    (folder / "noactor.txt").write_text("Es regnet in Hamburg. Die Bahn hat Verspätung.", encoding="utf-8")
    result = stance.analyze_corpus(folder, tmp_path / "missing.txt", analyzer=analyzer, jobs=1)
    files = {f.path.split("/")[-1]: f for f in result.files}
    assert set(files) == {"good.txt", "empty.txt", "blank.md", "binary.txt", "image.txt", "latin1.txt", "utf16.txt",
                          "rows.jsonl", "notext.csv", "noactor.txt", "missing.txt"}
    skipped = {name for name, f in files.items() if f.status == "skipped"}
    assert skipped == {"empty.txt", "blank.md", "binary.txt", "image.txt", "notext.csv", "missing.txt"}
    assert all(files[name].reason for name in skipped)
    actors = set(result.mentions["actor"])
    assert {"putin", "trump", "zelensky", "macron", "lavrov", "merz", "scholz"} <= actors
    broken = [s for s in result.skipped if s.location == "line 2"]
    assert len(broken) == 1 and "invalid JSON" in broken[0].reason
    statuses = result.articles["status"].value_counts()
    assert statuses["skipped"] == 7 and statuses["ok"] == 6


def test_robustness_cli_bad_paths_and_files(tmp_path, capsys):
    assert main(["analyze", str(tmp_path / "nope.txt"), "--out", str(tmp_path / "o.csv")]) == 2
    assert "no such file or folder" in capsys.readouterr().err
    bad_actors = tmp_path / "dup.toml"
    bad_actors.write_text('[[actor]]\nid = "a"\naliases = ["A"]\n[[actor]]\nid = "a"\naliases = ["B"]\n', encoding="utf-8")
    good = tmp_path / "g.txt"
    good.write_text(GOOD, encoding="utf-8")
    assert main(["analyze", str(good), "--out", str(tmp_path / "o.csv"), "--actors", str(bad_actors)]) == 2
    assert "duplicate id" in capsys.readouterr().err
    assert not (tmp_path / "o.csv").exists()


def test_robustness_cli_damaged_model(tmp_path, capsys):
    from stance.resources import default_model_dir

    model = tmp_path / "model"
    model.mkdir()
    for name in ("model.npz", "model.json"):
        (model / name).write_bytes((default_model_dir() / name).read_bytes())
    data = (model / "model.npz").read_bytes()
    (model / "model.npz").write_bytes(data[: len(data) - 1000])
    good = tmp_path / "g.txt"
    good.write_text(GOOD, encoding="utf-8")
    assert main(["analyze", str(good), "--out", str(tmp_path / "o.csv"), "--model", str(model)]) == 2
    err = capsys.readouterr().err
    assert "ModelIntegrityError" in err and "checksum mismatch" in err and "stance train" in err


def test_robustness_file_vanishes_or_unreadable_during_run(tmp_path, monkeypatch):
    for name in ("a.txt", "b.txt", "c.txt"):
        (tmp_path / name).write_text(f"{GOOD} Datei {name}." * 3, encoding="utf-8")
    real_read = Path.read_bytes

    def flaky_read(self):
        if self.name == "c.txt":
            raise PermissionError(13, "Permission denied")
        return real_read(self)

    monkeypatch.setattr(Path, "read_bytes", flaky_read)
    stream = stance.articles.iter_corpus(tmp_path)
    first = next(stream)
    (tmp_path / "b.txt").unlink()
    items = [first, *stream]
    files = {f.path.split("/")[-1]: f for f in items if isinstance(f, stance.records.SourceFile)}
    assert files["a.txt"].status == "read"
    assert files["b.txt"].status == "skipped" and "cannot read file" in files["b.txt"].reason
    assert files["c.txt"].status == "skipped" and "Permission denied" in files["c.txt"].reason


def test_robustness_50mb_single_file_is_read(tmp_path):
    paragraph = ("Der Kremlchef und der US-Präsident telefonierten erneut, doch die Positionen blieben weit "
                 "auseinander, berichteten Diplomaten am Abend in Washington. ") * 4 + "\n\n"
    path = tmp_path / "big.txt"
    with path.open("w", encoding="utf-8") as handle:
        while handle.tell() < 50 * 1024 * 1024:
            handle.write(paragraph * 100)
    started = time.perf_counter()
    corpus = load_articles(path)  # one article of 50 M characters: over the default limit, skipped with the reason
    assert not corpus.articles and "longer than the limit" in corpus.skipped[0].reason
    corpus = load_articles(path, config=IngestConfig(max_article_chars=60_000_000))
    assert len(corpus.articles) == 1 and len(corpus.articles[0].text) > 49_000_000
    assert time.perf_counter() - started < 90


def test_robustness_10000_tiny_files(tmp_path, analyzer):
    folder = tmp_path / "many"
    folder.mkdir()
    for i in range(10_000):
        text = f"Meldung {i}: Putin schwieg am Tag {i}." if i % 500 == 0 else f"Meldung {i}: Es regnete am Tag {i} in Köln."
        (folder / f"{i:05d}.txt").write_text(text, encoding="utf-8")
    result = stance.analyze_corpus(folder, analyzer=analyzer, jobs=1)
    assert len(result.files) == 10_000
    assert (result.articles["status"] == "ok").sum() == 10_000
    assert len(result.mentions) == 20 and set(result.mentions["actor"]) == {"putin"}


def test_robustness_long_sentence_without_punctuation(analyzer):
    words = ["Wort"] * 1600 + ["Putin"] + ["weiter"] * 400
    text = " ".join(words)
    assert len(text) > 10_000
    scored = analyzer.analyze(text)
    assert [(m.actor, text[m.start:m.end]) for m in scored] == [("putin", "Putin")]


def test_robustness_no_actor_text(analyzer):
    assert analyzer.analyze("Der Himmel ist blau. Morgen wird es regnen.") == []


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(st.text(max_size=300) | st.lists(st.sampled_from(["Putin", "Trump", " ", "\n", ".", "Selenskyjs", "-", "US-Präsident",
                                                          "Kremlchef", "„", "“", "ß", "\u200b", "\r\n", "2025.", "Costa"]),
                                        max_size=60).map("".join))
def test_robustness_random_unicode_never_raises(analyzer, text):
    import datetime as dt

    from stance.text import normalize_text

    seen = normalize_text(text)  # offsets refer to the normalised text (NFC, no zero-width characters)
    for m in analyzer.analyze(text, date=dt.date(2025, 10, 21)):
        assert seen[m.start:m.end] == m.surface
        assert seen[m.sentence_start:m.sentence_end] == m.sentence
        assert -1 <= m.stance_score <= 1


def _complete(path: Path) -> bool:
    with path.open(encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    return bool(rows) and all(len(r) == len(rows[0]) for r in rows)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_robustness_killed_run_leaves_no_partial_files(tmp_path, sig):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for i in range(40):
        (corpus / f"{i:03d}.txt").write_text((GOOD + f" Nummer {i}. ") * (50 + i), encoding="utf-8")
    out = tmp_path / "out"
    proc = subprocess.Popen([sys.executable, "-m", "stance.cli", "analyze", str(corpus), "--out", str(out / "m.csv"),
                             "--jobs", "1", "--quiet"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 60
    while time.time() < deadline and proc.poll() is None and not out.exists():
        time.sleep(0.01)
    proc.send_signal(sig)
    proc.wait(timeout=60)
    # the lock file stays (an flock on it is released by the kernel); it holds no output
    leftovers = [p.name for p in out.glob("*") if not p.name.endswith(".stance-lock")] if out.exists() else []
    assert not [name for name in leftovers if name.endswith(".tmp")]
    for name in leftovers:
        assert _complete(out / name), name


def test_robustness_report_without_any_actor(tmp_path):
    corpus = tmp_path / "c.txt"
    corpus.write_text("Es regnet in Hamburg. Die Bahn hat Verspätung.", encoding="utf-8")
    out = tmp_path / "out"
    assert main(["report", str(corpus), "--out", str(out), "--quiet", "--jobs", "1"]) == 0
    assert (out / "report.md").is_file() and (out / "mentions.csv").read_text(encoding="utf-8").startswith("article_id,")
    assert "0 scored" in (out / "report.md").read_text(encoding="utf-8")
