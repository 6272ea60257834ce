from __future__ import annotations

import datetime as dt
import json

from stance.articles import load_articles, split_segments

HEADERED = """Erster Titel | Vitaly Portnikov. 23.10.2025.

Putin sprach mit Trump. Das ist ein Text.

Zweiter Titel. Kolumne von Vitaly Portnikov. 18.10.2025

Lawrow schwieg. Auch das ist Text.

Dritter Titel | Anna Autorin. 21. Oktober 2025

Rubio reiste ab.
"""


def test_articles_sample_counts(corpus):
    unique = corpus.unique_articles
    assert len(corpus.articles) == 14
    assert len(unique) == 13
    assert sum(a.date is not None for a in unique) == 12
    assert len(corpus.files) == 5 and all(f.status == "read" for f in corpus.files)


def test_articles_sample_duplicate_marked(corpus):
    dups = [a for a in corpus.articles if a.duplicate_of]
    assert [(a.id, a.duplicate_of) for a in dups] == [("seeds/002_326afa099a296fc4.txt#6", "seeds/001_7a15a7b8cc93f8a2.txt#1")]


def test_articles_sample_implausible_2026_warning(corpus):
    flagged = [a for a in corpus.articles if a.warnings]
    assert [a.date for a in flagged] == [dt.date(2026, 10, 21)]
    assert "2026-10-21" in flagged[0].warnings[0] and "implausible" in flagged[0].warnings[0]
    assert any("2026" in w for w in corpus.warnings)


def test_articles_missing_date_is_none(corpus):
    undated = [a for a in corpus.articles if a.date is None]
    assert [a.id for a in undated] == ["seeds/004_a8942003c8a1c62e.txt#1"]


def test_articles_date_prefix_and_boilerplate(corpus):
    first = corpus.articles[0]
    assert first.date == dt.date(2025, 10, 21)
    assert first.text.startswith("Ein Treffen zwischen US-Außenminister Marco Rubio")
    web = corpus.articles[-1]
    for junk in ("zum Hauptinhalt", "Zur Startseite", "showPaywall", "console.debug", "©", "externen Inhalt"):
        assert junk not in web.text
    assert "Kommentar verfassen" not in corpus.articles[1].text


def test_articles_header_lines_split_with_titles_and_dates():
    segments = split_segments(HEADERED)
    assert [s.title for s in segments] == ["Erster Titel", "Zweiter Titel", "Dritter Titel"]
    assert [s.date for s in segments] == [dt.date(2025, 10, 23), dt.date(2025, 10, 18), dt.date(2025, 10, 21)]
    assert segments[0].text.startswith("Erster Titel\n\nPutin sprach mit Trump.")


def test_articles_jsonl_and_csv_inputs(tmp_path):
    rows = [{"id": "a1", "title": "T", "date": "21.10.2025", "source": "dpa", "url": "https://x", "text": "Putin sprach."},
            {"text": "Trump sprach.", "date": "kein Datum"}]
    (tmp_path / "a.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + "\n{broken\n", encoding="utf-8")
    (tmp_path / "b.csv").write_text("id,text,date\nc1,\"Lawrow, sagte er.\",2025-10-20\n", encoding="utf-8")
    corpus = load_articles(tmp_path)
    by_id = {a.id: a for a in corpus.articles}
    assert by_id["a1"].source == "dpa" and by_id["a1"].date == dt.date(2025, 10, 21) and by_id["a1"].url == "https://x"
    second = by_id[f"{tmp_path.name}/a.jsonl:2"]
    assert second.date is None and "not a valid date" in second.warnings[0]
    assert by_id["c1"].text == "Lawrow, sagte er." and by_id["c1"].date == dt.date(2025, 10, 20)
    assert [(s.location, "invalid JSON" in s.reason) for s in corpus.skipped] == [("line 3", True)]


def test_articles_every_input_accounted_for(tmp_path):
    (tmp_path / "good.txt").write_text("Putin sprach mit Trump.", encoding="utf-8")
    (tmp_path / "empty.txt").write_bytes(b"")
    (tmp_path / "image.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(200))
    (tmp_path / "notext.csv").write_text("a,b\n1,2\n", encoding="utf-8")
    (tmp_path / "latin.txt").write_bytes("Größe: Selenskyj dankte.".encode("latin-1"))
    (tmp_path / "utf16.md").write_bytes("Lawrow schwieg.".encode("utf-16"))
    corpus = load_articles(tmp_path, tmp_path / "missing.txt")
    status = {f.path.split("/")[-1]: (f.status, f.reason) for f in corpus.files}
    assert status["good.txt"] == ("read", None) and status["latin.txt"][0] == "read" and status["utf16.md"][0] == "read"
    assert "empty" in status["empty.txt"][1]
    assert "binary" in status["image.txt"][1]
    assert "no 'text' column" in status["notext.csv"][1]
    assert status["missing.txt"] == ("skipped", "path does not exist")
    assert {a.text for a in corpus.articles} >= {"Größe: Selenskyj dankte.", "Lawrow schwieg."}


def test_articles_near_duplicate_whitespace_and_boilerplate(tmp_path):
    body = "Putin lehnte den Waffenstillstand ab. " * 30
    (tmp_path / "a.txt").write_text(body, encoding="utf-8")
    (tmp_path / "b.txt").write_text(body.replace(". ", ".\n\n") + "\n\n3 Kommentare\n\nZur Startseite\n", encoding="utf-8")
    articles = load_articles(tmp_path).articles
    assert [a.duplicate_of for a in articles] == [None, f"{tmp_path.name}/a.txt#1"]


def test_articles_html_dates_from_meta_in_any_order_or_stand_line(tmp_path):
    (tmp_path / "a.html").write_text('<html><head><meta content="2025-10-21T08:00:00+02:00" property="article:published_time">'
                                     "<title>Putin droht</title></head><body><p>Putin drohte am Dienstag dem Westen.</p></body></html>",
                                     encoding="utf-8")
    (tmp_path / "b.html").write_text("<html><head><title>Putin droht</title></head><body><p>Stand: 22.10.2025, 14:30 Uhr</p>"
                                     "<p>Putin drohte am Dienstag dem Westen.</p></body></html>", encoding="utf-8")
    dates = {a.source.rsplit("/", 1)[-1]: a.date for a in load_articles(tmp_path).articles}
    assert dates == {"a.html": dt.date(2025, 10, 21), "b.html": dt.date(2025, 10, 22)}


def test_articles_month_only_date_line_is_stripped_and_leaves_the_article_undated():
    from stance.articles import articles_from_text

    article, = articles_from_text(" date 2024-07 28.07.2024, Caracas: Maduro sprach.\n\nMehr Text.", "p")
    assert article.date is None and article.text.startswith("28.07.2024, Caracas")
    assert article.warnings == ("date '2024-07' gives only a month; the article is treated as undated",)
