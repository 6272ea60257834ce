"""Shared fixtures: the pipeline, the packaged sample corpus, small German texts."""

from __future__ import annotations

import json
from pathlib import Path

import matplotlib
import pytest

matplotlib.use("Agg")

ROOT = Path(__file__).resolve().parents[1]
TRAINING_DATA = ROOT / "training" / "data"
SHARED = ROOT.parent / "shared"
NEWS_POOL = SHARED / "corpus" / "news_pool" / "pool.jsonl"
GERNTSA = SHARED / "datasets" / "gerntsa" / "train.jsonl"
needs_external_corpora = pytest.mark.skipif(
    not (NEWS_POOL.is_file() and GERNTSA.is_file()),
    reason=f"needs the news pool ({NEWS_POOL}) and GerNTSA ({GERNTSA}): third-party text that the project does not "
           "store; training/data refers to it by id, offsets and SHA-256",
)


@pytest.fixture(scope="session")
def nlp():
    from stance.nlp import load_nlp

    return load_nlp()


@pytest.fixture(scope="session")
def sample_files():
    from stance.resources import sample_corpus_files

    return sample_corpus_files()


@pytest.fixture(scope="session")
def corpus():
    import stance

    return stance.load_articles()


@pytest.fixture(scope="session")
def analyzer():
    import stance

    return stance.load()


@pytest.fixture(scope="session")
def sample_result(analyzer):
    import stance

    return stance.analyze_corpus(analyzer=analyzer, jobs=1)


def write_jsonl(path: Path, rows) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


TINY_UNITS = [
    ("Putin ließ Kiew erneut bombardieren, viele Zivilisten starben.", "Putin", "negative", "negative"),
    ("Der Kriegsverbrecher Putin lügt wie immer.", "Putin", "negative", "negative"),
    ("Kritiker werfen Putin Kriegsverbrechen vor.", "Putin", "negative", "negative"),
    ("Putins Armee zerstörte das Kraftwerk.", "Putins", "negative", "negative"),
    ("Trump ist mit seinem Friedensplan kläglich gescheitert.", "Trump", "negative", "negative"),
    ("Die Nato verurteilte Lukaschenko für die Repressionen.", "Lukaschenko", "negative", "negative"),
    ("Macron wurde für seine mutige Rede gelobt.", "Macron", "positive", "positive"),
    ("Selenskyj dankte Merz für die großzügige Unterstützung.", "Merz", "positive", "positive"),
    ("Die EU würdigte von der Leyen für ihren erfolgreichen Einsatz.", "von der Leyen", "positive", "positive"),
    ("Starmer erzielte einen großen Erfolg bei den Verhandlungen.", "Starmer", "positive", "positive"),
    ("Tusk gewann die Wahl mit einem deutlichen Vorsprung und feierte.", "Tusk", "positive", "positive"),
    ("Viele loben Rutte als verlässlichen und klugen Vermittler.", "Rutte", "positive", "positive"),
    ("Rubio traf am Montag in Genf ein.", "Rubio", "neutral", "neutral"),
    ("Lawrow telefonierte am Dienstag mit seinem Kollegen.", "Lawrow", "neutral", "neutral"),
    ("Scholz reist nächste Woche nach Paris.", "Scholz", "neutral", "neutral"),
    ("Meloni sprach am Abend vor dem Parlament.", "Meloni", "neutral", "neutral"),
    ("Orbán kündigte eine Pressekonferenz für Freitag an.", "Orbán", "neutral", "neutral"),
    ("Witkoff wird am Donnerstag in Moskau erwartet.", "Witkoff", "neutral", "neutral"),
]


def tiny_rows(source: str = "constructed"):
    """Small labelled rows in the training record format (sorted by id)."""
    from stance.mentions import find_mentions

    rows = []
    for i, (sentence, mention, stance, sentiment) in enumerate(TINY_UNITS):
        start = sentence.index(mention)
        actor = find_mentions(mention)[0].actor
        rows.append({"id": f"t-{i:03d}-{actor}", "doc_id": f"t#{i % 6}", "source": source, "sentence": sentence,
                     "actor": actor, "mention": mention, "start": start, "end": start + len(mention),
                     "stance": stance, "sentiment": sentiment})
    return sorted(rows, key=lambda r: r["id"])
