"""The Estimator: decode -> detect -> align -> model -> typed results, batched across faces and frames."""

import copy
import os
from dataclasses import dataclass
from functools import lru_cache

import cv2
import numpy as np

from ..paths import MODEL_SPEC
from .combiner import Combiner, ModelOutput
from .decode import DEFAULT_MAX_PIXELS, ImageError, Picture, iter_pictures, source_name
from .detect import DEFAULT_DETECTOR, Detections, get_detector
from .networks import NETWORKS, crop_all, predict_columns
from .results import Face, ImageResult, build, failed
from .spec import ModelSpec, flipped
from .tracking import Look


class Estimator:
    """Finds every face in an image and estimates its apparent age and gender.

    The model's networks and the detector are loaded once, at construction. `serving` says which of the model's
    servings runs: "combined" (every network; the default), "live" (all but the face descriptor) or "ours".
    `abstain` False gives a gender for every face, even where the model cannot tell (otherwise "unknown").
    `min_face` drops faces narrower than that many pixels (the default, 16: smaller detections are often false, and
    too small to read an age from), and `score_threshold` those scoring under it (None: the detector's own
    operating point); `flip` averages each face with its mirror image in every network (None: in those the model
    spec names). No detector searches more than `max_side` pixels (larger photos are downscaled for detection only);
    auto first looks at a 512 px copy. Images declaring more than `max_pixels` are refused unread. `threads`
    is how many threads each network may use (0: one per core).
    `with_options` gives a copy with other settings sharing the loaded networks.
    """

    DETECTOR_FLOOR = 0.3
    MIN_FACE = 16.0

    def __init__(
        self,
        model_spec=MODEL_SPEC,
        detector: str = DEFAULT_DETECTOR,
        score_threshold: float | None = None,
        min_face: float = MIN_FACE,
        flip: bool | None = None,
        max_side: int | None = 4096,
        max_pixels: int = DEFAULT_MAX_PIXELS,
        threads: int = 0,
        serving: str | None = None,
        abstain: bool = True,
    ):
        self.spec = ModelSpec.load(model_spec)
        self.abstain = abstain
        self.serving = serving or next(iter(self.spec.combiners))
        self.networks = self._load_networks(threads)
        floor = self.DETECTOR_FLOOR if score_threshold is None else min(score_threshold, self.DETECTOR_FLOOR)
        self.detector = get_detector(detector, score_threshold=floor, max_side=max_side, threads=threads)
        self.threads = threads
        self.score_threshold = self.detector.default_threshold if score_threshold is None else score_threshold
        self.min_face = min_face
        self.flip = self.spec.flip if flip is None else flipped(self.spec.networks, flip)
        self.max_pixels = max_pixels
        self._replicas: dict[int, list[Estimator]] = {}

    @property
    def version(self) -> str:
        """The model's version (with "/ours" or "/live" when serving part of a combined model)."""
        part = self.serving != "combined" and len(self.spec.networks) > 1
        return self.spec.version + (f"/{self.serving}" if part else "")

    @property
    def combiner(self) -> Combiner:
        return Combiner(self.spec.serving(self.serving)[1], self.spec.interval_level)

    def _load_networks(self, threads: int, loaded: dict | None = None) -> dict:
        """This serving's networks: those in `loaded` as they are, the others loaded with `threads` threads."""
        specs, _ = self.spec.serving(self.serving)
        loaded = loaded or {}
        return {name: loaded.get(name) or NETWORKS[spec.kind](spec, threads=threads) for name, spec in specs.items()}

    def with_options(
        self,
        score_threshold: float | None = None,
        min_face: float | None = None,
        flip: bool | None = None,
        detector: str | None = None,
        max_pixels: int | None = None,
        max_side: int | None = None,
        serving: str | None = None,
        abstain: bool | None = None,
    ) -> "Estimator":
        """A copy with other filtering, flip, size-limit, detector or serving settings, sharing this one's networks.

        Another `detector` starts at its own operating point unless `score_threshold` is given; another
        `max_side` loads the detector again with that limit. None leaves a setting as it is.
        """
        other = copy.copy(self)
        other._replicas = {}
        if serving is not None and serving != self.serving:
            other.serving = serving
            other.networks = other._load_networks(self.threads, self.networks)
        name = detector or self.detector.name
        if name != self.detector.name or (max_side is not None and max_side != self.detector.max_side):
            other.detector = self._sibling_detector(name, self.threads, max_side)
        if name != self.detector.name:
            other.score_threshold = other.detector.default_threshold
        if score_threshold is not None:
            if score_threshold < other.detector.score_threshold:
                raise ValueError(f"score_threshold must be at least {other.detector.score_threshold}")
            other.score_threshold = score_threshold
        flip = None if flip is None else flipped(self.spec.networks, flip)
        for key, value in (("min_face", min_face), ("abstain", abstain), ("flip", flip), ("max_pixels", max_pixels)):
            if value is not None:
                setattr(other, key, value)
        return other

    def replicas(self, n: int) -> list["Estimator"]:
        """`n` copies with the same settings, each with networks of its own on `cores / n` threads, for `n` threads
        of work at once (on a small CPU, two one-thread workers get more done than one two-thread worker).
        Made once per estimator and number."""
        if n in self._replicas:
            return self._replicas[n]
        threads = max(1, (os.cpu_count() or 1) // n)
        copies = []
        for _ in range(n):
            other = copy.copy(self)
            other.threads = threads
            other.networks = self._load_networks(threads)
            other.detector = self._sibling_detector(self.detector.name, threads)
            other._replicas = {}
            copies.append(other)
        self._replicas[n] = copies
        return copies

    def _sibling_detector(self, name: str, threads: int, max_side: int | None = None):
        """A newly loaded detector `name` with this one's score floor and its size limit (or `max_side`)."""
        return get_detector(name, score_threshold=self.detector.score_threshold,
                            max_side=max_side or self.detector.max_side, threads=threads)

    def detect(self, image: np.ndarray) -> Detections:
        """Faces in an RGB image that pass the score and size filters."""
        found = self.detector.detect(image)
        return found[(found.scores >= self.score_threshold) & (found.widths >= self.min_face)]

    def crop(self, image: np.ndarray, found: Detections) -> dict[str, dict]:
        """Each network's crops of the detected faces, by network name."""
        return crop_all(self.networks, image, found)

    def predict(self, crops: list[dict[str, dict]]) -> ModelOutput:
        """The combined estimates for the crops of several images (as `crop` gives them), one network call each."""
        return self._told(self.combiner(predict_columns(self.networks, crops, self.flip, self.combiner)))

    def _told(self, out: ModelOutput) -> ModelOutput:
        """`out` with the genders told: where the combiner does not abstain, or everywhere without `abstain`."""
        told = self.combiner.gender_known(out.p_female, out.age, out.data.get("sharpness"))
        out.gender_known = told if self.abstain else np.ones(len(out), bool)
        return out

    def analyze(self, image, bgr: bool = False) -> list[Face]:
        """Faces in one image: a path, bytes, file object, PIL image or array (RGB, or BGR with `bgr`).

        For a multi-page TIFF or an animated GIF, the faces of every page in turn (`analyze_batch` keeps them
        apart). Raises ImageError if the input cannot be read.
        """
        return [face for result in self.analyze_batch([image], bgr=bgr, errors="raise") for face in result.faces]

    def analyze_batch(
        self, images, bgr: bool = False, sources=None, frames=None, tracker=None, errors: str = "report", keep=None
    ) -> list[ImageResult]:
        """Results for several inputs, with one model call for all of their faces.

        Each input gives one result per page or frame (multi-page TIFF, animated GIF/WebP). `sources` and
        `frames` name each input and its frame number (default: its path, and the page number); a `tracker`
        follows faces across consecutive inputs (video frames). With `errors="report"` an unreadable input
        gives a result with status "error" and the message instead of failing the batch; "raise" raises its
        ImageError. `keep`, a list, receives each result's decoded `Picture` (for drawing on it; at most
        `max_side` pixels, so a batch of large images is not held at full size), or None for a failed input.
        """
        if errors not in ("report", "raise"):
            raise ValueError(f"errors must be 'report' or 'raise', not {errors!r}")
        sources = list(sources) if sources is not None else [source_name(image) for image in images]
        frames = list(frames) if frames is not None else [None] * len(sources)
        items: list[_Item] = []
        crops = [self.crop(np.zeros((1, 1, 3), np.uint8), Detections.empty("retinaface"))]
        for image, source, frame in zip(images, sources, frames, strict=True):
            try:
                for picture in iter_pictures(image, bgr, self.max_pixels, self.detector.max_side, source):
                    found = self.detect(picture.pixels)
                    crops.append(self.crop(picture.pixels, found))
                    number = frame if picture.frame is None else picture.frame
                    look = tracker.look(picture.pixels, found, number) if tracker else None  # a cut? faces to describe
                    items.append(_Item(source, number, picture.size, picture.scale, found, look=look))
                    if keep is not None:
                        keep.append(_for_drawing(picture, self.detector.max_side))
            except ImageError as exc:
                if errors == "raise":
                    raise
                items.append(_Item(source, frame, error=str(exc)))
                if keep is not None:
                    keep.append(None)
        out = self.predict(crops)
        results, start = [], 0
        for item in items:
            if item.error:
                results.append(failed(item.source, item.error, item.frame))
                continue
            part = out[start : start + len(item.found)]
            start += len(item.found)
            if item.look is not None:  # tracking, between the networks and the result (genders told once smoothed)
                part = self._told(tracker.follow(item.found, part, item.look))
            results.append(build(item.source, item.size, item.scale, item.found, part, item.frame))
        return results


@dataclass
class _Item:
    """One decoded page or frame on its way to a result: its detections, or why it could not be read."""

    source: str
    frame: int | None
    size: tuple[int, int] = (0, 0)
    scale: float = 1.0
    found: Detections | None = None
    error: str | None = None
    look: Look | None = None


def _for_drawing(picture: Picture, max_side: int | None) -> Picture:
    """The picture itself, or a copy reduced to at most `max_side` pixels (boxes map onto it by its scale)."""
    h, w = picture.pixels.shape[:2]
    if not max_side or max(h, w) <= max_side:
        return picture
    k = max_side / max(h, w)
    pixels = cv2.resize(picture.pixels, (round(w * k), round(h * k)), interpolation=cv2.INTER_AREA)
    return Picture(pixels, picture.size, picture.frame)


@lru_cache(maxsize=1)
def default_estimator() -> Estimator:
    return Estimator()


def analyze(image, bgr: bool = False) -> list[Face]:
    """One-line facade: the faces in an image, with the shipped model and the default detector."""
    return default_estimator().analyze(image, bgr=bgr)


__all__ = ["Estimator", "Picture", "analyze", "default_estimator"]
