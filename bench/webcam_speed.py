"""Webcam speed: frames per second the live page analyses (RetinaFace, tracking, smoothing, annotation) on
640x480 frames with 1 and 3 faces, and the cost of the WebRTC callback itself, which only hands the frame over
and draws the latest faces (the analysis runs in its own thread). Uses the page's LiveAnnotator. Prints the
figures and writes bench/results/webcam_speed.json.
"""

import os
import time
from fractions import Fraction

import av
import numpy as np

from agegender import SAMPLES, Estimator, read_image
from agegender.apps.live import LiveAnnotator
from agegender.apps.synthetic import face_canvas, head_crops, jitter_frames
from agegender.paths import MODEL_SPEC
from bench.report import bench_parser, write_json

PORTRAITS = ["obama_official_portrait.jpg", "grace_hopper.jpg", "astronaut_eileen_collins.png"]


def main() -> None:
    p = bench_parser(__doc__, "webcam_speed")
    p.add_argument("--frames", type=int, default=150)
    p.add_argument("--model", default=str(MODEL_SPEC))
    p.add_argument("--serving", help="combined or ours (default: the spec's first)")
    args = p.parse_args()
    estimator = Estimator(args.model, detector="retinaface", serving=args.serving)
    portraits = [read_image(SAMPLES / name) for name in PORTRAITS]
    crops = head_crops(portraits, [estimator.detect(img).boxes[0] for img in portraits], margin=0.8)
    result = {"version": estimator.version, "cpu_count": os.cpu_count(), "frame_size": "640x480"}
    for n in (1, 3):
        still = face_canvas(crops, n, (640, 480))
        frames = []
        for i, image in enumerate(jitter_frames(still, args.frames, jitter_px=2.0)):
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(image), format="rgb24")
            frame.pts, frame.time_base = i, Fraction(1, 30)
            frames.append(frame)
        live = LiveAnnotator(estimator)
        images = [frame.to_ndarray(format="rgb24") for frame in frames]
        for image in images[:5]:
            live.process(image)
        start = time.perf_counter()
        for image in images:
            live.process(image)
        fps = len(images) / (time.perf_counter() - start)
        faces = len(live.snapshot()[2])
        start = time.perf_counter()
        for frame in frames:
            live(frame)
        callback_ms = (time.perf_counter() - start) / len(frames) * 1000
        live.stop()
        result[f"{n}_faces"] = {"analysed_fps": round(fps, 1), "faces_in_last_frame": faces, "frames": len(frames),
                                "webrtc_callback_ms": round(callback_ms, 2)}
        print(f"{n} face(s): {fps:.1f} analysed fps over {len(frames)} frames ({faces} faces tracked); the WebRTC "
              f"callback itself takes {callback_ms:.1f} ms a frame")
    write_json(args.out, result)


if __name__ == "__main__":
    main()
