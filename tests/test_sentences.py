from __future__ import annotations

import pytest

from stance.sentences import chunk_text, split_sentences


@pytest.mark.parametrize("text, expected", [
    ("Trump telefonierte am 16. Oktober mit Putin. Danach schwieg er.",
     ["Trump telefonierte am 16. Oktober mit Putin.", "Danach schwieg er."]),
    ("Das gilt z. B. für Dr. Müller und Prof. Meier. Ende.", ["Das gilt z. B. für Dr. Müller und Prof. Meier.", "Ende."]),
    ("Es war der 3. Mai. Dann kam der 24. Februar 2022.", ["Es war der 3. Mai.", "Dann kam der 24. Februar 2022."]),
    ("Das geschah im Jahr 2025. Danach kam Trump.", ["Das geschah im Jahr 2025.", "Danach kam Trump."]),
    ("Nato als „No-Go“\n\nIhm zufolge sei das klar.", ["Nato als „No-Go“", "Ihm zufolge sei das klar."]),
    ("Er sagte: „Wir kommen.“ Dann ging er.", ["Er sagte: „Wir kommen.“", "Dann ging er."]),
    ("Papst Leo XIV. kritisierte Trump scharf.", ["Papst Leo XIV. kritisierte Trump scharf."]),
    ("Das Treffen fand am 21.10.2025. Putin sagte ab.", ["Das Treffen fand am 21.10.2025.", "Putin sagte ab."]),
    ("Selenskyj sprach am 1000. Tag des Krieges.", ["Selenskyj sprach am 1000. Tag des Krieges."]),
])
def test_sentences_german_rules(nlp, text, expected):
    assert [s.text for s in split_sentences(text, nlp)] == expected


def test_sentences_offsets_point_into_text(nlp):
    text = "  Putin sprach.\n\nTrump   antwortete am 1. Mai.  "
    for s in split_sentences(text, nlp):
        assert text[s.start:s.end] == s.text


def test_sentences_long_text_chunked_offsets(nlp):
    text = ("Putin sprach lange. " * 4000) + "Ende."
    assert len(chunk_text(text)) > 1
    sentences = split_sentences(text, nlp)
    assert len(sentences) == 4001
    assert all(text[s.start:s.end] == s.text for s in sentences)


def test_sentences_long_text_cut_at_a_sentence_end():
    text = "Die Delegationen sprachen lange über die Lage in der Ukraine. " * 2000
    chunks = chunk_text(text, max_chars=50_000)
    assert len(chunks) > 1 and all(chunk.rstrip().endswith(".") for _, chunk in chunks[:-1])


def test_sentences_vectorised_sentencizer_equals_spacys_rule(sample_files):
    import spacy

    import stance

    texts = [a.text for a in stance.load_articles().articles] + [
        "Er fragte: „Warum?“ – und ging. Dann … nichts! Ende?! Ja. „Nein.“ (Sagte er.) Schluss",
        "...", "", "!!!", "Ein Satz ohne Ende", "A. B. C.", "Am 3. Okt. 2025 sprach er. Dr. Meier nicht.",
    ]
    reference = spacy.blank("de")
    reference.add_pipe("stance_paragraph_splitter")
    reference.add_pipe("sentencizer")
    ours = spacy.blank("de")
    ours.add_pipe("stance_paragraph_splitter")
    ours.add_pipe("stance_sentencizer")
    assert [[s.start for s in doc.sents] for doc in ours.pipe(texts)] == [[s.start for s in doc.sents] for doc in reference.pipe(texts)]
