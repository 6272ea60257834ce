from __future__ import annotations

import hashlib
import io
import json
import zipfile

import numpy as np
import pytest
from sklearn.linear_model import SGDClassifier

from conftest import tiny_rows
from stance.config import ModelConfig
from stance.errors import IncompatibleModelError, ModelIntegrityError, ModelNotFoundError
from stance.features import TargetText
from stance.model import make_name_blind_pipeline, make_sentiment_pipeline, make_stance_pipeline
from stance.persistence import MODEL_FILE, fitted_table, load_model, save_model

CONFIG = ModelConfig(char_ngram_min=2, char_ngram_max=3, use_frames=True, use_structure=True)


def _tiny():
    rows = tiny_rows()
    return [TargetText(r["sentence"], ((r["start"], r["end"]),)) for r in rows], [r["stance"] for r in rows], [r["sentiment"] for r in rows]


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    X, stance_labels, sentiment_labels = _tiny()
    stance = make_stance_pipeline(CONFIG).fit(X, stance_labels)
    sentiment = make_sentiment_pipeline(CONFIG).fit(X, sentiment_labels)
    folder = tmp_path_factory.mktemp("model")
    save_model(folder, stance=stance, sentiment=sentiment, metadata={"metrics": {"x": 1}})
    return folder, X, stance


def _copy(saved, tmp_path):
    folder = tmp_path / "m"
    folder.mkdir()
    for name in (MODEL_FILE, "model.json"):
        (folder / name).write_bytes((saved[0] / name).read_bytes())
    return folder


def test_persistence_round_trip(saved):
    folder, X, stance = saved
    loaded = load_model(folder)
    assert np.array_equal(loaded.stance.predict_proba(X), stance.predict_proba(X))
    assert loaded.stance.get_params()["features__char__ngram_range"] == (2, 3)
    meta = loaded.metadata
    assert meta["labels"] == ["negative", "neutral", "positive"] and meta["format"] == 3
    assert set(meta["versions"]) == {"stance", "scikit-learn", "spacy"} and meta["metrics"] == {"x": 1}
    assert not list(folder.glob("*.tmp"))


@pytest.mark.parametrize("make", [
    lambda: make_stance_pipeline(CONFIG),
    lambda: make_stance_pipeline(CONFIG).set_params(features__char="drop", features__frames="drop"),
    lambda: make_stance_pipeline(CONFIG).set_params(clf=SGDClassifier(loss="log_loss", max_iter=50, tol=None, random_state=1)),
    lambda: make_stance_pipeline(CONFIG, target_aware=False),
    lambda: make_name_blind_pipeline(CONFIG),
    lambda: make_sentiment_pipeline(CONFIG),
])
def test_persistence_round_trip_of_every_estimator_kind(make, tmp_path):
    X, labels, _ = _tiny()
    model = make().fit(X, labels)
    save_model(tmp_path, stance=model, sentiment=model, metadata={})
    loaded = load_model(tmp_path)
    assert np.array_equal(loaded.stance.predict_proba(X), model.predict_proba(X))
    assert type(loaded.stance[-1]) is type(model[-1])


def test_persistence_table_covers_every_step_of_the_default_pipelines():
    from sklearn.pipeline import FeatureUnion, Pipeline

    def kinds(estimator):
        if isinstance(estimator, Pipeline):
            return {"Pipeline"} | set().union(*(kinds(step) for _, step in estimator.steps))
        if isinstance(estimator, FeatureUnion):
            return {"FeatureUnion"} | set().union(*(kinds(step) for _, step in estimator.transformer_list))
        return {type(estimator).__name__}

    assert kinds(make_stance_pipeline(CONFIG)) | kinds(make_sentiment_pipeline(CONFIG)) <= set(fitted_table())


def test_persistence_refuses_an_unknown_estimator(tmp_path):
    from sklearn.dummy import DummyClassifier

    X, labels, _ = _tiny()
    dummy = DummyClassifier().fit(X, labels)
    with pytest.raises(TypeError, match="cannot store a DummyClassifier"):
        save_model(tmp_path, stance=dummy, sentiment=dummy, metadata={})


def test_persistence_file_is_data_not_code(saved):
    folder, _, _ = saved
    with zipfile.ZipFile(folder / MODEL_FILE) as archive:
        names = archive.namelist()
    assert "structure.npy" in names
    with np.load(folder / MODEL_FILE, allow_pickle=False) as arrays:  # raises if anything needed unpickling
        assert all(arrays[name].dtype != object for name in arrays.files)


def test_persistence_missing_folder_and_files(saved, tmp_path):
    with pytest.raises(ModelNotFoundError, match="model folder not found"):
        load_model(tmp_path / "nowhere")
    folder = _copy(saved, tmp_path)
    (folder / MODEL_FILE).unlink()
    with pytest.raises(ModelNotFoundError, match="model file missing.*stance train"):
        load_model(folder)
    (folder / "model.json").unlink()
    with pytest.raises(ModelNotFoundError, match="metadata missing"):
        load_model(folder)


def test_persistence_truncated_file(saved, tmp_path):
    folder = _copy(saved, tmp_path)
    data = (folder / MODEL_FILE).read_bytes()
    (folder / MODEL_FILE).write_bytes(data[: len(data) // 2])
    with pytest.raises(ModelIntegrityError, match="checksum mismatch.*Retrain"):
        load_model(folder)


def test_persistence_tampered_file(saved, tmp_path):
    folder = _copy(saved, tmp_path)
    data = bytearray((folder / MODEL_FILE).read_bytes())
    data[100] ^= 0xFF
    (folder / MODEL_FILE).write_bytes(bytes(data))
    with pytest.raises(ModelIntegrityError, match="checksum mismatch"):
        load_model(folder)


def _rewrite_structure(folder, change):
    with np.load(folder / MODEL_FILE, allow_pickle=False) as archive:
        arrays = {name: archive[name] for name in archive.files}
    structure = json.loads(str(arrays.pop("structure")))
    change(structure, arrays)
    buffer = io.BytesIO()
    np.savez_compressed(buffer, structure=np.asarray(json.dumps(structure)), **arrays)
    (folder / MODEL_FILE).write_bytes(buffer.getvalue())
    meta = json.loads((folder / "model.json").read_text())
    meta["model_sha256"] = hashlib.sha256(buffer.getvalue()).hexdigest()
    (folder / "model.json").write_text(json.dumps(meta))


def _set_saved(folder, library, version):
    meta = json.loads((folder / "model.json").read_text())
    meta["versions"][library] = version
    (folder / "model.json").write_text(json.dumps(meta))


def test_persistence_other_sklearn_version_loads_when_output_is_identical(saved, tmp_path):
    folder = _copy(saved, tmp_path)
    _set_saved(folder, "scikit-learn", "0.24.2")
    loaded = load_model(folder)
    assert np.array_equal(loaded.stance.predict_proba(saved[1]), saved[2].predict_proba(saved[1]))


def test_persistence_rejects_model_whose_output_changed(saved, tmp_path):
    folder = _copy(saved, tmp_path)
    _set_saved(folder, "scikit-learn", "0.24.2")

    def shift(structure, arrays):
        key = structure["probes"]["stance"]["array"]
        arrays[key] = arrays[key][:, ::-1]

    _rewrite_structure(folder, shift)
    with pytest.raises(IncompatibleModelError, match="stance model gives other probabilities.*0.24.2.*stance train"):
        load_model(folder)


def test_persistence_rejects_unbuildable_model(saved, tmp_path):
    folder = _copy(saved, tmp_path)

    def unknown_type(structure, arrays):
        structure["stance"]["children"][1][1]["children"][0][1]["type"] = "Teleporter"  # features -> word block

    _rewrite_structure(folder, unknown_type)
    with pytest.raises(IncompatibleModelError, match="cannot rebuild the model.*stance train"):
        load_model(folder)


@pytest.mark.parametrize("version", ["0.1.0", "unknown", "0.1.9"])
def test_persistence_refuses_a_model_from_an_incompatible_stance_version(saved, tmp_path, version):
    folder = _copy(saved, tmp_path)
    _set_saved(folder, "stance", version)
    with pytest.raises(IncompatibleModelError, match=f"written by stance {version}.*reads format 3 from stance 0.2.0 on.*stance train"):
        load_model(folder)


def test_persistence_refuses_an_old_format(saved, tmp_path):
    folder = _copy(saved, tmp_path)
    meta = json.loads((folder / "model.json").read_text())
    meta["format"] = 2
    (folder / "model.json").write_text(json.dumps(meta))
    with pytest.raises(IncompatibleModelError, match="format 2.*reads format 3"):
        load_model(folder)


def test_persistence_garbled_metadata(saved, tmp_path):
    folder = _copy(saved, tmp_path)
    (folder / "model.json").write_text("{not json")
    with pytest.raises(ModelIntegrityError, match="unreadable model metadata"):
        load_model(folder)


def test_persistence_archive_that_is_not_a_model(saved, tmp_path):
    folder = _copy(saved, tmp_path)
    buffer = io.BytesIO()
    np.savez_compressed(buffer, structure=np.asarray(json.dumps({"format": 3})))
    (folder / MODEL_FILE).write_bytes(buffer.getvalue())
    meta = json.loads((folder / "model.json").read_text())
    meta["model_sha256"] = hashlib.sha256(buffer.getvalue()).hexdigest()
    (folder / "model.json").write_text(json.dumps(meta))
    with pytest.raises(ModelIntegrityError, match="not a stance model archive"):
        load_model(folder)
