"""Labelled data: load and validate the JSON Lines files of ``training/data/``.

Record format (ANNOTATION.md, plus ``source``, ``start``/``end`` and optional flags)::

    {"id": "seeds-002-a03-s014-putin", "doc_id": "seeds/002_326afa099a296fc4.txt#3",
     "source": "sample", "sentence": "...", "actor": "putin", "mention": "Kremlchef",
     "start": 4, "end": 13, "stance": "negative", "sentiment": "negative", "note": "..."}

Every problem in every file is collected and reported at once, each with file and line.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .actors import ActorRegistry, load_actors
from .errors import DataValidationError
from .records import LABELS

SOURCES: tuple[str, ...] = ("sample", "constructed", "gerntsa")
_REQUIRED = ("id", "doc_id", "source", "sentence", "mention", "start", "end", "stance")
_OPTIONAL = ("actor", "sentiment", "note", "actor_error", "added", "split", "date", "kind", "target")
_SPLITS = ("train", "dev")


@dataclass(frozen=True, slots=True)
class LabelledUnit:
    """One labelled (sentence, target) unit."""

    id: str
    doc_id: str
    source: str
    sentence: str
    actor: str | None
    mention: str
    start: int
    end: int
    stance: str | None
    sentiment: str | None
    split: str | None = None
    actor_error: bool = False
    added: bool = False
    note: str | None = None
    location: str = ""

    @property
    def usable(self) -> bool:
        """Whether the unit carries a stance label (actor errors do not)."""
        return not self.actor_error and self.stance is not None


def load_units(paths: str | Path | Sequence[str | Path], *, actors: ActorRegistry | None = None,
               check_sorted: bool = True) -> list[LabelledUnit]:
    """Load and validate labelled units from files or folders (``*.jsonl``).

    Raises
    ------
    DataValidationError
        Listing every bad row (file:line: problem), before anything is returned.

    Examples
    --------
    >>> import tempfile, os
    >>> row = {"id": "x-1-putin", "doc_id": "x#1", "source": "constructed", "sentence": "Putin lügt.",
    ...        "actor": "putin", "mention": "Putin", "start": 0, "end": 5, "stance": "negative", "sentiment": "negative"}
    >>> path = os.path.join(tempfile.mkdtemp(), "d.jsonl")
    >>> _ = open(path, "w", encoding="utf-8").write(json.dumps(row) + "\\n")
    >>> [u.stance for u in load_units(path)]
    ['negative']
    """
    files = _expand(paths)
    registry = actors or load_actors()
    problems: list[str] = []
    if not files:
        raise DataValidationError([f"{paths}: no *.jsonl data files found"])
    units: list[LabelledUnit] = []
    for file in files:
        units.extend(_load_file(file, registry, problems, check_sorted))
    problems.extend(_cross_checks(units))
    if problems:
        raise DataValidationError(problems)
    return units


def _expand(paths: str | Path | Sequence[str | Path]) -> list[Path]:
    items = [paths] if isinstance(paths, (str, Path)) else list(paths)
    files: list[Path] = []
    for item in items:
        path = Path(item)
        if path.is_dir():
            files.extend(sorted(path.glob("*.jsonl")))
        else:
            files.append(path)
    return files


def _load_file(path: Path, registry: ActorRegistry, problems: list[str], check_sorted: bool) -> list[LabelledUnit]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        problems.append(f"{path}: file not found")
        return []
    except (OSError, UnicodeDecodeError) as exc:
        problems.append(f"{path}: cannot read as UTF-8: {exc}")
        return []
    units: list[LabelledUnit] = []
    previous_id: str | None = None
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        where = f"{path}:{number}"
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            problems.append(f"{where}: invalid JSON: {exc.msg}")
            continue
        if not isinstance(row, dict):
            problems.append(f"{where}: expected a JSON object")
            continue
        unit = _parse_row(row, where, registry, problems)
        if unit is None:
            continue
        if check_sorted and previous_id is not None and unit.id < previous_id:
            problems.append(f"{where}: not sorted by id ({unit.id!r} after {previous_id!r})")
        previous_id = unit.id
        units.append(unit)
    return units


def _parse_row(row: dict[str, Any], where: str, registry: ActorRegistry, problems: list[str]) -> LabelledUnit | None:
    before = len(problems)
    for key in _REQUIRED:
        if key not in row:
            problems.append(f"{where}: missing field {key!r}")
    unknown = sorted(set(row) - set(_REQUIRED) - set(_OPTIONAL))
    if unknown:
        problems.append(f"{where}: unknown field(s) {', '.join(unknown)}")
    if len(problems) > before:
        return None
    source, sentence, mention = row["source"], row["sentence"], row["mention"]
    start, end = row["start"], row["end"]
    actor_error = row.get("actor_error", False) is True
    if not isinstance(row["id"], str) or not row["id"].strip():
        problems.append(f"{where}: id must be a non-empty string")
    if not isinstance(row["doc_id"], str) or not row["doc_id"].strip():
        problems.append(f"{where}: doc_id must be a non-empty string")
    if source not in SOURCES:
        problems.append(f"{where}: source {source!r} is not one of {', '.join(SOURCES)}")
    if not isinstance(sentence, str) or not sentence.strip():
        problems.append(f"{where}: empty sentence")
    elif not isinstance(start, int) or not isinstance(end, int) or isinstance(start, bool) or not 0 <= start < end <= len(sentence):
        problems.append(f"{where}: offsets {start!r}..{end!r} are not a span of the sentence")
    elif sentence[start:end] != mention:
        problems.append(f"{where}: offset {start}..{end} gives {sentence[start:end]!r}, not the mention {mention!r}")
    actor = row.get("actor")
    if actor is None and source != "gerntsa":
        problems.append(f"{where}: missing actor (only gerntsa records may have no actor)")
    elif actor is not None and actor not in registry:
        problems.append(f"{where}: unknown actor id {actor!r} (not in the actor registry)")
    stance, sentiment = row["stance"], row.get("sentiment")
    if actor_error:
        if stance is not None or sentiment is not None:
            problems.append(f"{where}: an actor_error unit carries no stance or sentiment (use null)")
    else:
        if stance not in LABELS:
            problems.append(f"{where}: stance {stance!r} is not one of {', '.join(LABELS)}")
        if source != "gerntsa" and sentiment not in LABELS:
            problems.append(f"{where}: sentiment {sentiment!r} is not one of {', '.join(LABELS)}")
        if source == "gerntsa" and sentiment is not None:
            problems.append(f"{where}: gerntsa records have no sentence sentiment (use null)")
    split = row.get("split")
    if split is not None and split not in _SPLITS:
        problems.append(f"{where}: split {split!r} is not one of {', '.join(_SPLITS)}")
    if source == "gerntsa" and split is None:
        problems.append(f"{where}: gerntsa records need a split (train or dev)")
    for flag in ("actor_error", "added"):
        if flag in row and not isinstance(row[flag], bool):
            problems.append(f"{where}: {flag} must be true or false")
    if len(problems) > before:
        return None
    return LabelledUnit(
        id=row["id"], doc_id=row["doc_id"], source=source, sentence=sentence, actor=actor, mention=mention,
        start=start, end=end, stance=stance, sentiment=sentiment, split=split, actor_error=actor_error,
        added=row.get("added", False) is True, note=row.get("note"), location=where,
    )


def _cross_checks(units: Iterable[LabelledUnit]) -> list[str]:
    problems: list[str] = []
    by_id: dict[str, LabelledUnit] = {}
    by_unit: dict[tuple[str, str, str], LabelledUnit] = {}
    by_sentence: dict[tuple[str, str], LabelledUnit] = {}
    for unit in units:
        if unit.id in by_id:
            problems.append(f"{unit.location}: duplicate id {unit.id!r} (first at {by_id[unit.id].location})")
        by_id.setdefault(unit.id, unit)
        if not unit.usable:
            continue
        key = (unit.source, unit.sentence, unit.actor or f"{unit.start}:{unit.end}")
        first = by_unit.setdefault(key, unit)
        if first is not unit and first.stance != unit.stance:
            problems.append(
                f"{unit.location}: conflicting stance {unit.stance!r} for the same unit as {first.location} ({first.stance!r})"
            )
        if unit.sentiment is not None:
            skey = (unit.doc_id, unit.sentence)
            sfirst = by_sentence.setdefault(skey, unit)
            if sfirst.sentiment != unit.sentiment:
                problems.append(
                    f"{unit.location}: conflicting sentiment {unit.sentiment!r} for the same sentence as {sfirst.location} ({sfirst.sentiment!r})"
                )
    return problems


def data_fingerprint(paths: str | Path | Sequence[str | Path]) -> str:
    """SHA-256 over the bytes of the data files (sorted by path)."""
    digest = hashlib.sha256()
    for file in sorted(_expand(paths)):
        digest.update(file.name.encode("utf-8"))
        digest.update(file.read_bytes())
    return digest.hexdigest()


def gerntsa_split(sentence: str, dev_share: int = 5) -> str:
    """The fixed grouped development split of GerNTSA: by a hash of the sentence text.

    All records of one sentence land on the same side; about 1/``dev_share`` are ``dev``.
    """
    bucket = int(hashlib.sha1(sentence.encode("utf-8")).hexdigest()[:8], 16) % dev_share
    return "dev" if bucket == 0 else "train"
