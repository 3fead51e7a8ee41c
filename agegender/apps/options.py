"""The Estimator's options as command-line arguments, turned into options in one place for `predict`,
`predict --engine ray` and `serve`."""

import argparse

from ..inference.decode import DEFAULT_MAX_PIXELS
from ..inference.detect import DEFAULT_DETECTOR, DETECTORS
from ..inference.estimator import Estimator
from ..inference.spec import SERVINGS
from ..paths import MODEL_SPEC


def _detector_help() -> str:
    thresholds = ", ".join(f"{name} {cls.default_threshold}" for name, cls in sorted(DETECTORS.items()))
    return f"face detection score threshold (default: the detector's own: {thresholds})"


def add_estimator_arguments(parser: argparse.ArgumentParser) -> None:
    """--min-face, --threshold, --detector, --flip, --max-pixels, --model, --serving and --abstain."""
    parser.add_argument("--min-face", type=float, default=Estimator.MIN_FACE, metavar="PX",
                        help=f"ignore faces narrower than this (default {Estimator.MIN_FACE:g})")
    parser.add_argument("--threshold", type=float, help=_detector_help())
    parser.add_argument("--detector", default=DEFAULT_DETECTOR, choices=sorted(DETECTORS, key=lambda n: n != "auto"),
                        help="face detector: auto (default: retinaface, and centerface where faces are small or none "
                        "is found), retinaface (fast) or centerface (thorough: more small and hard faces, slower)")
    parser.add_argument("--flip", action=argparse.BooleanOptionalAction,
                        help="average each face with its mirror image (default: as the model spec says; on)")
    parser.add_argument("--max-pixels", type=float, default=DEFAULT_MAX_PIXELS / 1e6, metavar="MPX",
                        help="refuse images declaring more megapixels than this "
                        f"(default {DEFAULT_MAX_PIXELS / 1e6:g})")
    parser.add_argument("--model", default=str(MODEL_SPEC), help="model spec JSON (default: the shipped model)")
    parser.add_argument("--serving", choices=SERVINGS, help="combined: our network, the CC0 networks and the face "
                        "descriptor's gender through the fitted combiner (the default); live: without the descriptor "
                        "(the webcam's; faster); ours: our network alone (fastest)")
    parser.add_argument("--abstain", action=argparse.BooleanOptionalAction, default=True,
                        help="say gender 'unknown' where the model cannot tell (default); --no-abstain always names "
                        "the likelier gender")


def estimator_options(args) -> dict:
    """The keyword arguments of `Estimator(...)` that the arguments above give."""
    return {
        "model_spec": args.model,
        "detector": args.detector,
        "score_threshold": args.threshold,
        "min_face": args.min_face,
        "flip": args.flip,
        "max_pixels": int(args.max_pixels * 1e6),
        "serving": args.serving,
        "abstain": args.abstain,
    }
