"""Video analysis speed against the code before people tracking, in the same run: frames analysed per second on
640x480 clips (bench/people_clips.py: one person turning; hard cuts between three people), with the command line's
settings (auto detector, flip, every frame) and the Video page's (RetinaFace, every 2nd frame); whole
`predict --annotate` runs; and bench/webcam_speed.py (the live page's analysed frames per second, 1 and 3 faces).

The baseline is another checkout (default: commit 2d9931e, checked out in a temporary git worktree); each
measurement runs in its own process, the two versions taking turns, and the median of `--rounds` is kept.
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


def webcam(base: Path, tmp: Path, rounds: int) -> dict:
    """bench/webcam_speed.py's analysed frames per second with 1 and 3 faces, in each checkout."""
    fps = {f"{key}_{n}_faces": [] for key in ("baseline", "people") for n in (1, 3)}
    for _ in range(rounds):
        for key, tree in (("baseline", base), ("people", REPO)):
            out = tmp / f"webcam_{key}.json"
            subprocess.run([sys.executable, "-m", "bench.webcam_speed", "--out", str(out)], cwd=tree,
                           capture_output=True, check=True)
            figures = json.loads(out.read_text())
            for n in (1, 3):
                fps[f"{key}_{n}_faces"].append(figures[f"{n}_faces"]["analysed_fps"])
    result = {k: round(statistics.median(v), 1) for k, v in fps.items()}
    print("webcam analysed fps:", result)
    return result


def main() -> None:
    p = bench_parser(__doc__, "video_speed")
    p.add_argument("--baseline", default="2d9931e", help="git commit to compare with")
    p.add_argument("--rounds", type=int, default=3)
    args = p.parse_args()
    people = london()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        base = tmp / "baseline"
        subprocess.run(["git", "worktree", "add", "--detach", str(base), args.baseline], cwd=REPO, check=True,
                       capture_output=True)
        try:
            clips = {"one_person_turning": single(people[0], seed=0),
                     "cuts_between_three": shots("cuts", people[1:4], [0, 1, 2], 2.0, seed=1)}
            paths = {name: write_mp4(c.frames, tmp / f"{name}.mp4", fps=FPS) for name, c in clips.items()}
            result = {"baseline": args.baseline, "rounds": args.rounds, "frame_size": "640x480", "fps": FPS}
            for name, path in paths.items():
                for setting, (detector, every) in SETTINGS.items():
                    times = {"baseline": [], "people": []}
                    for _ in range(args.rounds):
                        times["baseline"].append(measure(base, [str(path), detector, str(every)]))
                        times["people"].append(measure(REPO, [str(path), detector, str(every)]))
                    figures = {k: round(statistics.median(v), 1) for k, v in times.items()}
                    figures["ratio"] = round(figures["people"] / figures["baseline"], 3)
                    result[f"{name}/{setting}"] = figures
                    print(f"{name}, {setting}: {figures}", flush=True)
            clip = paths["one_person_turning"]
            seconds = {"baseline": [], "people": []}
            for _ in range(args.rounds):
                for key, tree in (("baseline", base), ("people", REPO)):
                    out = tmp / f"annotated_{key}"
                    out.mkdir(exist_ok=True)
                    seconds[key].append(whole_run(tree, clip, out))
            figures = {k: round(statistics.median(v), 2) for k, v in seconds.items()}
            figures["ratio_of_times"] = round(figures["people"] / figures["baseline"], 3)
            result["predict_annotate_seconds"] = figures
            print("predict --annotate (s):", figures)
            result["webcam_speed"] = webcam(base, tmp, args.rounds)
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(base)], cwd=REPO, capture_output=True)
    write_json(args.out, result)


if __name__ == "__main__":
    main()
