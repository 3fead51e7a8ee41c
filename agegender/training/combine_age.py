"""Fitting the combiner's age (`inference/combiner.py`) on the development sets, each set counted the same.

The weights of our network (against the second, the CC0 age network) and the bias correction at `KNOTS` minimise the
mean absolute error (for FairFace, which gives age groups, the distance to the labelled group), with a penalty on
uneven weights and on large corrections; with `age_spread`, also the slope by which the network surer of a face (by
its spread relative to the age it reads) gets more weight; faces short of fine detail lean to our network
(`low_detail`, set from the sharpness of the development photos' faces and of UTKFace dev chips shrunk to 32 px, not
by the loss, which barely moves with it: the CC0 network's young reading of such faces shows in the bias, not in the
error). With `age_prior`, every fit is on our network's ages corrected by the prior of the ages it was trained on
(`training_prior`). Then, with the weights kept, the corrections are refitted to centre the estimates (`centre`): the
least error leaves the mean error where the errors are skewed, so the corrections also pay for the squared mean error
(`BIAS_WEIGHT`).
"""

import numpy as np
from scipy.optimize import minimize

from ..inference.combiner import GRID, Combiner, our_weight, relative_spread
from ..inference.corrections import N_AGES, corrected
from .augment import balancing_weights
from .devsets import DevData, faces_of

KNOTS = (0.0, 13.0, 20.0, 30.0, 45.0, 60.0, 80.0, 100.0)
CHILD_BELOW = 13.0
PHOTO_SETS = ("utk_dev", "london", "lfw", "fairface")
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
# With the low-detail lean as well (0.2.5): within one 87.8%, down32 bias -0.33, 51 of 55 lines held.
BIAS_WEIGHT = 0.5
MIN_GROUP = 20  # faces in a group whose mean error `centre` holds


PRIOR_SMOOTHING = 2.0  # years (sd of the Gaussian that smooths the training prior's histogram)
PRIOR_FLOOR = 1e-3  # of the uniform prior, mixed in so that ages never trained on are not divided by zero


def training_prior(power: float, root=None, balance: float = 0.5) -> dict:
    """The combiner's `age_prior`: the ages of UTKFace train (under the datasets folder `root`) as training weighs
    them (age-balancing at `balance`), per year 0-100, smoothed by PRIOR_SMOOTHING years, with PRIOR_FLOOR of the
    uniform mixed in, summing to 1."""
    ages = np.clip(np.nan_to_num(faces_of("utk_train", root).ages), 0, N_AGES - 1)
    counts = np.bincount(ages.astype(int), weights=balancing_weights(ages, balance), minlength=N_AGES)
    offsets = np.arange(-4 * PRIOR_SMOOTHING, 4 * PRIOR_SMOOTHING + 1)
    kernel = np.exp(-0.5 * (offsets / PRIOR_SMOOTHING) ** 2)
    prior = np.convolve(counts / counts.sum(), kernel / kernel.sum(), mode="same")
    prior = (prior + PRIOR_FLOOR / N_AGES) / (prior.sum() + PRIOR_FLOOR)
    return {"power": power, "balance": balance, "ages": [float(f"{v:.5g}") for v in prior]}


def _powell(objective, start: np.ndarray) -> np.ndarray:
    """The minimum of `objective` from `start` (Powell's method: the losses are piecewise linear in the parameters)."""
    return minimize(objective, start, method="Powell", options={"maxiter": 20000, "xtol": 1e-3, "ftol": 1e-7}).x


def _age_params(x, networks) -> dict:
    """The fitted age parameters, rounded (weights and corrections at KNOTS, then `age_spread` where fitted)."""
    params = {"networks": networks, "age_knots": list(KNOTS), "age_weights": _rounded(np.clip(x[:8], 0, 1)),
              "age_bias": _rounded(x[8:16]), "temperature": 1.0}
    return {**params, "age_spread": round(float(x[16]), 3)} if len(x) > 16 else params


def _rounded(values) -> list[float]:
    return [round(float(v), 3) for v in values]


def photos_percentile(sets: list[DevData], values: list[np.ndarray], percent: float) -> float:
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
    return {"knee": round(photos_percentile(sets, sharp, LOW_DETAIL_PERCENTILE), 4),
            "floor": round(float(np.median(shrunk)), 4), "ages": list(LOW_DETAIL_AGES)}


def fit_age(sets: list[DevData], networks: list[str], lean: bool = False, spread: bool = False,
            prior: dict | None = None, look: dict | None = None) -> dict:
    """Age weights and bias correction minimising the sets' mean age loss (each set counted the same); with `lean`,
    the faces short of detail leaning to our network (`low_detail`); with `spread`, the slope `age_spread`; with
    `prior` (an `age_prior`) and `look` (a `second_look`), on our network's ages corrected by them."""
    low = low_detail(sets, networks[1]) if lean else None
    sets = [s for s in sets if (~np.isnan(s.ages)).any() or (s.groups >= 0).any()]
    asks = {"age_prior": prior, "second_look": look}
    columns = [corrected(s.columns, {"networks": networks, **asks}) for s in sets]
    means = [[c[n]["age"] @ GRID for n in networks] for c in columns]  # the mixture's mean is linear in them
    detail = [c[networks[1]].get("sharpness") for c in columns]
    spreads = [relative_spread(c[networks[1]]["age"]) - relative_spread(c[networks[0]]["age"]) for c in columns]

    def objective(x):
        losses = []
        for s, (ours, partner), sharp, apart in zip(sets, means, detail, spreads, strict=True):
            weight = our_weight(ours, sharp, {"age_knots": KNOTS, "age_weights": np.clip(x[:8], 0, 1),
                                              "low_detail": low, "age_spread": x[16] if spread else 0}, apart)
            mean = weight * ours + (1 - weight) * partner
            losses.append(np.nanmean(s.age_loss(np.clip(mean + np.interp(mean, KNOTS, x[8:16]), 0, 100))))
        return np.mean(losses) + 0.01 * np.sum(np.diff(x[:8]) ** 2) + 0.01 * np.sum(x[8:16] ** 2)

    start = np.r_[np.full(8, 0.5), np.zeros(9 if spread else 8)]
    params = _age_params(_powell(objective, start), networks)
    params = {**params, "low_detail": low} if low else params
    params = {**params, **{key: value for key, value in asks.items() if value}}
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

    return _rounded(_powell(objective, np.asarray(params["age_bias"], np.float64)))
