"""Video analysis speed against the code before people tracking, in the same run: frames analysed per second on
640x480 clips (bench/people_clips.py: one person turning; hard cuts between three people), with the command line's
settings (auto detector, flip, every frame) and the Video page's (RetinaFace, every 2nd frame); whole
`predict --annotate` runs; and bench/webcam_speed.py (the live page's analysed frames per second, 1 and 3 faces).

The baselines are other checkouts (default: commit 2d9931e, where this work began, and main), each checked out in a
temporary git worktree; each measurement runs in its own process, the versions taking turns, and the median of
`--rounds` is kept. For `predict --annotate` the figure is seconds (lower is faster).
Writes bench/results/video_speed.json.
"""

import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from agegender.apps.synthetic import write_mp4
from agegender.paths import REPO
from bench.people_clips import FPS, london, shots, single
from bench.report import bench_parser, write_json

SETTINGS = {"command_line": ("auto", 1), "video_page": ("retinaface", 2)}  # detector, every
TIMING = """
import json, sys, time
import agegender
clip, detector, every = sys.argv[1], sys.argv[2], int(sys.argv[3])
est = agegender.Estimator(detector=detector)
def run():
    if hasattr(agegender, "analyze_video"):
        frames = agegender.analyze_video(est, clip, "clip", every)
    else:
        frames = agegender.VideoAnalyzer(est).run(clip, "clip", every)
    return sum(1 for _ in frames)
run()
start = time.perf_counter()
n = run()
print(json.dumps({"frames": n, "fps": n / (time.perf_counter() - start)}))
"""


def measure(tree: Path, args: list[str]) -> float:
    run = subprocess.run([sys.executable, "-c", TIMING, *args], cwd=tree, capture_output=True, text=True, check=True)
    return json.loads(run.stdout.strip().splitlines()[-1])["fps"]


def whole_run(tree: Path, clip: Path, out: Path) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "agegender", "predict", str(clip), "--annotate", str(out), "--out",
                    str(out / "rows.jsonl"), "--no-progress"], cwd=tree, capture_output=True, check=True)
    return time.perf_counter() - start


def webcam(trees: dict[str, Path], tmp: Path, rounds: int) -> dict:
    """bench/webcam_speed.py's analysed frames per second with 1 and 3 faces, in each checkout."""
    fps = {f"{key}_{n}_faces": [] for key in trees for n in (1, 3)}
    for _ in range(rounds):
        for key, tree in trees.items():
            out = tmp / f"webcam_{key}.json"
            subprocess.run([sys.executable, "-m", "bench.webcam_speed", "--out", str(out)], cwd=tree,
                           capture_output=True, check=True)
            figures = json.loads(out.read_text())
            for n in (1, 3):
                fps[f"{key}_{n}_faces"].append(figures[f"{n}_faces"]["analysed_fps"])
    result = {k: round(statistics.median(v), 1) for k, v in fps.items()}
    print("webcam analysed fps:", result)
    return result


def compare(trees: dict[str, Path], rounds: int, run) -> dict:
    """The median of `rounds` of `run(tree)` in each checkout (taking turns), and ours over each baseline's."""
    values = {key: [] for key in trees}
    for _ in range(rounds):
        for key, tree in trees.items():
            values[key].append(run(tree))
    figures = {key: round(statistics.median(v), 2) for key, v in values.items()}
    figures.update({f"ratio_to_{key}": round(figures["people"] / figures[key], 3) for key in trees if key != "people"})
    return figures


def main() -> None:
    p = bench_parser(__doc__, "video_speed")
    p.add_argument("--baseline", nargs="+", default=["2d9931e", "main"], help="git commits to compare with")
    p.add_argument("--rounds", type=int, default=3)
    parts = ["video", "annotate", "webcam"]
    p.add_argument("--parts", nargs="+", default=parts, choices=parts, help="what to measure (default: all)")
    args = p.parse_args()
    people = london()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        trees, commits = {}, {}
        for commit in args.baseline:
            trees[commit] = tmp / f"baseline_{commit}"
            subprocess.run(["git", "worktree", "add", "--detach", str(trees[commit]), commit], cwd=REPO, check=True,
                           capture_output=True)
            commits[commit] = subprocess.run(["git", "rev-parse", commit], cwd=REPO, capture_output=True,
                                             text=True).stdout.strip()
        trees["people"] = REPO
        try:
            clips = {"one_person_turning": single(people[0], seed=0),
                     "cuts_between_three": shots("cuts", people[1:4], [0, 1, 2], 2.0, seed=1)}
            paths = {name: write_mp4(c.frames, tmp / f"{name}.mp4", fps=FPS) for name, c in clips.items()}
            result = {"baselines": commits, "rounds": args.rounds, "frame_size": "640x480", "fps": FPS}
            for name, path in paths.items() if "video" in args.parts else ():
                for setting, (detector, every) in SETTINGS.items():
                    figures = compare(trees, args.rounds, lambda tree, a=[str(path), detector, str(every)]: measure(
                        tree, a))
                    result[f"{name}/{setting}"] = figures
                    print(f"{name}, {setting} (analysed fps): {figures}", flush=True)
            if "annotate" in args.parts:
                out = tmp / "annotated"
                out.mkdir()
                figures = compare(trees, args.rounds, lambda tree: whole_run(tree, paths["one_person_turning"], out))
                result["predict_annotate_seconds"] = figures
                print("predict --annotate (s):", figures)
            if "webcam" in args.parts:
                result["webcam_speed"] = webcam(trees, tmp, args.rounds)
        finally:
            for commit in args.baseline:
                subprocess.run(["git", "worktree", "remove", "--force", str(trees[commit])], cwd=REPO,
                               capture_output=True)
    write_json(args.out, result)


if __name__ == "__main__":
    main()
