"""Webcam speed: frames per second of the live page's frame callback on 640x480 frames with 1 and 3 faces.

Feeds av.VideoFrames through the same LiveAnnotator the webcam page uses (tracking, smoothing,
annotation). Prints the figures and writes bench/results/webcam_speed.json.
"""

import argparse
import os
import time
from fractions import Fraction

import av
import numpy as np

from agegender.detect import RetinaFace
from agegender.estimator import Estimator
from agegender.imageio import read_image
from agegender.live import LiveAnnotator
from agegender.paths import SAMPLES
from agegender.synthetic import face_canvas, head_crops, jitter_frames
from bench.report import add_out_argument, write_json

PORTRAITS = ["obama_official_portrait.jpg", "grace_hopper.jpg", "astronaut_eileen_collins.png"]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--frames", type=int, default=150)
    add_out_argument(p, "webcam_speed")
    args = p.parse_args()
    estimator = Estimator(detector=RetinaFace.name)
    portraits = [read_image(SAMPLES / name) for name in PORTRAITS]
    crops = head_crops(portraits, [estimator.detect(img).boxes[0] for img in portraits], margin=0.8)
    result = {"cpu_count": os.cpu_count(), "frame_size": "640x480"}
    for n in (1, 3):
        still = face_canvas(crops, n, (640, 480))
        frames = []
        for i, image in enumerate(jitter_frames(still, args.frames, jitter_px=2.0)):
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(image), format="rgb24")
            frame.pts, frame.time_base = i, Fraction(1, 30)
            frames.append(frame)
        live = LiveAnnotator(estimator)
        for frame in frames[:5]:
            live(frame)
        start = time.perf_counter()
        for frame in frames:
            live(frame)
        fps = len(frames) / (time.perf_counter() - start)
        faces = len(live.snapshot()[2])
        result[f"{n}_faces"] = {"fps": round(fps, 1), "faces_in_last_frame": faces, "frames": len(frames)}
        print(f"{n} face(s): {fps:.1f} fps over {len(frames)} frames ({faces} faces tracked in the last frame)")
    write_json(args.out, result)


if __name__ == "__main__":
    main()
