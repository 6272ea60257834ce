"""Training, evaluation, baselines and the model report (``stance train``, ``stance evaluate``,
``stance model-report``).

- :mod:`stance.training.fit`: labelled units to model inputs (:func:`prepare`), training
  sides and development splits, fitting, grouped cross-validation, :func:`train`;
- :mod:`stance.training.baselines`: the majority class (a ``DummyClassifier``) and the
  lexicon rule (:class:`LexiconRuleClassifier`) as scikit-learn estimators;
- :mod:`stance.training.evaluation`: :func:`evaluate_model_on`, the comparison of the final
  models with the baselines, the paired bootstrap, pipeline and data-policy variants;
- :mod:`stance.training.model_report`: :func:`write_model_report` (``reports/model/``).

Everything that builds spans or pipelines takes ``language`` (the code of a
:class:`~stance.lang.LanguagePack`, default German), everything that fits several models
``n_jobs`` (worker processes, default 2).
"""

from __future__ import annotations

from .baselines import LexiconRuleClassifier, majority_baseline
from .evaluation import (ablations, compare_on_splits, evaluate_model_on, format_metrics, paired_bootstrap, per_actor,
                         pipeline_variants, policy_variants, sentiment_comparison)
from .fit import (DEV_SOURCES, TASKS, TrainingSet, actor_mean_agreement, check_trainable, copy_groups, cross_validate, dev_split,
                  evaluate_models, fit_both, fit_model, format_user_cv, make_pipeline, metrics, one_per_sentence, predict, prepare,
                  sample_weights, sentence_key, train, training_side, unit_label, user_cross_validation)
from .model_report import write_model_report

__all__ = [
    "DEV_SOURCES", "TASKS", "LexiconRuleClassifier", "TrainingSet", "ablations", "actor_mean_agreement", "check_trainable",
    "compare_on_splits", "copy_groups", "cross_validate", "dev_split", "evaluate_model_on", "evaluate_models", "fit_both",
    "fit_model", "format_metrics", "format_user_cv", "majority_baseline", "make_pipeline", "metrics", "one_per_sentence",
    "paired_bootstrap", "per_actor", "pipeline_variants", "policy_variants", "predict", "prepare", "sample_weights",
    "sentence_key", "sentiment_comparison", "train", "training_side", "unit_label", "user_cross_validation",
    "write_model_report",
]
