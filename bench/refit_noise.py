"""How far the development sets' lines move with the split alone: each line out of fold under several assignments of
people to folds.

The scorecard predicts every London, LFW and FairFace face by a combiner fitted on the other four folds of people,
with one fixed assignment (seed 0). Another assignment fits other combiners and reads every face again, so a line
that sits within this spread of its target is decided by the split as much as by the model; `line_intervals.py`
gives the other noise, that of the faces drawn. Two models' files list their values seed by seed, so their
differences under the same assignments can be read off. Writes bench/results/refit_noise_<label>.json.
"""

import numpy as np

from agegender import Estimator
from agegender.paths import MODEL_SPEC
from bench.report import bench_parser, named_out, write_json
from bench.scorecard import face_sets, held, set_lines


def dev_lines(estimator, seed: int) -> dict[str, tuple[float, str]]:
    """The development sets' lines (value, target) out of fold with people assigned to folds by `seed`."""
    lines = {}
    for data, out in face_sets(estimator, seed=seed)[3][:-1]:
        lines.update(set_lines(data.name, data, out))
    return lines


def refit_noise(spec, serving: str | None = None, seeds: int = 10) -> dict:
    """{line: figures} over `seeds` fold assignments: the value under each (seed 0 first), its mean, smallest and
    largest, and how many of them hold the target."""
    estimator = Estimator(spec, serving=serving)
    values: dict[str, list[float]] = {}
    targets = {}
    for seed in range(seeds):
        for line, (value, target) in dev_lines(estimator, seed).items():
            values.setdefault(line, []).append(value)
            targets[line] = target
    report = {}
    for line, v in values.items():
        figures = {"values": [round(float(x), 4) for x in v], "mean": round(float(np.mean(v)), 4),
                   "smallest": round(float(np.min(v)), 4), "largest": round(float(np.max(v)), 4)}
        if targets[line] != "report":
            figures["held"] = f"{sum(bool(held(x, targets[line])) for x in v)} of {seeds}"
        report[line] = {"target": targets[line], **figures}
    return {"model": str(spec), "serving": estimator.serving, "seeds": seeds, "lines": report}


def main() -> None:
    p = bench_parser(__doc__, "refit_noise")
    p.add_argument("--model", default=str(MODEL_SPEC))
    p.add_argument("--serving", help="combined or ours (default: the spec's first)")
    p.add_argument("--seeds", type=int, default=10, help="fold assignments (seeds 0 to N-1; 0 is the scorecard's)")
    p.add_argument("--label", default="model", help="name in the file name")
    args = p.parse_args()
    report = refit_noise(args.model, args.serving, args.seeds)
    for line, f in report["lines"].items():
        print(f"{line:42s} seed 0 {f['values'][0]:+9.4f}  mean {f['mean']:+9.4f}  {f['smallest']:+9.4f} to "
              f"{f['largest']:+9.4f}  {f.get('held', '')}")
    write_json(named_out(args.out, "refit_noise", f"refit_noise_{args.label}"), report)


if __name__ == "__main__":
    main()
