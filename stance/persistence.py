"""Save and load models: ``model.npz`` plus a ``model.json`` sidecar, written atomically.

A model folder holds the two fitted pipelines (stance and sentiment) as **data, not code**:
each pipeline is walked recursively and every step is stored as its type name (from the table
:func:`fitted_table`), its constructor parameters and the fitted attributes the table lists for
that type; arrays go into the ``.npz`` archive, everything else into a JSON structure inside
it. Loading reads the archive with ``allow_pickle=False``, rebuilds each step with the
installed scikit-learn (only the types in the table, with the parameters that version
accepts), sets the fitted attributes, and accepts the model only if it reproduces the
probabilities recorded at save time on fixed probe sentences. A table of types was chosen
over ``skops.io`` because it needs no extra dependency, never unpickles, and loads across
scikit-learn versions that rebuild the same steps (the probes decide).

The sidecar records the versions of stance, scikit-learn and spaCy, the format, the label
set, a SHA-256 of the archive (checked before anything is read), the training data's
fingerprint, the resolved config, the metrics and the ``language`` code of the models'
:class:`~stance.lang.LanguagePack` (a sidecar without it is German). A file written by a stance version older
than :data:`COMPATIBLE_SINCE` (other format or feature code) is refused with the command to
retrain.
"""

from __future__ import annotations

import glob
import hashlib
import io
import json
import logging
import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .errors import RETRAIN_HINT, IncompatibleModelError, ModelIntegrityError, ModelNotFoundError, ModelWriteError
from .lang import DEFAULT_LANGUAGE, GERMAN, get_pack
from .records import LABELS

logger = logging.getLogger(__name__)

MODEL_FILE = "model.npz"
META_FILE = "model.json"
FORMAT_VERSION = 3
COMPATIBLE_SINCE = "0.2.0"  # the oldest stance version whose model files this one reads
PROBE_TOLERANCE = 1e-6
# The probe units (sentence, target span, other-actor spans) whose probabilities every model file
# records are the language pack's (``LanguagePack.probes``); a model is probed in its own language.
PROBES = GERMAN.probes


def fitted_table() -> dict[str, tuple[type, tuple[str, ...]]]:
    """Estimator type -> (class, the fitted attributes a model file stores for it)."""
    from sklearn.linear_model import LogisticRegression, SGDClassifier
    from sklearn.pipeline import FeatureUnion, Pipeline
    from sklearn.preprocessing import MaxAbsScaler

    from .features import FrameFeatures, LexiconFeatures, NgramTfidf, TargetMasker, WindowTfidf

    return {
        "Pipeline": (Pipeline, ()),
        "FeatureUnion": (FeatureUnion, ()),
        "TargetMasker": (TargetMasker, ("n_features_in_",)),
        "NgramTfidf": (NgramTfidf, ("vocabulary_", "idf_", "lookup_")),
        "WindowTfidf": (WindowTfidf, ("vocabulary_", "idf_")),
        "LexiconFeatures": (LexiconFeatures, ("feature_names_", "n_features_in_")),
        "FrameFeatures": (FrameFeatures, ("feature_names_", "n_features_in_")),
        "MaxAbsScaler": (MaxAbsScaler, ("max_abs_", "scale_", "n_samples_seen_", "n_features_in_")),
        "LogisticRegression": (LogisticRegression, ("coef_", "intercept_", "classes_", "n_features_in_", "n_iter_")),
        "SGDClassifier": (SGDClassifier, ("coef_", "intercept_", "classes_", "n_features_in_", "n_iter_", "t_")),
    }


@dataclass(frozen=True, slots=True)
class LoadedModel:
    """The two fitted pipelines and the sidecar metadata."""

    stance: Any
    sentiment: Any
    metadata: dict[str, Any]


def versions() -> dict[str, str]:
    """Versions of the libraries a model depends on."""
    import sklearn
    from spacy import about

    from . import __version__

    return {"stance": __version__, "scikit-learn": sklearn.__version__, "spacy": about.__version__}


class _Arrays:
    """Collects the arrays of a model file; values are replaced by ``{"array": key}`` references."""

    def __init__(self) -> None:
        self.arrays: dict[str, np.ndarray] = {}

    def ref(self, value: np.ndarray) -> dict[str, str]:
        key = f"a{len(self.arrays)}"
        array = np.asarray(value)
        if array.dtype == object:
            array = array.astype(str)
        self.arrays[key] = array
        return {"array": key}


def _encode(value: Any, arrays: _Arrays) -> Any:
    """Plain JSON for a parameter or fitted attribute; numpy arrays become references."""
    if isinstance(value, np.ndarray):
        return arrays.ref(value)
    if isinstance(value, (np.integer, np.floating, np.bool_)):
        return value.item()
    if isinstance(value, tuple):
        return {"tuple": [_encode(v, arrays) for v in value]}
    if isinstance(value, list):
        return [_encode(v, arrays) for v in value]
    if isinstance(value, dict):
        if not all(isinstance(k, str) for k in value):
            raise TypeError("model files store dicts with string keys only")
        return {"dict": {k: _encode(v, arrays) for k, v in value.items()}}
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    raise TypeError(f"cannot store a {type(value).__name__} in a model file")


def _decode(value: Any, arrays: Any) -> Any:
    if isinstance(value, list):
        return [_decode(v, arrays) for v in value]
    if isinstance(value, dict):
        if "array" in value:
            return np.asarray(arrays[value["array"]])
        if "tuple" in value:
            return tuple(_decode(v, arrays) for v in value["tuple"])
        return {k: _decode(v, arrays) for k, v in value["dict"].items()}
    return value


def export_estimator(estimator: Any, arrays: _Arrays) -> dict[str, Any]:
    """The structure of a fitted estimator: type, parameters, fitted attributes, children.

    Raises
    ------
    TypeError
        For an estimator type that is not in the table :func:`fitted_table`.
    """
    from sklearn.pipeline import FeatureUnion, Pipeline

    kind = type(estimator).__name__
    table = fitted_table()
    if kind not in table or not isinstance(estimator, table[kind][0]):
        raise TypeError(f"cannot store a {kind} in a model file (known types: {', '.join(table)})")
    if isinstance(estimator, Pipeline):
        params = {k: v for k, v in estimator.get_params(deep=False).items() if k != "steps"}
        return {"type": kind, "params": _encode(params, arrays),
                "children": [[name, _child(step, arrays)] for name, step in estimator.steps]}
    if isinstance(estimator, FeatureUnion):
        params = {k: v for k, v in estimator.get_params(deep=False).items() if k != "transformer_list"}
        return {"type": kind, "params": _encode(params, arrays),
                "children": [[name, _child(step, arrays)] for name, step in estimator.transformer_list]}
    leaf: Any = estimator
    fitted = {name: _encode(getattr(leaf, name), arrays) for name in table[kind][1] if hasattr(leaf, name)}
    return {"type": kind, "params": _encode(leaf.get_params(deep=False), arrays), "fitted": fitted}


def _child(step: Any, arrays: _Arrays) -> Any:
    return step if isinstance(step, str) else export_estimator(step, arrays)


def rebuild_estimator(node: Any, arrays: Any) -> Any:
    """A fitted estimator from :func:`export_estimator` output, built with the installed scikit-learn."""
    if isinstance(node, str):
        return node  # "drop" / "passthrough"
    table = fitted_table()
    cls, _ = table[node["type"]]
    params = _decode(node["params"], arrays)
    accepted = set(cls().get_params(deep=False)) if node["type"] not in ("Pipeline", "FeatureUnion") else set(params)
    params = {k: v for k, v in params.items() if k in accepted}
    if node["type"] == "Pipeline":
        return cls([(name, rebuild_estimator(child, arrays)) for name, child in node["children"]], **params)
    if node["type"] == "FeatureUnion":
        return cls([(name, rebuild_estimator(child, arrays)) for name, child in node["children"]], **params)
    estimator = cls(**params)
    for name, value in node.get("fitted", {}).items():
        decoded = _decode(value, arrays)
        setattr(estimator, name, decoded.astype(object) if name in ("classes_", "feature_names_") else decoded)
    return estimator


def save_model(path: str | Path, *, stance: Any, sentiment: Any, metadata: dict[str, Any], language: str | None = None) -> Path:
    """Write ``model.npz`` and ``model.json`` into the folder ``path``, swapped in as a whole.

    Both files are written and synced into a staging folder ``<path>.tmp-<pid>`` next to the
    target; then an existing model folder is renamed aside (``<path>.old-<pid>``), the staging
    folder renamed into place, and the old folder removed. An error at any step leaves the
    previous model in place (it is renamed back). A process killed between the two renames
    leaves the previous model in ``<path>.old-<pid>``, which :func:`load_model` then reads.

    Raises
    ------
    ModelWriteError
        If ``path`` is a file or a folder holding files other than a model's, or a file
        cannot be written (disk full, no permission).
    """
    folder = Path(os.path.abspath(path))
    _check_replaceable(folder)
    payload, meta = _serialise(stance, sentiment, metadata, language)
    files = {MODEL_FILE: payload, META_FILE: (json.dumps(meta, ensure_ascii=False, indent=2, sort_keys=True) + "\n").encode()}
    staging = folder.with_name(f"{folder.name}.tmp-{os.getpid()}")
    try:
        _write_staging(staging, files)
        _swap_in(staging, folder)
    except OSError as exc:
        raise ModelWriteError(f"{folder}: cannot save the model ({exc.strerror or exc}); the previous model, if any, "
                              "is unchanged") from exc
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return folder


def model_pipelines_language(stance: Any, sentiment: Any, language: str | None = None) -> str:
    """The one language of a model's two pipelines: ``language`` if given, else the one their steps
    name (German when no step names one). Raises ``ValueError`` when steps or ``language`` disagree."""
    from .model import model_language

    named = {code for code in (model_language(stance), model_language(sentiment), language) if code is not None}
    if len(named) > 1:
        raise ValueError(f"the model's parts are of different languages: {', '.join(sorted(named))}; "
                         "both models of a model file are of one language")
    return named.pop() if named else DEFAULT_LANGUAGE


def _serialise(stance: Any, sentiment: Any, metadata: dict[str, Any], language: str | None = None) -> tuple[bytes, dict[str, Any]]:
    """The archive bytes and the sidecar of a model (``language``: the language it was trained for)."""
    arrays = _Arrays()
    language = model_pipelines_language(stance, sentiment, language)
    inputs = probe_inputs(language)
    structure = {"format": FORMAT_VERSION, "stance": export_estimator(stance, arrays),
                 "sentiment": export_estimator(sentiment, arrays),
                 "probes": {"stance": arrays.ref(stance.predict_proba(inputs)), "sentiment": arrays.ref(sentiment.predict_proba(inputs))}}
    buffer = io.BytesIO()
    contents: dict[str, Any] = {"structure": np.asarray(json.dumps(structure, ensure_ascii=False)), **arrays.arrays}
    np.savez_compressed(buffer, **contents)
    payload = buffer.getvalue()
    meta = {
        "format": FORMAT_VERSION,
        "versions": versions(),
        "labels": list(LABELS),
        "model_sha256": hashlib.sha256(payload).hexdigest(),
        **metadata,
        "language": language,
    }
    return payload, meta


def _check_replaceable(folder: Path) -> None:
    """Refuse to replace anything but a model folder (its files would be lost in the swap)."""
    if folder.exists() and not folder.is_dir():
        raise ModelWriteError(f"{folder}: is a file, not a model folder")
    if folder == Path.cwd() or folder.parent == folder:
        raise ModelWriteError(f"{folder}: save a model into its own folder, not the current or root folder")
    if folder.is_dir():
        other = sorted(p.name for p in folder.iterdir() if p.name not in (MODEL_FILE, META_FILE) and not _LEFTOVER_RE.match(p.name))
        if other:
            raise ModelWriteError(f"{folder}: holds files that are not part of a model ({', '.join(other[:5])}); "
                                  "a model folder is replaced as a whole, so save into a new or model-only folder")


def _write_staging(staging: Path, files: dict[str, bytes]) -> None:
    """Write ``files`` into a fresh ``staging`` folder and sync them and the folder to disk."""
    shutil.rmtree(staging, ignore_errors=True)  # left by an earlier process with our pid
    staging.mkdir(parents=True)
    for name, data in files.items():
        with open(staging / name, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
    _fsync_folder(staging)


def _swap_in(staging: Path, folder: Path) -> None:
    """Move ``staging`` to ``folder``; an existing ``folder`` is renamed aside, then removed."""
    if not folder.exists():
        os.replace(staging, folder)
        _fsync_folder(folder.parent)
        return
    aside = folder.with_name(f"{folder.name}.old-{os.getpid()}")
    shutil.rmtree(aside, ignore_errors=True)
    os.replace(folder, aside)
    try:
        os.replace(staging, folder)
    except BaseException:
        os.replace(aside, folder)
        raise
    _fsync_folder(folder.parent)
    shutil.rmtree(aside, ignore_errors=True)


def _fsync_folder(folder: Path) -> None:
    """Sync a folder's entries to disk (a no-op where folders cannot be opened, as on Windows)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _model_folder(folder: Path) -> Path:
    """``folder``, or the previous model an interrupted save left beside it (``<folder>.old-<pid>``)."""
    if folder.exists() or not folder.parent.is_dir():
        return folder
    left = [p for p in folder.parent.glob(f"{glob.escape(folder.name)}.old-*") if (p / META_FILE).is_file()]
    if not left:
        return folder
    found = max(left, key=lambda p: p.stat().st_mtime_ns)
    logger.warning("%s is missing: a model save was interrupted; reading the previous model from %s "
                   "(rename it back to %s)", folder, found, folder.name)
    return found


def probe_inputs(language: str | None = None) -> list[Any]:
    """The fixed probe units of a language pack as model inputs (a pack without probes: the default pack's)."""
    from .features import TargetText

    probes = get_pack(language).probes or get_pack(DEFAULT_LANGUAGE).probes
    return [TargetText(sentence, (target,), others) for sentence, target, others in probes]


def model_file_language(meta: dict[str, Any]) -> str:
    """The language code a model's sidecar records; a sidecar without one is German (older files)."""
    return str(meta.get("language", DEFAULT_LANGUAGE))


def _version_tuple(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split(".")[:3] if part.isdigit())


def read_metadata(path: str | Path) -> dict[str, Any]:
    """Read and check the sidecar of a model folder.

    Raises
    ------
    ModelNotFoundError, ModelIntegrityError, IncompatibleModelError
        For a missing folder or sidecar, an unreadable or malformed sidecar (a field of the
        wrong type, a missing field, an unknown label), or a file from an incompatible stance
        version or format.
    """
    folder = _model_folder(Path(path))
    meta_path = folder / META_FILE
    if not folder.is_dir():
        raise ModelNotFoundError(f"{folder}: model folder not found. {RETRAIN_HINT}")
    if not meta_path.is_file():
        raise ModelNotFoundError(f"{meta_path}: model metadata missing. {RETRAIN_HINT}")
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise ModelIntegrityError(f"{meta_path}: unreadable model metadata ({type(exc).__name__}). {RETRAIN_HINT}") from exc
    if not isinstance(meta, dict) or "model_sha256" not in meta:
        raise ModelIntegrityError(f"{meta_path}: model metadata lacks model_sha256. {RETRAIN_HINT}")
    _check_sidecar_types(meta, meta_path)
    written_by = meta["versions"].get("stance", "unknown")
    if meta.get("format") != FORMAT_VERSION or not written_by[:1].isdigit() or _version_tuple(written_by) < _version_tuple(COMPATIBLE_SINCE):
        from . import __version__

        raise IncompatibleModelError(
            f"{meta_path}: model written by stance {written_by} (format {meta.get('format')!r}); this stance {__version__} "
            f"reads format {FORMAT_VERSION} from stance {COMPATIBLE_SINCE} on. {RETRAIN_HINT}")
    _check_sidecar_labels(meta, meta_path)
    return meta


_SHA256_RE = re.compile(r"^[0-9a-f]{64}$")
_LEFTOVER_RE = re.compile(r"^\.(model\.npz|model\.json)\.[0-9a-f]+\.tmp$")  # from an interrupted per-file write
# Sidecar fields that code reads after loading, with the type each must have.
_SIDECAR_TABLES = ("versions", "trained_on", "config", "data_policy", "metrics")


def _malformed(meta_path: Path, what: str) -> ModelIntegrityError:
    return ModelIntegrityError(f"{meta_path}: malformed model metadata: {what}. {RETRAIN_HINT}")


def _check_sidecar_types(meta: dict[str, Any], meta_path: Path) -> None:
    """The fields read after loading have the types they are read as."""
    if not isinstance(meta["model_sha256"], str) or not _SHA256_RE.match(meta["model_sha256"]):
        raise _malformed(meta_path, "'model_sha256' must be 64 lower-case hex digits")
    for key in ("format", "versions"):
        if key not in meta:
            raise _malformed(meta_path, f"'{key}' is missing")
    if not isinstance(meta["format"], int) or isinstance(meta["format"], bool):
        raise _malformed(meta_path, f"'format' must be an integer, got {type(meta['format']).__name__}")
    for key in _SIDECAR_TABLES:
        if key in meta and not isinstance(meta[key], dict):
            raise _malformed(meta_path, f"'{key}' must be a JSON object, got {type(meta[key]).__name__}")
    if not all(isinstance(v, str) for v in meta["versions"].values()):
        raise _malformed(meta_path, "every entry of 'versions' must be a string")
    if "language" in meta and not isinstance(meta["language"], str):
        raise _malformed(meta_path, f"'language' must be a language code string, got {type(meta['language']).__name__}")


def _check_sidecar_labels(meta: dict[str, Any], meta_path: Path) -> None:
    labels = meta.get("labels")
    if not isinstance(labels, list) or not all(isinstance(x, str) for x in labels):
        raise _malformed(meta_path, f"'labels' must be a list of strings from {', '.join(LABELS)}")
    unknown = sorted(set(labels) - set(LABELS))
    if unknown or len(set(labels)) != len(labels) or len(labels) < 2:
        raise _malformed(meta_path, f"'labels' {labels[:10]} must be distinct labels from {', '.join(LABELS)}"
                         + (f" (unknown: {', '.join(map(repr, unknown[:5]))})" if unknown else ""))


def load_model(path: str | Path) -> LoadedModel:
    """Load a model folder after checking its checksum, version and behaviour.

    If the folder is missing because a save was killed between its two renames, the
    previous model left beside it (``<path>.old-<pid>``) is loaded, with a warning.

    Raises
    ------
    ModelNotFoundError
        The folder or one of its files is missing.
    ModelIntegrityError
        The archive is truncated, was changed after saving (checksum mismatch) or is not a
        model, or the sidecar is malformed (wrong types, missing fields, unknown labels).
    IncompatibleModelError
        A file from an incompatible stance version, or a model that gives other probabilities
        here than when it was saved (another scikit-learn that computes differently).
    """
    folder = _model_folder(Path(path))
    meta = read_metadata(folder)
    model_path = folder / MODEL_FILE
    if not model_path.is_file():
        raise ModelNotFoundError(f"{model_path}: model file missing. {RETRAIN_HINT}")
    payload = model_path.read_bytes()
    digest = hashlib.sha256(payload).hexdigest()
    if digest != meta["model_sha256"]:
        raise ModelIntegrityError(
            f"{model_path}: checksum mismatch (file is truncated or was modified after saving; "
            f"expected sha256 {meta['model_sha256'][:12]}…, got {digest[:12]}…). {RETRAIN_HINT}"
        )
    try:
        with np.load(io.BytesIO(payload), allow_pickle=False) as archive:
            arrays = {key: archive[key] for key in archive.files}
        structure = json.loads(str(arrays.pop("structure")))
    except Exception as exc:  # a damaged archive surfaces as many exception types
        raise ModelIntegrityError(f"{model_path}: cannot read model archive ({type(exc).__name__}: {exc}). {RETRAIN_HINT}") from exc
    if not isinstance(structure, dict) or structure.get("format") != FORMAT_VERSION or "stance" not in structure:
        raise ModelIntegrityError(f"{model_path}: not a stance model archive of format {FORMAT_VERSION}. {RETRAIN_HINT}")
    try:
        stance, sentiment = rebuild_estimator(structure["stance"], arrays), rebuild_estimator(structure["sentiment"], arrays)
    except Exception as exc:  # a changed scikit-learn API surfaces as many exception types
        raise IncompatibleModelError(f"{folder}: cannot rebuild the model with scikit-learn {_sklearn_version()} "
                                     f"({type(exc).__name__}: {exc}). {RETRAIN_HINT}") from exc
    try:
        probes = {name: _decode(structure["probes"][name], arrays) for name in ("stance", "sentiment")}
    except Exception as exc:  # a hash-consistent but hand-made archive
        raise ModelIntegrityError(f"{model_path}: the archive lacks its probe probabilities "
                                  f"({type(exc).__name__}: {exc}). {RETRAIN_HINT}") from exc
    _check_language(folder, meta, stance, sentiment)
    _check_probes(folder, meta, probes, stance=stance, sentiment=sentiment)
    _check_classes(folder, meta, stance=stance, sentiment=sentiment)
    return LoadedModel(stance, sentiment, meta)


def _check_language(folder: Path, meta: dict[str, Any], stance: Any, sentiment: Any) -> None:
    """The sidecar's language (not covered by the archive's checksum) agrees with the pipelines' own."""
    recorded = model_file_language(meta)
    try:
        model_pipelines_language(stance, sentiment, recorded)
    except ValueError as exc:
        raise ModelIntegrityError(f"{folder}: model.json says language {recorded!r}, but {exc}. {RETRAIN_HINT}") from exc


def _check_classes(folder: Path, meta: dict[str, Any], **models: Any) -> None:
    """Every class a model predicts is one of the sidecar's labels (scores are read by label)."""
    for name, model in models.items():
        classes = [str(c) for c in getattr(model, "classes_", ())]
        if not classes or set(classes) - set(meta["labels"]):
            raise ModelIntegrityError(f"{folder}: the {name} model predicts {classes[:10]}, not labels from "
                                      f"{', '.join(meta['labels'])}. {RETRAIN_HINT}")


def _sklearn_version() -> str:
    import sklearn

    return str(sklearn.__version__)


def _check_probes(folder: Path, meta: dict[str, Any], probes: dict[str, Any], **models: Any) -> None:
    inputs = probe_inputs(model_file_language(meta))
    for name, model in models.items():
        expected = np.asarray(probes[name], dtype=float)
        try:
            got = np.asarray(model.predict_proba(inputs), dtype=float)
        except Exception as exc:  # a rebuilt step that cannot run
            raise IncompatibleModelError(f"{folder}: the {name} model cannot run under scikit-learn {_sklearn_version()} "
                                         f"({type(exc).__name__}: {exc}). {RETRAIN_HINT}") from exc
        if got.shape != expected.shape or not np.allclose(got, expected, atol=PROBE_TOLERANCE, rtol=0):
            saved = meta.get("versions", {}).get("scikit-learn")
            raise IncompatibleModelError(
                f"{folder}: the {name} model gives other probabilities under scikit-learn {_sklearn_version()} "
                f"than under {saved}, where it was saved. {RETRAIN_HINT}"
            )
