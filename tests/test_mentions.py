from __future__ import annotations

import datetime as dt

import pytest

from stance.actors import load_actors
from stance.mentions import find_mentions

D2025 = dt.date(2025, 10, 21)


def actors(text, date=None, registry=None):
    return sorted({m.actor for m in find_mentions(text, date=date, actors=registry)})


@pytest.mark.parametrize("text, expected", [
    ("Donald Trump sprach.", ["trump"]),
    ("Trumps Plan scheitert.", ["trump"]),
    ("Putins Truppen rücken vor, sagte Selenskyjs Sprecher.", ["putin", "zelensky"]),
    ("Zelenskyy, Selenskij und Selensky sind dieselbe Person.", ["zelensky"]),
    ("Lavrov und Lawrow sind eine Schreibweise.", ["lavrov"]),
    ("Die Trump-Regierung und das Putin-Regime verhandeln.", ["putin", "trump"]),
    ("Der Trump-Putin-Gipfel fiel aus.", ["putin", "trump"]),
    ("Ursula von der Leyens Kommission und Xi Jinping.", ["von_der_leyen", "xi_jinping"]),
    ("Orbán und Erdoğan trafen Kim Jong Un.", ["erdogan", "kim_jong_un", "orban"]),
    ("TRUMP SAGT GIPFEL AB", ["trump"]),
    ("Rubio–Lawrow: Das Wichtigste", ["lavrov", "rubio"]),
    ("Söder, Habeck und Klingbeil stritten mit Keller-Sutter.", ["habeck", "keller_sutter", "klingbeil", "soeder"]),
    ("Meinl-Reisingers Plan und die Ben-Gvir-Partei.", ["ben_gvir", "meinl_reisinger"]),
    ("Ahmed al-Scharaa traf Baschar al-Assads Gegner.", ["al_sharaa", "assad"]),
])
def test_mentions_alias_kinds(text, expected):
    assert actors(text) == expected


@pytest.mark.parametrize("text", [
    "Urlaub in Costa Rica ist ein Trumpf, sagt die Modifikation.",
    "Die Lichter blinken, Xiaomi wächst, Papst Pius XI. ist lange tot.",
    "Melania Trump und Ivanka Trump besuchten den Trump Tower.",
    "Ivanka Trumps Rolle ist unklar, Hunter Bidens Laptop auch, Costa Ricas Präsident reiste ab.",
    "Er sprach mit seinem russischen Kollegen.",
    "Jean-Marie Le Pen und Hafis al-Assad sind tot; Außenminister Abbas Araghchi reiste.",
    "Die Steuern für Reiche steigen, sagt Thorsten Frei am Rhein.",
])
def test_mentions_no_false_hits(text):
    assert actors(text) == []


@pytest.mark.parametrize("text, date, expected", [
    ("Der US-Präsident telefonierte.", D2025, ["trump"]),
    ("Der US-Präsident telefonierte.", dt.date(2023, 3, 1), ["biden"]),
    ("Der US-Präsident telefonierte.", None, []),
    ("Der Kremlchef lehnte ab.", D2025, ["putin"]),
    ("Der Kremlchef lehnte ab.", dt.date(2010, 1, 1), ["medvedev"]),
    ("Das sagte der Sprecher des russischen Präsidenten.", D2025, ["putin"]),
    ("Der Bundeskanzler reiste nach Kiew.", D2025, ["merz"]),
    ("Der Bundeskanzler reiste nach Kiew.", dt.date(2023, 6, 1), ["scholz"]),
    ("Der Kanzler und der CDU-Vorsitzende sind eine Person.", D2025, ["merz"]),
    ("Die Kanzlerin reiste nach Kiew.", dt.date(2015, 6, 1), ["merkel"]),
    ("Der Vizekanzler widersprach.", dt.date(2023, 6, 1), ["habeck"]),
    ("Der amerikanische Staatschef und der russische Führer schwiegen.", D2025, ["putin", "trump"]),
])
def test_mentions_role_aliases_resolved_by_date(text, date, expected):
    assert actors(text, date) == expected


def test_mentions_role_before_other_name_is_apposition():
    assert actors("Der frühere US-Präsident Barack Obama warnte.", D2025) == ["obama"]
    assert actors("Der russische Präsident Wladimir Putin schwieg.", D2025) == ["putin"]


def test_mentions_one_unit_per_actor_and_sentence():
    text = "Gestern sprach Trump mit Putin. Trump lobte Putin, und Trump lachte."
    mentions = find_mentions(text)
    assert [(m.actor, m.sentence_index, m.surface) for m in mentions] == [
        ("trump", 0, "Trump"), ("putin", 0, "Putin"), ("trump", 1, "Trump"), ("putin", 1, "Putin")]
    second = mentions[2]
    assert len(second.target_spans) == 2 and len(second.other_spans) == 1
    for m in mentions:
        assert text[m.start:m.end] == m.surface
        assert text[m.sentence_start:m.sentence_end] == m.sentence
        assert all(m.sentence[s:e] in ("Trump", "Putin") for s, e in m.target_spans + m.other_spans)


def test_mentions_user_registry(tmp_path):
    path = tmp_path / "a.toml"
    path.write_text('[[actor]]\nid = "habeck"\nname = "Robert Habeck"\naliases = ["Robert Habeck", "Habeck"]\n', encoding="utf-8")
    registry = load_actors(path)
    assert actors("Habecks Heizungsgesetz und Putin.", registry=registry) == ["habeck", "putin"]


def test_mentions_kind_labels():
    kinds = {m.actor: m.kind for m in find_mentions("Die Trump-Regierung und der Kremlchef und Lawrow.", date=D2025)}
    assert kinds == {"trump": "compound", "putin": "role", "lavrov": "name"}
