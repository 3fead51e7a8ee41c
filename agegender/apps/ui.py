"""Streamlit glue shared by the dashboard pages: cached resources, per-file analysis cache, tables and texts."""

import ctypes
import hashlib
import json
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import PurePath

import cv2
import numpy as np
import pandas as pd
import streamlit as st

from ..inference.decode import ImageError, iter_pictures
from ..inference.detect import DEFAULT_DETECTOR
from ..inference.estimator import Estimator
from ..inference.results import Face, ImageResult
from ..paths import MODEL_SPEC, MODELS


def _return_large_blocks() -> None:
    """Let glibc give large freed blocks back to the system at once (Linux).

    A photo's pixels are hundreds of megabytes held for a moment; glibc's adaptive threshold otherwise moves
    blocks of up to 32 MB (Pillow decodes in 16 MB blocks) into its heaps, where the server keeps them after
    the photo is gone. With a fixed threshold of 1 MB such blocks are mapped and unmapped on their own.
    """
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return
    libc.mallopt(-3, 1 << 20)  # M_MMAP_THRESHOLD


_return_large_blocks()
DISPLAY_WIDTH = 1400
MAIN_WIDTH = 900  # about the width of a page's main column (940 px in a 1400 px window): what images are drawn for
GRID_COLUMNS = 3  # many images are shown this many to a row
IMAGE_TYPES = ["jpg", "jpeg", "png", "webp", "bmp", "tif", "tiff", "gif"]
VIDEO_TYPES = ["mp4", "mov", "avi", "webm", "mkv"]
PRIVACY = (
    "Everything runs on this computer: nothing is sent anywhere and nothing you upload is saved. Uploads are held "
    "in memory (a file over 1 MB passes through an unnamed temporary file, deleted as soon as it is read)."
)
DETECTOR_CHOICES = {
    "auto": "Auto: fast, thorough where faces are small",
    "retinaface": "RetinaFace: fast",
    "centerface": "CenterFace: thorough (small and hard faces), slower",
}
CACHE_ENTRIES = 512  # analysed files (results only: small)
DISPLAY_ENTRIES = 64  # display copies of images (at most 1400 px wide: a few MB each)


def header(title: str, caption: str) -> None:
    """Every page's title and caption, the same way."""
    _leave_legacy_navigation()
    st.title(title)
    st.caption(caption)


def metric_row(figures: dict[str, str]) -> None:
    """One row of `st.metric`s, a column each, in the order given."""
    for column, (label, value) in zip(st.columns(len(figures)), figures.items(), strict=True):
        column.metric(label, value)


def problem(source: str, error, others: bool = False) -> str:
    """A page's message for an input it could not read, naming the file once; "the other files" only if any.

    `error` is an exception (its `.reason` where it has one) or a result's message (which starts with the name)."""
    name = PurePath(source).name
    reason = getattr(error, "reason", None) or str(error)
    for prefix in (f"{source}: ", f"{name}: ", "image: ", "video: ", "upload: "):
        reason = reason.removeprefix(prefix)
    ending = "" if reason.endswith((".", ")")) else "."
    return f"Could not read **{name}**: {reason}{ending}" + (" The other files are analysed." if others else "")


def _leave_legacy_navigation() -> None:
    """Rerun a page that Streamlit started in its legacy `pages/` mode under the app's own navigation.

    A server's first run, if it is not the entry page, goes through the legacy multipage mode (the app has a
    `pages/` folder), which lists the files instead of the app's pages until the entry page runs.
    """
    from streamlit.runtime.pages_manager import PagesManager

    if PagesManager.uses_pages_directory:
        PagesManager.uses_pages_directory = False
        st.rerun()


@st.cache_resource(show_spinner="Loading the face detector and the age & gender model…")
def estimator(detector: str = DEFAULT_DETECTOR) -> Estimator:
    """The Estimator of this process for a detector; they all share one loaded model."""
    if detector == DEFAULT_DETECTOR:
        return Estimator()
    return estimator().with_options(detector=detector)


@st.cache_data
def model_info() -> dict:
    """The shipped model's spec and measured results: test metrics, robustness, whole photos, head yaw, training
    curves."""
    found = {"spec": json.loads(MODEL_SPEC.read_text()), "metrics": json.loads((MODELS / "metrics.json").read_text())}
    for key, path in {
        "robustness": MODELS / "robustness.json",
        "photos": MODELS / "metrics_photos.json",
        "widerface": MODELS / "widerface_gender.json",
        "scorecard": MODELS / "scorecard.json",
        "scorecard_before": MODELS / "scorecard_0.1.0.json",
        "pose": MODELS / "pose.json",
    }.items():
        if path.is_file():
            found[key] = json.loads(path.read_text())
    if (MODELS / "history.csv").is_file():
        found["history"] = pd.read_csv(MODELS / "history.csv")
    return found


def content_key(data: bytes) -> str:
    return hashlib.sha1(data).hexdigest()


class _Recent(OrderedDict):
    """A dict that keeps its `size` most recently used entries."""

    def __init__(self, size: int):
        super().__init__()
        self.size = size

    def get(self, key, default=None):
        if key in self:
            self.move_to_end(key)
            return self[key]
        return default

    def put(self, key, value) -> None:
        self[key] = value
        while len(self) > self.size:
            self.popitem(last=False)


@st.cache_resource
def _caches() -> dict[str, _Recent]:
    return {"analyses": _Recent(CACHE_ENTRIES), "pages": _Recent(DISPLAY_ENTRIES)}


def cached_analysis(key: tuple):
    """The cached results for (content, settings...), or None; recently used entries stay."""
    return _caches()["analyses"].get(key)


def store_analysis(key: tuple, value) -> None:
    _caches()["analyses"].put(key, value)


@dataclass
class AnalysedImage:
    """An uploaded image's results (every page or frame) and its content key; `cached` if nothing was analysed."""

    data: bytes
    key: str
    results: list[ImageResult]
    cached: bool

    def pages(self) -> list[np.ndarray]:
        """Each page at most DISPLAY_WIDTH wide, for showing and drawing on (decoded again only if evicted)."""
        pages = _caches()["pages"].get(self.key)
        if pages is None:
            try:
                pages = [for_display(picture.pixels) for picture in iter_pictures(self.data, max_side=DISPLAY_WIDTH)]
            except ImageError:
                pages = []
            _caches()["pages"].put(self.key, pages)
        return pages

    def full_pages(self):
        """Each page at full resolution, decoded again one at a time (for downloads)."""
        return (picture.pixels for picture in iter_pictures(self.data))


def analyse_image(data: bytes, name: str, detector: str, flip: bool) -> AnalysedImage:
    """Every face down to the detector floor in an uploaded image (all pages/frames), cached per content and the
    settings that change detection or the model; thresholds and sizes are applied afterwards (`filtered`).

    The same decoding gives the pages' display copies (`AnalysedImage.pages`), so a large image is decoded once.
    """
    content = content_key(data)
    key = ("image", content, detector, flip)
    results = cached_analysis(key)
    cached = results is not None
    if not cached:
        model = estimator(detector).with_options(score_threshold=Estimator.DETECTOR_FLOOR, min_face=0, flip=flip)
        kept: list = []
        results = model.analyze_batch([data], sources=[name], keep=kept)
        _caches()["pages"].put(content, [for_display(p.pixels) for p in kept if p is not None])
        store_analysis(key, results)
    return AnalysedImage(data, content, [r if r.source == name else r.renamed(name) for r in results], cached)


def for_display(image: np.ndarray, width: int = DISPLAY_WIDTH) -> np.ndarray:
    """Downscale a large image for display only (detection always runs on the decoded image)."""
    if image.shape[1] <= width:
        return image
    height = round(image.shape[0] * width / image.shape[1])
    return cv2.resize(image, (width, height), interpolation=cv2.INTER_AREA)


def face_crops(image: np.ndarray, faces: list[Face], scale: float, size: int = 128) -> list[np.ndarray]:
    """Square crops around each face (a little context), from an image the faces map onto by `scale`."""
    crops, (h, w) = [], image.shape[:2]
    for face in faces:
        x1, y1, x2, y2 = (v * scale for v in face.box)
        half = max(x2 - x1, y2 - y1) * 0.65
        cx, cy = (x1 + x2) / 2, (y1 + y2) / 2
        box = [int(max(0, cx - half)), int(max(0, cy - half)), int(min(w, cx + half)), int(min(h, cy + half))]
        crop = image[box[1] : box[3], box[0] : box[2]]
        crops.append(cv2.resize(crop, (size, size), interpolation=cv2.INTER_AREA) if crop.size else crop)
    return crops
