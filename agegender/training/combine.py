"""Fitting the combiner (`inference/combiner.py`) on the development sets, and its out-of-fold figures.

Every development set counts the same, whatever its size (UTKFace dev photos, its degraded chips, London, LFW,
FairFace), so UTKFace, where our network was trained, does not outvote the photos unlike it. Age: `combine_age`
(weights, corrections, the low-detail lean). Gender: a logistic regression of the label on every network's logit
(the descriptor's gender head among them), one set of weights for faces read as children (under `CHILD_BELOW`) and
one for the others; with a third network, also the stack of the first two, which decides where it is sure
(`GATE_WITHIN`). Interval: the temperature that makes the 90% intervals hold 90% of the true ages. Abstention: for
each band of the age estimate (`BAND_EDGES`), the narrowest band around even P(female) whose answered genders are
`ANSWERED` right on the development faces read in that band (sets counted equally), and with the band's
`low_detail`, the same again on the faces less sharp than `UNSURE_PERCENTILE` of the development photos'.
Figures on development sets are out of fold: `FOLDS` folds split by person, each predicted by a fit on the others.
"""

import json
import logging
from pathlib import Path

import numpy as np
from scipy.optimize import minimize

from ..inference.combiner import GRID, Combiner, logit
from ..inference.spec import OURS
from .combine_age import CHILD_BELOW, KNOTS, fit_age, photos_percentile, training_prior
from .devsets import DEVELOPMENT, DevData, dev_data, outputs
from .finalize import calibrate_temperature

BAND_EDGES = (3.0, 13.0, 20.0, 60.0)  # abstention bands of the age estimate: 0-2, 3-12, 13-19, 20-59, 60+
ANSWERED = 0.97
# The descriptor reads only faces whose two-network P(female) is within this of even: 14-23% of UTKFace, London and
# LFW faces (54% of FairFace's), with every scorecard line held as with it read everywhere. At 0.40 (8-18%) the
# lines were the same, but an unsure face could fall either side of the gate at another scale (Grace Hopper's
# portrait: "unknown" as it is, "male" enlarged 3x), and the folder benchmark ran no faster (2.36x against 2.32x).
GATE_WITHIN = 0.45
FOLDS = 5
# Genders of faces less sharp than this percentile of the development photos' have a band of their own: FairFace's
# least sharp quarter of faces aged 10+ were told 83% right, the others 93-97%. Of 10, 25 and 40, 40 left the most
# room under both limits on the development sets (FairFace 10+ abstaining 13.6%, UTKFace dev coverage 13+ 97.8%).
UNSURE_PERCENTILE = 40
log = logging.getLogger(__name__)


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
        below = photos_percentile(sets, sharp, UNSURE_PERCENTILE)
        low = _band_widths(sets, outputs, [v < below for v in sharp])
        band["low_detail"] = {"below": round(below, 4),
                              "half_widths": [max(a, b) for a, b in zip(low, widths, strict=True)]}
    return band


def asked(params: dict) -> dict:
    """What a serving's parameters ask `fit` for beyond the weights, corrections and band (fitted already, or `true`
    to ask): `low_detail` (lean), the band's `low_detail` (wary), `age_spread` (spread), and, kept as they are, the
    gate's quick network and its recheck margin (quick), the `age_prior` (prior) and the `second_look` (look)."""
    gate = params.get("gate", {})
    return {"lean": "low_detail" in params, "wary": "low_detail" in params.get("gender_band", {}),
            "spread": "age_spread" in params, "quick": {k: gate[k] for k in ("quick", "recheck") if k in gate},
            "prior": params.get("age_prior"), "look": params.get("second_look")}


def fit(sets: list[DevData], networks: list[str], base: dict | None = None, lean: bool = False,
        wary: bool = False, spread: bool = False, quick: dict | None = None, prior: dict | None = None,
        look: dict | None = None) -> dict:
    """The combiner's parameters for `networks` fitted on `sets` (with what `asked` names; the sets also hold the
    columns of a `quick` network, which is added to the gate once everything is fitted on the gated one). With one
    network (ours alone), `base` keeps its age offset and temperature from training, and only the abstention band is
    fitted."""
    if len(networks) == 1:
        params = {"networks": networks, **(base or {"age_offset": 0.0, "temperature": 1.0})}
    else:
        params = {**fit_age(sets, networks[:2], lean, spread, prior, look), "networks": networks}
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
    if quick:  # the band is the gated network's own; the quick copy reads first where it decides the same
        params["gate"].update(quick)
    return params


def folds_of(persons: np.ndarray, k: int = FOLDS, seed: int = 0) -> np.ndarray:
    """A fold number per row, the same for every row of one person."""
    people = np.unique(persons)
    fold = dict(zip(np.random.default_rng(seed).permutation(people), np.arange(len(people)) % k, strict=True))
    return np.array([fold[p] for p in persons])


def out_of_fold(sets: list[DevData], networks: list[str], base: dict | None = None, seed: int = 0, **asks) -> dict:
    """Each development set's combined output where every face is predicted by a fit (with `asks`, as `asked`
    gives them) on the other folds (people assigned to folds by `seed`)."""
    folds = [folds_of(s.persons, seed=seed) for s in sets]
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
        prior = params.get("age_prior")
        if prior and "ages" not in prior:  # asked for by its power alone
            params["age_prior"] = training_prior(prior["power"], root)
        reads = Combiner(params).reads
        chosen = {name: estimator.networks[name] for name in reads}
        sets = [dev_data(name, outputs(name, chosen, estimator, root), reads, estimator.flip) for name in DEVELOPMENT]
        raw["combiners"][serving] = fit(sets, list(params["networks"]), base, **asked(params))
        log.info("%s: %s", serving, json.dumps(raw["combiners"][serving]))
    Path(out or spec_path).write_text(json.dumps(raw, indent=2) + "\n")
    return raw
