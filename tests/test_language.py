"""The language check: articles that are clearly not German are skipped with the reason."""

from __future__ import annotations

import pytest

import stance
from stance.language import guess_language, not_german_reason

GERMAN = ("Putin kritisierte am Montag die Regierung in Kiew scharf. Der Kanzler sagte, dass er mit dem "
          "Plan nicht einverstanden sei und auf eine Lösung für das Land setze. Selenskyj wurde bereits "
          "zu den Gesprächen eingeladen, hieß es aus Berlin.")
OTHERS = {
    "en": ("Putin sharply criticised the government in Kyiv on Monday. The chancellor said that he was not "
           "happy with the plan and that he would rely on a solution for the country. Zelensky has been "
           "invited to the talks, officials in Berlin said."),
    "fr": ("Poutine a vivement critiqué le gouvernement de Kiev lundi. Le chancelier a dit qu'il ne soutient "
           "pas le plan et qu'il mise sur une solution pour le pays. Zelensky est invité aux discussions "
           "avec les alliés, selon des sources dans la capitale."),
    "es": ("Putin criticó duramente al gobierno de Kiev el lunes. El canciller dijo que no está de acuerdo con "
           "el plan y que confía en una solución para el país. Zelenski fue invitado a las conversaciones, "
           "según fuentes del gobierno, pero no se sabe más."),
    "it": ("Putin ha criticato duramente il governo di Kiev lunedì. Il cancelliere ha detto che non è d'accordo "
           "con il piano e che si affida a una soluzione per il paese. Zelensky è stato invitato ai colloqui "
           "della settimana, secondo fonti della capitale."),
    "nl": ("Poetin heeft de regering in Kiev maandag scherp bekritiseerd. De kanselier zei dat hij het niet "
           "eens is met het plan en dat hij op een oplossing voor het land rekent. Zelensky is uitgenodigd "
           "voor de gesprekken, zei een woordvoerder in Berlijn."),
}


def test_german_is_german():
    assert guess_language(GERMAN).language == "de"
    assert not_german_reason(GERMAN) is None


@pytest.mark.parametrize("code", sorted(OTHERS))
def test_other_languages_are_recognised_and_skipped(code):
    assert guess_language(OTHERS[code]).language == code
    reason = not_german_reason(OTHERS[code])
    assert reason is not None and reason.startswith("not German: looks like")


def test_german_quoting_english_stays_german():
    text = GERMAN + ' Trump schrieb: "This is the best deal for the people of the United States."'
    assert not_german_reason(text) is None


def test_short_or_name_only_text_is_never_skipped():
    assert not_german_reason("Putin lobt Trump.") is None
    assert not_german_reason("Putin Trump Selenskyj Merz Macron " * 10) is None
    assert not_german_reason("") is None


def test_long_text_is_decided_on_its_beginning():
    guess = guess_language(OTHERS["en"] + " x" * 1_000_000)
    assert guess.language == "en"


def test_corpus_skips_an_english_article_with_the_reason_and_counts_it(tmp_path, analyzer):
    (tmp_path / "de.txt").write_text(GERMAN, encoding="utf-8")
    (tmp_path / "en.txt").write_text(OTHERS["en"], encoding="utf-8")
    result = stance.analyze_corpus(tmp_path, analyzer=analyzer)
    statuses = dict(zip(result.articles["path"].map(lambda p: p.rsplit("/", 1)[-1]), result.articles["status"]))
    assert statuses == {"de.txt": "ok", "en.txt": "skipped"}
    reason = result.articles.loc[result.articles["status"] == "skipped", "reason"].iloc[0]
    assert reason.startswith("not German: looks like English")
    assert any(s.reason == reason for s in result.skipped)
    assert set(result.mentions["article_id"]) == set(result.articles.loc[result.articles["status"] == "ok", "article_id"])

    everything = stance.analyze_corpus(tmp_path, analyzer=analyzer, check_language=False)
    assert set(everything.articles["status"]) == {"ok"}


def test_cli_any_language_scores_every_article(tmp_path):
    from stance.cli import main

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "de.txt").write_text(GERMAN, encoding="utf-8")
    (corpus / "en.txt").write_text(OTHERS["en"], encoding="utf-8")
    assert main(["analyze", str(corpus), "--out", str(tmp_path / "checked.csv"), "--quiet", "--jobs", "1"]) == 0
    assert main(["analyze", str(corpus), "--out", str(tmp_path / "all.csv"), "--quiet", "--jobs", "1", "--any-language"]) == 0
    checked = (tmp_path / "checked.csv").read_text(encoding="utf-8")
    everything = (tmp_path / "all.csv").read_text(encoding="utf-8")
    assert "Zelensky has been invited" not in checked
    assert "Zelensky has been invited" in everything
