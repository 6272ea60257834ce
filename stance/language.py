"""Is an article in the model's language? A cheap check by function words, run before an article is scored.

The stance and sentiment models are trained on one language (German by default); text in
another language would be scored (English comes out all neutral) and silently dilute every
aggregate. The check counts the words of the article that are frequent function words of the
language pack's language (:attr:`~stance.lang.LanguagePack.function_words`) and of the other
languages it lists (:attr:`~stance.lang.LanguagePack.foreign_function_words`: five other
languages of European news for German); an article whose function words are clearly of
another language is skipped with the reason. Short texts (under :data:`MIN_WORDS` words) and
texts without enough function words are never skipped: the evidence is too thin.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

from .lang import LanguagePack, get_pack

MIN_WORDS = 20
MIN_FUNCTION_WORDS = 8
SAMPLE_CHARS = 20_000  # the first 20k characters decide; a long article costs no more

_WORD_RE = re.compile(r"[^\W\d_]+")


@dataclass(frozen=True, slots=True)
class LanguageGuess:
    """Shares of an article's words that are function words of each language."""

    language: str | None  # best language code, None when the evidence is too thin
    words: int
    shares: tuple[tuple[str, float], ...]


def _vocabularies(pack: LanguagePack) -> dict[str, frozenset[str]]:
    return {pack.code: pack.function_words, **{code: words for code, words in pack.foreign_function_words.items()
                                               if code != pack.code}}


def guess_language(text: str, language: str | LanguagePack | None = None) -> LanguageGuess:
    """Guess the language of ``text`` from the function words the pack ``language`` knows
    (its own and the other languages'; default German).

    Examples
    --------
    >>> guess_language("Der Kanzler sagte am Montag, dass er mit dem Plan nicht einverstanden sei "
    ...                "und die Regierung bei den Verhandlungen auf eine Lösung für das Land setze.").language
    'de'
    >>> guess_language("The chancellor said on Monday that he was not happy with the plan and that "
    ...                "the government would rely on a solution for the country in the talks.").language
    'en'
    >>> guess_language("Putin, Trump, Selenskyj.").language is None
    True
    """
    pack = get_pack(language)
    words = _WORD_RE.findall(text[:SAMPLE_CHARS].lower())
    distinct = Counter(words).items()  # each distinct word is looked up once per language
    counts = {code: sum(n for word, n in distinct if word in vocabulary) for code, vocabulary in _vocabularies(pack).items()}
    shares = tuple((code, count / len(words)) for code, count in counts.items()) if words else ()
    if len(words) < MIN_WORDS or sum(counts.values()) < MIN_FUNCTION_WORDS:
        return LanguageGuess(None, len(words), shares)
    best = max(counts, key=lambda code: (counts[code], code == pack.code))
    return LanguageGuess(best, len(words), shares)


def not_german_reason(text: str, language: str | LanguagePack | None = None) -> str | None:
    """Why ``text`` is not analysed as the pack's language (default German), or None when it
    is (or cannot be told).

    An article is skipped only when another language's function words are more than twice
    as frequent as the pack language's, so German text quoting English stays in.

    Examples
    --------
    >>> not_german_reason("The chancellor said on Monday that he was not happy with the plan and that "
    ...                   "the government would rely on a solution for the country in the talks.")
    'not German: looks like English (function words: English 57%, German 0%)'
    >>> not_german_reason("Putin lobt Trump.") is None
    True
    """
    pack = get_pack(language)
    guess = guess_language(text, pack)
    if guess.language in (None, pack.code):
        return None
    shares = dict(guess.shares)
    if shares[guess.language] <= 2 * shares[pack.code]:
        return None
    other = pack.language_names.get(guess.language, guess.language)
    return (f"not {pack.name}: looks like {other} (function words: "
            f"{other} {shares[guess.language]:.0%}, {pack.name} {shares[pack.code]:.0%})")
