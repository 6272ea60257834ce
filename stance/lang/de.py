"""The German language pack: every German word list, pattern and data file of ``stance``.

Examples
--------
>>> GERMAN.code, GERMAN.months["oktober"], GERMAN.lexicon_file.name
('de', 10, 'rauh_de_political_sentiment.tsv')
"""

from __future__ import annotations

from ..resources import data_dir
from . import LanguagePack, register_pack

_DATA = data_dir()

# Cue patterns over the masked, lower-cased sentence; "zzziel" is the target.
_OBJ = r"(?:\w+ ){0,3}?"
CUE_PATTERNS: dict[str, str] = {
    "cue_target_criticised": (
        rf"\b(?:kritisier|verurteil|attackier|beschuldig|prangert|verhöhn|verspott|warnt?e?n? vor|beschimpf|greift|griff|angriff auf|kritik an|vorwürfe gegen|vorwurf gegen|wirft|warf|werfen|vorgeworfen)\w* {_OBJ}zzziel"
        r"|zzziel\w* (?:\w+ ){0,3}?(?:wird|wurde|werden|ist|steht) (?:\w+ ){0,2}?(?:kritisiert|verurteilt|vorgeworfen|beschuldigt|angegriffen|isoliert|gedemütigt|blamiert)"
    ),
    "cue_target_praised": (
        rf"\b(?:dank|lob|würdig|gratulier|ehrt|ehrte|preist|pries|unterstütz|stellt\w* sich hinter|lob für|dank an|respekt für|anerkennung für)\w* {_OBJ}zzziel"
        r"|zzziel\w* (?:\w+ ){0,3}?(?:wird|wurde|werden) (?:\w+ ){0,2}?(?:gelobt|gewürdigt|geehrt|gefeiert|ausgezeichnet|unterstützt)"
    ),
    "cue_target_speaks": r"zzziel\w* (?:\w+ ){0,2}?(?:kritisiert|kritisierte|warf|wirft|verurteilt|verurteilte|sagte|sagt|erklärte|betonte|forderte|warnte|lobte|dankte|nannte)\b",
    "cue_distancing": r"\b(?:angeblich|sogenannt|vermeintlich|selbsternannt|selbst ernannt)\w*",
}
# A short-quote cue (scare quotes, „Friedensplan“) was tested and dropped: it lowered GerNTSA dev
# macro-F1 from 0.457 to 0.447 with no gain in-domain (0.478 vs 0.477).

# Frequent news words that the lexicon gives a polarity they do not carry in news text: negators
# (they flip the next polar word instead), reporting verbs ("sagte" is -1, "erklärte" +1) and
# function words ("gegen", "unter", "laut"). Counted from the news pool's most frequent lexicon
# hits; dropped from the counts when a model is configured with ``drop_neutral_words``.
NEUTRAL_NEWS_WORDS = frozenset(
    "nicht nichts kein keine keinen keiner keines keinem nie niemals sagte sagt sagten erklärte erklärt erklärten betont "
    "betonte kündigte kündigt laut gegen unter ende muss müssen neuen neue neuer neu dafür beginn bekannt ergebnis stand "
    "fest ließ wies geplant gekommen erster nahen öffentlich geführt bürger aktuellen möglich möglichen fast weniger "
    "wenig kurz knapp scharf deutlich klar ja partner führung besonders große großen".split()
)

# Verbs (finite forms, lower case) that make the word before or after them its speaker or actor.
SPEECH_VERBS = frozenset(
    "sagte sagt sagten erklärte erklärt betonte betont forderte fordert forderten warnte warnt kritisierte kritisiert "
    "warf wirft nannte nennt bezeichnete bezeichnet schrieb schreibt drohte droht verurteilte verurteilt lobte lobt "
    "dankte dankt sprach spricht kündigte kündigt teilte teilt behauptete behauptet äußerte äußert verlangte verlangt "
    "appellierte appelliert rief ruft beschuldigte beschuldigt attackierte attackiert bekräftigte bekräftigt "
    "versicherte versichert erinnerte erinnert meinte meint zeigte zeigt räumte räumt wies weist lehnte lehnt "
    "twitterte postete schimpfte schimpft mahnte mahnt".split()
)
ACCUSATION_STEMS = ("vorwurf", "vorwürf", "vorgeworfen", "vorwerf", "beschuldig", "kritik", "kritisier", "verurteil",
                    "anklag", "angeklagt", "beschimpf", "verspott", "attackier", "tadel", "rüge", "gerügt", "vorhalt",
                    "anprangert", "prangert", "verantwortlich")
PRAISE_STEMS = ("dank", "gedankt", "lob", "gelobt", "würdig", "gewürdigt", "gratulier", "anerkenn", "respekt", "ehrt",
                "geehrt", "gefeiert", "bewunder", "applaus", "zuspruch", "unterstütz", "rückendeckung", "beistand")
# Name-calling that the lexicon lacks; a negative lexicon word next to the target counts too.
PEJORATIVES = frozenset(
    "kriegsverbrecher verbrecher diktator despot autokrat tyrann schlächter lügner mörder massenmörder faschist "
    "kriegstreiber hetzer scharfmacher populist rechtspopulist rechtsextremist extremist terrorist terroristen "
    "aggressor kriegsherr kremlherrscher machthaber papiertiger marionette handlanger".split()
)
# Harm done (attacks, killing, destruction, blockade): by the target unless a preposition makes it the victim.
HARM_STEMS = ("beschieß", "beschoss", "bombard", "angriff", "angegriffen", "greift", "griff", "attack", "tötet", "getötet",
              "ermord", "zerstör", "besetz", "überfiel", "überfall", "blockier", "verhinder", "sabotier", "unterdrück",
              "verfolg", "inhaftier", "eingesperrt", "vertrieb", "verschlepp", "massaker", "invasion", "einmarsch",
              "annektier", "eskalier", "bedroh")
VICTIM_MARKERS = frozenset({"auf", "gegen", "gegenüber", "an", "über", "wegen"})
DISTANCING = frozenset({"angeblich", "angeblichen", "angebliche", "sogenannt", "sogenannte", "sogenannten",
                        "vermeintlich", "vermeintliche", "vermeintlichen", "selbsternannt", "selbsternannte", "selbsternannten"})

MONTHS: dict[str, int] = {
    "januar": 1, "jänner": 1, "jan": 1, "februar": 2, "feber": 2, "feb": 2, "märz": 3, "maerz": 3,
    "mär": 3, "mrz": 3, "april": 4, "apr": 4, "mai": 5, "juni": 6, "jun": 6, "juli": 7, "jul": 7,
    "august": 8, "aug": 8, "september": 9, "sept": 9, "sep": 9, "oktober": 10, "okt": 10,
    "november": 11, "nov": 11, "dezember": 12, "dez": 12,
}

# Whole lines that are web furniture, never article text.
BOILERPLATE_LINES: tuple[str, ...] = (
    r"zum hauptinhalt( springen)?",
    r"zur startseite",
    r"zur(ück)? (zur )?übersicht",
    r"kommentar(e)? (verfassen|schreiben|anzeigen|lesen)",
    r"\d+\s+kommentare?",
    r"kommentare?\s*\(\d+\)",
    r"stand:?",
    r"empfohlener redaktioneller inhalt",
    r"(artikel )?teilen( auf \w+)?",
    r"(jetzt )?(newsletter )?abonnieren",
    r"(mehr zum thema|lesen sie auch|auch interessant|weitere artikel|das könnte sie auch interessieren)\s*:?",
    r"anzeige",
    r"werbung",
    r"(foto|bild|fotos|quelle|grafik|video)\s*:.*",
)
# Paragraphs of consent banners and embed notices: dropped when they contain one of these.
BOILERPLATE_PARAGRAPH = (
    r"(externen? inhalt|datenschutz-?einstellungen|datenschutzerklärung|cookies?\b|"
    r"personenbezogene daten an drittplattformen|einwilligung widerrufen|"
    r"mit einem klick anzeigen|javascript (aktivieren|deaktiviert)|"
    r"sie können sich hier den externen)"
)
CONSENT_WORDS = ("inhalt", "einverstanden", "daten", "einstellungen", "klick", "anzeigen", "cookie", "zustimm")

# Function words that make useless aliases: they occur in nearly every German sentence.
STOP_WORDS = frozenset(
    "der die das den dem des ein eine einer einen einem eines und oder aber doch sondern denn dass daß ob wie als "
    "wenn weil in im ins an am ans auf aus bei beim mit nach von vom vor zu zum zur über unter um durch für gegen "
    "ohne bis seit ab er sie es wir ihr ich du man sich sein seine ihre ist sind war waren wird werden hat haben "
    "nicht kein keine auch noch nur so da hier dort was wer wo dies diese dieser dieses alle mehr sehr schon "
    "jetzt dann heute".split()
)

# Frequent function words of the language check, chosen to be rare as words in the other languages
# listed (so "die", "in", "de", "la" are left out where they are ambiguous).
FUNCTION_WORDS = frozenset("der das und ist nicht ein eine einen zu den von mit sich des auf für im dem auch "
                           "es als nach wie aus bei hat wird sie er wir noch über sind wurde werden oder aber "
                           "dass vor zum zur um nur bereits sei habe".split())
FOREIGN_FUNCTION_WORDS: dict[str, frozenset[str]] = {
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
LANGUAGE_NAMES = {"en": "English", "fr": "French", "es": "Spanish", "it": "Italian", "nl": "Dutch"}

# Probe units (sentence, target span, other-actor spans) whose probabilities every model file records.
PROBES = (
    ("Kritiker werfen Putin Kriegsverbrechen vor.", (16, 21), ()),
    ("Selenskyj dankte Trump für die Unterstützung der Ukraine.", (17, 22), ((0, 9),)),
    ("Lawrow und Rubio sprachen am Montag in Budapest über ein Treffen.", (11, 16), ((0, 6),)),
    ("Der Gipfel ist gescheitert, doch Orbán nennt das kein Versagen.", (33, 38), ()),
    ("„Wir unterstützen nachdrücklich die Position von Präsident Trump“, heißt es.", (58, 63), ()),
    ("Merz warnte vor einem Diktatfrieden, den Putin der Ukraine aufzwingen wolle.", (41, 46), ((0, 4),)),
)

GERMAN = register_pack(LanguagePack(
    code="de",
    name="German",
    spacy_lang="de",
    lexicon_file=_DATA / "lexicon" / "rauh_de_political_sentiment.tsv",
    actors_file=_DATA / "actors_de.toml",
    default_model_dir=_DATA / "models" / "default_de",
    negators=frozenset({"nicht", "nichts", "kein", "keine", "keinen", "keinem", "keiner", "keines", "nie", "niemals", "ohne", "weder"}),
    neutral_news_words=NEUTRAL_NEWS_WORDS,
    cue_patterns=CUE_PATTERNS,
    speech_verbs=SPEECH_VERBS,
    speaker_before=frozenset({"so", "laut"}),
    speaker_after=frozenset({"zufolge"}),
    accusation_stems=ACCUSATION_STEMS,
    praise_stems=PRAISE_STEMS,
    harm_stems=HARM_STEMS,
    split_accusation=("vor", ("warf", "wirft", "werfen", "warfen")),
    pejoratives=PEJORATIVES,
    victim_markers=VICTIM_MARKERS,
    distancing=DISTANCING,
    months=MONTHS,
    date_labels="date|datum",
    published_labels=r"Stand|Veröffentlicht(?: am)?|Aktualisiert(?: am)?|Datum",
    byline_kinds=r"(?:Eine\s+)?(?:Kolumne|Kommentar|Analyse|Essay|Gastbeitrag|Meinung)",
    byline_by="von",
    boilerplate_lines=BOILERPLATE_LINES,
    boilerplate_paragraph=BOILERPLATE_PARAGRAPH,
    consent_words=CONSENT_WORDS,
    stop_words=STOP_WORDS,
    name_suffixes=("", "s", "'", "’", "'s", "’s"),
    noun_suffixes=("", "s", "es", "n", "en"),
    adj_endings=("e", "er", "en", "em", "es"),
    function_words=FUNCTION_WORDS,
    foreign_function_words=FOREIGN_FUNCTION_WORDS,
    language_names=LANGUAGE_NAMES,
    probes=PROBES,
))
