"""How a model reads faces by how far they are turned: each labelled photo set's age and gender figures by head yaw.

The yaw of each scored face comes from its detected landmarks (`training/metrics.head_yaw`, bins `YAW_BINS`). UTKFace's
faces are mostly frontal (5.6% of test's past 30 degrees), while two fifths of FairFace's are turned past 30 degrees.
Figures as the scorecard's: London, LFW and FairFace out of fold (seed-0 split), UTKFace test whole photos. Per set and
bin: faces, age MAE (FairFace: age group exact and within one), the genders told among the faces the gender lines
count (FairFace 10+, UTKFace 13+) and how many of those told are right. With `--against SPEC`, also each figure less
that model's on the same faces, with the 90% interval of the difference over the set's people redrawn
(`line_intervals.py`). Writes bench/results/pose_<label>.json (and, with --ship, models/pose.json for the Metrics
page).
"""

import numpy as np

from agegender import Estimator
from agegender.inference.combiner import Combiner
from agegender.paths import MODEL_SPEC, MODELS
from agegender.training.devsets import fairface_group, outputs
from agegender.training.metrics import YAW_BINS, head_yaw
from bench.line_intervals import paired_lines
from bench.report import bench_parser, named_out, write_json
from bench.scorecard import face_sets, matched

SETS = ("london", "lfw", "fairface", "utk_test")


def _mean(values: np.ndarray, rows: np.ndarray) -> float:
    """The mean of `values` over `rows` (a share, where they are booleans); NaN where there are no rows."""
    return float(np.mean(values[rows])) if rows.any() else float("nan")


def bin_figures(data, out, rows: np.ndarray) -> dict:
    """The figures of one set's faces in `rows` (NaN where a bin has none to count)."""
    figures = {"faces": int(rows.sum())}
    if data.name == "fairface":
        group = fairface_group(out.age)
        figures["group exact"] = _mean(group == data.groups, rows)
        figures["within one group"] = _mean(np.abs(group - data.groups) <= 1, rows)
        counted = rows & (data.groups >= 2)
    else:
        if (~np.isnan(data.ages)).any():  # LFW gives no ages
            figures["age MAE"] = _mean(np.abs(out.age - data.ages), rows & ~np.isnan(data.ages))
        counted = rows & ~(data.ages < 13)
    counted &= ~np.isnan(data.genders)
    figures["gender told"] = _mean(out.gender_known, counted)
    figures["told right"] = _mean((out.p_female >= 0.5) == (data.genders == 1), counted & out.gender_known)
    return figures


def by_yaw(data, out) -> dict[str, dict]:
    """{yaw bin: `bin_figures`}, the faces' yaw read from `out.data["yaw"]`."""
    yaw = out.data["yaw"]
    return {name: bin_figures(data, out, (yaw >= low) & (yaw < high)) for name, (low, high) in YAW_BINS.items()}


def binned(name: str, data, out) -> dict[str, tuple[float, str]]:
    """`by_yaw`'s figures as lines ("<bin>: <figure>", as `line_intervals` takes them)."""
    return {f"{bin_name}: {key}": (value, "report") for bin_name, figures in by_yaw(data, out).items()
            for key, value in figures.items() if key != "faces"}


def scored(spec, serving: str | None) -> tuple[str, dict]:
    """A model's serving and its scored sets by name, (data, output) with each face's yaw in the output's data."""
    estimator = Estimator(spec, serving=serving)
    _, params = estimator.spec.serving(estimator.serving)
    chosen = {n: estimator.networks[n] for n in Combiner(params).reads}
    sets = {}
    for data, out in face_sets(estimator)[3]:
        if data.name in SETS:
            landmarks = outputs(data.name, chosen, estimator)["landmarks"]
            out.data["yaw"] = np.array([head_yaw(points) for points in landmarks])
            sets[data.name] = (data, out)
    return estimator.serving, sets


def pose_lines(spec, serving: str | None = None, against=None, against_serving: str | None = None) -> dict:
    """{set: {yaw bin: figures}} for a model and serving; with `against` (a model spec), {set: {line: its
    difference and interval}} as well."""
    serving, sets = scored(spec, serving)
    report = {"model": str(spec), "serving": serving, "sets": {}}
    for name, (data, out) in sets.items():
        report["sets"][name] = by_yaw(data, out)
    if against:
        other_serving, others = scored(against, against_serving)
        report.update(against=str(against), against_serving=other_serving, differences={})
        for data, out, other in matched(sets.values(), others.values()):
            report["differences"][data.name] = paired_lines(data.name, data, out, other, binned)
    return report


def main() -> None:
    p = bench_parser(__doc__, "pose")
    p.add_argument("--model", default=str(MODEL_SPEC))
    p.add_argument("--serving", help="combined or ours (default: the spec's first)")
    p.add_argument("--against", metavar="SPEC", help="also each figure less this model's on the same faces")
    p.add_argument("--label", default="model", help="name in the file name")
    p.add_argument("--ship", action="store_true", help="also write models/pose.json")
    args = p.parse_args()
    report = pose_lines(args.model, args.serving, args.against)
    for name, bins in report["sets"].items():
        for yaw, figures in bins.items():
            shown = (f"{key} {value:.3f}" if isinstance(value, float) else f"{key} {value}"
                     for key, value in figures.items())
            print(f"{name:9s} {yaw:12s} " + "  ".join(shown))
    for name, lines in report.get("differences", {}).items():
        for line, figure in lines.items():
            low, high = figure["interval"]
            print(f"{name:9s} {line:32s} {figure['difference']:+.4f}  90% range {low:+.4f} to {high:+.4f}")
    write_json(named_out(args.out, "pose", f"pose_{args.label}"), report)
    if args.ship:
        write_json(MODELS / "pose.json", report)


if __name__ == "__main__":
    main()
