"""The library's default training configuration is the shipped default model's."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

from stance.config import DataPolicy, ModelConfig, load_data_policy, load_model_config
from stance.resources import default_model_dir

ROOT = Path(__file__).resolve().parents[1]


def test_config_defaults_equal_training_config_toml():
    assert load_model_config(ROOT / "training" / "config.toml") == ModelConfig()
    assert load_data_policy(ROOT / "training" / "config.toml") == DataPolicy()


def test_config_defaults_equal_the_packaged_models_recorded_config():
    recorded = json.loads((Path(default_model_dir()) / "model.json").read_text(encoding="utf-8"))
    assert recorded["config"] == dataclasses.asdict(ModelConfig())
    policy = dataclasses.asdict(DataPolicy())
    assert recorded["data_policy"]["weights"] == [list(pair) for pair in policy["weights"]]
    for key in ("sources_stance", "sources_sentiment", "refit_with_dev", "cv_folds", "min_rows"):
        assert recorded["data_policy"][key] == (list(policy[key]) if isinstance(policy[key], tuple) else policy[key])
