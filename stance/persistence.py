"""Save and load models: ``model.joblib`` plus a ``model.json`` sidecar, written atomically.

The sidecar records the versions of stance, scikit-learn and spaCy, the label set, a
SHA-256 of the training data, the resolved config, the metrics and a SHA-256 of the
joblib file, which is checked before anything is unpickled.

Format 2 (logistic regression and SGD models, the default) stores no scikit-learn objects,
only the learned numbers: the config, each TF-IDF vocabulary and idf vector, the scaler
factors and the linear weights. Loading rebuilds the pipelines from the config and checks
them against probabilities recorded at save time on fixed probe sentences, so a model
trained under one scikit-learn version loads under another only when it gives the same
output there. Format 1 (pickled estimators; used for the calibrated LinearSVC) loads only
under the scikit-learn version that saved it.

Model files are still pickles: load only models you built or got from a trusted source.
"""

from __future__ import annotations

import hashlib
import io
import json
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .errors import RETRAIN_HINT, IncompatibleModelError, ModelIntegrityError, ModelNotFoundError
from .io import atomic_write_bytes, atomic_write_text
from .records import LABELS

MODEL_FILE = "model.joblib"
META_FILE = "model.json"
FORMAT_VERSION = 2
PICKLE_FORMAT = 1
READABLE_FORMATS = (PICKLE_FORMAT, FORMAT_VERSION)
PROBE_TOLERANCE = 1e-6
# Probe units (sentence, target span, other-actor spans) whose probabilities every model file records.
PROBES: tuple[tuple[str, tuple[int, int], tuple[tuple[int, int], ...]], ...] = (
    ("Kritiker werfen Putin Kriegsverbrechen vor.", (16, 21), ()),
    ("Selenskyj dankte Trump für die Unterstützung der Ukraine.", (17, 22), ((0, 9),)),
    ("Lawrow und Rubio sprachen am Montag in Budapest über ein Treffen.", (11, 16), ((0, 6),)),
    ("Der Gipfel ist gescheitert, doch Orbán nennt das kein Versagen.", (33, 38), ()),
    ("„Wir unterstützen nachdrücklich die Position von Präsident Trump“, heißt es.", (58, 63), ()),
    ("Merz warnte vor einem Diktatfrieden, den Putin der Ukraine aufzwingen wolle.", (41, 46), ((0, 4),)),
)


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
    """Write ``model.joblib`` and ``model.json`` into the folder ``path`` (atomically).

    Models with linear weights are stored in the portable format 2, others as pickles (format 1).
    """
    import joblib

    folder = Path(path)
    folder.mkdir(parents=True, exist_ok=True)
    portable = _is_portable(stance) and _is_portable(sentiment)
    buffer = io.BytesIO()
    if portable:
        inputs = probe_inputs()
        bundle = {"format": FORMAT_VERSION, "stance": export_model(stance), "sentiment": export_model(sentiment),
                  "probes": {"stance": stance.predict_proba(inputs), "sentiment": sentiment.predict_proba(inputs)}}
    else:
        bundle = {"format": PICKLE_FORMAT, "stance": stance, "sentiment": sentiment}
    joblib.dump(bundle, buffer, compress=3)
    payload = buffer.getvalue()
    meta = {
        "format": bundle["format"],
        "versions": versions(),
        "labels": list(LABELS),
        "model_sha256": hashlib.sha256(payload).hexdigest(),
        **metadata,
    }
    atomic_write_bytes(folder / MODEL_FILE, payload)
    atomic_write_text(folder / META_FILE, json.dumps(meta, ensure_ascii=False, indent=2, sort_keys=True) + "\n")
    return folder


def probe_inputs() -> list[Any]:
    """The fixed probe units as model inputs."""
    from .features import TargetText

    return [TargetText(sentence, (target,), others) for sentence, target, others in PROBES]


def _is_portable(model: Any) -> bool:
    return hasattr(getattr(getattr(model, "pipeline_", None), "named_steps", {}).get("clf"), "coef_")


def export_model(model: Any) -> dict[str, Any]:
    """The learned numbers of a fitted stance or sentiment model, as plain data (no estimator objects)."""
    from dataclasses import asdict

    pipeline = model.pipeline_
    clf = pipeline.named_steps["clf"]
    blocks: dict[str, Any] = {}
    for name, part in pipeline.named_steps["features"].transformer_list:
        state: dict[str, Any] = {}
        for step_name, step in part.steps:
            if hasattr(step, "vocabulary_"):
                state[step_name] = {"vocabulary": {str(term): int(index) for term, index in step.vocabulary_.items()},
                                    "idf": np.asarray(step.idf_)}
            elif hasattr(step, "scale_"):
                state[step_name] = {"max_abs": np.asarray(step.max_abs_), "scale": np.asarray(step.scale_),
                                    "n_samples_seen": int(step.n_samples_seen_)}
        blocks[name] = state
    return {
        "kind": type(model).__name__,
        "target_aware": bool(getattr(model, "target_aware", True)),
        "config": asdict(model.config) if model.config is not None else None,
        "blocks": blocks,
        "clf": {"coef": np.asarray(clf.coef_), "intercept": np.asarray(clf.intercept_),
                "classes": [str(c) for c in clf.classes_]},
    }


def rebuild_model(state: dict[str, Any]) -> Any:
    """A fitted model from :func:`export_model` output, built with this environment's scikit-learn."""
    from .config import ModelConfig
    from .model import SentimentModel, StanceModel

    fields: dict[str, Any] = {k: tuple(v) if isinstance(v, list) else v for k, v in (state["config"] or {}).items()}
    config = ModelConfig(**fields) if state["config"] else None
    model = StanceModel(config=config, target_aware=state["target_aware"]) if state["kind"] == "StanceModel" else SentimentModel(config=config)
    pipeline = model._make_pipeline(config or ModelConfig())
    for name, part in pipeline.named_steps["features"].transformer_list:
        saved = state["blocks"][name]
        for step_name, step in part.steps:
            if step_name not in saved:
                step.fit([])
            elif "vocabulary" in saved[step_name]:
                step.vocabulary_ = dict(saved[step_name]["vocabulary"])
                step.idf_ = np.asarray(saved[step_name]["idf"], dtype=float)
            else:
                step.max_abs_ = np.asarray(saved[step_name]["max_abs"], dtype=float)
                step.scale_ = np.asarray(saved[step_name]["scale"], dtype=float)
                step.n_samples_seen_ = saved[step_name]["n_samples_seen"]
                step.n_features_in_ = len(step.scale_)
    clf = pipeline.named_steps["clf"]
    clf.coef_ = np.asarray(state["clf"]["coef"], dtype=float)
    clf.intercept_ = np.asarray(state["clf"]["intercept"], dtype=float)
    clf.classes_ = np.asarray(state["clf"]["classes"], dtype=object)
    clf.n_features_in_ = clf.coef_.shape[1]
    clf.n_iter_ = np.zeros(1, dtype=np.int32)
    model.pipeline_ = pipeline
    model.classes_ = np.asarray(state["clf"]["classes"], dtype=object)
    return model


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
    if meta.get("format") not in READABLE_FORMATS:
        raise IncompatibleModelError(
            f"{meta_path}: model format {meta.get('format')!r}, this stance reads formats {', '.join(map(str, READABLE_FORMATS))}. {RETRAIN_HINT}")
    return meta


def load_model(path: str | Path) -> LoadedModel:
    """Load a model folder after checking its checksum, format and behaviour.

    Raises
    ------
    ModelNotFoundError
        The folder or one of its files is missing.
    ModelIntegrityError
        The joblib file is truncated or was changed after saving (checksum mismatch).
    IncompatibleModelError
        A format-2 model gives other probabilities here than when it was saved, or a
        format-1 (pickled) model was saved by another scikit-learn version.
    """
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
    if meta["format"] == PICKLE_FORMAT:
        _require_same_sklearn(folder, meta)
    bundle = _unpickle(folder, payload)
    if bundle.get("format") != meta["format"]:
        raise ModelIntegrityError(f"{model_path}: model file and metadata disagree on the format. {RETRAIN_HINT}")
    if meta["format"] == PICKLE_FORMAT:
        return LoadedModel(bundle["stance"], bundle["sentiment"], meta)
    try:
        stance, sentiment = rebuild_model(bundle["stance"]), rebuild_model(bundle["sentiment"])
    except Exception as exc:  # a changed scikit-learn API surfaces as many exception types
        raise IncompatibleModelError(f"{folder}: cannot rebuild the model with scikit-learn {_sklearn_version()} "
                                     f"({type(exc).__name__}: {exc}). {RETRAIN_HINT}") from exc
    _check_probes(folder, meta, bundle["probes"], stance=stance, sentiment=sentiment)
    return LoadedModel(stance, sentiment, meta)


def _sklearn_version() -> str:
    import sklearn

    return str(sklearn.__version__)


def _require_same_sklearn(folder: Path, meta: dict[str, Any]) -> None:
    saved = meta.get("versions", {}).get("scikit-learn")
    if saved != _sklearn_version():
        raise IncompatibleModelError(
            f"{folder}: model was saved with scikit-learn {saved}, this environment has {_sklearn_version()}. {RETRAIN_HINT}"
        )


def _unpickle(folder: Path, payload: bytes) -> dict[str, Any]:
    import joblib
    from sklearn.exceptions import InconsistentVersionWarning

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", InconsistentVersionWarning)
            bundle = joblib.load(io.BytesIO(payload))
    except InconsistentVersionWarning as exc:
        raise IncompatibleModelError(f"{folder}: {exc}. {RETRAIN_HINT}") from exc
    except Exception as exc:  # unpickling errors come in many types
        raise ModelIntegrityError(f"{folder / MODEL_FILE}: cannot load model ({type(exc).__name__}: {exc}). {RETRAIN_HINT}") from exc
    if not isinstance(bundle, dict) or "stance" not in bundle or "sentiment" not in bundle:
        raise ModelIntegrityError(f"{folder / MODEL_FILE}: not a stance model bundle. {RETRAIN_HINT}")
    return bundle


def _check_probes(folder: Path, meta: dict[str, Any], probes: dict[str, Any], **models: Any) -> None:
    inputs = probe_inputs()
    for name, model in models.items():
        expected = np.asarray(probes[name], dtype=float)
        got = np.asarray(model.predict_proba(inputs), dtype=float)
        if got.shape != expected.shape or not np.allclose(got, expected, atol=PROBE_TOLERANCE, rtol=0):
            saved = meta.get("versions", {}).get("scikit-learn")
            raise IncompatibleModelError(
                f"{folder}: the {name} model gives other probabilities under scikit-learn {_sklearn_version()} "
                f"than under {saved}, where it was saved. {RETRAIN_HINT}"
            )
