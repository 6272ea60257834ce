"""``stance validate``: compare a hand-coded sheet with the model (and with a second coder).

The coder's labels are the reference ("true"), the model's labels from the key file
(:func:`stance.coding.read_key`) the predictions. Only coded rows count: a unit enters the
stance comparison when its ``stance`` cell is filled, the sentiment comparison when its
``sentiment`` cell is; rows with neither are reported as ``n_uncoded``.

Per task (stance, sentiment): the figures of ``stance evaluate`` (:func:`stance.training.metrics`,
the same rule as ``train --add``, ``model-report`` and the model's news-dev figures): macro-F1
over all three labels (``macro_f1``; a label neither the coder nor the model used counts
as F1 0), accuracy, per-class precision/recall/F1/support (every label, its F1 as
scikit-learn gives it, 0 for an unused label) and the confusion matrix (rows coder, columns
model; labels negative, neutral, positive). Beside it ``macro_f1_present_labels``: the
mean F1 over only the labels the coder or the model used (listed in ``present_labels``;
scikit-learn's ``f1_score(..., average="macro")`` without ``labels``), which on a small
sample that lacks a label is not pulled down by it. Then two chance-corrected agreement coefficients:
Krippendorff's alpha (``krippendorff`` package; nominal is the primary figure, ordinal with
negative < neutral < positive is given too) and Cohen's kappa (scikit-learn). A coefficient
that is undefined (for example every label the same) is ``null``.

Per actor and per source: the mean stance of the coder (labels mapped to -1/0/+1) and of
the model, both as its labels mapped to -1/0/+1 (``model_label_mean``, like for like with
the coder: the primary difference ``diff``) and as its stance score P(positive) − P(negative)
(``model_score_mean``, the figure ``stance report`` averages: ``diff_score``). Differences
are model minus coder, with 95% percentile intervals from the seeded article-cluster
bootstrap of ``stance report`` (:func:`stance.aggregates.bootstrap_interval` of the per-unit
differences model − coder: units of one article are not independent). A group whose units
all come from one article has no interval (``null``, shown as "–"). Groups with fewer than
:data:`MIN_GROUP_UNITS` units or :data:`MIN_GROUP_ARTICLES` articles are flagged ``few``.

With a second coder's sheet, the inter-coder agreement (alpha, kappa, raw agreement) on
the units both coded is reported beside the model's agreement with each coder on the same
units, so the model can be judged against human agreement.

When units were drawn with ``--uncertain``, the sample over-represents hard units and the
figures understate the model's performance on the corpus as a whole; when they were drawn
with ``--by`` (``draw = "stratified"``; the key records the field as ``by``), small strata
are over-represented and the corpus-level figures are unweighted, so they describe the
sample, not the corpus. The summary says so and the JSON counts the draws (``draws``) and
names the stratification field (``stratified_by``).

The key names the model that labelled the units (``model_path``, ``model_sha256``, written
by ``stance sample``); ``validation.json`` carries it as ``model`` (``{"path", "sha256"}``,
``null`` for a key without it), so ``stance report --validation`` can tell whether the
validation is of the report's own model.
"""

from __future__ import annotations

import logging
import math
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np

from .coding import CodedUnit, key_path, read_coding_sheet, read_key
from .config import RANDOM_STATE
from .errors import CodingSheetError
from .records import LABEL_SCORES, LABELS

logger = logging.getLogger(__name__)
logger.addHandler(logging.NullHandler())

TASKS: tuple[str, ...] = ("stance", "sentiment")
MIN_GROUP_UNITS = 10
"""Groups (actors, sources) with fewer coded units are flagged ``few``."""
MIN_GROUP_ARTICLES = 3
"""Groups whose units come from fewer articles are flagged ``few``."""
BOOTSTRAP_SAMPLES = 1000
CONFIDENCE = 0.95
VALIDATION_FILES: tuple[str, ...] = ("validation.json", "validation.md", *(f"confusion_{task}.{ext}" for task in TASKS
                                                                              for ext in ("png", "svg")))
"""Every name ``stance validate`` writes into its output folder."""


def _nan_to_none(value: float) -> float | None:
    return None if value is None or math.isnan(value) else float(value)


def krippendorff_alpha(a: Sequence[str], b: Sequence[str], level: Literal["nominal", "ordinal"] = "nominal") -> float | None:
    """Krippendorff's alpha of two coders' labels (``None`` when undefined).

    Examples
    --------
    >>> round(krippendorff_alpha(["negative", "neutral", "positive", "neutral"],
    ...                          ["negative", "neutral", "neutral", "neutral"]), 3)
    0.588
    """
    import krippendorff

    if not len(a):
        return None
    data = np.array([[LABEL_SCORES[x] for x in a], [LABEL_SCORES[x] for x in b]], dtype=float)
    if len(np.unique(data)) < 2:  # one value in the domain: expected disagreement is 0
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        value = krippendorff.alpha(reliability_data=data, level_of_measurement=level,
                                   value_domain=[LABEL_SCORES[x] for x in LABELS])
    return _nan_to_none(float(value))


def cohen_kappa(a: Sequence[str], b: Sequence[str]) -> float | None:
    """Cohen's kappa of two coders' labels (``None`` when undefined).

    Examples
    --------
    >>> round(cohen_kappa(["negative", "neutral", "positive", "neutral"], ["negative", "neutral", "neutral", "neutral"]), 3)
    0.556
    """
    from sklearn.metrics import cohen_kappa_score

    if not len(a):
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        value = cohen_kappa_score(list(a), list(b), labels=list(LABELS))
    return _nan_to_none(float(value))


def agreement(a: Sequence[str], b: Sequence[str]) -> dict[str, Any]:
    """Agreement of two label sequences: ``n``, raw ``agreement``, alpha (nominal, ordinal) and kappa."""
    return {
        "n": len(a),
        "agreement": float(np.mean([x == y for x, y in zip(a, b)])) if len(a) else None,
        "krippendorff_alpha": krippendorff_alpha(a, b),
        "krippendorff_alpha_ordinal": krippendorff_alpha(a, b, "ordinal"),
        "cohen_kappa": cohen_kappa(a, b),
    }


def compare_labels(coder: Sequence[str], model: Sequence[str]) -> dict[str, Any]:
    """Model labels against the coder's: the metrics of ``stance evaluate`` plus alpha and kappa.

    ``macro_f1`` is :func:`stance.training.metrics`' figure (all three labels, an unused one
    counting F1 0); ``macro_f1_present_labels`` averages only over ``present_labels``, the
    labels the coder or the model used.

    Examples
    --------
    >>> result = compare_labels(["negative", "neutral", "negative"], ["negative", "neutral", "neutral"])
    >>> result["n"], round(result["macro_f1"], 3), round(result["macro_f1_present_labels"], 3), result["present_labels"]
    (3, 0.444, 0.667, ['negative', 'neutral'])
    """
    from .training import metrics

    result: dict[str, Any] = metrics(list(coder), list(model)) if len(coder) else {
        "n": 0, "macro_f1": None, "accuracy": None,
        "per_class": {label: {"precision": None, "recall": None, "f1": None, "support": 0} for label in LABELS},
        "confusion": {"labels": list(LABELS), "matrix": [[0] * len(LABELS) for _ in LABELS]},
    }
    present = [label for label in LABELS if label in set(coder) | set(model)]
    result["macro_f1_present_labels"] = (float(np.mean([result["per_class"][label]["f1"] for label in present]))
                                         if present else None)
    result["present_labels"] = present
    agree = agreement(coder, model)
    result.update({k: agree[k] for k in ("krippendorff_alpha", "krippendorff_alpha_ordinal", "cohen_kappa")})
    return result


def _diff_interval(diffs: np.ndarray, articles: Sequence[str], key: str, samples: int, confidence: float,
                   seed: int) -> tuple[float | None, float | None]:
    from .aggregates import bootstrap_interval

    low, high = bootstrap_interval(diffs, articles, key=key, samples=samples, confidence=confidence, seed=seed)
    return _nan_to_none(low), _nan_to_none(high)


def group_means(rows: Sequence[dict[str, Any]], by: str, *, seed: int = RANDOM_STATE, samples: int = BOOTSTRAP_SAMPLES,
                confidence: float = CONFIDENCE) -> list[dict[str, Any]]:
    """Mean stance of coder and model per group (``by``: ``actor`` or ``source``), with article-bootstrap intervals.

    ``rows`` hold ``article_id``, ``by``, ``coder`` (a label), ``model`` (a label) and ``score``
    (the model's stance score). The interval of a difference is
    :func:`stance.aggregates.bootstrap_interval` of the per-unit differences (model − coder),
    resampled by article: their mean is the difference of the means. A group from one article
    has no interval (``None``). Sorted by units (descending), then group name.

    Examples
    --------
    >>> rows = [{"article_id": f"a{i % 3}", "actor": "putin", "coder": "negative", "model": m, "score": s}
    ...         for i, (m, s) in enumerate([("negative", -0.8), ("neutral", -0.2), ("negative", -0.6)])]
    >>> g = group_means(rows, "actor")[0]
    >>> g["units"], g["coder_mean"], round(g["model_label_mean"], 3), round(g["diff"], 3), g["few"]
    (3, -1.0, -0.667, 0.333, True)
    """
    groups: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault(str(row[by]), []).append(row)
    result = []
    for name, members in groups.items():
        articles = [str(r["article_id"]) for r in members]
        coder = np.array([LABEL_SCORES[r["coder"]] for r in members], dtype=float)
        label = np.array([LABEL_SCORES[r["model"]] for r in members], dtype=float)
        score = np.array([np.nan if r["score"] is None else float(r["score"]) for r in members], dtype=float)
        has_scores = not np.isnan(score).any()
        entry: dict[str, Any] = {
            by: name, "units": len(members), "articles": len(set(articles)),
            "coder_mean": float(coder.mean()), "model_label_mean": float(label.mean()),
            "model_score_mean": float(score.mean()) if has_scores else None,
            "diff": float(label.mean() - coder.mean()),
        }
        key = f"{by}:{name}"  # the same key: label and score differences are resampled with the same article draws
        entry["diff_low"], entry["diff_high"] = _diff_interval(label - coder, articles, key, samples, confidence, seed)
        if has_scores:
            entry["diff_score"] = float(score.mean() - coder.mean())
            entry["diff_score_low"], entry["diff_score_high"] = _diff_interval(score - coder, articles, key, samples,
                                                                               confidence, seed)
        else:
            entry["diff_score"] = entry["diff_score_low"] = entry["diff_score_high"] = None
        entry["few"] = len(members) < MIN_GROUP_UNITS or entry["articles"] < MIN_GROUP_ARTICLES
        result.append(entry)
    return sorted(result, key=lambda e: (-e["units"], e[by]))


def _model_record(unit: CodedUnit, key: dict[str, dict[str, Any]], key_file: Path, sheet: Path) -> dict[str, Any]:
    record = key.get(unit.unit_id)
    if record is None:
        raise CodingSheetError(f"{sheet}, line {unit.line}: unit {unit.unit_id!r} is not in the key file {key_file} "
                               "(was the unit_id edited, or does the key belong to another sheet?)")
    for task in TASKS:
        if record.get(task) not in LABELS:
            raise CodingSheetError(f"{key_file}: unit {unit.unit_id!r} has no valid model {task} label "
                                   f"(got {record.get(task)!r})")
    return record


def validate(sheet: str | Path, *, key: str | Path | None = None, coder2: str | Path | None = None,
             seed: int = RANDOM_STATE, samples: int = BOOTSTRAP_SAMPLES) -> dict[str, Any]:
    """Compare a coded sheet with the model's labels in its key file (and with a second coder).

    Parameters
    ----------
    sheet : str or Path
        The coded sheet (``.csv`` or ``.jsonl``) written by ``stance sample``.
    key : str or Path, optional
        The key file (default: :func:`stance.coding.key_path` of ``sheet``).
    coder2 : str or Path, optional
        A second coder's copy of the sheet, matched by ``unit_id``.
    seed, samples : int
        Seed and number of resamples of the article bootstrap.

    Returns
    -------
    dict
        Keys: ``sheet``, ``key``, ``coder2``, ``n_rows``, ``n_units`` (rows with a stance or
        sentiment label), ``n_uncoded``, ``draws``, ``stratified_by`` (the field of a ``--by``
        draw, or ``None``), ``model`` (``{"path", "sha256"}`` of the model that labelled the
        units, from the key; ``None`` when the key does not say), ``stance`` and ``sentiment`` (see
        :func:`compare_labels`, plus ``n_uncoded``: rows without that label), ``per_actor``,
        ``per_source`` (:func:`group_means`, stance only), ``intercoder`` (or ``None``),
        ``warnings`` and ``settings``.

    Raises
    ------
    CodingSheetError
        If a sheet or the key is malformed, a coded unit is not in the key, or nothing is coded.
    """
    sheet = Path(sheet)
    key_file = Path(key) if key is not None else key_path(sheet)
    units = read_coding_sheet(sheet)
    model = read_key(key_file)
    notes: list[str] = []
    coded = [u for u in units if u.coded]
    if not coded:
        raise CodingSheetError(f"{sheet}: no row is coded yet (fill the stance and/or sentiment cells; "
                               f"{len(units)} row(s) read)")
    records = {u.unit_id: _model_record(u, model, key_file, sheet) for u in coded}
    moved = [u.unit_id for u in coded if (records[u.unit_id].get("start"), records[u.unit_id].get("end")) != (u.start, u.end)]
    if moved:
        notes.append(f"{len(moved)} unit(s) mark a different target than the key (e.g. {moved[0]}): the model scored the "
                     "target it found, the comparison uses it as is")
    result: dict[str, Any] = {
        "sheet": str(sheet), "key": str(key_file), "coder2": None if coder2 is None else str(coder2),
        "n_rows": len(units), "n_units": len(coded), "n_uncoded": len(units) - len(coded),
    }
    draws: dict[str, int] = {}
    for u in coded:
        draw = str(records[u.unit_id].get("draw") or "unknown")
        draws[draw] = draws.get(draw, 0) + 1
    result["draws"] = dict(sorted(draws.items()))
    if draws.get("uncertain"):
        notes.append(f"{draws['uncertain']} of the {len(coded)} coded units were drawn as the model's most uncertain: "
                     "the figures understate its performance on the corpus as a whole")
    fields = sorted({str(records[u.unit_id]["by"]) for u in coded
                     if records[u.unit_id].get("draw") == "stratified" and records[u.unit_id].get("by")})
    result["stratified_by"] = fields[0] if len(fields) == 1 else (fields or None)
    if draws.get("stratified"):
        field = f"by {' and '.join(fields)}" if fields else "(the key does not record by which field)"
        notes.append(f"{draws['stratified']} of the {len(coded)} coded units were drawn stratified {field}: small strata "
                     "are over-represented, so the figures over all units are unweighted and describe the sample, "
                     "not the corpus as a whole")
    result["model"] = _model_identity([records[u.unit_id] for u in coded], notes)
    for task in TASKS:
        pairs = [(getattr(u, task), records[u.unit_id][task]) for u in units if getattr(u, task) is not None]
        block = compare_labels([c for c, _ in pairs], [m for _, m in pairs])
        block["n_uncoded"] = len(units) - len(pairs)
        result[task] = block
    rows = [{"article_id": u.article_id, "actor": u.actor or records[u.unit_id].get("actor"),
             "source": u.source or records[u.unit_id].get("source") or "", "coder": u.stance,
             "model": records[u.unit_id]["stance"], "score": records[u.unit_id].get("stance_score")}
            for u in coded if u.stance is not None]
    result["per_actor"] = group_means(rows, "actor", seed=seed, samples=samples)
    result["per_source"] = group_means(rows, "source", seed=seed, samples=samples)
    result["intercoder"] = None if coder2 is None else intercoder(units, read_coding_sheet(coder2), records)
    result["warnings"] = notes
    result["settings"] = {"seed": seed, "bootstrap_samples": samples, "confidence": CONFIDENCE,
                          "min_group_units": MIN_GROUP_UNITS, "min_group_articles": MIN_GROUP_ARTICLES}
    return result


def _model_identity(records: Sequence[dict[str, Any]], notes: list[str]) -> dict[str, Any] | None:
    """``{"path", "sha256"}`` of the model that labelled the units, from the key records (``None`` when not recorded)."""
    models = {(r.get("model_path"), r.get("model_sha256")) for r in records}
    known = {m for m in models if m[1]}
    if len(known) > 1:
        notes.append(f"the key names {len(known)} different models; the units were labelled by more than one model")
        return None
    if not known or len(models) > 1:
        notes.append("the key does not record which model labelled the units (a key from an older `stance sample`, or a "
                     "sample drawn from a saved mentions table): a report cannot tell whether this validation is of its model")
        return None
    path, sha256 = known.pop()
    return {"path": path, "sha256": sha256}


def intercoder(first: Sequence[CodedUnit], second: Sequence[CodedUnit], model: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Agreement of two coders on the units both coded (matched by ``unit_id``), with the
    model's agreement with each coder on the same units for comparison.

    ``model`` maps unit ids to key records; units missing there are compared between the
    coders only.
    """
    other = {u.unit_id: u for u in second}
    own_ids = {u.unit_id for u in first}
    result: dict[str, Any] = {"n_matched": sum(u.unit_id in other for u in first),
                              "n_only_coder2": sum(uid not in own_ids for uid in other)}
    for task in TASKS:
        both: list[tuple[str, str, Any]] = [
            (getattr(u, task), getattr(other[u.unit_id], task), model.get(u.unit_id, {}).get(task))
            for u in first if u.unit_id in other and getattr(u, task) is not None and getattr(other[u.unit_id], task) is not None]
        with_model = [b for b in both if b[2] in LABELS]
        result[task] = {
            "coders": agreement([a for a, _, _ in both], [b for _, b, _ in both]),
            "model_vs_coder1": agreement([a for a, _, _ in with_model], [m for _, _, m in with_model]),
            "model_vs_coder2": agreement([b for _, b, _ in with_model], [m for _, _, m in with_model]),
        }
    return result


# --- output ---------------------------------------------------------------------------------------------------------

def _num(value: Any, digits: int = 3) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def _signed(value: Any) -> str:
    return "–" if value is None else f"{value:+.2f}"


def _model_line(model: Any) -> str:
    from .report import escape_markdown

    if not isinstance(model, dict) or not model.get("sha256"):
        return "Model: not recorded in the key, so this validation cannot be matched to a model."
    return (f"Model that labelled the units: {escape_markdown(model.get('path') or 'unnamed')} "
            f"(sha256 {escape_markdown(str(model['sha256'])[:12])}…).")


def render_summary(result: dict[str, Any]) -> str:
    """The Markdown summary of a validation (printed by ``stance validate`` and saved as ``validation.md``)."""
    from .report import escape_markdown

    lines = ["# Validation: model vs. hand coding", "",
             f"Sheet {escape_markdown(result['sheet'])}, key {escape_markdown(result['key'])}: {result['n_units']} coded "
             f"unit(s) compared; {result['n_uncoded']} uncoded row(s) ignored.", "", _model_line(result.get("model")), ""]
    lines += [f"- note: {escape_markdown(w)}" for w in result["warnings"]]
    if result["warnings"]:
        lines.append("")
    lines += ["macro-F1 is over all three labels, as in `stance evaluate` and the model's own figures (a label neither "
              "the coder nor the model used counts as F1 0); macro-F1 (labels used) averages only over the labels "
              "the coder or the model used.", "",
              "| task | units | macro-F1 | macro-F1 (labels used) | accuracy | Krippendorff α (nominal) | α (ordinal) | Cohen κ |",
              "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for task in TASKS:
        b = result[task]
        lines.append(f"| {task} | {b['n']} | {_num(b['macro_f1'])} | {_num(b.get('macro_f1_present_labels'))} | "
                     f"{_num(b['accuracy'])} | {_num(b['krippendorff_alpha'])} | "
                     f"{_num(b['krippendorff_alpha_ordinal'])} | {_num(b['cohen_kappa'])} |")
    for task in TASKS:
        b = result[task]
        used = set(b.get("present_labels") or LABELS)
        lines += ["", f"## {task.capitalize()} per class (coder = reference)", "",
                  "| label | precision | recall | F1 | support |", "|---|---:|---:|---:|---:|"]
        for label in LABELS:
            c = b["per_class"][label]
            mark = "" if label in used or not b["n"] else " (used by neither)"
            lines.append(f"| {label}{mark} | {_num(c['precision'])} | {_num(c['recall'])} | {_num(c['f1'])} | {c['support']} |")
        lines += ["", "Confusion (rows coder, columns model): " + "; ".join(
            f"{label}: {' / '.join(str(v) for v in row)}" for label, row in zip(LABELS, b["confusion"]["matrix"]))]
    for by in ("actor", "source"):
        groups = result[f"per_{by}"]
        lines += ["", f"## Mean stance per {by} (coder vs. model)", "",
                  "Coder and model labels as −1/0/+1; model score = P(positive) − P(negative). Differences are model − coder "
                  "with 95% intervals from a bootstrap over articles; * = fewer than "
                  f"{MIN_GROUP_UNITS} units or {MIN_GROUP_ARTICLES} articles.", "",
                  f"| {by} | units | articles | coder | model label | model score | diff (label) | interval | diff (score) |",
                  "|---|---:|---:|---:|---:|---:|---:|---|---:|"]
        for g in groups:
            flag = " *" if g["few"] else ""
            lines.append(f"| {escape_markdown(g[by])}{flag} | {g['units']} | {g['articles']} | {_signed(g['coder_mean'])} | "
                         f"{_signed(g['model_label_mean'])} | {_signed(g['model_score_mean'])} | {_signed(g['diff'])} | "
                         f"{_signed(g['diff_low'])} … {_signed(g['diff_high'])} | {_signed(g['diff_score'])} |")
    inter = result["intercoder"]
    if inter is not None:
        lines += ["", "## Inter-coder agreement", "",
                  f"{inter['n_matched']} unit(s) in both sheets; {inter['n_only_coder2']} only in the second sheet.", "",
                  "| task | pair | units | agreement | α (nominal) | κ |", "|---|---|---:|---:|---:|---:|"]
        for task in TASKS:
            for pair in ("coders", "model_vs_coder1", "model_vs_coder2"):
                a = inter[task][pair]
                lines.append(f"| {task} | {pair.replace('_', ' ')} | {a['n']} | {_num(a['agreement'])} | "
                             f"{_num(a['krippendorff_alpha'])} | {_num(a['cohen_kappa'])} |")
    return "\n".join(lines).rstrip() + "\n"


def write_validation(result: dict[str, Any], out: str | Path) -> list[Path]:
    """Write ``validation.json``, ``validation.md`` and the confusion matrices (PNG and SVG) into ``out``,
    replaced as a whole (staged, under a lock; see :class:`stance.io.StagedFolder`).

    Returns
    -------
    list of Path
        The files written, at their final place.
    """
    import json

    from .io import StagedFolder, atomic_write_text, output_lock
    from .plots import plot_confusion, save_figure

    with output_lock(out), StagedFolder(out, VALIDATION_FILES, kind="validation") as staged:
        names = ["validation.json", "validation.md"]
        atomic_write_text(staged.path / "validation.json", json.dumps(result, ensure_ascii=False, indent=2) + "\n")
        atomic_write_text(staged.path / "validation.md", render_summary(result))
        for task in TASKS:
            if result[task]["n"]:
                save_figure(plot_confusion(result[task], title=f"{task}: model vs. coder"), staged.path / f"confusion_{task}.png")
                names += [f"confusion_{task}.png", f"confusion_{task}.svg"]
        staged.commit()
        return [staged.target / name for name in names]
