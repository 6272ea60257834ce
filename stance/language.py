"""Is an article German? A cheap check by function words, run before an article is scored.

The stance and sentiment models are trained on German; text in another language would be
scored (English comes out all neutral) and silently dilute every aggregate. The check counts
the words of the article that are frequent function words of German and of five other
languages of European news; an article whose function words are clearly not German is
skipped with the reason. Short texts (under :data:`MIN_WORDS` words) and texts without
enough function words are never skipped: the evidence is too thin.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MIN_WORDS = 20
MIN_FUNCTION_WORDS = 8
SAMPLE_CHARS = 20_000  # the first 20k characters decide; a long article costs no more

# Frequent function words, chosen to be rare as words in the other languages listed
# (so "die", "in", "de", "la" are left out where they are ambiguous).
FUNCTION_WORDS: dict[str, frozenset[str]] = {
    "de": frozenset("der das und ist nicht ein eine einen zu den von mit sich des auf für im dem auch "
                    "es als nach wie aus bei hat wird sie er wir noch über sind wurde werden oder aber "
                    "dass vor zum zur um nur bereits sei habe".split()),
    "en": frozenset("the and of to is that for it with was on be by are this have from at not but has "
                    "said which were been would their they will an".split()),
    "fr": frozenset("le les et des du un une est que dans pour pas sur au qui ne avec il plus ont sont "
                    "été aux cette mais ses".split()),
    "es": frozenset("el los las y que en una es por con para del se no al lo su como más pero sus fue "
                    "ha este".split()),
    "it": frozenset("il di che è per non sono della con si al dei nel gli alla anche ha più questo "
                    "ma delle".split()),
    "nl": frozenset("het een en van dat op te niet met voor zijn er aan ook wordt hij maar naar om bij "
                    "heeft".split()),
}
NAMES = {"de": "German", "en": "English", "fr": "French", "es": "Spanish", "it": "Italian", "nl": "Dutch"}
_WORD_RE = re.compile(r"[^\W\d_]+")


@dataclass(frozen=True, slots=True)
class LanguageGuess:
    """Shares of an article's words that are function words of each language."""

    language: str | None  # best language code, None when the evidence is too thin
    words: int
    shares: tuple[tuple[str, float], ...]


def guess_language(text: str) -> LanguageGuess:
    """Guess the language of ``text`` from its function words.

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
    words = _WORD_RE.findall(text[:SAMPLE_CHARS].lower())
    counts = {code: sum(word in vocabulary for word in words) for code, vocabulary in FUNCTION_WORDS.items()}
    shares = tuple((code, count / len(words)) for code, count in counts.items()) if words else ()
    if len(words) < MIN_WORDS or sum(counts.values()) < MIN_FUNCTION_WORDS:
        return LanguageGuess(None, len(words), shares)
    best = max(counts, key=lambda code: (counts[code], code == "de"))
    return LanguageGuess(best, len(words), shares)


def not_german_reason(text: str) -> str | None:
    """Why ``text`` is not analysed as German, or None when it is (or cannot be told).

    An article is skipped only when another language's function words are more than twice
    as frequent as German ones, so German text quoting English stays in.

    Examples
    --------
    >>> not_german_reason("The chancellor said on Monday that he was not happy with the plan and that "
    ...                   "the government would rely on a solution for the country in the talks.")
    'not German: looks like English (function words: English 57%, German 0%)'
    >>> not_german_reason("Putin lobt Trump.") is None
    True
    """
    guess = guess_language(text)
    if guess.language in (None, "de"):
        return None
    shares = dict(guess.shares)
    if shares[guess.language] <= 2 * shares["de"]:
        return None
    return (f"not German: looks like {NAMES[guess.language]} (function words: "
            f"{NAMES[guess.language]} {shares[guess.language]:.0%}, German {shares['de']:.0%})")
