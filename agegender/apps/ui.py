"""Streamlit glue shared by the dashboard pages: cached resources, per-file analysis cache, tables and texts."""

import ctypes
import hashlib
import json
from collections import OrderedDict
from dataclasses import dataclass

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
    """The shipped model's spec and measured results: test metrics, robustness, whole photos, training curves."""
    found = {"spec": json.loads(MODEL_SPEC.read_text()), "metrics": json.loads((MODELS / "metrics.json").read_text())}
    for key, path in {
        "robustness": MODELS / "robustness.json",
        "photos": MODELS / "metrics_photos.json",
        "widerface": MODELS / "widerface_gender.json",
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


def face_rows(faces: list[Face], file: str = "", page: int | None = None) -> list[dict]:
    """The columns a person reads, one dict per face; faces numbered left to right (or by track id)."""
    return [
        {
            "file": file,
            "page": None if page is None else page + 1,
            "face": f.track_id if f.track_id is not None else number,
            "age": round(f.age, 1),
            "90% interval": f"{f.age_low:.0f}–{f.age_high:.0f}",
            "age group": f.age_group,
            "gender": f.gender,
            "probability": round(f.gender_probability, 3),
            "detector score": round(f.detector_score, 2),
            "box (x1, y1, x2, y2)": ", ".join(f"{v:.0f}" for v in f.box),
        }
        for number, f in enumerate(faces, start=1)
    ]


def faces_table(results: list[ImageResult]) -> pd.DataFrame:
    """One row per face of the results (the page column only where a file has pages or frames)."""
    table = pd.DataFrame([row for r in results for row in face_rows(r.faces, r.source, r.frame)])
    if len(table) and table["page"].isna().all():
        table = table.drop(columns="page")
    return table


def live_table(faces: list[Face]) -> pd.DataFrame:
    """The faces of the latest webcam frame, compact, with formatted numbers."""
    table = pd.DataFrame(face_rows(faces)).drop(columns=["file", "page", "detector score", "box (x1, y1, x2, y2)"])
    return table.assign(age=table["age"].map("{:.1f}".format), probability=table["probability"].map("{:.0%}".format))


FACE_COLUMNS = {
    "file": st.column_config.TextColumn("File"),
    "page": st.column_config.NumberColumn("Page", help="Page of a multi-page TIFF, or frame of an animated GIF"),
    "face": st.column_config.NumberColumn("Face", help="Numbered left to right"),
    "age": st.column_config.NumberColumn("Age", format="%.1f"),
    "90% interval": st.column_config.TextColumn("90% interval"),
    "age group": st.column_config.TextColumn("Age group"),
    "gender": st.column_config.TextColumn("Gender"),
    "probability": st.column_config.ProgressColumn(
        "Gender probability", min_value=0.0, max_value=1.0, format="percent"
    ),
    "detector score": st.column_config.NumberColumn("Detector score", format="%.2f"),
    "box (x1, y1, x2, y2)": st.column_config.TextColumn("Box (x1, y1, x2, y2)"),
}


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
