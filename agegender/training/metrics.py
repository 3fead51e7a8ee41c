"""Accuracy metrics for age and gender predictions, overall and per group."""

import numpy as np

from ..inference.groups import AGE_BINS, AGE_GROUPS, bin_index, group_index
from .dataset import GENDERS


def _age_scores(true, pred, low, high) -> dict:
    err = np.abs(pred - true)
    if len(err) == 0:
        return {"n_age": 0}
    return {
        "n_age": int(len(err)),
        "age_mae": float(err.mean()),
        "age_median_ae": float(np.median(err)),
        "age_rmse": float(np.sqrt(np.mean(err**2))),
        "age_cs5": float(np.mean(err <= 5.0)),
        "age_bias": float(np.mean(pred - true)),
        "interval90_coverage": float(np.mean((true >= low) & (true <= high))),
        "interval90_mean_width": float(np.mean(high - low)),
    }


def _gender_scores(true, p_female, known=None) -> dict:
    """Accuracy of P(female) >= 0.5 (before abstention), and with `known` the share of genders told (coverage) and
    the accuracy of those."""
    if len(true) == 0:
        return {"n_gender": 0}
    right = (p_female >= 0.5) == (true >= 0.5)
    scores = {"n_gender": int(len(true)), "gender_accuracy": float(np.mean(right))}
    if known is not None:
        scores["gender_coverage"] = float(np.mean(known))
        scores["gender_answered_accuracy"] = float(np.mean(right[known])) if known.any() else None
    return scores


def _scores(ages, genders, out, mask) -> dict:
    a = mask & ~np.isnan(ages)
    g = mask & ~np.isnan(genders)
    return {
        "n": int(mask.sum()),
        **_age_scores(ages[a], out.age[a], out.age_low[a], out.age_high[a]),
        **_gender_scores(genders[g], out.p_female[g], out.gender_known[g]),
    }


def gender_calibration(true, p_female, bins: int = 10) -> dict:
    """Expected calibration error of the predicted gender's confidence, with its reliability table."""
    confidence = np.maximum(p_female, 1 - p_female)
    correct = (p_female >= 0.5) == (true >= 0.5)
    edges = np.linspace(0.5, 1.0, bins + 1)
    which = np.clip(np.digitize(confidence, edges) - 1, 0, bins - 1)
    table, ece = [], 0.0
    for b in range(bins):
        sel = which == b
        if sel.any():
            conf, acc = float(confidence[sel].mean()), float(correct[sel].mean())
            ece += sel.mean() * abs(conf - acc)
            table.append(
                {
                    "low": float(edges[b]),
                    "high": float(edges[b + 1]),
                    "n": int(sel.sum()),
                    "confidence": conf,
                    "accuracy": acc,
                }
            )
    return {"ece": float(ece), "bins": table}


def confusion(true_groups, pred_groups, n: int) -> list[list[int]]:
    matrix = np.zeros((n, n), dtype=int)
    np.add.at(matrix, (true_groups, pred_groups), 1)
    return matrix.tolist()


def compute_metrics(ages, genders, races, out) -> dict:
    """All metrics for predictions `out` (a ModelOutput) against labels; NaN labels count only where present."""
    ages, genders = np.asarray(ages, dtype=float), np.asarray(genders, dtype=float)
    races = np.asarray(races, dtype=object)
    everyone = np.ones(len(ages), dtype=bool)
    has_age, has_gender = ~np.isnan(ages), ~np.isnan(genders)
    metrics = _scores(ages, genders, out, everyone)
    adults = has_age & (ages >= 18)
    metrics["gender_accuracy_18plus"] = _gender_scores(
        genders[adults & has_gender], out.p_female[adults & has_gender]
    ).get("gender_accuracy")
    from13 = has_age & has_gender & (ages >= 13)
    metrics["gender_13plus"] = _gender_scores(genders[from13], out.p_female[from13], out.gender_known[from13])
    true_group, pred_group = group_index(np.nan_to_num(ages)), group_index(out.age)
    true_bin = bin_index(np.nan_to_num(ages))
    metrics["by_age_group"] = {
        name: _scores(ages, genders, out, has_age & (true_group == i)) for i, name in enumerate(AGE_GROUPS)
    }
    metrics["by_age_bin"] = {
        name: _scores(ages, genders, out, has_age & (true_bin == i)) for i, name in enumerate(AGE_BINS)
    }
    metrics["by_gender"] = {
        name: _scores(ages, genders, out, has_gender & (genders == code)) for code, name in enumerate(GENDERS)
    }
    labelled_races = sorted({r for r in races if r})
    if labelled_races:
        metrics["by_race"] = {race: _scores(ages, genders, out, races == race) for race in labelled_races}
    metrics["age_group_accuracy"] = (
        float(np.mean(true_group[has_age] == pred_group[has_age])) if has_age.any() else None
    )
    metrics["age_group_one_off_accuracy"] = (
        float(np.mean(np.abs(true_group[has_age] - pred_group[has_age]) <= 1)) if has_age.any() else None
    )
    metrics["age_group_confusion"] = {
        "labels": list(AGE_GROUPS),
        "rows": "true group",
        "columns": "predicted group",
        "matrix": confusion(true_group[has_age], pred_group[has_age], len(AGE_GROUPS)),
    }
    if has_gender.any():
        calibration = gender_calibration(genders[has_gender], out.p_female[has_gender])
        metrics["gender_ece"] = calibration["ece"]
        metrics["gender_calibration"] = calibration["bins"]
    return metrics


NOSE_DEPTH = 0.7  # nose tip in front of the eyes' plane, in half eye distances (a typical adult face)
YAW_BINS = {"frontal": (0.0, 15.0), "15-30 deg": (15.0, 30.0), "over 30 deg": (30.0, 90.0)}
ROBUSTNESS_AGES = {"0-12": (0, 13), "13-59": (13, 60), "60+": (60, 200)}


def head_yaw(landmarks) -> float:
    """Absolute head yaw in degrees from 5 landmarks: the nose tip's offset from the eyes' midpoint.

    Turning by yaw t moves the nose tip sideways by depth * sin(t) while the eyes close up by cos(t), so
    offset / half eye distance = NOSE_DEPTH * tan(t).
    """
    points = np.asarray(landmarks, np.float64)
    eyes = points[1] - points[0]
    half = np.hypot(*eyes) / 2
    if half <= 0:
        return float("nan")
    across = np.dot(points[2] - (points[0] + points[1]) / 2, eyes / (2 * half))
    return float(np.degrees(np.arctan(abs(across) / half / NOSE_DEPTH)))


def _compact(ages, genders, out, mask) -> dict:
    a, g = mask & ~np.isnan(ages), mask & ~np.isnan(genders)
    row = {"n": int(mask.sum())}
    if a.any():
        err = out.age[a] - ages[a]
        row.update(
            age_mae=float(np.mean(np.abs(err))),
            age_median_ae=float(np.median(np.abs(err))),
            age_bias=float(np.mean(err)),
            age_cs5=float(np.mean(np.abs(err) <= 5)),
            interval90_coverage=float(np.mean((ages[a] >= out.age_low[a]) & (ages[a] <= out.age_high[a]))),
        )
    for name, sel in (("", g), ("_women", g & (genders == 1)), ("_men", g & (genders == 0))):
        if sel.any():
            row[f"gender_accuracy{name}"] = float(np.mean((out.p_female[sel] >= 0.5) == (genders[sel] >= 0.5)))
    if g.any():
        told = g & out.gender_known
        row["gender_coverage"] = float(np.mean(out.gender_known[g]))
        if told.any():
            row["gender_answered_accuracy"] = float(np.mean((out.p_female[told] >= 0.5) == (genders[told] >= 0.5)))
    for name, sel in (("women", a & (genders == 1)), ("men", a & (genders == 0))):
        if sel.any():
            row[f"age_bias_{name}"] = float(np.mean(out.age[sel] - ages[sel]))
    return row


def robustness_metrics(ages, genders, out, yaw) -> dict:
    """MAE, median AE, bias, CS@5, gender accuracy (women, men), interval coverage: overall, by age and by yaw."""
    ages, genders, yaw = (np.asarray(x, dtype=float) for x in (ages, genders, yaw))
    everyone = np.ones(len(ages), bool)
    result = {"all": _compact(ages, genders, out, everyone)}
    for name, (low, high) in ROBUSTNESS_AGES.items():
        result[name] = _compact(ages, genders, out, (ages >= low) & (ages < high))
    for name, (low, high) in YAW_BINS.items():
        result[f"yaw {name}"] = _compact(ages, genders, out, (yaw >= low) & (yaw < high))
    return result
