"""Archive inputs (issue #12): ``.jsonl.gz``, ``.csv.gz`` and ``.parquet``, streamed like JSONL and CSV."""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import json
import time
import tracemalloc
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from stance.articles import iter_corpus, load_articles
from stance.config import IngestConfig
from stance.records import Article

ROWS = [
    {"id": f"a{i}", "title": f"Titel {i}", "date": f"2025-10-{10 + i:02d}", "source": "Zeitung",
     "url": f"https://example.org/{i}", "section": "Politik",
     "text": f"Artikel {i}: Putin sprach am Montag mit Trump über die Ukraine, sagte der Sprecher {i} und {i * 7}."}
    for i in range(6)
]


def _jsonl_bytes(rows) -> bytes:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows).encode("utf-8")


def _csv_bytes(rows) -> bytes:
    path_rows = [",".join(rows[0])]
    for row in rows:
        path_rows.append(",".join(f'"{str(v)}"' for v in row.values()))
    return ("\n".join(path_rows) + "\n").encode("utf-8")


def _write_parquet(path: Path, rows, **kwargs) -> Path:
    pq.write_table(pa.Table.from_pylist(rows), path, **kwargs)
    return path


def _key(article: Article):
    return article.id, article.title, article.date, article.text, article.source, article.url, article.extra


@pytest.fixture
def plain(tmp_path):
    (tmp_path / "plain").mkdir()
    jsonl = tmp_path / "plain" / "p.jsonl"
    jsonl.write_bytes(_jsonl_bytes(ROWS))
    csv_file = tmp_path / "plain" / "p.csv"
    csv_file.write_bytes(_csv_bytes(ROWS))
    return jsonl, csv_file


def test_gzip_and_parquet_read_like_plain_files(tmp_path, plain):
    jsonl, csv_file = plain
    expected = [_key(a) for a in load_articles(jsonl).articles]
    assert len(expected) == len(ROWS) and expected == [_key(a) for a in load_articles(csv_file).articles]
    gz_jsonl = tmp_path / "g.jsonl.gz"
    gz_jsonl.write_bytes(gzip.compress(_jsonl_bytes(ROWS)))
    gz_csv = tmp_path / "g.csv.gz"
    gz_csv.write_bytes(gzip.compress(_csv_bytes(ROWS)))
    parquet = _write_parquet(tmp_path / "g.parquet", ROWS, row_group_size=2)
    for path in (gz_jsonl, gz_csv, parquet):
        corpus = load_articles(path)
        assert [_key(a) for a in corpus.articles] == expected, path.name
        assert not corpus.skipped and [f.status for f in corpus.files] == ["read"]
    assert [a.location for a in load_articles(parquet).articles][:2] == ["row 1", "row 2"]


def test_parquet_dates_as_dates_timestamps_and_strings(tmp_path):
    table = pa.table({
        "text": ["Putin sprach lange.", "Trump sprach kurz.", "Merz schwieg heute."],
        "date": pa.array([dt.date(2025, 10, 1), dt.date(2025, 10, 2), None], pa.date32()),
        "ts": pa.array([dt.datetime(2025, 10, 1, 12), None, None], pa.timestamp("s")),
        "id": pa.array([1, 2, 3], pa.int64()),
    })
    pq.write_table(table, tmp_path / "d.parquet")
    table2 = pa.table({"text": ["Putin sprach lange."], "date": pa.array([dt.datetime(2025, 10, 3, 23, 59)], pa.timestamp("us"))})
    pq.write_table(table2, tmp_path / "e.parquet")
    table3 = pa.table({"text": ["Putin sprach lange."], "Date": ["3. Oktober 2025"]})
    pq.write_table(table3, tmp_path / "f.parquet")
    articles = load_articles(tmp_path).articles
    assert [a.date for a in articles] == [dt.date(2025, 10, 1), dt.date(2025, 10, 2), None,
                                          dt.date(2025, 10, 3), dt.date(2025, 10, 3)]
    assert [a.id for a in articles[:3]] == ["1", "2", "3"]
    assert dict(articles[0].extra)["ts"].startswith("2025-10-01")


def test_folder_mixing_all_kinds(tmp_path, plain):
    folder = tmp_path / "mix"
    folder.mkdir()
    for name in ("a.jsonl", "b.csv"):
        (folder / name).write_bytes((plain[0] if name.endswith("jsonl") else plain[1]).read_bytes())
    (folder / "c.jsonl.gz").write_bytes(gzip.compress(_jsonl_bytes(ROWS)))
    (folder / "d.csv.gz").write_bytes(gzip.compress(_csv_bytes(ROWS)))
    _write_parquet(folder / "e.parquet", ROWS)
    (folder / "f.txt").write_text("Putin sprach mit Trump über einen ganz anderen Plan.", encoding="utf-8")
    (folder / "notes.gz").write_bytes(gzip.compress(b"not an input"))  # no known suffix: ignored
    corpus = load_articles(folder)
    assert [(f.path, f.status, f.articles) for f in corpus.files] == [
        ("mix/a.jsonl", "read", 6), ("mix/b.csv", "read", 6), ("mix/c.jsonl.gz", "read", 6),
        ("mix/d.csv.gz", "read", 6), ("mix/e.parquet", "read", 6), ("mix/f.txt", "read", 1)]
    assert len(corpus.articles) == 31 and len(corpus.unique_articles) == 7  # the same rows are duplicates
    assert {a.id for a in corpus.articles if a.duplicate_of is None} == {f"a{i}" for i in range(6)} | {"mix/f.txt#1"}


def test_gzip_chosen_by_content_not_name(tmp_path, caplog):
    hidden_gzip = tmp_path / "a.jsonl"
    hidden_gzip.write_bytes(gzip.compress(_jsonl_bytes(ROWS[:2])))
    hidden_gzip_csv = tmp_path / "b.csv"
    hidden_gzip_csv.write_bytes(gzip.compress(_csv_bytes(ROWS[2:4])))
    plain_named_gz = tmp_path / "c.jsonl.gz"
    plain_named_gz.write_bytes(_jsonl_bytes(ROWS[4:]))
    corpus = load_articles(tmp_path)
    assert [a.id for a in corpus.articles] == [f"a{i}" for i in range(6)]
    assert not corpus.skipped
    status = {f.path: f for f in corpus.files}
    assert any("not gzip-compressed" in w for w in status[f"{tmp_path.name}/c.jsonl.gz"].warnings)
    assert "not gzip-compressed" in caplog.text


def _many_rows(n: int, start: int = 0):
    return [{"id": f"r{i}", "date": "2025-10-20",
             "text": f"Bericht {i}: Putin sprach mit Trump über die Lage in der Ukraine und Nummer {i}."}
            for i in range(start, start + n)]


def test_corrupt_gzip_keeps_rows_before_the_damage(tmp_path):
    data = gzip.compress(_jsonl_bytes(_many_rows(3000)), compresslevel=1)
    damaged = bytearray(data)
    middle = len(damaged) // 2
    damaged[middle:middle + 64] = bytes(64)
    (tmp_path / "a.jsonl.gz").write_bytes(bytes(damaged))
    data_b = gzip.compress(_jsonl_bytes(_many_rows(3000, start=10_000)), compresslevel=1)
    (tmp_path / "b.jsonl.gz").write_bytes(data_b[: len(data_b) // 2])  # truncated: ends before its end marker
    (tmp_path / "c.jsonl").write_bytes(_jsonl_bytes(_many_rows(2, start=5000)))
    corpus = load_articles(tmp_path, config=IngestConfig(duplicates="keep"))
    files = {f.path.split("/")[-1]: f for f in corpus.files}
    for name in ("a.jsonl.gz", "b.jsonl.gz"):
        status = files[name]
        assert status.status == "read" and 0 < status.articles < 3000, name
        assert "reading stopped after" in (status.reason or "") and "corrupt gzip data" in (status.reason or "")
        stops = [s for s in corpus.skipped if s.source.endswith(name) and "reading stopped" in s.reason]
        assert len(stops) == 1
    assert files["c.jsonl"].articles == 2 and files["c.jsonl"].status == "read"
    ids = [a.id for a in corpus.articles if a.path.endswith("b.jsonl.gz")]
    assert ids == [f"r{i}" for i in range(10_000, 10_000 + len(ids))]  # the rows before the damage, in order


def test_gzip_damaged_at_the_start_is_skipped(tmp_path):
    (tmp_path / "a.jsonl.gz").write_bytes(b"\x1f\x8b" + bytes(40))
    (tmp_path / "b.csv.gz").write_bytes(gzip.compress(_csv_bytes(ROWS[:1])))
    corpus = load_articles(tmp_path)
    assert [a.id for a in corpus.articles] == ["a0"]
    skip = [s for s in corpus.skipped if s.source.endswith("a.jsonl.gz")]
    assert len(skip) == 1 and "gzip" in skip[0].reason


def test_gzip_bomb_stops_at_the_decompressed_limit(tmp_path):
    rows = _many_rows(20)
    payload = _jsonl_bytes(rows) + b" " * 5_000_000 + b"\n" + _jsonl_bytes(_many_rows(5, start=100))
    bomb = tmp_path / "bomb.jsonl.gz"
    bomb.write_bytes(gzip.compress(payload, compresslevel=9))
    assert bomb.stat().st_size < 100_000
    config = IngestConfig(max_decompressed_bytes=500_000)
    corpus = load_articles(bomb, config=config)
    status = corpus.files[0]
    assert status.articles == 20 and "max_decompressed_bytes" in (status.reason or "")
    assert any("decompressed data exceeds the limit" in s.reason for s in corpus.skipped)
    whole = tmp_path / "bomb.txt"  # a whole-read text file that is a gzip bomb is skipped
    whole.write_bytes(gzip.compress(b"Putin sprach. " * 50_000))
    corpus = load_articles(whole, config=config)
    assert not corpus.articles and "max_decompressed_bytes" in corpus.skipped[0].reason
    assert load_articles(whole).articles  # under the default limit it is read


def test_parquet_without_text_column_is_skipped(tmp_path):
    _write_parquet(tmp_path / "a.parquet", [{"body": "Putin sprach.", "id": "x"}])
    _write_parquet(tmp_path / "b.parquet", ROWS[:2])
    corpus = load_articles(tmp_path)
    assert [a.id for a in corpus.articles] == ["a0", "a1"]
    skip = [s for s in corpus.skipped if s.source.endswith("a.parquet")]
    assert len(skip) == 1 and "no 'text' column" in skip[0].reason and "body" in skip[0].reason


def test_truncated_parquet_is_skipped_other_files_unaffected(tmp_path):
    good = _write_parquet(tmp_path / "b.parquet", ROWS)
    data = good.read_bytes()
    (tmp_path / "a.parquet").write_bytes(data[: len(data) // 2])
    (tmp_path / "c.parquet").write_bytes(b"PAR1 this is not parquet at all")
    corpus = load_articles(tmp_path)
    assert [a.id for a in corpus.articles] == [r["id"] for r in ROWS]
    reasons = {s.source.split("/")[-1]: s.reason for s in corpus.skipped}
    assert set(reasons) == {"a.parquet", "c.parquet"}
    assert all("not a readable Parquet file" in r for r in reasons.values())


def test_parquet_damaged_mid_file_keeps_rows_read(tmp_path, monkeypatch):
    import stance.articles as articles_module

    path = _write_parquet(tmp_path / "a.parquet", _many_rows(1000), row_group_size=100)
    real = pq.ParquetFile.iter_batches

    def failing(self, *args, **kwargs):
        for k, batch in enumerate(real(self, *args, **kwargs)):
            if k == 5 and "id" in (kwargs.get("columns") or []):
                raise OSError("Corrupt snappy compressed data.")
            yield batch

    monkeypatch.setattr(pq.ParquetFile, "iter_batches", failing)
    monkeypatch.setattr(articles_module, "_PARQUET_BATCH_ROWS", 100)
    corpus = load_articles(path)
    assert len(corpus.articles) == 500
    assert "reading stopped after 500 article(s)" in (corpus.files[0].reason or "")
    assert "after row 500" in corpus.skipped[-1].reason and "Corrupt snappy" in corpus.skipped[-1].reason


def test_parquet_rows_recover_one_by_one(tmp_path):
    rows = [{"text": "Putin sprach lange mit Trump.", "date": "2025-10-01"}, {"text": None, "date": "2025-10-02"},
            {"text": "Merz sprach lange mit Scholz.", "date": "2031-01-01"},
            {"text": "Trump sprach lange mit Putin.", "date": "2025-10-03"},
            {"text": "Selenskyj sprach mit Merz.", "date": "2025-10-04"}]
    corpus = load_articles(_write_parquet(tmp_path / "a.parquet", rows))
    assert [s.location for s in corpus.skipped] == ["row 2"]
    assert [a.location for a in corpus.articles] == ["row 1", "row 3", "row 4", "row 5"]
    assert any("implausible date" in w for w in corpus.articles[1].warnings)


def test_cli_analyze_mixed_archive_folder(tmp_path, capsys):
    from stance.cli import main

    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a.jsonl.gz").write_bytes(gzip.compress(_jsonl_bytes(ROWS[:2])))
    (folder / "b.csv.gz").write_bytes(gzip.compress(_csv_bytes(ROWS[2:4])))
    _write_parquet(folder / "c.parquet", ROWS[4:])
    _write_parquet(folder / "d.parquet", [{"body": "kein Text"}])
    (folder / "e.jsonl.gz").write_bytes(b"\x1f\x8b" + bytes(20))
    out = tmp_path / "m.csv"
    assert main(["analyze", str(folder), "--out", str(out), "--quiet", "--jobs", "1"]) == 0
    with out.open(encoding="utf-8", newline="") as handle:
        assert {r["article_id"] for r in csv.DictReader(handle)} == {f"a{i}" for i in range(6)}
    report = tmp_path / "report"
    assert main(["report", str(folder), "--out", str(report), "--quiet", "--jobs", "1"]) == 0
    with (report / "articles.csv").open(encoding="utf-8", newline="") as handle:
        records = list(csv.DictReader(handle))
    assert {f"a{i}" for i in range(6)} <= {r["article_id"] for r in records}
    assert {r["path"] for r in records} == {f"in/{name}" for name in ("a.jsonl.gz", "b.csv.gz", "c.parquet", "d.parquet", "e.jsonl.gz")}
    text = (report / "articles.csv").read_text(encoding="utf-8")
    assert "d.parquet" in text and "no 'text' column" in text and "e.jsonl.gz" in text and "gzip" in text


def _peak(paths, config) -> tuple[int, int]:
    tracemalloc.start()
    try:
        count = sum(isinstance(item, Article) for item in iter_corpus(*paths, config=config))
        return count, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_archive_inputs_stream_in_flat_memory(tmp_path):
    started = time.perf_counter()
    config = IngestConfig(duplicates="keep")
    rows = [{"id": f"r{i}", "date": "2025-10-20", "text": f"Bericht {i}: " + "Putin sprach mit Trump. " * 30}
            for i in range(20_000)]
    payload = _jsonl_bytes(rows)
    gz = tmp_path / "big.jsonl.gz"
    gz.write_bytes(gzip.compress(payload, compresslevel=1))
    parquet = _write_parquet(tmp_path / "big.parquet", rows, row_group_size=2_000)
    del rows
    for path in (gz, parquet):
        count, peak = _peak([path], config)
        assert count == 20_000
        # what stays per row is its id and date (about 200 bytes), not its text (about 800 bytes)
        assert peak < len(payload) / 3, (path.name, peak, len(payload))
    assert time.perf_counter() - started < 30


def test_gzip_rows_get_the_same_checks_as_plain_rows(tmp_path):
    rows = [{"id": f"d{i}", "date": f"2025-10-0{i + 1}", "text": f"Putin sprach am Tag {i} mit Trump über Zölle."}
            for i in range(4)]
    rows[2]["date"] = "2031-01-01"
    payload = _jsonl_bytes(rows[:2]) + b"{not json\n" + _jsonl_bytes(rows[2:])
    (tmp_path / "a.jsonl.gz").write_bytes(gzip.compress(payload))
    (tmp_path / ".hidden.jsonl.gz").write_bytes(gzip.compress(payload))
    corpus = load_articles(tmp_path)
    assert [a.id for a in corpus.articles] == ["d0", "d1", "d2", "d3"]
    assert any("implausible date" in w for w in corpus.articles[2].warnings)
    assert [(s.location, s.reason.split(":")[0]) for s in corpus.skipped] == [(None, "hidden file"), ("line 3", "invalid JSON")]


def test_other_gzip_text_suffixes_when_configured(tmp_path):
    (tmp_path / "a.json.gz").write_bytes(gzip.compress(json.dumps(ROWS[:2]).encode("utf-8")))
    (tmp_path / "b.txt.gz").write_bytes(gzip.compress("Putin sprach lange mit Trump über Zölle.".encode()))
    assert not load_articles(tmp_path).articles  # not among the default suffixes
    config = IngestConfig(suffixes=(*IngestConfig().suffixes, ".json.gz", ".txt.gz"))
    corpus = load_articles(tmp_path, config=config)
    assert [a.id for a in corpus.articles] == ["a0", "a1", f"{tmp_path.name}/b.txt.gz#1"]
