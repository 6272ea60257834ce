from __future__ import annotations

import re
from pathlib import Path

import pytest

from stance.actors import load_actors
from stance.errors import ActorRegistryError

ANNOTATION = Path(__file__).resolve().parents[2] / "shared" / "ANNOTATION.md"
GUIDELINE_IDS = (
    "trump putin zelensky lavrov rubio witkoff kushner vance biden rutte von_der_leyen costa macron merz scholz starmer "
    "meloni orban erdogan xi_jinping modi netanyahu peskov zakharova ushakov dmitriev gerasimov shoigu medvedev ryabkov "
    "sechin navalny lukashenko kallas tusk hegseth kellogg yermak"
).split()


def test_actors_registry_holds_every_guideline_id():
    registry = load_actors()
    assert set(GUIDELINE_IDS) <= set(registry.ids)
    if ANNOTATION.is_file():  # the shared guidelines are there in development and CI
        table_ids = re.findall(r"^\| ([a-z_]+) \|", ANNOTATION.read_text(encoding="utf-8"), flags=re.M)
        assert set(table_ids) - {"id"} <= set(registry.ids)


def test_actors_user_file_extends_default(tmp_path):
    path = tmp_path / "extra.toml"
    path.write_text('[[actor]]\nid = "habeck"\nname = "Robert Habeck"\naliases = ["Habeck"]\n', encoding="utf-8")
    registry = load_actors(path)
    assert "habeck" in registry and "putin" in registry


def test_actors_user_file_replaces_default(tmp_path):
    path = tmp_path / "only.json"
    path.write_text('{"replace": true, "actor": [{"id": "habeck", "name": "Robert Habeck", "aliases": ["Habeck"]}]}', encoding="utf-8")
    assert load_actors(path).ids == ("habeck",)


@pytest.mark.parametrize("content, message", [
    ('[[actor]\nid = "x"', "invalid TOML"),
    ('[[actor]]\nid = "a"\naliases = ["A"]\n[[actor]]\nid = "a"\naliases = ["B"]\n', "duplicate id"),
    ('[[actor]]\nid = "Bad Id"\naliases = ["A"]\n', "must be lower-case"),
    ('[[actor]]\nid = "a"\nroles = [{ alias = "Chef", since = 2025-01-01, until = 2024-01-01 }]\n', "before since"),
    ('[[actor]]\nid = "a"\n', "at least one alias"),
])
def test_actors_bad_file_names_problem(tmp_path, content, message):
    path = tmp_path / "bad.toml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ActorRegistryError, match=message) as info:
        load_actors(path)
    assert str(path) in str(info.value)


def test_actors_user_file_adds_aliases_to_a_known_actor_without_redefining_it(tmp_path):
    from stance.mentions import find_mentions

    path = tmp_path / "extra.toml"
    path.write_text('[[actor]]\nid = "merz"\nextend = true\naliases = ["Fritze Merz"]\n'
                    'roles = [{ alias = "Sauerländer", since = 2022-01-31 }]\n', encoding="utf-8")
    registry = load_actors(path)
    merz, default = registry.get("merz"), load_actors().get("merz")
    assert merz.name == default.name == "Friedrich Merz"
    assert merz.aliases == default.aliases + ("Fritze Merz",)
    assert merz.roles[: len(default.roles)] == default.roles and len(merz.roles) == len(default.roles) + 1
    assert [m.actor for m in find_mentions("Fritze Merz sprach.", actors=registry)] == ["merz"]


@pytest.mark.parametrize("content, message", [
    ('[[actor]]\nid = "nobody_known"\nextend = true\naliases = ["X"]\n', "needs a known actor id; unknown: nobody_known"),
    ('[[actor]]\nid = "merz"\nextend = "yes"\naliases = ["X"]\n', "'extend' must be true or false"),
    ('replace = true\n[[actor]]\nid = "merz"\nextend = true\naliases = ["X"]\n', "needs the default registry"),
])
def test_actors_bad_extension_names_problem(tmp_path, content, message):
    path = tmp_path / "bad.toml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ActorRegistryError, match=message):
        load_actors(path)
