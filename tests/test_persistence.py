from __future__ import annotations

import json

import numpy as np
import pytest

from conftest import tiny_rows
from stance.config import ModelConfig
from stance.errors import IncompatibleModelError, ModelIntegrityError, ModelNotFoundError
from stance.features import TargetText
from stance.model import SentimentModel, StanceModel
from stance.persistence import load_model, save_model

CONFIG = ModelConfig(char_ngram_min=2, char_ngram_max=3)


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    rows = tiny_rows()
    X = [TargetText(r["sentence"], ((r["start"], r["end"]),)) for r in rows]
    stance = StanceModel(config=CONFIG).fit(X, [r["stance"] for r in rows])
    sentiment = SentimentModel(config=CONFIG).fit(X, [r["sentiment"] for r in rows])
    folder = tmp_path_factory.mktemp("model")
    save_model(folder, stance=stance, sentiment=sentiment, metadata={"metrics": {"x": 1}})
    return folder, X, stance


def _copy(saved, tmp_path):
    folder = tmp_path / "m"
    folder.mkdir()
    for name in ("model.joblib", "model.json"):
        (folder / name).write_bytes((saved[0] / name).read_bytes())
    return folder


def test_persistence_round_trip(saved):
    folder, X, stance = saved
    loaded = load_model(folder)
    assert np.array_equal(loaded.stance.predict_proba(X), stance.predict_proba(X))
    meta = loaded.metadata
    assert meta["labels"] == ["negative", "neutral", "positive"]
    assert set(meta["versions"]) == {"stance", "scikit-learn", "spacy"} and meta["metrics"] == {"x": 1}
    assert not list(folder.glob("*.tmp"))


def test_persistence_missing_folder_and_files(saved, tmp_path):
    with pytest.raises(ModelNotFoundError, match="model folder not found"):
        load_model(tmp_path / "nowhere")
    folder = _copy(saved, tmp_path)
    (folder / "model.joblib").unlink()
    with pytest.raises(ModelNotFoundError, match="model file missing.*stance train"):
        load_model(folder)
    (folder / "model.json").unlink()
    with pytest.raises(ModelNotFoundError, match="metadata missing"):
        load_model(folder)


def test_persistence_truncated_file(saved, tmp_path):
    folder = _copy(saved, tmp_path)
    data = (folder / "model.joblib").read_bytes()
    (folder / "model.joblib").write_bytes(data[: len(data) // 2])
    with pytest.raises(ModelIntegrityError, match="checksum mismatch.*Retrain"):
        load_model(folder)


def test_persistence_tampered_file(saved, tmp_path):
    folder = _copy(saved, tmp_path)
    data = bytearray((folder / "model.joblib").read_bytes())
    data[100] ^= 0xFF
    (folder / "model.joblib").write_bytes(bytes(data))
    with pytest.raises(ModelIntegrityError, match="checksum mismatch"):
        load_model(folder)


def _rewrite_bundle(folder, change):
    import hashlib
    import io

    import joblib

    bundle = joblib.load(folder / "model.joblib")
    change(bundle)
    buffer = io.BytesIO()
    joblib.dump(bundle, buffer)
    (folder / "model.joblib").write_bytes(buffer.getvalue())
    meta = json.loads((folder / "model.json").read_text())
    meta["model_sha256"] = hashlib.sha256(buffer.getvalue()).hexdigest()
    (folder / "model.json").write_text(json.dumps(meta))


def _set_saved_sklearn(folder, version):
    meta = json.loads((folder / "model.json").read_text())
    meta["versions"]["scikit-learn"] = version
    (folder / "model.json").write_text(json.dumps(meta))


def test_persistence_portable_file_holds_only_plain_data(saved):
    import joblib

    folder, _, _ = saved
    bundle = joblib.load(folder / "model.joblib")
    assert bundle["format"] == json.loads((folder / "model.json").read_text())["format"] == 2

    def plain(value):
        if isinstance(value, dict):
            return all(isinstance(k, str) and plain(v) for k, v in value.items())
        if isinstance(value, (list, tuple)):
            return all(plain(v) for v in value)
        return value is None or isinstance(value, (str, int, float, bool, np.ndarray))

    assert plain(bundle)


def test_persistence_other_sklearn_version_loads_when_output_is_identical(saved, tmp_path):
    folder = _copy(saved, tmp_path)
    _set_saved_sklearn(folder, "0.24.2")
    loaded = load_model(folder)
    assert np.array_equal(loaded.stance.predict_proba(saved[1]), saved[2].predict_proba(saved[1]))


def test_persistence_rejects_model_whose_output_changed(saved, tmp_path):
    folder = _copy(saved, tmp_path)
    _set_saved_sklearn(folder, "0.24.2")

    def shift(bundle):
        bundle["probes"]["stance"] = bundle["probes"]["stance"][:, ::-1]

    _rewrite_bundle(folder, shift)
    with pytest.raises(IncompatibleModelError, match="stance model gives other probabilities.*0.24.2.*stance train"):
        load_model(folder)


def test_persistence_rejects_unbuildable_model(saved, tmp_path):
    folder = _copy(saved, tmp_path)

    def drop_block(bundle):
        del bundle["stance"]["blocks"]["word"]

    _rewrite_bundle(folder, drop_block)
    with pytest.raises(IncompatibleModelError, match="cannot rebuild the model.*stance train"):
        load_model(folder)


def test_persistence_pickled_model_needs_same_sklearn_version(tmp_path):
    rows = tiny_rows()
    X = [TargetText(r["sentence"], ((r["start"], r["end"]),)) for r in rows]
    config = ModelConfig(char_ngram_min=2, char_ngram_max=3, estimator="linearsvc")
    stance = StanceModel(config=config).fit(X, [r["stance"] for r in rows])
    sentiment = SentimentModel(config=config).fit(X, [r["sentiment"] for r in rows])
    folder = save_model(tmp_path / "svc", stance=stance, sentiment=sentiment, metadata={})
    assert json.loads((folder / "model.json").read_text())["format"] == 1
    assert np.array_equal(load_model(folder).stance.predict_proba(X), stance.predict_proba(X))
    _set_saved_sklearn(folder, "0.24.2")
    with pytest.raises(IncompatibleModelError, match="scikit-learn 0.24.2.*stance train"):
        load_model(folder)


def test_persistence_unknown_format(saved, tmp_path):
    folder = _copy(saved, tmp_path)
    meta = json.loads((folder / "model.json").read_text())
    meta["format"] = 99
    (folder / "model.json").write_text(json.dumps(meta))
    with pytest.raises(IncompatibleModelError, match="model format 99"):
        load_model(folder)


def test_persistence_garbled_metadata(saved, tmp_path):
    folder = _copy(saved, tmp_path)
    (folder / "model.json").write_text("{not json")
    with pytest.raises(ModelIntegrityError, match="unreadable model metadata"):
        load_model(folder)
