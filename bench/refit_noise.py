"""How far the development sets' lines move with the split alone: each line out of fold under several assignments of
people to folds.

The scorecard predicts every London, LFW and FairFace face by a combiner fitted on the other four folds of people,
with one fixed assignment (seed 0). Another assignment fits other combiners and reads every face again, so a line
that sits within this spread of its target is decided by the split as much as by the model; `line_intervals.py`
gives the other noise, that of the faces drawn. Both together: each line's `joint` 90% interval pools draws of the
people under every assignment (ROUNDS in all), the interval of the value on other photos of the same kinds with a
combiner fitted on other people. With `--against SPEC`, every value, and every draw, is the model's less SPEC's on
the same faces under the same assignment, and `better` counts the assignments where the model's value is the better
by its target's direction. Writes bench/results/refit_noise_<label>.json.
"""

import numpy as np

from agegender import Estimator
from agegender.paths import MODEL_SPEC
from bench.line_intervals import ROUNDS, central, line_draws
from bench.report import bench_parser, named_out, write_json
from bench.scorecard import face_sets, gain, held, matched, set_lines


def dev_sets(estimator, seed: int) -> list:
    """The development sets as (data, output), out of fold with people assigned to folds by `seed`."""
    return face_sets(estimator, seed=seed)[3][:-1]


def seed_figures(ours: list, theirs: list | None, seeds: int, seed: int) -> tuple[dict, dict, dict]:
    """Under one assignment: each line's (value, target), the other model's values ({} without one) and the line's
    draws of the people (of the difference where there is another model), ROUNDS // seeds of them."""
    lines, base, draws = {}, {}, {}
    for data, out, against in matched(ours, theirs) if theirs else ((d, out, None) for d, out in ours):
        lines.update(set_lines(data.name, data, out))
        if theirs:
            base.update({k: v for k, (v, _) in set_lines(data.name, data, against).items()})
        draws.update(line_draws(data.name, data, out, set_lines, against, ROUNDS // seeds, seed))
    return lines, base, draws


def refit_noise(spec, serving: str | None = None, seeds: int = 10, against=None) -> dict:
    """{line: figures} over `seeds` fold assignments: the value under each (seed 0 first; less `against`'s where
    given), its mean, smallest and largest, how many of them hold the target (or are `better` than `against`), and
    the `joint` interval of the draws of people pooled over the assignments."""
    estimator = Estimator(spec, serving=serving)
    other = Estimator(against) if against else None
    values: dict[str, list[float]] = {}
    pooled: dict[str, list[float]] = {}
    targets, verdicts = {}, {}
    for seed in range(seeds):
        theirs = dev_sets(other, seed) if other else None
        lines, base, draws = seed_figures(dev_sets(estimator, seed), theirs, seeds, seed)
        for line, (value, target) in lines.items():
            targets[line] = target
            values.setdefault(line, []).append(value - base[line] if other else value)
            pooled.setdefault(line, []).extend(draws[line])
            if target != "report":
                verdicts.setdefault(line, []).append(gain({"target": target}, value, base[line]) > 0 if other
                                                     else bool(held(value, target)))
    report = {}
    for line, v in values.items():
        figures = {"values": [round(float(x), 4) for x in v], "mean": round(float(np.mean(v)), 4),
                   "smallest": round(float(np.min(v)), 4), "largest": round(float(np.max(v)), 4),
                   "joint": central(pooled[line])}
        if line in verdicts:
            figures["better" if other else "held"] = f"{sum(verdicts[line])} of {seeds}"
        report[line] = {"target": targets[line], **figures}
    return {"model": str(spec), "serving": estimator.serving, "against": against, "seeds": seeds, "lines": report}


def main() -> None:
    p = bench_parser(__doc__, "refit_noise")
    p.add_argument("--model", default=str(MODEL_SPEC))
    p.add_argument("--serving", help="combined or ours (default: the spec's first)")
    p.add_argument("--seeds", type=int, default=10, help="fold assignments (seeds 0 to N-1; 0 is the scorecard's)")
    p.add_argument("--against", metavar="SPEC", help="every figure the model's less this model's (its first serving)")
    p.add_argument("--label", default="model", help="name in the file name")
    args = p.parse_args()
    report = refit_noise(args.model, args.serving, args.seeds, args.against)
    for line, f in report["lines"].items():
        print(f"{line:42s} seed 0 {f['values'][0]:+9.4f}  mean {f['mean']:+9.4f}  {f['smallest']:+9.4f} to "
              f"{f['largest']:+9.4f}  joint {f['joint'][0]:+.4f} to {f['joint'][1]:+.4f}  "
              f"{f.get('held', f.get('better', ''))}")
    write_json(named_out(args.out, "refit_noise", f"refit_noise_{args.label}"), report)


if __name__ == "__main__":
    main()
