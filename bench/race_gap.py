"""Race gap: how much of the gender-accuracy gap between UTKFace race groups the groups' age mix and size explain.

On the test chips (cropped by their landmarks, flip TTA, as served), for the model and serving given: the measured
gap; a bootstrap of it within each group; the gap a race-blind model would show, with every group at the White
group's accuracy per age band (0-2, 3-12, 13+) or at a given accuracy for children, drawn as binomial samples; and
each group's accuracy standardised to the split's age mix. Prints the figures and writes bench/results/race_gap.json.
"""

import numpy as np

from agegender import Estimator
from agegender.paths import MODEL_SPEC
from agegender.training.devsets import outputs
from agegender.training.network_outputs import combined
from bench.report import bench_parser, write_json

BANDS = ((0, 2), (3, 12), (13, 200))


def gap(correct: np.ndarray, groups: list[np.ndarray]) -> float:
    """Largest minus smallest accuracy over the groups, in points."""
    accuracies = [correct[g].mean() for g in groups]
    return 100 * (max(accuracies) - min(accuracies))


def race_blind(counts: list[list[int]], accuracy: dict, draws: int, rng) -> np.ndarray:
    """Gaps of draws where each group's faces (`counts` per age band) are right with the same probability per band."""
    gaps = np.empty(draws)
    for i in range(draws):
        acc = [sum(rng.binomial(n, accuracy[b]) for n, b in zip(c, BANDS, strict=True)) / sum(c) for c in counts]
        gaps[i] = 100 * (max(acc) - min(acc))
    return gaps


def spread(gaps: np.ndarray) -> dict:
    """Median, central 95% range, and the share of draws meeting the 2.5-point target."""
    low, median, high = (round(float(v), 2) for v in np.percentile(gaps, [2.5, 50, 97.5]))
    return {"median": median, "p2.5": low, "p97.5": high, "share_at_most_2.5": round(float((gaps <= 2.5).mean()), 3)}


def main() -> None:
    p = bench_parser(__doc__, "race_gap")
    p.add_argument("--model", default=str(MODEL_SPEC))
    p.add_argument("--serving", help="combined or ours (default: the spec's first)")
    p.add_argument("--draws", type=int, default=4000)
    args = p.parse_args()
    estimator = Estimator(args.model, serving=args.serving)
    test = outputs("utk_test_degraded", estimator.networks, estimator)
    faces = test["faces"]
    female = combined(test, estimator.combiner, "none", estimator.flip).p_female >= 0.5
    ages, races = np.asarray(faces.ages), np.asarray(faces.races)
    correct = female == (np.asarray(faces.genders) == 1)
    names = sorted({r for r in races.tolist() if r})
    groups = [np.flatnonzero(races == r) for r in names]
    rng = np.random.default_rng(0)
    in_band = {b: (ages >= b[0]) & (ages <= b[1]) for b in BANDS}
    counts = [[int(in_band[b][g].sum()) for b in BANDS] for g in groups]
    share = {b: float(m.mean()) for b, m in in_band.items()}
    white = races == "white"
    result = {
        "model": args.model,
        "version": estimator.version,
        "faces": len(correct),
        "gap": round(gap(correct, groups), 2),
        "bootstrap": spread(np.array([gap(correct, [rng.choice(g, len(g)) for g in groups])
                                      for _ in range(args.draws)])),
        "race_blind_at_white_accuracy": spread(race_blind(
            counts, {b: float(correct[white & in_band[b]].mean()) for b in BANDS}, args.draws, rng)),
        "race_blind_children": {},
        "age_shares": {f"{lo}-{hi}": round(s, 3) for (lo, hi), s in share.items()},
        "age_standardised": {},
    }
    adults = float(correct[in_band[BANDS[2]]].mean())
    for children in (0.78, 0.85, 0.90, 0.95):
        accuracy = {BANDS[0]: children, BANDS[1]: children, BANDS[2]: adults}
        result["race_blind_children"][f"{children:.2f}"] = spread(race_blind(counts, accuracy, args.draws, rng))
    for name in names:
        result["age_standardised"][name] = round(float(100 * sum(
            s * correct[(races == name) & in_band[b]].mean() for b, s in share.items())), 2)
    std = result["age_standardised"].values()
    result["age_standardised_gap"] = round(max(std) - min(std), 2)
    print(f"gap {result['gap']:.2f} points; bootstrap {result['bootstrap']}")
    print(f"race-blind at the White group's accuracy per age band: {result['race_blind_at_white_accuracy']}")
    for children, figures in result["race_blind_children"].items():
        print(f"race-blind, children read right {float(children):.0%}, 13+ {adults:.1%}: {figures}")
    print(f"age-standardised accuracy {result['age_standardised']}: gap {result['age_standardised_gap']:.2f}")
    write_json(args.out, result)


if __name__ == "__main__":
    main()
