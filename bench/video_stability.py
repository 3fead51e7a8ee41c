"""Video stability: a still face in a 10-second clip made from a sample portrait with small camera jitter.

Runs the tracker + smoother over every frame and reports gender flips and the spread of the displayed
age after the first second, for each sample portrait (and raw per-frame figures for contrast), with the
settings of video files (the default Estimator) and of the webcam page (`live_estimator`: RetinaFace at
320 px, no flip).
Prints the figures and writes bench/results/video_stability.json.
"""

import json

import numpy as np

from agegender import SAMPLES, Estimator, FaceTracker, read_image
from agegender.apps.live import live_estimator
from agegender.apps.synthetic import jitter_frames
from bench.report import bench_parser, write_json


def flips(genders: list[str]) -> int:
    return sum(a != b for a, b in zip(genders, genders[1:], strict=False))


def main() -> None:
    p = bench_parser(__doc__, "video_stability")
    p.add_argument("--seconds", type=float, default=10.0)
    p.add_argument("--fps", type=int, default=30)
    p.add_argument("--jitter", type=float, default=3.0, help="camera jitter in pixels (sd)")
    args = p.parse_args()
    video = Estimator()
    n = int(args.seconds * args.fps)
    result = {"seconds": args.seconds, "fps": args.fps, "jitter_px": args.jitter, "clips": {}, "webcam_clips": {}}
    names = json.loads((SAMPLES / "known.json").read_text())
    for key, estimator in (("clips", video), ("webcam_clips", live_estimator(video))):
        print(key)
        for name in names:
            frames = list(jitter_frames(read_image(SAMPLES / name), n, jitter_px=args.jitter, seed=1))
            result[key][name] = clip_figures(estimator, frames, args.fps, name)
    write_json(args.out, result)


def clip_figures(estimator: Estimator, frames: list, fps: int, name: str) -> dict:
    """Flips and age spread of one clip after its first second, tracked and smoothed, and raw."""
    tracker = FaceTracker()
    shown, raw = [], []
    for begin in range(0, len(frames), 8):
        chunk = frames[begin : begin + 8]
        pairs = zip(estimator.analyze_batch(chunk, tracker=tracker), estimator.analyze_batch(chunk), strict=True)
        for tracked, plain in pairs:
            shown.append(tracked.faces[0] if tracked.faces else None)
            face = plain.faces[0] if plain.faces else None
            raw.append((face.age, face.gender == "female") if face else None)
    settled = [f for f in shown[fps:] if f is not None]
    raw_settled = [r for r in raw[fps:] if r is not None]
    clip = {
        "frames": len(frames),
        "frames_with_face": sum(f is not None for f in shown),
        "track_ids": sorted({f.track_id for f in shown if f is not None}),
        "gender_flips": flips([f.gender for f in settled]),
        "age_sd_after_1s": round(float(np.std([f.age for f in settled])), 3),
        "age_mean_after_1s": round(float(np.mean([f.age for f in settled])), 2),
        "raw_gender_flips": flips(["female" if female else "male" for _, female in raw_settled]),
        "raw_age_sd_after_1s": round(float(np.std([a for a, _ in raw_settled])), 3),
    }
    print(
        f"{name:>30}: flips {clip['gender_flips']} (raw {clip['raw_gender_flips']}), age sd after 1 s "
        f"{clip['age_sd_after_1s']:.2f} y (raw {clip['raw_age_sd_after_1s']:.2f}), tracks {clip['track_ids']}"
    )
    return clip


if __name__ == "__main__":
    main()
