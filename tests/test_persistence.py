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


def test_persistence_incompatible_sklearn_version(saved, tmp_path):
    folder = _copy(saved, tmp_path)
    meta = json.loads((folder / "model.json").read_text())
    meta["versions"]["scikit-learn"] = "0.24.2"
    (folder / "model.json").write_text(json.dumps(meta))
    with pytest.raises(IncompatibleModelError, match="scikit-learn 0.24.2.*stance train"):
        load_model(folder)


def test_persistence_garbled_metadata(saved, tmp_path):
    folder = _copy(saved, tmp_path)
    (folder / "model.json").write_text("{not json")
    with pytest.raises(ModelIntegrityError, match="unreadable model metadata"):
        load_model(folder)
