"""Language packs: every word list, pattern and data file that is specific to one language.

A :class:`LanguagePack` gathers what the pipeline needs to know about a language: the
negators and cue patterns of the lexicon features, the speech verbs and stems of the frame
features, month names, header and boilerplate words of the reader, inflection endings of
actor names and roles, the function words of the language check, the probe sentences every
model file records, and the paths of its lexicon, actor registry and default model. The
German pack lives in :mod:`stance.lang.de`; adding a language means a new pack (and its data
files) registered with :func:`register_pack`, nothing else.

A model records the code of its pack in ``model.json`` (``"language"``); a model file
without the field is German.

Examples
--------
>>> pack = get_pack("de")
>>> pack.name, pack.spacy_lang, "nicht" in pack.negators
('German', 'de', True)
>>> get_pack("xx")
Traceback (most recent call last):
...
stance.errors.UnknownLanguageError: language: got 'xx', expected one of 'de'. Register a LanguagePack for it with stance.lang.register_pack(pack).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from ..errors import UnknownLanguageError, bad_value

DEFAULT_LANGUAGE = "de"
"""The code of the language used when none is given (and of every model file without one)."""

# (sentence, target span, other-actor spans): the probe units whose probabilities a model file records.
Probe = tuple[str, tuple[int, int], tuple[tuple[int, int], ...]]


@dataclass(frozen=True, eq=False)
class LanguagePack:
    """Everything ``stance`` knows about one language.

    Word lists are lower case (they are compared with lower-cased tokens). Regular
    expressions are given as pattern strings; compiled forms are cached on the pack.
    ``cue_patterns`` are searched in the masked, lower-cased sentence, where the target is
    written ``zzziel`` (:data:`stance.features.TARGET_TOKEN`). Packs compare by identity.

    Parameters
    ----------
    code : str
        The language code recorded in model files ("de").
    name : str
        The language's English name ("German"), used in messages.
    spacy_lang : str
        The code of the spaCy language whose tokenizer is used (``spacy.blank(spacy_lang)``).
    lexicon_file, actors_file, default_model_dir : Path
        The polarity lexicon (TSV with a header line: ``term<TAB>polarity``, polarity -1/+1),
        the actor registry (TOML) and the folder of the default model (None: no default model).
    negators : frozenset of str
        Words that flip the polarity of the next lexicon word within three words.
    neutral_news_words : frozenset of str
        Frequent news words dropped from the lexicon counts with ``drop_neutral_words``.
    cue_patterns : mapping of str to str
        Feature name -> regular expression (``cue_target_criticised`` etc.).
    speech_verbs : frozenset of str
        Finite verb forms that make the word before or after them the speaker.
    speaker_before, speaker_after : frozenset of str
        Words right before ("laut") or after ("zufolge") the target that make it the speaker.
    accusation_stems, praise_stems, harm_stems : tuple of str
        Word beginnings of accusation, praise and harm in the target's clause.
    split_accusation : tuple of (str, tuple of str)
        A separable accusation verb: its particle and finite forms ("vor", ("warf", ...)).
    pejoratives, victim_markers, distancing : frozenset of str
        Name-calling words, prepositions that make the target a victim, distancing words.
    months : mapping of str to int
        Month names and abbreviations (lower case) -> month number.
    date_labels, published_labels, byline_kinds : str
        Regular-expression alternatives: the word before a date at the start of a file
        ("date|datum"), before a date near the top of a web page ("Stand|Veröffentlicht"),
        and the column kinds of a "Title. Kolumne von Name. Date" header line.
    boilerplate_lines : tuple of str
        Regular expressions of whole lines that are web furniture.
    boilerplate_paragraph : str
        A regular expression of consent-banner paragraphs; ``consent_words``: at least two of
        them confirm a banner.
    stop_words : frozenset of str
        Function words that make useless actor aliases.
    name_suffixes, noun_suffixes, adj_endings : tuple of str
        Endings added to actor names (genitive), noun roles and adjective roles.
    function_words : frozenset of str
        Frequent function words of the language (the language check).
    foreign_function_words : mapping of str to frozenset of str
        Function words of other languages, by code, to tell that a text is not in this one.
    language_names : mapping of str to str
        English names of the codes in ``foreign_function_words``.
    probes : tuple of Probe
        Fixed units whose probabilities every model file records and checks on loading.
    """

    code: str
    name: str
    spacy_lang: str
    lexicon_file: Path
    actors_file: Path
    default_model_dir: Path | None = None
    negators: frozenset[str] = frozenset()
    neutral_news_words: frozenset[str] = frozenset()
    cue_patterns: Mapping[str, str] = field(default_factory=dict)
    speech_verbs: frozenset[str] = frozenset()
    speaker_before: frozenset[str] = frozenset()
    speaker_after: frozenset[str] = frozenset()
    accusation_stems: tuple[str, ...] = ()
    praise_stems: tuple[str, ...] = ()
    harm_stems: tuple[str, ...] = ()
    split_accusation: tuple[str, tuple[str, ...]] = ("", ())
    pejoratives: frozenset[str] = frozenset()
    victim_markers: frozenset[str] = frozenset()
    distancing: frozenset[str] = frozenset()
    months: Mapping[str, int] = field(default_factory=dict)
    date_labels: str = "date"
    published_labels: str = "published"
    byline_kinds: str = "column|comment|opinion"
    byline_by: str = "by"
    boilerplate_lines: tuple[str, ...] = ()
    boilerplate_paragraph: str = r"(?!x)x"
    consent_words: tuple[str, ...] = ()
    stop_words: frozenset[str] = frozenset()
    name_suffixes: tuple[str, ...] = ("",)
    noun_suffixes: tuple[str, ...] = ("",)
    adj_endings: tuple[str, ...] = ()
    function_words: frozenset[str] = frozenset()
    foreign_function_words: Mapping[str, frozenset[str]] = field(default_factory=dict)
    language_names: Mapping[str, str] = field(default_factory=dict)
    probes: tuple[Probe, ...] = ()

    def __post_init__(self) -> None:
        if not re.fullmatch(r"[a-z]{2,3}(?:[-_][A-Za-z0-9]+)?", self.code or ""):
            raise UnknownLanguageError(bad_value("LanguagePack: code", self.code, "a language code such as 'de'"))

    @cached_property
    def cue_res(self) -> dict[str, re.Pattern[str]]:
        """The compiled :attr:`cue_patterns`."""
        return {name: re.compile(pattern) for name, pattern in self.cue_patterns.items()}

    @cached_property
    def month_alternatives(self) -> str:
        """The month names as one regular-expression alternation, longest first."""
        return "|".join(re.escape(m) for m in sorted(self.months, key=len, reverse=True)) or r"(?!x)x"


_PACKS: dict[str, LanguagePack] = {}


def register_pack(pack: LanguagePack) -> LanguagePack:
    """Make ``pack`` available under its code (a pack of the same code is replaced); returns it."""
    if not isinstance(pack, LanguagePack):
        raise UnknownLanguageError(bad_value("register_pack: pack", type(pack).__name__, "a LanguagePack"))
    _PACKS[pack.code] = pack
    return pack


def get_pack(code: str | LanguagePack | None = None) -> LanguagePack:
    """The registered pack of ``code`` (default :data:`DEFAULT_LANGUAGE`); a pack is returned as it is.

    Raises
    ------
    UnknownLanguageError
        (a ``ValueError``) If no pack is registered for ``code``.
    """
    if isinstance(code, LanguagePack):
        return code
    if code is None:
        code = DEFAULT_LANGUAGE
    found = _PACKS.get(code) if isinstance(code, str) else None
    if found is None:
        raise UnknownLanguageError(bad_value("language", code, sorted(_PACKS),
                                             "Register a LanguagePack for it with stance.lang.register_pack(pack)."))
    return found


def available_languages() -> tuple[str, ...]:
    """The codes of the registered packs, sorted."""
    return tuple(sorted(_PACKS))


def is_builtin(code: str) -> bool:
    """Whether ``code`` names a pack shipped with stance (known to a fresh worker process without registering).

    >>> is_builtin("de"), is_builtin("xx")
    (True, False)
    """
    return code in BUILTIN_LANGUAGES and _PACKS.get(code) is _BUILTIN_PACKS.get(code)


from .de import GERMAN  # noqa: E402  (the German pack registers itself)

BUILTIN_LANGUAGES: tuple[str, ...] = ("de",)
_BUILTIN_PACKS: dict[str, LanguagePack] = {"de": GERMAN}

__all__ = ["BUILTIN_LANGUAGES", "DEFAULT_LANGUAGE", "GERMAN", "LanguagePack", "Probe", "available_languages", "get_pack",
           "is_builtin", "register_pack"]
