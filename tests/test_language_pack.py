"""Language packs: a second language is a new pack and its data files, nothing else.

The toy pack below ("xx", an English-like toy language) has three actors, a 20-word lexicon,
month names and negators. Mention detection, both models' training, saving, loading and
scoring run end to end on it without touching any module but :mod:`stance.lang`.
"""

from __future__ import annotations

import ast
import datetime as dt
import json
import re
from pathlib import Path

import pytest

import stance
import stance.lang
from stance.config import DataPolicy, IngestConfig, NlpConfig
from stance.dataset import LabelledUnit, load_units
from stance.coding import corpus_sentences
from stance.dates import parse_date
from stance.errors import UnknownLanguageError
from stance.features import LexiconFeatures, TargetMasker, TargetText, load_lexicon
from stance.lang import GERMAN, LanguagePack, get_pack, register_pack
from stance.language import not_german_reason
from stance.mentions import actor_matcher, find_mentions, undated_refs, unit_spans
from stance.model import model_language
from stance.nlp import load_nlp
from stance.persistence import META_FILE, load_model
from stance.pipeline import _score_batch_in_worker
from stance.training import TrainingSet, prepare, train

STANCE_DIR = Path(stance.__file__).resolve().parent

TOY_ACTORS = """\
[[actor]]
id = "alba"
name = "Alba Stone"
aliases = ["Alba Stone", "Stone"]
roles = [{ alias = "Mayor", since = 2024-01-01 }]

[[actor]]
id = "boris"
name = "Boris Vale"
aliases = ["Boris Vale", "Vale"]

[[actor]]
id = "cleo"
name = "Cleo Marsh"
aliases = ["Cleo Marsh", "Marsh"]
"""
TOY_LEXICON = {
    "praised": 1, "thanked": 1, "success": 1, "brave": 1, "wise": 1, "honest": 1, "helped": 1, "won": 1,
    "support": 1, "good": 1, "failed": -1, "lied": -1, "corrupt": -1, "attacked": -1, "blamed": -1,
    "disaster": -1, "weak": -1, "crime": -1, "cheated": -1, "bad": -1,
}
# (sentence, mention, stance, sentiment)
TOY_UNITS = [
    ("Stone praised the brave workers and won the vote.", "Stone", "positive", "positive"),
    ("Everyone praised Vale for his honest support.", "Vale", "positive", "positive"),
    ("Marsh thanked the voters after a good success.", "Marsh", "positive", "positive"),
    ("The council praised Marsh as wise and honest.", "Marsh", "positive", "positive"),
    ("Vale won support with a brave and good plan.", "Vale", "positive", "positive"),
    ("Critics thanked Stone for the wise support.", "Stone", "positive", "positive"),
    ("Stone lied again and the plan failed.", "Stone", "negative", "negative"),
    ("Critics blamed Vale for the corrupt deal.", "Vale", "negative", "negative"),
    ("Marsh cheated and the vote was a disaster.", "Marsh", "negative", "negative"),
    ("The press attacked Vale as weak and corrupt.", "Vale", "negative", "negative"),
    ("Stone was blamed for a bad crime.", "Stone", "negative", "negative"),
    ("Marsh failed and lied about the disaster.", "Marsh", "negative", "negative"),
    ("Stone met Vale on Monday in the town hall.", "Vale", "neutral", "neutral"),
    ("Marsh will travel to the capital next week.", "Marsh", "neutral", "neutral"),
    ("Vale spoke with reporters about the budget.", "Vale", "neutral", "neutral"),
    ("Stone arrived in the town hall on Monday.", "Stone", "neutral", "neutral"),
    ("The meeting with Marsh starts next week.", "Marsh", "neutral", "neutral"),
    ("Reporters asked Stone about the budget plan.", "Stone", "neutral", "neutral"),
]


@pytest.fixture
def toy_pack(tmp_path, monkeypatch):
    """A registered toy pack whose data files live in ``tmp_path`` (unregistered afterwards)."""
    monkeypatch.setattr(stance.lang, "_PACKS", dict(stance.lang._PACKS))
    (tmp_path / "actors_xx.toml").write_text(TOY_ACTORS, encoding="utf-8")
    lexicon = "term\tpolarity\n" + "".join(f"{term}\t{value}\n" for term, value in sorted(TOY_LEXICON.items()))
    (tmp_path / "lexicon_xx.tsv").write_text(lexicon, encoding="utf-8")
    return register_pack(LanguagePack(
        code="xx", name="Toyish", spacy_lang="en",
        lexicon_file=tmp_path / "lexicon_xx.tsv", actors_file=tmp_path / "actors_xx.toml",
        negators=frozenset({"not", "never", "no"}),
        cue_patterns={"cue_target_praised": r"\bpraised (?:\w+ ){0,2}?zzziel"},
        speech_verbs=frozenset({"said", "says"}),
        months={"january": 1, "mayo": 5, "october": 10},
        name_suffixes=("", "'s"), noun_suffixes=("", "s"),
        function_words=frozenset("the and of to is was for with on".split()),
        foreign_function_words={"de": GERMAN.function_words},
        language_names={"de": "German"},
        probes=(("Everyone praised Stone.", (16, 21), ()), ("Stone met Vale.", (0, 5), ((10, 14),))),
    ))


def _units(pack: LanguagePack) -> TrainingSet:
    """The toy units with target and other-actor spans, found as training finds them."""
    nlp = load_nlp(NlpConfig(lang=pack.code))
    matcher = actor_matcher(nlp)
    units, inputs = [], []
    for i, (sentence, mention, stance_label, sentiment) in enumerate(TOY_UNITS):
        start = sentence.index(mention)
        names, roles = undated_refs(nlp(sentence), matcher)
        actor = next(a for a, s, e in names if s == start)
        target, others = unit_spans(actor, names, roles, extra_target=[(start, start + len(mention))])
        units.append(LabelledUnit(f"x-{i:03d}", f"x#{i % 6}", "constructed", sentence, actor, mention, start,
                                  start + len(mention), stance_label, sentiment))
        inputs.append(TargetText(sentence, target, others))
    return TrainingSet(tuple(units), tuple(inputs))


def test_language_pack_unknown_code_is_a_clear_error():
    with pytest.raises(UnknownLanguageError, match="language: got 'zz', expected one of 'de'.*register_pack"):
        get_pack("zz")
    with pytest.raises(ValueError, match="language code"):
        LanguagePack(code="German!", name="x", spacy_lang="de", lexicon_file=Path("x"), actors_file=Path("y"))
    assert get_pack() is GERMAN and get_pack("de") is GERMAN and get_pack(GERMAN) is GERMAN


def test_language_pack_toy_mentions_dates_and_language_check(toy_pack):
    nlp = load_nlp(NlpConfig(lang="xx"))
    assert nlp.lang == "en" and actor_matcher(nlp).language == "xx"
    found = find_mentions("Stone's plan failed, said Boris Vale.", language="xx")
    # spaCy's English tokenizer splits the genitive: "Stone" + "'s" (the German one keeps "Putins" whole)
    assert [(m.actor, m.surface) for m in found] == [("alba", "Stone"), ("boris", "Boris Vale")]
    dated = find_mentions("The Mayor met Marsh.", language="xx", date=dt.date(2025, 5, 1))
    assert [m.actor for m in dated] == ["alba", "cleo"]
    # German endings are not the toy language's: "Stones" is no name form of Alba Stone here.
    assert find_mentions("Stones and Marsh.", language="xx")[0].actor == "cleo"
    assert parse_date("3 Mayo 2025", "xx") == dt.date(2025, 5, 3) and parse_date("3 Mai 2025", "xx") is None
    assert parse_date("3. Mai 2025") == dt.date(2025, 5, 3)
    german = "Der Kanzler sagte am Montag, dass er mit dem Plan nicht einverstanden sei und die Regierung bei den Verhandlungen auf eine Lösung für das Land setze."
    assert not_german_reason(german, "xx").startswith("not Toyish: looks like German")
    assert load_lexicon(False, "xx") == TOY_LEXICON


def _write_toy_units(path: Path, data: TrainingSet) -> Path:
    fields = ("id", "doc_id", "source", "sentence", "actor", "mention", "start", "end", "stance", "sentiment")
    path.write_text("".join(json.dumps({f: getattr(u, f) for f in fields}, ensure_ascii=False) + "\n" for u in data.units),
                    encoding="utf-8")
    return path


@pytest.mark.parametrize("n_jobs", [1, 2])
def test_language_pack_toy_trains_through_stance_training(toy_pack, tmp_path, n_jobs):
    """``stance.training.train(..., language="xx")``: the toy registry, spaCy pipeline and lexicon; model.json says "xx".
    With worker processes the pack registered at run time is sent to them."""
    data = _units(toy_pack)
    path = _write_toy_units(tmp_path / "toy.jsonl", data)
    units = load_units(path, actors=stance.load_actors(language="xx"))
    assert prepare(units, language="xx").inputs == data.inputs  # spans found as analysis finds them
    meta = train(path, tmp_path / "model", policy=DataPolicy(min_rows=10, cv_folds=3), evaluate=False, language="xx", n_jobs=n_jobs)
    saved = json.loads((tmp_path / "model" / META_FILE).read_text(encoding="utf-8"))
    assert saved["language"] == "xx" and meta["trained_on"]["actors"] == str(toy_pack.actors_file)
    assert meta["trained_on"]["stance_rows"] == meta["trained_on"]["sentiment_rows"] == len(TOY_UNITS)
    loaded = load_model(tmp_path / "model")
    assert model_language(loaded.stance) == model_language(loaded.sentiment) == "xx"
    with pytest.raises(UnknownLanguageError):
        train(path, tmp_path / "other", policy=DataPolicy(min_rows=10), evaluate=False, language="zz")


def test_language_pack_toy_trains_saves_loads_and_scores(toy_pack, tmp_path, monkeypatch):
    path = _write_toy_units(tmp_path / "toy.jsonl", _units(toy_pack))
    folder = tmp_path / "model"
    train(path, folder, policy=DataPolicy(min_rows=10), evaluate=False, language="xx", n_jobs=1)
    assert json.loads((folder / META_FILE).read_text(encoding="utf-8"))["language"] == "xx"

    analyzer = stance.load(folder)
    assert analyzer.language == "xx" and analyzer.registry.source == str(toy_pack.actors_file)
    scored = analyzer.analyze("Everyone praised Vale for the brave support. Marsh lied and failed.")
    assert [(m.actor, m.stance) for m in scored] == [("boris", "positive"), ("cleo", "negative")]
    # A corpus is read and checked in the model's language: toy month names, a German article skipped.
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "a.txt").write_text("date 3 Mayo 2025 Everyone praised Vale for the brave support. The Mayor lied.\n",
                                  encoding="utf-8")
    (corpus / "b.txt").write_text("Der Kanzler sagte am Montag, dass er mit dem Plan nicht einverstanden sei und die "
                                  "Regierung bei den Verhandlungen auf eine Lösung für das Land setze, so Vale.\n", encoding="utf-8")
    result = stance.analyze_corpus(corpus, analyzer=analyzer, jobs=1)
    assert sorted(zip(result.mentions["actor"], result.mentions["date"].astype(str))) == [("alba", "2025-05-03"), ("boris", "2025-05-03")]
    assert list(result.articles["reason"].dropna()) == ["not Toyish: looks like German (function words: German 50%, Toyish 0%)"]
    # `stance sample` reads the sentences again in the model's language: the same article ids and sentences.
    ids = set(result.mentions["article_id"])
    again = corpus_sentences(corpus, article_ids=ids, registry=analyzer.registry, language=analyzer.language)
    assert set(again) == ids and set(result.mentions["sentence"]) <= {s.text for sentences in again.values() for s in sentences}
    german = corpus_sentences(corpus, article_ids=ids, registry=analyzer.registry)  # German month names: the date line stays text
    assert not set(result.mentions["sentence"]) <= {s.text for sentences in german.values() for s in sentences}
    # A worker process (a fresh registry) registers the pack it is sent.
    articles = stance.load_articles(corpus / "a.txt", config=IngestConfig(language="xx")).articles
    monkeypatch.setattr(stance.lang, "_PACKS", {"de": GERMAN})
    [(sentences, columns)] = _score_batch_in_worker(list(articles), (str(folder), analyzer.registry, toy_pack), None)
    assert articles[0].date == dt.date(2025, 5, 3) and columns["actor"] == ["boris", "alba"] and get_pack("xx") is toy_pack
    assert columns["date"] == ["2025-05-03", "2025-05-03"]  # the date read in the toy language reaches the table
    # The lexicon block reads the toy lexicon and cues, not the German ones.
    lexicon = LexiconFeatures(language="xx").fit(None)
    assert list(lexicon.get_feature_names_out())[-1] == "lex_cue_target_praised"
    rows = TargetMasker().fit_transform([TargetText("Everyone praised Vale, brave and good.", ((17, 21),)),
                                         TargetText("Alle lobten Vale als Erfolg.", ((12, 16),))])
    values = lexicon.transform(rows)
    assert values[0, 0] > 0 and values[0, -1] == 1.0 and not values[1].any()


def test_language_pack_recorded_without_lexicon_or_frames_and_checked_on_load(toy_pack, tmp_path):
    """A configuration whose steps name no language still records the language it was trained for;
    a sidecar edited to another language is refused on load."""
    from stance.config import ModelConfig
    from stance.errors import ModelIntegrityError

    path = _write_toy_units(tmp_path / "toy.jsonl", _units(toy_pack))
    config = ModelConfig(use_lexicon=False, use_frames=False)
    train(path, tmp_path / "plain", config=config, policy=DataPolicy(min_rows=10), evaluate=False, language="xx", n_jobs=1)
    assert json.loads((tmp_path / "plain" / META_FILE).read_text(encoding="utf-8"))["language"] == "xx"
    assert stance.load(tmp_path / "plain").language == "xx"
    train(path, tmp_path / "full", policy=DataPolicy(min_rows=10), evaluate=False, language="xx", n_jobs=1)
    sidecar = tmp_path / "full" / META_FILE
    sidecar.write_text(sidecar.read_text(encoding="utf-8").replace('"language": "xx"', '"language": "de"'), encoding="utf-8")
    with pytest.raises(ModelIntegrityError, match="language"):
        load_model(tmp_path / "full")


def test_language_pack_header_byline_words_are_one_group(monkeypatch):
    """A pack's byline alternatives ("column|comment|opinion" by default) are grouped: a line that merely
    contains one of them is no header, while "Title. Column by Name. date" is."""
    from stance.articles import split_segments

    monkeypatch.setattr(stance.lang, "_PACKS", dict(stance.lang._PACKS))
    pack = register_pack(LanguagePack(code="yy", name="Toy2", spacy_lang="en", lexicon_file=Path("unused.tsv"),
                                      actors_file=Path("unused.toml"), months={"march": 3}))
    plain = split_segments("The council comment period ends 12.03.2025\nVale spoke about it at length.\n", language=pack)
    assert [seg.date for seg in plain] == [None]  # no header: not dated by the line's date
    header = split_segments("Budget vote. Column by Ann Lee. 12.03.2025\nVale spoke about it at length.\n", language=pack)
    assert [(seg.title, seg.date) for seg in header] == [("Budget vote", dt.date(2025, 3, 12))]


def test_language_pack_model_without_language_field_is_german():
    meta = json.loads((GERMAN.default_model_dir / META_FILE).read_text(encoding="utf-8"))
    assert "language" not in meta or meta["language"] == "de"
    assert stance.load().language == "de"


# Words that only a German word list would hold; none may appear as a string constant in
# stance/*.py outside stance/lang/ (docstrings and comments may hold German examples).
GERMAN_MARKERS = ("nicht", "kein", "keine", "niemals", "Januar", "januar", "oktober", "Bundeskanzler", "sagte", "erklärte",
                  "kritisier", "Kolumne", "Veröffentlicht", "startseite", "datenschutz", "einverstanden", "werden",
                  "über", "Kriegsverbrechen", "diktator", "angeblich", "vorwurf")


def _string_constants(tree: ast.AST) -> list[str]:
    docstrings = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                docstrings.add(id(first.value))
        # attribute docstrings: a bare string right after an assignment
        for body in (getattr(node, "body", None), getattr(node, "orelse", None)):
            if isinstance(body, list):
                for stmt in body:
                    if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant) and isinstance(stmt.value.value, str):
                        docstrings.add(id(stmt.value))
    return [node.value for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings]


def test_language_pack_no_german_word_lists_outside_stance_lang():
    marker = re.compile(r"(?<![a-zäöüß])(?:" + "|".join(GERMAN_MARKERS) + r")(?![a-zäöüß])", re.IGNORECASE)
    found = []
    paths = sorted(p for p in STANCE_DIR.rglob("*.py") if "lang" not in p.relative_to(STANCE_DIR).parts[:-1])
    assert STANCE_DIR / "training" / "fit.py" in paths
    for path in paths:
        for text in _string_constants(ast.parse(path.read_text(encoding="utf-8"))):
            hit = marker.search(text)
            if hit and not _is_message(text):
                found.append(f"{path.relative_to(STANCE_DIR)}: {hit.group(0)!r} in {text[:60]!r}")
    assert not found, "German words outside stance/lang/:\n" + "\n".join(found)


_ENGLISH = re.compile(r"\b(?:the|is|of|with|must|cannot|expected|got|should|and|from|this|that|has|are|e\.g\.)\b")


def _is_message(text: str) -> bool:
    """An English message or help text quoting a German example: two English function words or more."""
    return len(set(_ENGLISH.findall(text))) >= 2
