from __future__ import annotations

import codecs

import pytest

from stance.errors import InputFormatError
from stance.text import decode_bytes, html_to_text, normalize_text, strip_boilerplate

GERMAN = "Selenskyj sagte: „Wir geben nicht auf.“ Größe, Übermut, Straße."


@pytest.mark.parametrize("data, encoding", [
    (GERMAN.encode("utf-8"), "utf-8"),
    (codecs.BOM_UTF8 + GERMAN.encode("utf-8"), "utf-8"),
    (GERMAN.encode("utf-16"), "utf-16"),
    ("Größe und Übermut – 5 €".encode("cp1252"), "cp1252"),
    ("Größe und Übermut".encode("latin-1"), "cp1252"),
])
def test_text_decode_encodings(data, encoding):
    decoded = decode_bytes(data, source="x.txt")
    assert decoded.encoding == encoding
    assert "Größe" in decoded.text or "Selenskyj" in decoded.text


@pytest.mark.parametrize("data, message", [
    (b"", "empty"),
    (b"  \n\t \r\n", "whitespace"),
    (b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4, "binary"),
    (b"abc\x00def\x00" * 20, "binary"),
])
def test_text_decode_rejects_empty_and_binary(data, message):
    with pytest.raises(InputFormatError, match=message):
        decode_bytes(data, source="bad.txt")


def test_text_normalize_crlf_and_nfc():
    assert normalize_text("Putin\r\nsagte\rja\u00a0Mu\u0308ller") == "Putin\nsagte\nja Müller"


def test_text_boilerplate_removed_quotes_and_headlines_kept():
    raw = "\n".join([
        "zum Hauptinhalt", "Trump telefoniert mit Putin", "", "© AFP/Brendan Smialowski", "",
        "„Wir werden sehen“, sagte Trump.", "", "Empfohlener redaktioneller Inhalt", "",
        "An dieser Stelle finden Sie einen von unseren Redakteuren ausgewählten, externen Inhalt, der den Artikel anreichert. "
        "Sie können sich hier den externen Inhalt mit einem Klick anzeigen lassen.",
        "", "Zur Startseite", "showPaywall:", "false", "isSubscriber:", "false",
        'console.debug({ userId: "", verifiedBot: "false" })', "12 Kommentare", "Kommentar verfassen",
    ])
    cleaned = strip_boilerplate(raw)
    assert cleaned == "Trump telefoniert mit Putin\n\n„Wir werden sehen“, sagte Trump."


def test_text_boilerplate_keeps_prose_that_mentions_photos():
    line = "Foto: Das Bild zeigt, wie Putin und Trump sich in Alaska die Hand geben und lächeln."
    assert strip_boilerplate(line) == line


def test_text_html_visible_article_text():
    page = """<html><head><title>Gipfel</title><script>var x = 1;</script><style>p{}</style></head>
    <body><nav>Startseite Politik</nav><article><h1>Trump sagt Gipfel ab</h1><p>Putin reagierte gelassen.</p>
    <figure><figcaption>Putin in Moskau</figcaption></figure></article><footer>Impressum</footer></body></html>"""
    text, title = html_to_text(page)
    assert title == "Trump sagt Gipfel ab"  # <h1> before <title>
    assert text == "Trump sagt Gipfel ab\n\nPutin reagierte gelassen.\n\nPutin in Moskau"  # captions stay


def test_text_normalize_drops_soft_hyphens_and_zero_width_characters():
    assert normalize_text("Se\u00adlen\u00adskyj traf den Kreml\u00adchef\u200d.") == "Selenskyj traf den Kremlchef."
