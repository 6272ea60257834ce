"""The actor registry: canonical ids, names, spelling variants and dated role aliases.

The packaged registry lives in ``stance/data/actors_de.toml``; users extend or replace it
with their own TOML or JSON file (``--actors FILE`` on the CLI, ``actors=`` in the library).
"""

from __future__ import annotations

import datetime as dt
import json
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from .errors import ActorRegistryError
from .resources import actors_file

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

_ID_RE = re.compile(r"^[a-z][a-z0-9_]*$")


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


def resolve_registry(actors: ActorRegistry | str | Path | None) -> ActorRegistry:
    """Accept a registry, a path to a registry file, or ``None`` for the packaged one."""
    if isinstance(actors, ActorRegistry):
        return actors
    return load_actors(actors)


def load_actors(path: str | Path | None = None, *, extend_default: bool | None = None) -> ActorRegistry:
    """Load an actor registry from TOML or JSON.

    With no path the packaged registry is returned. A user file extends the packaged
    registry unless it sets ``replace = true`` at the top (or ``extend_default=False``): its
    new actors are added, an actor with a known id replaces the packaged one, and an entry
    with ``extend = true`` only adds aliases and roles to the known actor of that id.

    Raises
    ------
    ActorRegistryError
        On a syntax error, a missing field, a duplicate or malformed id, or a bad period;
        the message names the file and what is wrong.

    Examples
    --------
    >>> registry = load_actors()
    >>> "putin" in registry and registry.get("zelensky").name
    'Wolodymyr Selenskyj'
    """
    if path is None:
        return _packaged_registry()
    path = Path(path)
    data = _read_registry_file(path)
    registry = registry_from_mapping(data, source=str(path))
    replace_default = bool(data.get("replace", False)) if extend_default is None else not extend_default
    if replace_default:
        extending = [a.id for a in registry.actors if a.extends]
        if extending:
            raise ActorRegistryError(f"{path}: 'extend = true' needs the default registry, but the file replaces it "
                                     f"(replace = true): {', '.join(extending)}")
        return registry
    return _packaged_registry().extended(registry)


@lru_cache(maxsize=1)
def _packaged_registry() -> ActorRegistry:
    path = actors_file()
    return registry_from_mapping(_read_registry_file(path), source="stance/data/actors_de.toml")


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
    if not isinstance(data, dict):
        raise ActorRegistryError(f"{path}: expected a table with an 'actor' list")
    return data


def registry_from_mapping(data: Mapping[str, Any], *, source: str = "<mapping>") -> ActorRegistry:
    """Validate a parsed registry (``{"actor": [...], "exclude": [...]}``) and build it."""
    entries = data.get("actor", data.get("actors"))
    if not isinstance(entries, list) or not entries:
        raise ActorRegistryError(f"{source}: expected a non-empty list of [[actor]] entries")
    problems: list[str] = []
    actors: list[Actor] = []
    seen: dict[str, int] = {}
    for number, entry in enumerate(entries, start=1):
        where = f"{source}: actor #{number}"
        if not isinstance(entry, dict):
            problems.append(f"{where}: expected a table, got {type(entry).__name__}")
            continue
        actor_id = entry.get("id")
        if not isinstance(actor_id, str) or not _ID_RE.match(actor_id):
            problems.append(f"{where}: id {actor_id!r} must be lower-case ASCII letters, digits and _")
            continue
        where = f"{source}: actor {actor_id!r}"
        if actor_id in seen:
            problems.append(f"{where}: duplicate id (first defined as actor #{seen[actor_id]})")
            continue
        seen[actor_id] = number
        actor = _parse_actor(entry, actor_id, where, problems)
        if actor is not None:
            actors.append(actor)
    exclude = data.get("exclude", [])
    if not isinstance(exclude, list) or not all(isinstance(x, str) and x.strip() for x in exclude):
        problems.append(f"{source}: 'exclude' must be a list of non-empty strings")
        exclude = []
    if problems:
        raise ActorRegistryError("; ".join(problems))
    return ActorRegistry(tuple(actors), tuple(x.strip() for x in exclude), source)


def _parse_actor(entry: Mapping[str, Any], actor_id: str, where: str, problems: list[str]) -> Actor | None:
    name = entry.get("name", actor_id)
    aliases = entry.get("aliases", [])
    extends = entry.get("extend", False)
    if not isinstance(extends, bool):
        problems.append(f"{where}: 'extend' must be true or false, got {extends!r}")
        return None
    if not isinstance(name, str) or not name.strip():
        problems.append(f"{where}: 'name' must be a non-empty string")
        return None
    if not isinstance(aliases, list) or not all(isinstance(a, str) and a.strip() for a in aliases):
        problems.append(f"{where}: 'aliases' must be a list of non-empty strings")
        return None
    roles: list[Role] = []
    for k, role in enumerate(entry.get("roles", []) or [], start=1):
        parsed = _parse_role(role, f"{where} role #{k}", problems)
        if parsed is not None:
            roles.append(parsed)
    if not aliases and not roles:
        problems.append(f"{where}: needs at least one alias or role")
        return None
    return Actor(actor_id, name.strip(), tuple(a.strip() for a in aliases), tuple(roles), extends)


def _parse_role(role: object, where: str, problems: list[str]) -> Role | None:
    if isinstance(role, str):
        return Role(role.strip())
    if not isinstance(role, dict) or not isinstance(role.get("alias"), str) or not role["alias"].strip():
        problems.append(f"{where}: expected {{ alias = \"...\", since = YYYY-MM-DD, until = YYYY-MM-DD }}")
        return None
    dates: dict[str, dt.date | None] = {}
    for key in ("since", "until"):
        value = role.get(key)
        if isinstance(value, str):
            try:
                value = dt.date.fromisoformat(value)
            except ValueError:
                problems.append(f"{where}: {key} {value!r} is not a date (YYYY-MM-DD)")
                return None
        if isinstance(value, dt.datetime):
            value = value.date()
        if value is not None and not isinstance(value, dt.date):
            problems.append(f"{where}: {key} must be a date, got {value!r}")
            return None
        dates[key] = value
    since, until = dates["since"], dates["until"]
    if since and until and until < since:
        problems.append(f"{where}: until {until} is before since {since}")
        return None
    return Role(role["alias"].strip(), since, until)


def registry_as_rows(registry: ActorRegistry) -> list[dict[str, str]]:
    """One row per actor (id, name, aliases, roles) for listing."""
    rows = []
    for actor in registry.actors:
        roles = "; ".join(
            f"{r.alias} ({r.since or '…'}–{r.until or ''})".replace("(…–)", "(always)") for r in actor.roles
        )
        rows.append({"id": actor.id, "name": actor.name, "aliases": ", ".join(actor.aliases), "roles": roles})
    return rows
