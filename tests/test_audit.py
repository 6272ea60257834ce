"""An adversarial audit in one run: a folder of hostile inputs beside good ones.

Every class of bad input must be handled cleanly: the run finishes, every input file is
accounted for (read, with its articles in ``articles``, or skipped with a reason), the good
articles are analysed, and nothing unsafe reaches the outputs. The classes are listed in
:data:`CLASSES`; ``python -m pytest tests/test_audit.py -v`` shows the count.
"""

from __future__ import annotations

import csv
import json
import os
import re

import pytest

import stance
from stance.cli import main

GOOD = "Putin kritisierte Trump am Montag scharf. Merz lobte Selenskyj für seine Haltung."
DATED = '{"id": "%s", "date": "2025-10-21", "source": "Audit", "text": "%s"}\n'

# name -> (file content as bytes, expected status of the file: "read", "skipped" or "any")
CLASSES: dict[str, tuple[bytes, str]] = {
    "deep_json.jsonl": (("[" * 100_000 + "]" * 100_000 + "\n").encode() + (DATED % ("deep-ok", GOOD)).encode(), "read"),
    "huge_int.jsonl": (b'{"text": "Putin lobt Trump.", "n": ' + b"9" * 5000 + b"}\n" + (DATED % ("int-ok", GOOD)).encode(), "read"),
    "marked_section.html": (b"<html><body><p>Merz lobt Selenskyj.</p><![foo[ x ]]></body></html>", "read"),
    "long_s_date.jsonl": ('{"id": "longs", "date": "3. Auguſt 2025", "text": "Putin lobt Trump."}\n'.encode(), "read"),
    "dotted_i_date.jsonl": ('{"id": "dotted", "date": "1. APRİL 2025", "text": "Putin lobt Trump."}\n'.encode(), "read"),
    "mathtext_title.jsonl": (b'{"id": "mt", "title": "Kosten $\\\\foo{$ steigen", "date": "2025-10-21", '
                             b'"text": "Putin lobt Trump. Trump lobt Putin. Putin kritisiert Trump."}\n', "read"),
    "lone_cr.csv": (b"id,text\nc1,Putin lobt Trump.\nc2,Merz\rlobt Macron.\nc3,Trump droht Putin.\n", "read"),
    "open_quote.csv": (b'id,text\nq1,Putin lobt Trump.\nq2,"Merz lobt Macron.\nq3,Trump droht Putin.\n', "read"),
    "semicolon.csv": (b"id;text;date\ns1;Putin kritisiert Trump scharf.;21.10.2025\n", "read"),
    "no_text_column.csv": (b"id,body\nx,Putin lobt Trump.\n", "skipped"),
    "bad_utf8_byte.txt": ("Orbán traf Erdoğan in Budapest. ".encode() + b"\xff" + b" Putin schwieg.", "read"),
    "cp1252.txt": ("Orbán und Erdoğan? Nein: Orbán lobte Putin für seine Politik.".encode("cp1252", "replace"), "read"),
    "utf16_bom.txt": ("Putin lobt Trump in Moskau.".encode("utf-16"), "any"),
    "binary.txt": (bytes(range(256)) * 40, "any"),
    "empty.txt": (b"", "skipped"),
    "whitespace.txt": (b"   \n\n\t  \n", "skipped"),
    "nul_bytes.txt": (b"Putin\x00 lobt\x00 Trump.", "any"),
    "not_objects.jsonl": (b'[1, 2, 3]\n42\n"text"\nnull\n' + (DATED % ("obj-ok", GOOD)).encode(), "read"),
    "text_not_string.jsonl": (b'{"id": "n1", "text": 12345}\n{"id": "n2", "text": null}\n{"id": "n3", "text": ["a"]}\n', "skipped"),
    "lone_surrogate.jsonl": (b'{"id": "sur", "text": "Putin \\ud800 lobt Trump."}\n', "read"),
    "array.json": (json.dumps([{"id": "j1", "text": GOOD}, {"id": "j2", "text": "Merz trifft Macron."}]).encode(), "read"),
    "articles_object.json": (json.dumps({"articles": [{"id": "j3", "text": "Trump droht Putin."}]}).encode(), "read"),
    "scalar.json": (b"42", "skipped"),
    "script_only.html": (b"<html><head><script>var x = 1; window.location = 'x';</script></head><body></body></html>", "skipped"),
    "ansi_id.jsonl": (b'{"id": "\\u001b]2;PWNED\\u0007\\u001b[31mred", "title": "\\u001b[2Jclear", "text": "Putin lobt Trump."}\n', "read"),
    "formula.jsonl": (b'{"id": "=1+1", "title": "@SUM(A1:A9)", "source": "=HYPERLINK(\\"http://evil.example\\")", '
                      b'"text": "=HYPERLINK(\\"x\\") Putin hat den Krieg begonnen."}\n', "read"),
    "markdown_id.jsonl": (b'{"id": "x` # HEADING [click](http://evil.example)", "text": "Putin kritisiert Trump."}\n', "read"),
    "long_line.txt": (("window.document.x" + "a" * 200_000 + ";\n" + GOOD).encode(), "any"),
    "impossible_date.jsonl": (b'{"id": "feb31", "date": "31.02.2025", "text": "Putin lobt Trump."}\n', "read"),
    "far_date.jsonl": (b'{"id": "y99999", "date": "99999-01-01", "text": "Putin lobt Trump."}\n', "read"),
    "duplicate_ids.jsonl": ((DATED % ("same", GOOD) + DATED % ("same", "Merz trifft Macron in Paris."))
                            .encode(), "read"),
    ".hidden.txt": (GOOD.encode(), "skipped"),
    "boilerplate_only.txt": (b"Cookies akzeptieren\nAlle Rechte vorbehalten.\nNewsletter abonnieren\n", "any"),
    "english.txt": (b"Putin sharply criticised the government in Kyiv on Monday. The chancellor said that he was "
                    b"not happy with the plan and that he would rely on a solution for the country.", "read"),
    "nfd_and_zero_width.txt": ("Orba\u0301n traf Sel\u200benskyj in Budapest.".encode(), "read"),
    "rtl_override_title.jsonl": ('{"id": "rtl", "title": "\u202eevil\u202c", "text": "Putin lobt Trump."}\n'.encode(), "read"),
    "crlf.txt": (b"Putin lobt Trump.\r\n\r\nMerz trifft Macron.\r\n", "read"),
    "bom_utf8.csv": ("\ufeffid,text\nb1,Putin lobt Trump.\n".encode(), "read"),
}


@pytest.fixture(scope="module")
def audit(tmp_path_factory, analyzer):
    folder = tmp_path_factory.mktemp("audit")
    corpus = folder / "corpus"
    corpus.mkdir()
    (corpus / "good.txt").write_text(GOOD, encoding="utf-8")
    for name, (content, _) in CLASSES.items():
        (corpus / name).write_bytes(content)
    (corpus / "loop").mkdir()
    os.symlink(corpus / "loop", corpus / "loop" / "again")  # a symlinked folder pointing at its parent
    unreadable = corpus / "unreadable.txt"
    unreadable.write_text(GOOD, encoding="utf-8")
    unreadable.chmod(0)
    out = folder / "report"
    code = main(["report", str(corpus), "--out", str(out), "--quiet", "--jobs", "1"])
    result = stance.analyze_corpus(corpus, analyzer=analyzer, jobs=1)
    unreadable.chmod(0o644)
    return code, result, out


def test_audit_the_run_finishes(audit):
    code, _, out = audit
    assert code == 0 and (out / "report.md").is_file()


@pytest.mark.parametrize("name", sorted(CLASSES))
def test_audit_every_input_is_accounted_for(audit, name):
    _, result, _ = audit
    expected = CLASSES[name][1]
    files = {f.path.rsplit("/", 1)[-1]: f for f in result.files}
    skipped = {s.source.rsplit("/", 1)[-1]: s for s in result.skipped}
    assert name in files or name in skipped, f"{name} is not accounted for"
    if name in files and files[name].status == "read":
        status = "read"
        in_table = result.articles["path"].fillna("").str.endswith(name) | result.articles["source"].fillna("").str.endswith(name)
        assert in_table.any() or files[name].articles == 0
    else:
        status = "skipped"
        reason = files[name].reason if name in files else skipped[name].reason
        assert reason, f"{name} skipped without a reason"
    if expected != "any":
        assert status == expected, (name, status)


def test_audit_good_articles_are_analysed(audit):
    """Good rows beside bad ones are analysed (or counted as a duplicate of the same good text)."""
    _, result, _ = audit
    ok = set(result.articles.loc[result.articles["status"].isin(["ok", "duplicate"]), "article_id"])
    for article_id in ("deep-ok", "int-ok", "obj-ok", "j1", "j2", "j3", "longs", "dotted", "mt", "s1", "c1", "c3", "q1", "q3"):
        assert article_id in ok, article_id
    assert any(a.endswith("good.txt#1") for a in ok)


def test_audit_rows_around_a_bad_row_survive_and_the_bad_row_is_listed(audit):
    _, result, _ = audit
    reasons = result.articles.loc[result.articles["status"] == "skipped", ["article_id", "reason"]]
    assert reasons["article_id"].str.contains("lone_cr.csv:line").any()
    assert reasons["article_id"].str.contains("open_quote.csv:line").any()


def test_audit_dates_never_raise(audit):
    _, result, _ = audit
    dates = result.articles.set_index("article_id")["date"]
    assert dates["longs"] == "2025-08-03" and dates["dotted"] == "2025-04-01"
    assert dates.isna()["feb31"] and dates.isna()["y99999"]


def test_audit_symlink_loop_and_unreadable_file_are_listed(audit):
    _, result, _ = audit
    reasons = {s.source.rsplit("/", 1)[-1]: s.reason for s in result.skipped}
    assert "symbolic link" in reasons["again"]
    if os.geteuid() != 0:  # root reads a mode-000 file
        assert "unreadable.txt" in reasons


def test_audit_text_is_normalised_and_english_is_skipped(audit):
    _, result, _ = audit
    assert {"orban", "zelensky"} <= set(result.mentions.loc[result.mentions["source"].str.endswith("nfd_and_zero_width.txt"), "actor"])
    english = result.articles[result.articles["path"].fillna("").str.endswith("english.txt")]
    assert english["reason"].iloc[0].startswith("not German")


def test_audit_outputs_are_safe(audit):
    _, _, out = audit
    for path in out.glob("*.csv"):
        with path.open(encoding="utf-8", newline="") as handle:
            for row in csv.reader(handle):
                for cell in row:
                    assert not re.match(r"[=+@\t\r]", cell), (path.name, cell)
                    assert not re.match(r"-[^\d.]", cell), (path.name, cell)
                    assert "\x1b" not in cell and "\u202e" not in cell, (path.name, cell)
    report = (out / "report.md").read_text(encoding="utf-8")
    assert "\x1b" not in report
    assert not re.search(r"^#+ HEADING", report, re.MULTILINE)
    assert "](http://evil.example)" not in report

