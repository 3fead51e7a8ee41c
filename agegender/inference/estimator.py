"""The Estimator: decode -> detect -> align -> model -> typed results, batched across faces and frames."""

import copy
import os
from dataclasses import dataclass
from functools import lru_cache

import cv2
import numpy as np

from ..paths import MODEL_SPEC
from .align import align_faces
from .decode import DEFAULT_MAX_PIXELS, ImageError, Picture, iter_pictures, source_name
from .detect import DEFAULT_DETECTOR, Detections, get_detector
from .networks import concat_crops
from .networks.descriptor import Descriptor
from .results import Face, ImageResult, build, failed
from .runtime import AgeGenderModel
from .tracking import Look, described


class Estimator:
    """Finds every face in an image and estimates its apparent age and gender.

    The model and the detector are loaded once, at construction. `min_face` drops faces narrower
    than that many pixels (the default, 16: smaller detections are often false, and too small to read an
    age from), and `score_threshold` those scoring under it (None: the detector's own operating point);
    `flip` averages each face with its mirror image (None: as the model spec says).
    No detector searches more than `max_side` pixels (larger photos are downscaled for detection only);
    auto first looks at a 640 px copy. Images declaring more than `max_pixels` are refused unread. `threads`
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
    ):
        self.model = AgeGenderModel(model_spec, threads=threads)
        floor = self.DETECTOR_FLOOR if score_threshold is None else min(score_threshold, self.DETECTOR_FLOOR)
        self.detector = get_detector(detector, score_threshold=floor, max_side=max_side, threads=threads)
        self.threads = threads
        self.score_threshold = self.detector.default_threshold if score_threshold is None else score_threshold
        self.min_face = min_face
        self.flip = flip
        self.max_pixels = max_pixels
        self._replicas: dict[int, list[Estimator]] = {}
        self._descriptor: Descriptor | None = None

    @property
    def descriptor(self) -> Descriptor:
        """The face descriptor network that tracking uses, loaded when first needed."""
        if self._descriptor is None:
            self._descriptor = Descriptor(threads=self.threads)
        return self._descriptor

    def with_options(
        self,
        score_threshold: float | None = None,
        min_face: float | None = None,
        flip: bool | None = None,
        detector: str | None = None,
        max_pixels: int | None = None,
        max_side: int | None = None,
    ) -> "Estimator":
        """A copy with other filtering, flip, size-limit or detector settings, sharing this one's model.

        Another `detector` starts at its own operating point unless `score_threshold` is given; another
        `max_side` loads the detector again with that limit. None leaves a setting as it is.
        """
        other = copy.copy(self)
        other._replicas = {}
        name = detector or self.detector.name
        if name != self.detector.name or (max_side is not None and max_side != self.detector.max_side):
            other.detector = self._sibling_detector(name, self.threads, max_side)
        if name != self.detector.name:
            other.score_threshold = other.detector.default_threshold
        if score_threshold is not None:
            if score_threshold < other.detector.score_threshold:
                raise ValueError(f"score_threshold must be at least {other.detector.score_threshold}")
            other.score_threshold = score_threshold
        if min_face is not None:
            other.min_face = min_face
        if flip is not None:
            other.flip = flip
        if max_pixels is not None:
            other.max_pixels = max_pixels
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
            other.model = AgeGenderModel(self.model.spec_path, threads=threads)
            other.detector = self._sibling_detector(self.detector.name, threads)
            other._replicas, other._descriptor = {}, None
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

    def align(self, image: np.ndarray, found: Detections) -> np.ndarray:
        """Model-input chips of the detected faces, in the model's own chip geometry."""
        return align_faces(image, found.landmarks, self.model.input_size, found.chip_template, self.model.chip_size)

    def pictures(self, image, bgr: bool = False, name: str = ""):
        """The pages or frames of one input, decoded one at a time through the size gate."""
        return iter_pictures(image, bgr, self.max_pixels, self.detector.max_side, name)

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
        chips, crops = [self._no_chips()], []
        for image, source, frame in zip(images, sources, frames, strict=True):
            try:
                for picture in self.pictures(image, bgr=bgr, name=source):
                    found = self.detect(picture.pixels)
                    chips.append(self.align(picture.pixels, found))
                    number = frame if picture.frame is None else picture.frame
                    look = None if tracker is None else tracker.look(picture.pixels, found, number)  # tracking:
                    if look is not None:  # the faces the tracker needs descriptors of
                        crops.append(self.descriptor.crop(picture.pixels, found[look.wanted]))
                    items.append(_Item(source, number, picture.size, picture.scale, found, look=look))
                    if keep is not None:
                        keep.append(_for_drawing(picture, self.detector.max_side))
            except ImageError as exc:
                if errors == "raise":
                    raise
                items.append(_Item(source, frame, error=str(exc)))
                if keep is not None:
                    keep.append(None)
        out = self.model.predict(np.concatenate(chips), flip=self.flip)
        descriptors = self.descriptor.predict(concat_crops(crops))["descriptor"] if crops else None
        results, start, begun = [], 0, 0
        for item in items:
            if item.error:
                results.append(failed(item.source, item.error, item.frame))
                continue
            part = out[start : start + len(item.found)]
            start += len(item.found)
            if item.look is not None:  # tracking: between the networks and the result
                wanted = int(item.look.wanted.sum())
                part = described(part, item.look.wanted, descriptors[begun : begun + wanted])
                begun += wanted
                size = (item.size[0] * item.scale, item.size[1] * item.scale)
                part = tracker.update(item.found, part, size, item.look.cut)
            results.append(build(item.source, item.size, item.scale, item.found, part, item.frame))
        return results

    def _no_chips(self) -> np.ndarray:
        size = self.model.input_size
        return np.zeros((0, size, size, 3), np.uint8)


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
