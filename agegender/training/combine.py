"""Fitting the combiner (`inference/combiner.py`) on the development sets, and its out-of-fold figures.

Every development set counts the same, whatever its size (UTKFace dev photos, its degraded chips, London, LFW,
FairFace), so UTKFace, where our network was trained, does not outvote the photos unlike it. Age: the weights of our
network (against the second, the CC0 age network) and the bias correction at `KNOTS` minimise the mean absolute
error (for FairFace, which gives age groups, the distance to the labelled group), with a penalty on uneven weights
and on large corrections; with `age_spread`, also the slope by which the network surer of a face (by its spread
relative to the age it reads) gets more weight; faces short of fine detail lean to our network (`low_detail`, set
from the sharpness of the development photos' faces and of UTKFace dev chips shrunk to 32 px, not by the loss, which
barely moves with it: the CC0 network's young reading of such faces shows in the bias, not in the error). Then, with
the weights kept, the corrections are refitted to centre the estimates (`centre`): the least error leaves the mean
error where the errors are skewed, so the corrections also pay for the squared mean error (`BIAS_WEIGHT`). Gender: a
logistic regression of the label on every network's logit (the descriptor's gender head among them), one set of
weights for faces read as children (under `CHILD_BELOW`) and one for the others; with a third network, also the
stack of the first two, which decides where it is sure (`GATE_WITHIN`). Interval: the temperature that makes the 90%
intervals hold 90% of the true ages. Abstention: for each band of the age estimate (`BAND_EDGES`), the narrowest
band around even P(female) whose answered genders are `ANSWERED` right on the development faces read in that band
(sets counted equally), and with the band's `low_detail`, the same again on the faces less sharp than
`UNSURE_PERCENTILE` of the development photos'.
Figures on development sets are out of fold: `FOLDS` folds split by person, each predicted by a fit on the others.
"""

import json
import logging
from pathlib import Path

import numpy as np
from scipy.optimize import minimize

from ..inference.combiner import GRID, Combiner, logit, our_weight, relative_spread
from ..inference.spec import OURS
from .devsets import DEVELOPMENT, DevData, dev_data, outputs
from .finalize import calibrate_temperature

KNOTS = (0.0, 13.0, 20.0, 30.0, 45.0, 60.0, 80.0, 100.0)
CHILD_BELOW = 13.0
BAND_EDGES = (3.0, 13.0, 20.0, 60.0)  # abstention bands of the age estimate: 0-2, 3-12, 13-19, 20-59, 60+
ANSWERED = 0.97
# The descriptor reads only faces whose two-network P(female) is within this of even: 14-23% of UTKFace, London and
# LFW faces (54% of FairFace's), with every scorecard line held as with it read everywhere. At 0.40 (8-18%) the
# lines were the same, but an unsure face could fall either side of the gate at another scale (Grace Hopper's
# portrait: "unknown" as it is, "male" enlarged 3x), and the folder benchmark ran no faster (2.36x against 2.32x).
GATE_WITHIN = 0.45
FOLDS = 5
# Faces less sharp than all but this percent of the development photos' lean to our network (the CC0 age network
# reads UTKFace test chips shrunk to 32 px 2.9 years young, ours 0.1 years old). At 2%, the lean reaches 99% of
# UTKFace dev chips shrunk to 32 px and 0-4% of the development photos' faces by set (5%: the same chips, 0-9%).
LOW_DETAIL_PERCENTILE = 2
# The lean is for faces our network reads as adults (none under 20, all from 30): at 32 px the CC0 network reads
# UTKFace test's 40-59 year olds 7.7 years young and its 60+ 18 years young (clean: 3.4 and 9.0), its children as
# clean (+1.0). From 13 to 20 instead, UTKFace test's gender before abstention lost a face (94.46%) and down32's
# bias was -0.35 (here -0.31). A face our network misreads as an adult still leans the wrong way: a UTKFace test
# chip labelled one year old, showing cloth, that it reads as 87 (the CC0 network: 32) moves 11 years older in
# sepia, 0-12 bias there 0.772 against 0.739.
LOW_DETAIL_AGES = (20.0, 30.0)
# The least absolute error centres the median error, not the mean, which the bias lines hold: 0.2.3's fit read UTKFace
# dev chips of children 0.4-1.0 years old on average (overexposed: +1.04). `centre` adds this weight times the squared
# mean errors to the loss of the corrections, with the weights as fitted. Out of fold (AVX-512), against 0.2.3: at
# 0.5, FairFace answered gender 10+ 93.1% (92.8%), group exact 48.7% (48.0), within one 87.6% (the same), 60+ exact
# 45.8% (43.3), UTKFace test 60+ 6.54 (6.76), dark_gamma 0-12 bias +0.47 (+0.87), overexposed 0-12 +0.61 (+1.01), at
# a cost of London MAE 4.07 (4.03), UTKFace MAE 4.55 (4.52) and down32 bias -0.90 (-0.86); at 1.0, FairFace answered
# gender 92.8%. Fitted together with the weights, the weights moved to our network and within one fell to 86.7%.
BIAS_WEIGHT = 0.5
MIN_GROUP = 20  # faces in a group whose mean error `centre` holds
PHOTO_SETS = ("utk_dev", "london", "lfw", "fairface")
# Genders of faces less sharp than this percentile of the development photos' have a band of their own: FairFace's
# least sharp quarter of faces aged 10+ were told 83% right, the others 93-97%. Of 10, 25 and 40, 40 left the most
# room under both limits on the development sets (FairFace 10+ abstaining 13.6%, UTKFace dev coverage 13+ 97.8%).
UNSURE_PERCENTILE = 40
log = logging.getLogger(__name__)


def _age_params(x, networks) -> dict:
    """The fitted age parameters, rounded (weights and corrections at KNOTS, then `age_spread` where fitted)."""
    params = {"networks": networks, "age_knots": list(KNOTS), "age_weights": _rounded(np.clip(x[:8], 0, 1)),
              "age_bias": _rounded(x[8:16]), "temperature": 1.0}
    return {**params, "age_spread": round(float(x[16]), 3)} if len(x) > 16 else params


def _rounded(values) -> list[float]:
    return [round(float(v), 3) for v in values]


def _photos_percentile(sets: list[DevData], values: list[np.ndarray], percent: float) -> float:
    """A percentile of per-face `values` (one array per set) over the development photos' faces (PHOTO_SETS)."""
    photos = [v for s, v in zip(sets, values, strict=True) if s.name in PHOTO_SETS]
    return float(np.percentile(np.concatenate(photos), percent))


def low_detail(sets: list[DevData], network: str) -> dict | None:
    """Where faces count as short of detail (the combiner's `low_detail`), from the partner's chip sharpness: the
    knee is the LOW_DETAIL_PERCENTILE of the development photos' faces, the floor the median of the UTKFace dev
    chips shrunk to 32 px (the robustness suite's down32). None where the network gives no sharpness."""
    if "sharpness" not in sets[0].columns[network]:
        return None
    sharp = [s.columns[network]["sharpness"] for s in sets]
    shrunk = np.concatenate([v[s.degradations == "down32"] for s, v in zip(sets, sharp, strict=True)])
    return {"knee": round(_photos_percentile(sets, sharp, LOW_DETAIL_PERCENTILE), 4),
            "floor": round(float(np.median(shrunk)), 4), "ages": list(LOW_DETAIL_AGES)}


def fit_age(sets: list[DevData], networks: list[str], lean: bool = False, spread: bool = False) -> dict:
    """Age weights and bias correction minimising the sets' mean age loss (each set counted the same); with `lean`,
    the faces short of detail leaning to our network (`low_detail`); with `spread`, the slope `age_spread`."""
    low = low_detail(sets, networks[1]) if lean else None
    sets = [s for s in sets if (~np.isnan(s.ages)).any() or (s.groups >= 0).any()]
    means = [[s.columns[n]["age"] @ GRID for n in networks] for s in sets]  # the mixture's mean is linear in them
    detail = [s.columns[networks[1]].get("sharpness") for s in sets]
    spreads = [relative_spread(s.columns[networks[1]]["age"]) - relative_spread(s.columns[networks[0]]["age"])
               for s in sets]

    def objective(x):
        losses = []
        for s, (ours, partner), sharp, apart in zip(sets, means, detail, spreads, strict=True):
            weight = our_weight(ours, sharp, {"age_knots": KNOTS, "age_weights": np.clip(x[:8], 0, 1),
                                              "low_detail": low, "age_spread": x[16] if spread else 0}, apart)
            mean = weight * ours + (1 - weight) * partner
            losses.append(np.nanmean(s.age_loss(np.clip(mean + np.interp(mean, KNOTS, x[8:16]), 0, 100))))
        return np.mean(losses) + 0.01 * np.sum(np.diff(x[:8]) ** 2) + 0.01 * np.sum(x[8:16] ** 2)

    start = np.r_[np.full(8, 0.5), np.zeros(9 if spread else 8)]
    result = minimize(objective, start, method="Powell", options={"maxiter": 20000, "xtol": 1e-3, "ftol": 1e-7})
    params = _age_params(result.x, networks)
    params = {**params, "low_detail": low} if low else params
    return {**params, "age_bias": centre(sets, params)}


def _bias_groups(s: DevData) -> list[list[np.ndarray]]:
    """The rows of a set whose mean age errors `centre` holds near zero, for each degradation: the faces with an age,
    and the children (under CHILD_BELOW) among them, each where at least MIN_GROUP."""
    aged = ~np.isnan(s.ages)
    groups = []
    for degradation in np.unique(s.degradations):
        rows = aged & (s.degradations == degradation)
        if rows.sum() >= MIN_GROUP:
            groups.append([g for g in (rows, rows & (s.ages < CHILD_BELOW)) if g.sum() >= MIN_GROUP])
    return groups


def centre(sets: list[DevData], params: dict) -> list[float]:
    """The bias correction at KNOTS for the mixture `params` weighs: the least mean age loss (sets counted the same)
    plus BIAS_WEIGHT times the squared mean errors of each set's `_bias_groups` (summed per degradation, averaged over
    its degradations, then over the sets that have any), starting from `params`' corrections."""
    means = [Combiner(params).mixture(s.columns) @ GRID for s in sets]
    groups = [_bias_groups(s) for s in sets]

    def objective(x):
        losses, biases = [], []
        for s, mean, degradations in zip(sets, means, groups, strict=True):
            estimate = np.clip(mean + np.interp(mean, KNOTS, x), 0, 100)
            losses.append(np.nanmean(s.age_loss(estimate)))
            if degradations:
                error = estimate - s.ages
                biases.append(np.mean([sum(np.mean(error[g]) ** 2 for g in rows) for rows in degradations]))
        return np.mean(losses) + BIAS_WEIGHT * np.mean(biases) + 0.01 * np.sum(x**2)

    result = minimize(objective, np.asarray(params["age_bias"], np.float64), method="Powell",
                      options={"maxiter": 20000, "xtol": 1e-3, "ftol": 1e-7})
    return _rounded(result.x)


def fit_gender(sets: list[DevData], networks: list[str], ages: list[np.ndarray]) -> dict:
    """Logistic weights of the networks' logits, for faces read as children and for the others."""
    n = len(networks)

    def objective(x):
        losses = []
        for s, age in zip(sets, ages, strict=True):
            child = age < CHILD_BELOW
            z = np.where(child, x[n + 1], x[0])
            for i, name in enumerate(networks):
                z = z + np.where(child, x[n + 2 + i], x[1 + i]) * logit(s.columns[name]["p_female"])
            known = ~np.isnan(s.genders)
            g = s.genders[known]
            losses.append(np.mean(g * np.logaddexp(0, -z[known]) + (1 - g) * np.logaddexp(0, z[known])))
        return np.mean(losses) + 1e-3 * np.sum(x**2)

    x = minimize(objective, np.r_[0.0, np.full(n, 1.0 / n), 0.0, np.full(n, 1.0 / n)], method="BFGS").x
    return {"bias": round(float(x[0]), 3), "weights": {m: round(float(x[1 + i]), 3) for i, m in enumerate(networks)},
            "child_bias": round(float(x[n + 1]), 3),
            "child": {m: round(float(x[n + 2 + i]), 3) for i, m in enumerate(networks)}, "child_below": CHILD_BELOW}


def _band_widths(sets: list[DevData], outputs: list, rows: list[np.ndarray]) -> list[float]:
    """Per band of the age estimate, the narrowest half-width around even P(female) whose answered genders among
    `rows` are `ANSWERED` right on average over the sets with at least 20 such faces in that band."""
    band_of = [np.searchsorted(BAND_EDGES, out.age, side="right") for out in outputs]
    widths = []
    for band in range(len(BAND_EDGES) + 1):
        chosen = 0.5
        for half in np.arange(0.0, 0.5, 0.005):
            accuracies = []
            for s, out, b, kept in zip(sets, outputs, band_of, rows, strict=True):
                told = kept & (b == band) & ~np.isnan(s.genders) & (np.abs(out.p_female - 0.5) >= half)
                if told.sum() >= 20:
                    accuracies.append(np.mean((out.p_female[told] >= 0.5) == (s.genders[told] == 1)))
            if accuracies and np.mean(accuracies) >= ANSWERED:
                chosen = float(half)
                break
        widths.append(round(chosen, 3))
    return widths


def fit_band(sets: list[DevData], outputs: list, wary: bool = False) -> dict:
    """The abstention band: `_band_widths` over every face; with `wary`, also over the faces less sharp than the
    UNSURE_PERCENTILE of the development photos' (`low_detail`, never narrower than the band for all)."""
    widths = _band_widths(sets, outputs, [np.ones(len(s.ages), bool) for s in sets])
    band = {"edges": list(BAND_EDGES), "half_widths": widths}
    if wary:
        sharp = [out.data["sharpness"] for out in outputs]
        below = _photos_percentile(sets, sharp, UNSURE_PERCENTILE)
        low = _band_widths(sets, outputs, [v < below for v in sharp])
        band["low_detail"] = {"below": round(below, 4),
                              "half_widths": [max(a, b) for a, b in zip(low, widths, strict=True)]}
    return band


def asked(params: dict) -> dict:
    """What a serving's parameters ask `fit` for beyond the weights, corrections and band (fitted already, or `true`
    to ask): `low_detail` (lean), the band's `low_detail` (wary) and `age_spread` (spread)."""
    return {"lean": "low_detail" in params, "wary": "low_detail" in params.get("gender_band", {}),
            "spread": "age_spread" in params}


def fit(sets: list[DevData], networks: list[str], base: dict | None = None, lean: bool = False,
        wary: bool = False, spread: bool = False) -> dict:
    """The combiner's parameters for `networks` fitted on `sets` (with what `asked` names). With one network (ours
    alone), `base` keeps its age offset and temperature from training, and only the abstention band is fitted."""
    if len(networks) == 1:
        params = {"networks": networks, **(base or {"age_offset": 0.0, "temperature": 1.0})}
    else:
        params = {**fit_age(sets, networks[:2], lean, spread), "networks": networks}
        ages = [Combiner(params)(s.columns).age for s in sets]
        params["gender"] = fit_gender(sets, networks, ages)
        if len(networks) > 2:  # a third network (the descriptor's gender) is read only where the first two are unsure
            params["gender_without"] = fit_gender(sets, networks[:2], ages)
            params["gate"] = {"network": networks[2], "within": GATE_WITHIN}
        labelled = [s for s in sets if (~np.isnan(s.ages)).any()]
        probs = np.concatenate([Combiner(params).mixture(s.columns)[~np.isnan(s.ages)] for s in labelled])
        true = np.concatenate([s.ages[~np.isnan(s.ages)] for s in labelled])
        shift = np.interp(probs @ GRID, KNOTS, params["age_bias"])
        params["temperature"] = calibrate_temperature(probs, true, offset=shift)
    params.pop("gender_band", None)
    params["gender_band"] = fit_band(sets, [Combiner(params)(s.columns) for s in sets], wary)
    return params


def folds_of(persons: np.ndarray, k: int = FOLDS, seed: int = 0) -> np.ndarray:
    """A fold number per row, the same for every row of one person."""
    people = np.unique(persons)
    fold = dict(zip(np.random.default_rng(seed).permutation(people), np.arange(len(people)) % k, strict=True))
    return np.array([fold[p] for p in persons])


def out_of_fold(sets: list[DevData], networks: list[str], base: dict | None = None, **asks) -> dict:
    """Each development set's combined output where every face is predicted by a fit (with `asks`, as `asked`
    gives them) on the other folds."""
    folds = [folds_of(s.persons) for s in sets]
    parts = {s.name: [] for s in sets}
    for k in range(FOLDS):
        params = fit([s.rows(f != k) for s, f in zip(sets, folds, strict=True)], networks, base, **asks)
        for s, f in zip(sets, folds, strict=True):
            parts[s.name].append((np.flatnonzero(f == k), Combiner(params)(s.rows(f == k).columns)))
    result = {}
    for s in sets:
        order = np.argsort(np.concatenate([index for index, _ in parts[s.name]]))
        outs = [out for _, out in parts[s.name]]
        result[s.name] = type(outs[0])(*[np.concatenate([getattr(o, f) for o in outs])[order]
                                         for f in ("age", "age_std", "age_low", "age_high", "p_female",
                                                   "gender_known")])
    return result


def fit_spec(spec_path, out=None, root=None) -> dict:
    """Fit every serving of a model spec on the development sets and write the spec (to `out`, default in place).
    Our network alone keeps the age offset and temperature training fitted; only its abstention band is fitted. A
    serving gets fitted what `asked` finds in it (`low_detail`, the band's `low_detail`, `age_spread`)."""
    from ..inference.estimator import Estimator

    spec_path = Path(spec_path)
    raw = json.loads(spec_path.read_text())
    estimator = Estimator(spec_path, serving="combined")
    ours = estimator.networks[OURS].spec.settings
    base = {"age_offset": ours.get("age_offset", 0.0), "temperature": ours["age_temperature"]}
    for serving, params in raw["combiners"].items():
        networks = list(params["networks"])
        chosen = {name: estimator.networks[name] for name in networks}
        sets = [dev_data(name, outputs(name, chosen, estimator, root), networks, estimator.flip)
                for name in DEVELOPMENT]
        raw["combiners"][serving] = fit(sets, networks, base, **asked(params))
        log.info("%s: %s", serving, json.dumps(raw["combiners"][serving]))
    Path(out or spec_path).write_text(json.dumps(raw, indent=2) + "\n")
    return raw
