"""The bundled sample corpus through the whole pipeline: report files, counts, determinism."""

from __future__ import annotations

import csv

import pytest

from stance.cli import main

PLOTS = ("timeline", "heatmap", "actor_overview", "stance_vs_sentiment")


@pytest.fixture(scope="module")
def report_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("report")
    assert main(["report", "--out", str(out), "--quiet", "--jobs", "1"]) == 0
    return out


def rows(path):
    with open(path, encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_end_to_end_report_files_and_columns(report_dir):
    for name in ("mentions.csv", "articles.csv", "by_article.csv", "by_date.csv", "by_actor.csv", "by_source.csv", "report.md"):
        assert (report_dir / name).is_file()
    mentions = rows(report_dir / "mentions.csv")
    assert {"article_id", "source", "title", "date", "sentence_index", "actor", "surface", "stance", "stance_score",
            "p_negative", "p_neutral", "p_positive", "sentiment", "sentiment_score", "sentence"} <= set(mentions[0])
    assert len(mentions) >= 450
    assert all(-1 <= float(r["stance_score"]) <= 1 for r in mentions)
    assert {r["actor"] for r in mentions} >= {"trump", "putin", "zelensky", "lavrov", "rubio"}
    assert {"units", "mean_stance", "ci_low", "ci_high", "share_negative", "share_neutral", "share_positive",
            "mean_sentiment"} <= set(rows(report_dir / "by_actor.csv")[0])


def test_end_to_end_duplicate_counted_once(report_dir):
    articles = rows(report_dir / "articles.csv")
    assert [r["status"] for r in articles].count("duplicate") == 1
    assert [r["status"] for r in articles].count("ok") == 13
    duplicate = next(r for r in articles if r["status"] == "duplicate")
    mentions = rows(report_dir / "mentions.csv")
    assert not any(r["article_id"] == duplicate["article_id"] for r in mentions)
    original = [r for r in mentions if r["article_id"] == duplicate["duplicate_of"]]
    assert original


def test_end_to_end_undated_article_only_in_undated_row(report_dir):
    by_date = rows(report_dir / "by_date.csv")
    mentions = rows(report_dir / "mentions.csv")
    undated_units = sum(1 for r in mentions if not r["date"])
    assert undated_units > 0
    assert sum(int(r["units"]) for r in by_date if r["period"] == "undated") == undated_units
    assert sum(int(r["units"]) for r in by_date) == len(mentions)


def test_end_to_end_report_shows_warnings_and_plots(report_dir):
    text = (report_dir / "report.md").read_text(encoding="utf-8")
    assert "2026-10-21" in text and "implausible" in text
    assert "duplicate" in text and "undated" in text
    for name in PLOTS:
        png = report_dir / f"{name}.png"
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 5000
        assert (report_dir / f"{name}.svg").stat().st_size > 5000
        assert f"({name}.png)" in text


def test_end_to_end_deterministic_and_parallel_identical(report_dir, tmp_path):
    assert main(["report", "--out", str(tmp_path), "--quiet", "--jobs", "2"]) == 0
    names = sorted(p.name for p in report_dir.iterdir())
    assert names == sorted(p.name for p in tmp_path.iterdir())
    for name in names:  # CSVs, report.md, and the PNG/SVG plots
        assert (tmp_path / name).read_bytes() == (report_dir / name).read_bytes(), name


def test_end_to_end_plot_command_redraws(report_dir, tmp_path):
    assert main(["plot", str(report_dir / "mentions.csv"), "--out", str(tmp_path), "--quiet"]) == 0
    assert sorted(p.name for p in tmp_path.glob("*.png")) == sorted(f"{n}.png" for n in PLOTS)
