from __future__ import annotations

import json

import pytest

from conftest import tiny_rows, write_jsonl
from stance.cli import main


@pytest.mark.parametrize("argv", [["--help"], ["report", "--help"], ["analyze", "--help"], ["plot", "--help"],
                                  ["actors", "--help"], ["train", "--help"], ["evaluate", "--help"],
                                  ["model-report", "--help"], ["explain", "--help"]])
def test_cli_help_exits_zero(argv, capsys):
    assert main(argv) == 0
    assert "usage: stance" in capsys.readouterr().out


def test_cli_bad_usage_exit_2(capsys):
    assert main([]) == 2
    assert main(["report", "--freq", "year"]) == 2
    assert main(["nonsense"]) == 2
    for bad in (["--language", "zz"], ["--jobs", "0"], ["--jobs", "two"]):  # refused before any data is read
        assert main(["train", "--data", "missing.jsonl", "--out", "unused", *bad]) == 2
        assert main(["model-report", "--data", "missing.jsonl", *bad]) == 2


def test_cli_missing_corpus_exit_2_without_traceback(tmp_path, capsys):
    assert main(["report", str(tmp_path / "nope"), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert "InputFormatError" in err and "no such file or folder" in err and "Traceback" not in err


def test_cli_bad_actor_file_exit_2(tmp_path, capsys):
    bad = tmp_path / "a.toml"
    bad.write_text("[[actor]\n", encoding="utf-8")
    assert main(["actors", "--actors", str(bad)]) == 2
    assert "ActorRegistryError" in capsys.readouterr().err


def test_cli_actors_lists_registry(capsys):
    assert main(["actors", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert {"trump", "putin", "zelensky"} <= {r["id"] for r in rows}


def test_cli_analyze_formats(tmp_path, capsys):
    corpus = tmp_path / "c.txt"
    corpus.write_text("Putin lehnte ab. Trump telefonierte mit Selenskyj.", encoding="utf-8")
    for suffix in (".csv", ".jsonl", ".parquet"):
        out = tmp_path / f"m{suffix}"
        assert main(["analyze", str(corpus), "--out", str(out), "--quiet", "--jobs", "1"]) == 0
        assert out.stat().st_size > 100
    assert main(["analyze", str(corpus), "--out", str(tmp_path / "m.xlsx")]) == 2


def test_cli_plot_rejects_non_mentions_table(tmp_path, capsys):
    path = tmp_path / "x.csv"
    path.write_text("a,b\n1,2\n", encoding="utf-8")
    assert main(["plot", str(path), "--out", str(tmp_path / "plots")]) == 2
    assert "missing column" in capsys.readouterr().err


def test_cli_explain(capsys):
    assert main(["explain", "Kritiker werfen Putin Lügen vor.", "Putin", "--top", "3"]) == 0
    assert "stance=" in capsys.readouterr().out
    assert main(["explain", "Kritiker werfen Putin Lügen vor.", "Trump"]) == 2


def test_cli_train_and_evaluate_tiny(tmp_path, capsys):
    data = write_jsonl(tmp_path / "d.jsonl", tiny_rows(source="sample"))
    config = tmp_path / "c.toml"
    config.write_text("[model]\nchar_ngram_max = 3\n[data]\nmin_rows = 10\ncv_folds = 3\n", encoding="utf-8")
    model = tmp_path / "model"
    assert main(["train", "--data", str(data), "--out", str(model), "--config", str(config), "--quiet", "--cv",
                 "--language", "de", "--jobs", "1"]) == 0
    meta = json.loads((model / "model.json").read_text())
    assert meta["language"] == "de" and meta["data_policy"]["min_rows"] == 10 and meta["config"]["char_ngram_max"] == 3 and len(meta["trained_on"]["data_sha256"]) == 64
    assert "stance_cv" in meta["metrics"]
    out = tmp_path / "eval"
    assert main(["evaluate", "--model", str(model), "--data", str(data), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "macro-F1" in printed and "confusion" in printed
    assert json.loads((out / "metrics.json").read_text())["n"] == 18
    assert (out / "confusion.png").read_bytes().startswith(b"\x89PNG")


@pytest.mark.parametrize("mutate, message", [
    (lambda rows: [dict(r, stance="neutral") for r in rows], "at least two classes"),
    (lambda rows: rows[:5], "at least 30 are needed"),
    (lambda rows: [dict(rows[0], stance="bad")] + rows[1:], "stance 'bad' is not one of"),
])
def test_cli_train_bad_data_fails_before_fitting(tmp_path, capsys, mutate, message):
    data = write_jsonl(tmp_path / "d.jsonl", mutate(tiny_rows()))
    assert main(["train", "--data", str(data), "--out", str(tmp_path / "m")]) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "m").exists()


@pytest.mark.parametrize("content, message", [
    ("[model]\nlearning_rate = 3\n", "learning_rate"),
    ("[model]\nmin_rows = 3\n", "('min_rows' belongs in [data])"),
    ("[data]\nC = 3\n", "('C' belongs in [model])"),
    ("[data.weights]\nnews = -1\n", "must map source names to non-negative numbers"),
    ("C = 3\n", "unknown table(s) or key(s) C"),
])
def test_cli_train_bad_config(tmp_path, capsys, content, message):
    config = tmp_path / "c.toml"
    config.write_text(content, encoding="utf-8")
    data = write_jsonl(tmp_path / "d.jsonl", tiny_rows())
    assert main(["train", "--data", str(data), "--out", str(tmp_path / "m"), "--config", str(config)]) == 2
    assert message in capsys.readouterr().err


def test_cli_all_inputs_skipped_exit_2(tmp_path, capsys):
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(100))
    assert main(["analyze", str(bad), "--out", str(tmp_path / "m.csv"), "--jobs", "1"]) == 2
    captured = capsys.readouterr()
    assert "binary file" in captured.out and "no input could be analysed" in captured.err


def test_cli_all_inputs_skipped_quiet_names_the_reasons(tmp_path, capsys):
    """With --quiet there is no summary above the error, so the error itself says why."""
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(100))
    assert main(["analyze", str(bad), "--out", str(tmp_path / "m.csv"), "--jobs", "1", "--quiet"]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and "bad.txt: binary file" in captured.err and "reasons above" not in captured.err


def test_cli_plot_with_too_few_units_draws_a_message(tmp_path, capsys):
    corpus = tmp_path / "c.txt"
    corpus.write_text("Putin sprach.", encoding="utf-8")
    assert main(["analyze", str(corpus), "--out", str(tmp_path / "m.csv"), "--quiet", "--jobs", "1"]) == 0
    assert main(["plot", str(tmp_path / "m.csv"), "--out", str(tmp_path / "p"), "--quiet"]) == 0
    assert len(list((tmp_path / "p").glob("*.png"))) == 4


def _news_rows_and_pool(tmp_path):
    """The tiny units as news records that refer to a tiny pool, outlets on both sides of the split."""
    from stance.dataset import news_split, sentence_sha256

    outlets = [f"outlet{i}.de" for i in range(40)]
    dev, train = [o for o in outlets if news_split(o) == "dev"], [o for o in outlets if news_split(o) == "train"]
    pool, rows = [], []
    for i, row in enumerate(tiny_rows() * 2):
        outlet = (dev if i % 3 == 0 else train)[i % 5]
        ref = f"P{i:03d}"
        pool.append({"id": ref, "url": f"https://{outlet}/{i}", "domain": outlet, "text": "Vorspann. " + row["sentence"]})
        rows.append({k: v for k, v in row.items() if k != "sentence"} | {
            "id": f"news-{ref}-s001-{row['actor']}", "doc_id": f"news/{ref}", "source": "news", "corpus": "news_pool", "ref": ref,
            "outlet": outlet, "url": f"https://{outlet}/{i}", "sentence_start": 10, "sentence_end": 10 + len(row["sentence"]),
            "sentence_sha256": sentence_sha256(row["sentence"]), "split": news_split(outlet)})
    return write_jsonl(tmp_path / "news.jsonl", sorted(rows, key=lambda r: r["id"])), write_jsonl(tmp_path / "pool.jsonl", pool)


def test_cli_train_reports_news_dev_and_refits_with_it(tmp_path, capsys):
    news, pool = _news_rows_and_pool(tmp_path)
    config = tmp_path / "c.toml"
    config.write_text("[model]\nchar_ngram_max = 3\n[data]\nmin_rows = 10\n", encoding="utf-8")
    model = tmp_path / "model"
    assert main(["train", "--data", str(news), "--out", str(model), "--config", str(config), "--pool", str(pool)]) == 0
    assert "stance_news_dev" in capsys.readouterr().out
    meta = json.loads((model / "model.json").read_text())
    dev_units = sum(1 for line in news.read_text().splitlines() if '"split": "dev"' in line)
    assert meta["metrics"]["stance_news_dev"]["n"] == meta["metrics"]["sentiment_news_dev"]["n"] == dev_units > 0
    assert meta["trained_on"]["stance_rows"] == 36 and meta["trained_on"]["development_splits_included"] is True
    assert "pearson_r" in meta["metrics"]["stance_news_dev_actor_means"]
    assert main(["train", "--data", str(news), "--out", str(tmp_path / "m2"), "--pool", str(tmp_path / "absent.jsonl")]) == 2
    assert "not found at" in capsys.readouterr().err
