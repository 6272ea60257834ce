"""Save and load models: ``model.joblib`` plus a ``model.json`` sidecar, written atomically.

The sidecar records the versions of stance, scikit-learn and spaCy, the label set, a
SHA-256 of the training data, the resolved config, the metrics and a SHA-256 of the
joblib file, which is checked before anything is unpickled.

Model files are code (pickle): load only models you built or got from a trusted source.
"""

from __future__ import annotations

import hashlib
import io
import json
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import RETRAIN_HINT, IncompatibleModelError, ModelIntegrityError, ModelNotFoundError
from .io import atomic_write_bytes, atomic_write_text
from .records import LABELS

MODEL_FILE = "model.joblib"
META_FILE = "model.json"
FORMAT_VERSION = 1


@dataclass(frozen=True, slots=True)
class LoadedModel:
    """The two fitted models and the sidecar metadata."""

    stance: Any
    sentiment: Any
    metadata: dict[str, Any]


def versions() -> dict[str, str]:
    """Versions of the libraries a model depends on."""
    import sklearn
    from spacy import about

    from . import __version__

    return {"stance": __version__, "scikit-learn": sklearn.__version__, "spacy": about.__version__}


def save_model(path: str | Path, *, stance: Any, sentiment: Any, metadata: dict[str, Any]) -> Path:
    """Write ``model.joblib`` and ``model.json`` into the folder ``path`` (atomically)."""
    import joblib

    folder = Path(path)
    folder.mkdir(parents=True, exist_ok=True)
    buffer = io.BytesIO()
    joblib.dump({"stance": stance, "sentiment": sentiment, "format": FORMAT_VERSION}, buffer, compress=3)
    payload = buffer.getvalue()
    meta = {
        "format": FORMAT_VERSION,
        "versions": versions(),
        "labels": list(LABELS),
        "model_sha256": hashlib.sha256(payload).hexdigest(),
        **metadata,
    }
    atomic_write_bytes(folder / MODEL_FILE, payload)
    atomic_write_text(folder / META_FILE, json.dumps(meta, ensure_ascii=False, indent=2, sort_keys=True) + "\n")
    return folder


def read_metadata(path: str | Path) -> dict[str, Any]:
    """Read and check the sidecar of a model folder."""
    folder = Path(path)
    meta_path = folder / META_FILE
    if not folder.is_dir():
        raise ModelNotFoundError(f"{folder}: model folder not found. {RETRAIN_HINT}")
    if not meta_path.is_file():
        raise ModelNotFoundError(f"{meta_path}: model metadata missing. {RETRAIN_HINT}")
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelIntegrityError(f"{meta_path}: unreadable model metadata ({exc}). {RETRAIN_HINT}") from exc
    if not isinstance(meta, dict) or "model_sha256" not in meta:
        raise ModelIntegrityError(f"{meta_path}: model metadata lacks model_sha256. {RETRAIN_HINT}")
    if meta.get("format") != FORMAT_VERSION:
        raise IncompatibleModelError(f"{meta_path}: model format {meta.get('format')!r}, this stance reads {FORMAT_VERSION}. {RETRAIN_HINT}")
    return meta


def load_model(path: str | Path) -> LoadedModel:
    """Load a model folder after checking its checksum and library versions.

    Raises
    ------
    ModelNotFoundError
        The folder or one of its files is missing.
    ModelIntegrityError
        The joblib file is truncated or was changed after saving (checksum mismatch).
    IncompatibleModelError
        The model was saved by another scikit-learn version or model format.
    """
    import joblib
    import sklearn
    from sklearn.exceptions import InconsistentVersionWarning

    folder = Path(path)
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
    saved = meta.get("versions", {}).get("scikit-learn")
    if saved != sklearn.__version__:
        raise IncompatibleModelError(
            f"{folder}: model was saved with scikit-learn {saved}, this environment has {sklearn.__version__}. {RETRAIN_HINT}"
        )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", InconsistentVersionWarning)
            bundle = joblib.load(io.BytesIO(payload))
    except InconsistentVersionWarning as exc:
        raise IncompatibleModelError(f"{folder}: {exc}. {RETRAIN_HINT}") from exc
    except Exception as exc:  # unpickling errors come in many types
        raise ModelIntegrityError(f"{model_path}: cannot load model ({type(exc).__name__}: {exc}). {RETRAIN_HINT}") from exc
    if not isinstance(bundle, dict) or "stance" not in bundle or "sentiment" not in bundle:
        raise ModelIntegrityError(f"{model_path}: not a stance model bundle. {RETRAIN_HINT}")
    return LoadedModel(bundle["stance"], bundle["sentiment"], meta)
