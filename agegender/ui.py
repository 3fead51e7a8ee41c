"""Streamlit glue shared by the dashboard pages: cached resources, tables and downloads."""

import io
import json

import cv2
import numpy as np
import pandas as pd
import streamlit as st

# WebRTC's SRTP library must load before TensorFlow: importing it after TensorFlow's native libraries are
# loaded segfaults (measured: the webcam page crashed the server whenever a page using the model ran first).
import streamlit_webrtc  # noqa: F401, I001

from .batch import RowWriter
from .detect import Cascade, CenterFace, RetinaFace
from .estimator import Estimator
from .paths import MODEL_SPEC, MODELS
from .results import Face, ImageResult

DISPLAY_WIDTH = 1200
UPLOAD_TYPES = ["jpg", "jpeg", "png", "webp", "bmp", "tif", "tiff"]
PRIVACY = "Everything runs on this computer: images and video never leave it, and nothing you upload is stored."


DETECTOR_CHOICES = {
    Cascade.name: "Auto: fast, thorough where faces are small",
    RetinaFace.name: "RetinaFace: fast",
    CenterFace.name: "CenterFace: thorough (small and hard faces), slower",
}


@st.cache_resource(show_spinner="Loading the face detector and the age & gender model…")
def estimator(detector: str = Cascade.name) -> Estimator:
    """The Estimator of this process for a detector; they all share one loaded model."""
    if detector == Cascade.name:
        return Estimator()
    return estimator().with_options(detector=detector)


@st.cache_data
def model_metrics() -> dict:
    """The shipped model's test-set metrics (models/metrics.json) and its spec."""
    return {
        "metrics": json.loads((MODELS / "metrics.json").read_text()),
        "spec": json.loads(MODEL_SPEC.read_text()),
    }


def faces_table(faces: list[Face]) -> pd.DataFrame:
    """One row per face: the columns a person reads."""
    return pd.DataFrame(
        [
            {
                "face": f"#{f.track_id if f.track_id is not None else i}",
                "age": f"{f.age:.1f}",
                "90% interval": f"{f.age_low:.0f}–{f.age_high:.0f}",
                "age group": f.age_group,
                "gender": f.gender,
                "probability": f"{f.gender_probability:.0%}",
                "detector score": f"{f.detector_score:.2f}",
                "box (x1, y1, x2, y2)": ", ".join(f"{v:.0f}" for v in f.box),
            }
            for i, f in enumerate(faces, start=1)
        ]
    )


def for_display(image: np.ndarray, width: int = DISPLAY_WIDTH) -> np.ndarray:
    """Downscale a large image for display only (detection always runs at full size)."""
    if image.shape[1] <= width:
        return image
    height = round(image.shape[0] * width / image.shape[1])
    return cv2.resize(image, (width, height), interpolation=cv2.INTER_AREA)


def jpeg_bytes(image: np.ndarray) -> bytes:
    ok, buf = cv2.imencode(".jpg", cv2.cvtColor(image, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 92])
    return buf.tobytes() if ok else b""


def results_json(result: ImageResult) -> str:
    return json.dumps(result.rows(), indent=2)


def results_csv(result: ImageResult) -> str:
    buf = io.StringIO()
    RowWriter(buf, "csv").write(result)
    return buf.getvalue()
