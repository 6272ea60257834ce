"""The actor registry: canonical ids, names, spelling variants and dated role aliases.

The packaged registry lives in ``stance/data/actors_de.toml``; users extend or replace it
with their own TOML or JSON file (``--actors FILE`` on the CLI, ``actors=`` in the library).
"""

from __future__ import annotations

import datetime as dt
import json
import difflib
import logging
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from .dates import as_date
from .errors import ActorRegistryError
from .lang import DEFAULT_LANGUAGE, LanguagePack, get_pack
from .text import normalize_text

DEFAULT_REGISTRY_SOURCE = "stance/data/actors_de.toml"  # how the packaged registry names itself in messages and model.json

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

_ID_RE = re.compile(r"^[a-z][a-z0-9_]*$")
logger = logging.getLogger(__name__)
_PACK = get_pack()  # the stop words of the alias warning are the default language pack's


@dataclass(frozen=True, slots=True)
class Role:
    """A role description that means one actor within a validity period."""

    alias: str
    since: dt.date | None = None
    until: dt.date | None = None

    def valid_on(self, date: dt.date | None) -> bool:
        """Whether the role refers to its actor on ``date`` (never when ``date`` is None)."""
        if date is None:
            return False
        return (self.since is None or self.since <= date) and (self.until is None or date <= self.until)


@dataclass(frozen=True, slots=True)
class Actor:
    """One actor of the registry."""

    id: str
    name: str
    aliases: tuple[str, ...]
    roles: tuple[Role, ...] = ()
    extends: bool = False  # a user entry that adds aliases and roles to a known actor


@dataclass(frozen=True, slots=True)
class ActorRegistry:
    """An immutable, hashable set of actors plus phrases that must never match."""

    actors: tuple[Actor, ...]
    exclude: tuple[str, ...] = ()
    source: str = "<memory>"

    @property
    def ids(self) -> tuple[str, ...]:
        """Actor ids in registry order."""
        return tuple(a.id for a in self.actors)

    def get(self, actor_id: str) -> Actor:
        """Return the actor with this id; ``KeyError`` if unknown."""
        for actor in self.actors:
            if actor.id == actor_id:
                return actor
        raise KeyError(actor_id)

    def __contains__(self, actor_id: object) -> bool:
        return any(a.id == actor_id for a in self.actors)

    def extended(self, other: ActorRegistry) -> ActorRegistry:
        """A registry with ``other``'s actors added.

        An actor with a known id replaces it, unless it is marked ``extend = true``: then its
        aliases and roles are added to the known actor, which keeps everything else.

        Raises
        ------
        ActorRegistryError
            If an ``extend`` entry names an actor this registry does not know.
        """
        unknown = [a.id for a in other.actors if a.extends and a.id not in self]
        if unknown:
            raise ActorRegistryError(
                f"{other.source}: 'extend = true' needs a known actor id; unknown: {', '.join(unknown)}"
            )
        replaced = {a.id: a for a in other.actors}
        merged = [_merge_actor(a, replaced.pop(a.id)) if a.id in replaced else a for a in self.actors]
        merged.extend(a for a in other.actors if a.id in replaced)
        exclude = tuple(dict.fromkeys(self.exclude + other.exclude))
        return ActorRegistry(tuple(merged), exclude, f"{self.source} + {other.source}")

    def display_name(self, actor_id: str) -> str:
        """The display name of an actor id (the id itself if unknown)."""
        try:
            return self.get(actor_id).name
        except KeyError:
            return actor_id


def _merge_actor(known: Actor, new: Actor) -> Actor:
    """``new`` replaces ``known``, or adds its aliases and roles when it only extends it."""
    if not new.extends:
        return new
    aliases = tuple(dict.fromkeys(known.aliases + new.aliases))
    roles = tuple(dict.fromkeys(known.roles + new.roles))
    return Actor(known.id, known.name, aliases, roles)


def resolve_registry(actors: ActorRegistry | str | Path | None, language: str | LanguagePack | None = None) -> ActorRegistry:
    """Accept a registry, a path to a registry file, or ``None`` for the registry of the
    language pack ``language`` (default German: the packaged one)."""
    if isinstance(actors, ActorRegistry):
        return actors
    return load_actors(actors, language=language)


def load_actors(path: str | Path | None = None, *, extend_default: bool | None = None,
                language: str | LanguagePack | None = None) -> ActorRegistry:
    """Load an actor registry from TOML or JSON.

    With no path the packaged registry is returned. A user file extends the packaged
    registry unless it sets ``replace = true`` at the top (or ``extend_default=False``): its
    new actors are added, an actor with a known id replaces the packaged one, and an entry
    with ``extend = true`` only adds aliases and roles to the known actor of that id.

    Every field is type-checked: ``replace`` and ``extend`` must be real booleans (the string
    ``"false"`` is an error, not a true value), ``aliases`` and ``exclude`` lists of strings,
    ``roles`` a list of ``{ alias, since, until }`` tables (or alias strings, valid at every
    date). Names, aliases and exclusions are NFC-normalised. An alias of one or two letters or
    a German stop word ("die", "und") is logged as a warning: it would match almost anywhere.
    ``language`` selects the language pack whose registry is the default one (default German).

    Raises
    ------
    ActorRegistryError
        On a syntax error, a field of the wrong type, an unknown key, nesting deeper than
        the schema, a missing field, a duplicate or malformed id, or a bad period; the
        message names the file, the actor and the field.

    Examples
    --------
    >>> registry = load_actors()
    >>> "putin" in registry and registry.get("zelensky").name
    'Wolodymyr Selenskyj'
    """
    pack = get_pack(language)
    if path is None:
        return _packaged_registry(pack)
    path = Path(path)
    data = _read_registry_file(path)
    replace = data.get("replace", False)
    if not isinstance(replace, bool):
        raise ActorRegistryError(f"{path}: 'replace' must be true or false, got {_describe(replace)}")
    registry = registry_from_mapping(data, source=str(path))
    replace_default = replace if extend_default is None else not extend_default
    if replace_default:
        extending = [a.id for a in registry.actors if a.extends]
        if extending:
            raise ActorRegistryError(f"{path}: 'extend = true' needs the default registry, but the file replaces it "
                                     f"(replace = true): {', '.join(extending)}")
        return registry
    return _packaged_registry(pack).extended(registry)


@lru_cache(maxsize=4)
def _packaged_registry(pack: LanguagePack) -> ActorRegistry:
    source = DEFAULT_REGISTRY_SOURCE if pack.code == DEFAULT_LANGUAGE else str(pack.actors_file)
    return registry_from_mapping(_read_registry_file(pack.actors_file), source=source, warn=False)


def _read_registry_file(path: Path) -> dict[str, Any]:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ActorRegistryError(f"{path}: cannot read actor file: {exc.strerror or exc}") from exc
    try:
        if path.suffix.lower() == ".json":
            data = json.loads(raw.decode("utf-8-sig"))
        else:
            data = tomllib.loads(raw.decode("utf-8-sig"))
    except json.JSONDecodeError as exc:
        raise ActorRegistryError(f"{path}: line {exc.lineno}: invalid JSON: {exc.msg}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ActorRegistryError(f"{path}: invalid TOML: {exc}") from exc
    except UnicodeDecodeError as exc:
        raise ActorRegistryError(f"{path}: actor file is not UTF-8 text") from exc
    except ValueError as exc:  # e.g. an integer literal with thousands of digits
        raise ActorRegistryError(f"{path}: invalid value in actor file: {exc}") from exc
    except (RecursionError, MemoryError) as exc:
        raise ActorRegistryError(f"{path}: nested too deeply for an actor registry (it has at most three levels: "
                                 "the actor list, an actor table and a role table)") from exc
    if not isinstance(data, dict):
        raise ActorRegistryError(f"{path}: expected a table with an 'actor' list, got {_describe(data)}")
    return data


def registry_from_mapping(data: Mapping[str, Any], *, source: str = "<mapping>", warn: bool = True) -> ActorRegistry:
    """Validate a parsed registry (``{"actor": [...], "exclude": [...]}``) and build it.

    ``warn``: log a warning for aliases that are too short or stop words.

    Raises
    ------
    ActorRegistryError
        Listing every problem found, each naming ``source``, the actor and the field.

    Examples
    --------
    >>> registry_from_mapping({"actor": [{"id": "habeck", "aliases": ["Habeck"]}]}).ids
    ('habeck',)
    """
    typos = _misspelt_keys(data, _TOP_KEYS, str(source))
    if typos:
        raise ActorRegistryError(f"{source}: {typos}")
    if "actor" in data and "actors" in data:
        raise ActorRegistryError(f"{source}: give the actor list as 'actor' or 'actors', not both")
    entries = data.get("actor", data.get("actors"))
    if not isinstance(entries, list) or not entries:
        raise ActorRegistryError(f"{source}: expected a non-empty list of [[actor]] entries, got {_describe(entries)}")
    problems: list[str] = []
    actors: list[Actor] = []
    seen: dict[str, int] = {}
    for number, entry in enumerate(entries, start=1):
        where = f"{source}: actor #{number}"
        if not isinstance(entry, dict):
            problems.append(f"{where}: expected a table, got {_describe(entry)}")
            continue
        actor_id = entry.get("id")
        if not isinstance(actor_id, str) or not _ID_RE.match(actor_id):
            problems.append(f"{where}: id {_describe(actor_id)} must be lower-case ASCII letters, digits and _")
            continue
        where = f"{source}: actor {actor_id!r}"
        if actor_id in seen:
            problems.append(f"{where}: duplicate id (first defined as actor #{seen[actor_id]})")
            continue
        seen[actor_id] = number
        actor = _parse_actor(entry, actor_id, where, problems)
        if actor is not None:
            actors.append(actor)
            if warn:
                _warn_weak_aliases(actor, source)
    exclude = _string_list(data.get("exclude", []), f"{source}: 'exclude'", problems)
    if problems:
        raise ActorRegistryError("; ".join(problems))
    return ActorRegistry(tuple(actors), exclude or (), source)


_TOP_KEYS = frozenset({"actor", "actors", "exclude", "replace"})
_ACTOR_KEYS = frozenset({"id", "name", "aliases", "roles", "extend"})
_ROLE_KEYS = frozenset({"alias", "since", "until"})
_ROLE_SHAPE = "a table { alias = \"...\", since = YYYY-MM-DD, until = YYYY-MM-DD } or an alias string"


def _describe(value: object) -> str:
    """A short, safe description of a value for a message (never a deep repr)."""
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return f"a boolean ({value})"
    if isinstance(value, str):
        shown = value if len(value) <= 40 else value[:40] + "…"
        return f"a string ({shown!r})"
    if isinstance(value, float) or (isinstance(value, int) and abs(value) < 10**20):
        return f"a number ({value!r})"
    if isinstance(value, int):
        return "a very large number"  # repr() of a 5,000-digit integer raises
    kinds = {list: "a list", dict: "a table", dt.date: "a date", dt.datetime: "a date-time", dt.time: "a time"}
    return kinds.get(type(value), f"a {type(value).__name__}")


def _text(value: str) -> str:
    """A name, alias or phrase as matched: NFC, no zero-width characters, no outer spaces."""
    return normalize_text(value).strip()


def _string_list(value: object, where: str, problems: list[str]) -> tuple[str, ...] | None:
    """``value`` as a tuple of normalised non-empty strings, or None after recording a problem."""
    if not isinstance(value, list):
        problems.append(f"{where} must be a list of non-empty strings, got {_describe(value)}")
        return None
    for k, item in enumerate(value, start=1):
        if not isinstance(item, str) or not _text(item):
            problems.append(f"{where} must be a list of non-empty strings; item #{k} is {_describe(item)}")
            return None
    return tuple(_text(item) for item in value)


def _misspelt_keys(mapping: Mapping[Any, Any], known: frozenset[str], where: str) -> str | None:
    """The error for keys that look like a misspelt known key (``sinse``); other unknown keys
    (a user's own metadata such as ``party``) are ignored with a warning.
    """
    unknown = sorted(str(k) for k in mapping if k not in known)
    misspelt = {k: difflib.get_close_matches(k, sorted(known), n=1, cutoff=0.8) for k in unknown}
    ignored = [k for k, close in misspelt.items() if not close]
    if ignored:
        logger.warning("%s: key(s) %s are not used by stance and are ignored", where, ", ".join(map(repr, ignored)))
    typos = {k: close[0] for k, close in misspelt.items() if close}
    if not typos:
        return None
    return (f"unknown key(s) {', '.join(map(repr, typos))}; did you mean "
            f"{', '.join(map(repr, typos.values()))}? (expected {', '.join(sorted(known))})")


def _parse_actor(entry: Mapping[str, Any], actor_id: str, where: str, problems: list[str]) -> Actor | None:
    before = len(problems)
    typos = _misspelt_keys(entry, _ACTOR_KEYS, where)
    if typos:
        problems.append(f"{where}: {typos}")
    name = entry.get("name", actor_id)
    extends = entry.get("extend", False)
    if not isinstance(extends, bool):
        problems.append(f"{where}: 'extend' must be true or false, got {_describe(extends)}")
    if not isinstance(name, str) or not _text(name):
        problems.append(f"{where}: 'name' must be a non-empty string, got {_describe(name)}")
    aliases = _string_list(entry.get("aliases", []), f"{where}: 'aliases'", problems)
    roles = _parse_roles(entry.get("roles", []), where, problems)
    if len(problems) > before or aliases is None or roles is None:
        return None
    if not aliases and not roles:
        problems.append(f"{where}: needs at least one alias or role")
        return None
    return Actor(actor_id, _text(name), aliases, roles, extends)


def _parse_roles(value: object, where: str, problems: list[str]) -> tuple[Role, ...] | None:
    if not isinstance(value, list):
        problems.append(f"{where}: 'roles' must be a list of roles, each {_ROLE_SHAPE}; got {_describe(value)}")
        return None
    roles = [_parse_role(role, f"{where}: role #{k}", problems) for k, role in enumerate(value, start=1)]
    return None if any(r is None for r in roles) else tuple(r for r in roles if r is not None)


def _parse_role(role: object, where: str, problems: list[str]) -> Role | None:
    if isinstance(role, str):
        if not _text(role):
            problems.append(f"{where}: the alias must be a non-empty string")
            return None
        return Role(_text(role))
    if not isinstance(role, dict):
        problems.append(f"{where}: expected {_ROLE_SHAPE}, got {_describe(role)}")
        return None
    alias = role.get("alias")
    typos = _misspelt_keys(role, _ROLE_KEYS, where)
    if typos:
        problems.append(f"{where}: {typos}")
        return None
    if not isinstance(alias, str) or not _text(alias):
        problems.append(f"{where}: 'alias' must be a non-empty string, got {_describe(alias)}")
        return None
    since = _role_date(role.get("since"), f"{where}: 'since'", problems)
    until = _role_date(role.get("until"), f"{where}: 'until'", problems)
    if since is False or until is False:
        return None
    assert not isinstance(since, bool) and not isinstance(until, bool)
    if since and until and until < since:
        problems.append(f"{where}: until {until} is before since {since}")
        return None
    return Role(_text(alias), since, until)


def _role_date(value: object, where: str, problems: list[str]) -> dt.date | None | bool:
    """A role's date (None when absent), or False after recording a problem."""
    try:
        return as_date(value)
    except ValueError:
        problems.append(f"{where} must be a date (YYYY-MM-DD), got {_describe(value)}")
        return False


def _warn_weak_aliases(actor: Actor, source: str) -> None:
    """Log a warning for each alias of one or two letters or a stop word: it matches almost anywhere."""
    for alias in dict.fromkeys(actor.aliases + tuple(r.alias for r in actor.roles)):
        letters = sum(ch.isalnum() for ch in alias)
        stop_word = alias.lower() in _PACK.stop_words
        if letters <= 2 or stop_word:
            reason = f"is a {_PACK.name} stop word" if stop_word else "has only one or two letters"
            logger.warning("%s: actor %r: alias %r %s and will match almost anywhere; use a longer alias",
                           source, actor.id, alias, reason)


def registry_to_mapping(registry: ActorRegistry) -> dict[str, Any]:
    """The registry as plain JSON/TOML data that :func:`registry_from_mapping` reads back unchanged.

    Dates become ISO strings; ``since``/``until`` are left out when open. Used by the spaCy
    component ``stance_actors`` to save its registry with ``nlp.to_disk`` (no pickles).

    Examples
    --------
    >>> registry = load_actors()
    >>> registry_from_mapping(registry_to_mapping(registry), source=registry.source, warn=False) == registry
    True
    """
    actors = []
    for actor in registry.actors:
        roles = []
        for role in actor.roles:
            entry: dict[str, str] = {"alias": role.alias}
            if role.since is not None:
                entry["since"] = role.since.isoformat()
            if role.until is not None:
                entry["until"] = role.until.isoformat()
            roles.append(entry)
        item: dict[str, Any] = {"id": actor.id, "name": actor.name, "aliases": list(actor.aliases), "roles": roles}
        if actor.extends:
            item["extend"] = True
        actors.append(item)
    return {"actor": actors, "exclude": list(registry.exclude)}


def registry_as_rows(registry: ActorRegistry) -> list[dict[str, str]]:
    """One row per actor (id, name, aliases, roles) for listing."""
    rows = []
    for actor in registry.actors:
        roles = "; ".join(
            f"{r.alias} ({r.since or '…'}–{r.until or ''})".replace("(…–)", "(always)") for r in actor.roles
        )
        rows.append({"id": actor.id, "name": actor.name, "aliases": ", ".join(actor.aliases), "roles": roles})
    return rows
