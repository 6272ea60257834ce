"""Labelled data: load and validate the JSON Lines files of ``training/data/``.

Record format (ANNOTATION.md, plus ``source``, ``start``/``end`` and optional flags)::

    {"id": "seeds-002-a03-s014-putin", "doc_id": "seeds/002_326afa099a296fc4.txt#3",
     "source": "sample", "sentence": "...", "actor": "putin", "mention": "Kremlchef",
     "start": 4, "end": 13, "stance": "negative", "sentiment": "negative", "note": "..."}

Third-party text (the news pool, GerNTSA) is never stored: such a record holds, instead of
``sentence``, a reference into its external corpus, and the sentence is read from there when
the data is loaded::

    {"id": "news-A0004-s001-trump", "doc_id": "news/A0004", "source": "news",
     "corpus": "news_pool", "ref": "A0004", "url": "https://...", "outlet": "example.de",
     "sentence_start": 152, "sentence_end": 290, "sentence_sha256": "...", "split": "train",
     "actor": "trump", "mention": "Trumps", "start": 55, "end": 61, ...}

Any other ``source`` name (``"mine"``, ``"user"``) is the user's own data: such a record
holds its ``sentence`` (no external corpus), an ``actor`` from the actor registry and the
target's offsets. Ids must be unique; they need not be sorted. A coding sheet
(:mod:`stance.coding`) becomes such units with :func:`units_from_coding`.

Every problem in every file is collected and reported at once, each with file and line.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .actors import ActorRegistry, load_actors
from .errors import DataValidationError, bad_value
from .records import LABELS

SOURCES: tuple[str, ...] = ("sample", "constructed", "gerntsa", "news")  # the shipped sources; any other name is user data
USER_SOURCE = "user"  # the source name of coded units added with ``stance train --add``
_SOURCE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
_REQUIRED = ("id", "doc_id", "source", "mention", "start", "end", "stance")
_OPTIONAL = ("sentence", "actor", "sentiment", "note", "actor_error", "added", "split", "date", "kind", "target", "annotator",
             *("corpus", "ref", "sentence_start", "sentence_end", "sentence_sha256", "url", "outlet"))
_REFERENCE = ("ref", "sentence_start", "sentence_end", "sentence_sha256")
_SPLITS = ("train", "dev")


@dataclass(frozen=True, slots=True)
class ExternalCorpus:
    """A corpus whose text the project never stores: records point into it by id and offsets."""

    name: str
    default_path: str  # relative to the project root (or the working folder)
    text_field: str
    option: str  # the CLI option that gives its path


EXTERNAL_CORPORA: dict[str, ExternalCorpus] = {
    "news_pool": ExternalCorpus("news_pool", "../shared/corpus/news_pool/pool.jsonl", "text", "--pool"),
    "gerntsa": ExternalCorpus("gerntsa", "../shared/datasets/gerntsa/train.jsonl", "sentence", "--gerntsa"),
}


def sentence_sha256(sentence: str) -> str:
    """The SHA-256 (hex) of a sentence's UTF-8 text, as stored in reference records.

    Examples
    --------
    >>> sentence_sha256("Putin lügt.")[:12]
    'cf2295061ae6'
    """
    return hashlib.sha256(sentence.encode("utf-8")).hexdigest()


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
    outlet: str | None = None

    @property
    def usable(self) -> bool:
        """Whether the unit carries a stance label (actor errors do not)."""
        return not self.actor_error and self.stance is not None


class CorpusTexts:
    """Reads external corpora on first use and hands out their texts by record id.

    ``paths`` maps a corpus name (``news_pool``, ``gerntsa``) to its JSONL file or folder;
    a corpus without a given path is looked for at its default place, relative to the
    working folder and to the project that holds the data file.
    """

    def __init__(self, paths: Mapping[str, str | Path | None] | None = None) -> None:
        unknown = sorted(set(paths or {}) - set(EXTERNAL_CORPORA))
        if unknown:
            raise DataValidationError([f"unknown external corpus {', '.join(unknown)} (known: {', '.join(EXTERNAL_CORPORA)})"])
        self.paths = {k: Path(v) for k, v in (paths or {}).items() if v is not None}
        self._texts: dict[str, dict[str, str] | None] = {}
        self._where: dict[str, Path] = {}
        self.missing: dict[tuple[Path, str], int] = {}

    def locate(self, name: str, data_file: Path) -> Path:
        """The corpus file: the given path, else the first default place that exists."""
        spec = EXTERNAL_CORPORA[name]
        given = self.paths.get(name)
        if given is not None:
            return given / Path(spec.default_path).name if given.is_dir() else given
        candidates = [Path.cwd() / spec.default_path, data_file.resolve().parent.parent.parent / spec.default_path]
        return next((c for c in candidates if c.is_file()), candidates[0])

    def text(self, name: str, ref: str, data_file: Path) -> str | None:
        """The text of record ``ref``; None (and counted as missing) when the corpus is absent."""
        if name not in self._texts:
            path = self.locate(name, data_file)
            self._where[name] = path
            if not path.is_file():
                self._texts[name] = None
            else:
                field = EXTERNAL_CORPORA[name].text_field
                self._texts[name] = {k: str(r.get(field) or "") for k, r in read_external_corpus(path).items()}
        texts = self._texts[name]
        if texts is None:
            key = (data_file, name)
            self.missing[key] = self.missing.get(key, 0) + 1
            return None
        return texts.get(ref)

    def missing_problems(self) -> list[str]:
        """One problem per data file and absent corpus, saying what is missing and how to fix it."""
        problems = []
        for (file, name), count in sorted(self.missing.items()):
            spec = EXTERNAL_CORPORA[name]
            problems.append(
                f"{file}: {count:,} units refer by id and offsets to the external corpus '{name}', whose text the project "
                f"does not store, and it was not found at {self._where[name]}; give its path with {spec.option} PATH "
                f"(or [corpora] {name} = \"PATH\" in the training config), or leave this file out of --data"
            )
        return problems


def load_units(paths: str | Path | Sequence[str | Path], *, actors: ActorRegistry | None = None,
               check_sorted: bool = False, corpora: Mapping[str, str | Path | None] | None = None) -> list[LabelledUnit]:
    """Load and validate labelled units from files or folders (``*.jsonl``).

    Records that refer to an external corpus (``corpus``, ``ref``, ``sentence_start``,
    ``sentence_end``, ``sentence_sha256``) get their sentence from that corpus; its text must
    hash to the stored SHA-256.

    Parameters
    ----------
    actors : ActorRegistry, optional
        The registry that every ``actor`` must be in (default: the packaged one).
    check_sorted : bool
        Also require each file's ids in sorted order (the shipped files keep it; ids only need
        to be unique).
    corpora : mapping, optional
        Paths of the external corpora by name (``news_pool``, ``gerntsa``); default: their
        places beside the project (``../shared/...``).

    Raises
    ------
    DataValidationError
        Listing every bad row (file:line: problem), and every external corpus that is needed
        but absent, before anything is returned.

    Examples
    --------
    >>> import tempfile
    >>> row = {"id": "x-1-putin", "doc_id": "x#1", "source": "constructed", "sentence": "Putin lügt.",
    ...        "actor": "putin", "mention": "Putin", "start": 0, "end": 5, "stance": "negative", "sentiment": "negative"}
    >>> path = Path(tempfile.mkdtemp()) / "d.jsonl"
    >>> _ = path.write_text(json.dumps(row) + "\\n", encoding="utf-8")
    >>> [u.stance for u in load_units(path)]
    ['negative']
    """
    files = _expand(paths)
    registry = actors or load_actors()
    texts = CorpusTexts(corpora)
    problems: list[str] = []
    if not files:
        raise DataValidationError([f"{paths}: no *.jsonl data files found"])
    units: list[LabelledUnit] = []
    for file in files:
        units.extend(_load_file(file, registry, problems, check_sorted, texts))
    problems = texts.missing_problems() + problems
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


def _load_file(path: Path, registry: ActorRegistry, problems: list[str], check_sorted: bool,
               texts: CorpusTexts) -> list[LabelledUnit]:
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
        if "corpus" in row:
            row = _rehydrate(row, where, path, texts, problems)
            if row is None:
                continue
        unit = _parse_row(row, where, registry, problems)
        if unit is None:
            continue
        if check_sorted and previous_id is not None and unit.id < previous_id:
            problems.append(f"{where}: not sorted by id ({unit.id!r} after {previous_id!r})")
        previous_id = unit.id
        units.append(unit)
    return units


def _rehydrate(row: dict[str, Any], where: str, path: Path, texts: CorpusTexts, problems: list[str]) -> dict[str, Any] | None:
    """The row with its ``sentence`` read from the external corpus; None if that fails."""
    name = row["corpus"]
    if row.get("source") not in SOURCES:
        problems.append(f"{where}: records of source {row.get('source')!r} carry their sentence; only the shipped sources "
                        f"({', '.join(SOURCES)}) refer to an external corpus")
        return None
    if name not in EXTERNAL_CORPORA:
        problems.append(f"{where}: corpus {name!r} is not one of {', '.join(EXTERNAL_CORPORA)}")
        return None
    missing = [k for k in _REFERENCE if k not in row]
    if missing:
        problems.append(f"{where}: a record of corpus {name!r} needs {', '.join(missing)}")
        return None
    if "sentence" in row:
        problems.append(f"{where}: a record of corpus {name!r} must not carry the sentence text (it is read from the corpus)")
        return None
    start, end, ref = row["sentence_start"], row["sentence_end"], row["ref"]
    if not (isinstance(start, int) and isinstance(end, int) and not isinstance(start, bool) and 0 <= start < end):
        problems.append(f"{where}: sentence offsets {start!r}..{end!r} are not a span")
        return None
    passage = texts.text(name, str(ref), path)
    if passage is None:
        if (path, name) not in texts.missing:
            problems.append(f"{where}: {name} has no record {ref!r}")
        return None
    sentence = passage[start:end]
    if end > len(passage) or sentence_sha256(sentence) != row["sentence_sha256"]:
        problems.append(f"{where}: {name} record {ref!r} at {start}..{end} does not hash to the stored sentence_sha256 "
                        "(a different version of the corpus?)")
        return None
    return {**row, "sentence": sentence}


def _parse_row(row: dict[str, Any], where: str, registry: ActorRegistry, problems: list[str]) -> LabelledUnit | None:
    before = len(problems)
    for key in (*_REQUIRED, "sentence"):
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
    if not isinstance(source, str) or not _SOURCE_NAME.fullmatch(source):
        problems.append(f"{where}: source {source!r} is not a name (letters, digits, '_', '.', '-'; e.g. "
                        f"{', '.join(SOURCES)}, or a name of your own such as \"mine\")")
        return None
    if source == "news" and row.get("corpus") != "news_pool":
        problems.append(f"{where}: news records refer to the news pool (corpus \"news_pool\", ref, offsets, hash); no text")
    if source == "news" and not (isinstance(row.get("outlet"), str) and row["outlet"].strip()):
        problems.append(f"{where}: news records need the passage's outlet (its domain)")
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
        problems.append(f"{where}: unknown actor id {actor!r} (not in the actor registry {registry.source}; "
                        "give the registry that defines it with --actors)")
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
    if source in ("gerntsa", "news") and split is None:
        problems.append(f"{where}: {source} records need a split (train or dev)")
    for flag in ("actor_error", "added"):
        if flag in row and not isinstance(row[flag], bool):
            problems.append(f"{where}: {flag} must be true or false")
    if len(problems) > before:
        return None
    return LabelledUnit(
        id=row["id"], doc_id=row["doc_id"], source=source, sentence=sentence, actor=actor, mention=mention,
        start=start, end=end, stance=stance, sentiment=sentiment, split=split, actor_error=actor_error,
        added=row.get("added", False) is True, note=row.get("note"), location=where, outlet=row.get("outlet"),
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


@dataclass(frozen=True, slots=True)
class CodedUnits:
    """The labelled units of a coding sheet, and how many of its rows were not coded yet."""

    units: tuple[LabelledUnit, ...]
    uncoded: int
    path: str


def units_from_coding(coded: Iterable[Any], *, path: str | Path = "<sheet>", source: str = USER_SOURCE,
                      actors: ActorRegistry | None = None) -> CodedUnits:
    """Turn coded rows of a coding sheet (:class:`stance.coding.CodedUnit`) into labelled units.

    A row without a stance (not coded yet, or a detection error explained in ``note``) is
    skipped and counted in ``uncoded``; a unit needs its stance to be learnt. The unit's ``doc_id``
    is ``"<source>/<article_id>"`` (cross-validation groups by it), its id
    ``"<source>/<unit_id>"``, its ``outlet`` the sheet's ``source`` column (the outlet of the
    article) and its target span the marked ``[[...]]`` text.

    Raises
    ------
    DataValidationError
        Naming the sheet and line of every row whose actor is not in ``actors`` (default: the
        packaged registry), whose target span or labels are invalid, or whose unit id repeats.

    Examples
    --------
    >>> from types import SimpleNamespace as Row
    >>> row = Row(unit_id="u1", article_id="a1", source="taz.de", actor="putin", sentence="Putin lügt.",
    ...           start=0, end=5, stance="negative", sentiment=None, note="", line=2)
    >>> coded = units_from_coding([row, Row(**{**vars(row), "unit_id": "u2", "stance": None, "line": 3})])
    >>> [(u.id, u.doc_id, u.mention, u.stance) for u in coded.units], coded.uncoded
    ([('user/u1', 'user/a1', 'Putin', 'negative')], 1)
    """
    registry = actors or load_actors()
    if not _SOURCE_NAME.fullmatch(source) or source in SOURCES:
        raise DataValidationError([bad_value("source name of the added units", source,
                                             f"a name of your own (letters, digits, '_', '.', '-'), not one of {', '.join(SOURCES)}")])
    problems: list[str] = []
    units: list[LabelledUnit] = []
    uncoded = 0
    for row in coded:
        where = f"{path}, line {row.line} (unit {row.unit_id})"
        if row.stance is None:
            uncoded += 1
            continue
        before = len(problems)
        if row.actor not in registry:
            problems.append(f"{where}: unknown actor id {row.actor!r} (not in the actor registry {registry.source}; "
                            "give the registry that defines it with --actors)")
        if not (isinstance(row.start, int) and isinstance(row.end, int) and 0 <= row.start < row.end <= len(row.sentence)):
            problems.append(f"{where}: the marked target {row.start!r}..{row.end!r} is not a span of the sentence")
        for task, label in (("stance", row.stance), ("sentiment", row.sentiment)):
            if label is not None and label not in LABELS:
                problems.append(f"{where}: {task} {label!r} is not one of {', '.join(LABELS)}")
        if len(problems) > before:
            continue
        units.append(LabelledUnit(
            id=f"{source}/{row.unit_id}", doc_id=f"{source}/{row.article_id}", source=source, sentence=row.sentence,
            actor=row.actor, mention=row.sentence[row.start:row.end], start=row.start, end=row.end, stance=row.stance,
            sentiment=row.sentiment, note=row.note or None, location=where, outlet=getattr(row, "source", None) or None,
        ))
    problems.extend(_cross_checks(units))
    if problems:
        raise DataValidationError(problems)
    return CodedUnits(tuple(units), uncoded, str(path))


def read_coded_units(path: str | Path, *, source: str = USER_SOURCE, actors: ActorRegistry | None = None) -> CodedUnits:
    """Read a coding sheet (``.csv`` or ``.jsonl``, :func:`stance.coding.read_coding_sheet`) into labelled units."""
    from .coding import read_coding_sheet

    return units_from_coding(read_coding_sheet(path), path=path, source=source, actors=actors)


def read_external_corpus(path: str | Path) -> dict[str, dict[str, Any]]:
    """Read an external corpus (JSON Lines with an ``id`` per record) into ``{id: record}``.

    Used for the texts that the project never stores: the news pool (``text``) and GerNTSA
    (``sentence``). An id that occurs more than once is dropped with all its records, so a
    reference to it cannot silently pick one of them.

    Raises
    ------
    DataValidationError
        If the file cannot be read or a line is not a JSON object with a string ``id``.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise DataValidationError([f"{path}: file not found"]) from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise DataValidationError([f"{path}: cannot read as UTF-8: {exc}"]) from exc
    records: dict[str, dict[str, Any]] = {}
    repeated: set[str] = set()
    problems = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            problems.append(f"{path}:{number}: invalid JSON: {exc.msg}")
            continue
        if not isinstance(row, dict) or not isinstance(row.get("id"), str):
            problems.append(f"{path}:{number}: expected a JSON object with a string 'id'")
            continue
        if row["id"] in records:
            repeated.add(row["id"])
        records[row["id"]] = row
    if problems:
        raise DataValidationError(problems)
    return {key: row for key, row in records.items() if key not in repeated}


def data_fingerprint(paths: str | Path | Sequence[str | Path]) -> str:
    """SHA-256 over the bytes of the data files (sorted by path)."""
    digest = hashlib.sha256()
    for file in sorted(_expand(paths)):
        digest.update(file.name.encode("utf-8"))
        digest.update(file.read_bytes())
    return digest.hexdigest()


def news_split(outlet: str, dev_share: int = 5) -> str:
    """The fixed development split of the news units, grouped by outlet (its web domain).

    No outlet has units on both sides; about 1/``dev_share`` of the outlets are ``dev``.

    Examples
    --------
    >>> news_split("deutschlandfunk.de"), news_split("deutschlandfunk.de") == news_split("deutschlandfunk.de")
    ('train', True)
    """
    bucket = int(hashlib.sha1(outlet.strip().lower().encode("utf-8")).hexdigest()[:8], 16) % dev_share
    return "dev" if bucket == 0 else "train"


def gerntsa_split(sentence: str, dev_share: int = 5) -> str:
    """The fixed grouped development split of GerNTSA: by a hash of the sentence text.

    All records of one sentence land on the same side; about 1/``dev_share`` are ``dev``.
    """
    bucket = int(hashlib.sha1(sentence.encode("utf-8")).hexdigest()[:8], 16) % dev_share
    return "dev" if bucket == 0 else "train"
