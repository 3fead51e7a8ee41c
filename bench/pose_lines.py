"""How a model reads faces by how far they are turned: each labelled photo set's age and gender figures by head yaw.

The yaw of each scored face comes from its detected landmarks (`training/metrics.head_yaw`, bins `YAW_BINS`). UTKFace's
faces are almost all frontal, while a fifth of FairFace's are turned past 30 degrees, where every network reads worse.
Figures as the scorecard's: London, LFW and FairFace out of fold (seed-0 split), UTKFace test whole photos. Per set and
bin: faces, age MAE (FairFace: age group exact and within one), the genders told among the faces the gender lines
count (FairFace 10+, UTKFace 13+) and how many of those told are right. Writes bench/results/pose_<label>.json.
"""

import numpy as np

from agegender import Estimator
from agegender.inference.combiner import Combiner
from agegender.paths import MODEL_SPEC
from agegender.training.devsets import fairface_group, outputs
from agegender.training.metrics import YAW_BINS, head_yaw
from bench.report import bench_parser, named_out, write_json
from bench.scorecard import face_sets

SETS = ("london", "lfw", "fairface", "utk_test")


def bin_figures(data, out, rows: np.ndarray) -> dict:
    """The figures of one set's faces in `rows`."""
    figures = {"faces": int(rows.sum())}
    if data.name == "fairface":
        group = fairface_group(out.age)
        figures["group exact"] = float(np.mean((group == data.groups)[rows]))
        figures["within one group"] = float(np.mean((np.abs(group - data.groups) <= 1)[rows]))
        counted = rows & (data.groups >= 2)
    else:
        aged = rows & ~np.isnan(data.ages)
        if aged.any():
            figures["age MAE"] = float(np.mean(np.abs(out.age - data.ages)[aged]))
        counted = rows & ~(data.ages < 13)
    counted &= ~np.isnan(data.genders)
    told = counted & out.gender_known
    if counted.any():
        figures["gender told"] = float(told.sum() / counted.sum())
    if told.any():
        figures["told right"] = float(np.mean(((out.p_female >= 0.5) == (data.genders == 1))[told]))
    return figures


def pose_lines(spec, serving: str | None = None) -> dict:
    """{set: {yaw bin: figures}} for a model and serving."""
    estimator = Estimator(spec, serving=serving)
    _, params = estimator.spec.serving(estimator.serving)
    chosen = {n: estimator.networks[n] for n in Combiner(params).reads}
    report = {}
    for data, out in face_sets(estimator)[3]:
        if data.name not in SETS:
            continue
        yaw = np.array([head_yaw(points) for points in outputs(data.name, chosen, estimator)["landmarks"]])
        report[data.name] = {name: bin_figures(data, out, (yaw >= low) & (yaw < high))
                             for name, (low, high) in YAW_BINS.items()}
    return {"model": str(spec), "serving": estimator.serving, "sets": report}


def main() -> None:
    p = bench_parser(__doc__, "pose")
    p.add_argument("--model", default=str(MODEL_SPEC))
    p.add_argument("--serving", help="combined or ours (default: the spec's first)")
    p.add_argument("--label", default="model", help="name in the file name")
    args = p.parse_args()
    report = pose_lines(args.model, args.serving)
    for name, bins in report["sets"].items():
        for yaw, figures in bins.items():
            shown = (f"{key} {value:.3f}" if isinstance(value, float) else f"{key} {value}"
                     for key, value in figures.items())
            print(f"{name:9s} {yaw:12s} " + "  ".join(shown))
    write_json(named_out(args.out, "pose", f"pose_{args.label}"), report)


if __name__ == "__main__":
    main()
