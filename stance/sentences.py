"""Stage 3, sentences: article text -> spaCy docs and :class:`~stance.records.Sentence` records.

Long texts are cut at paragraph breaks into chunks the pipeline handles comfortably;
all offsets are mapped back into the full article text.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from spacy.language import Language
from spacy.tokens import Doc, Span

from .records import Sentence

CHUNK_CHARS = 50_000


def chunk_text(text: str, max_chars: int = CHUNK_CHARS) -> list[tuple[int, str]]:
    """Cut ``text`` into ``(offset, chunk)`` pieces at paragraph, line or space breaks.

    Examples
    --------
    >>> chunk_text("aa\\n\\nbb", max_chars=5)
    [(0, 'aa\\n\\n'), (4, 'bb')]
    """
    if len(text) <= max_chars:
        return [(0, text)]
    chunks: list[tuple[int, str]] = []
    start = 0
    while start < len(text):
        end = min(start + max_chars, len(text))
        if end < len(text):
            window = text[start:end]
            cut = max(window.rfind("\n\n"), window.rfind("\n"))
            if cut <= max_chars // 4:
                cut = window.rfind(". ") + 1
            if cut <= max_chars // 4:
                cut = window.rfind(" ")
            if cut > max_chars // 4:
                end = start + cut + 1
        chunks.append((start, text[start:end]))
        start = end
    return chunks


def iter_docs(nlp: Language, texts: Iterable[str], batch_size: int = 64) -> Iterator[tuple[int, list[tuple[int, Doc]]]]:
    """Run the pipeline over texts; yield ``(text index, [(chunk offset, doc), ...])``."""
    def pieces() -> Iterator[tuple[tuple[int, int], str]]:
        for index, text in enumerate(texts):
            for offset, chunk in chunk_text(text):
                yield (index, offset), chunk

    current: int | None = None
    bucket: list[tuple[int, Doc]] = []
    for doc, (index, offset) in nlp.pipe(((chunk, key) for key, chunk in pieces()), as_tuples=True, batch_size=batch_size):
        if current is not None and index != current:
            yield current, bucket
            bucket = []
        current = index
        bucket.append((offset, doc))
    if current is not None:
        yield current, bucket


def sentences_from_docs(chunks: list[tuple[int, Doc]]) -> list[tuple[Sentence, Span, int]]:
    """Sentences of one text: ``(Sentence, its span in the chunk's Doc, chunk number)``, blanks dropped."""
    result: list[tuple[Sentence, Span, int]] = []
    for number, (offset, doc) in enumerate(chunks):
        for sent in doc.sents:
            raw = sent.text
            stripped = raw.strip()
            if not stripped:
                continue
            lead = len(raw) - len(raw.lstrip())
            start = offset + sent.start_char + lead
            result.append((Sentence(len(result), stripped, start, start + len(stripped)), sent, number))
    return result


def split_sentences(text: str, nlp: Language) -> list[Sentence]:
    """Split one text into sentences with character offsets into ``text``.

    Examples
    --------
    >>> from stance.nlp import load_nlp
    >>> [s.text for s in split_sentences("Am 16. Oktober sprach Dr. Meier z. B. mit Putin. Ende.", load_nlp())]
    ['Am 16. Oktober sprach Dr. Meier z. B. mit Putin.', 'Ende.']
    """
    for _, chunks in iter_docs(nlp, [text]):
        return [s for s, _, _ in sentences_from_docs(chunks)]
    return []
