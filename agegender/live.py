"""Live video: the per-stream frame callback used by the webcam page (tracking, smoothing, frame rate)."""

import threading
import time
from collections import deque

import av
import cv2
import numpy as np

from .estimator import Estimator
from .render import annotate
from .results import Face
from .video import VideoAnalyzer


class LiveAnnotator:
    """Callable on `av.VideoFrame`s: annotates tracked faces and keeps thread-safe statistics."""

    def __init__(self, estimator: Estimator, window: int = 30):
        self.analyzer = VideoAnalyzer(estimator)
        self._lock = threading.Lock()
        self._times: deque[float] = deque(maxlen=window)
        self.frames = 0
        self.faces: list[Face] = []
        self.error: str | None = None

    def process(self, image: np.ndarray) -> np.ndarray:
        """Annotated copy of one RGB frame, with the measured frame rate in its corner."""
        result = self.analyzer.process([image], [self.frames], "webcam")[0]
        with self._lock:
            self.frames += 1
            self._times.append(time.perf_counter())
            self.faces = result.faces
        out = annotate(image, result.faces)
        cv2.putText(out, f"{self.fps():.1f} fps", (8, 22), cv2.FONT_HERSHEY_SIMPLEX, 0.6, (255, 255, 0), 2, cv2.LINE_AA)
        return out

    def __call__(self, frame: av.VideoFrame) -> av.VideoFrame:
        """The WebRTC frame callback; a failure is kept in `error` and the frame passes through unchanged."""
        try:
            out = av.VideoFrame.from_ndarray(self.process(frame.to_ndarray(format="rgb24")), format="rgb24")
        except Exception as exc:  # the callback runs in a worker thread: keep the error for the page to show
            self.error = f"{type(exc).__name__}: {exc}"
            return frame
        out.pts, out.time_base = frame.pts, frame.time_base
        return out

    def fps(self) -> float:
        with self._lock:
            if len(self._times) < 2:
                return 0.0
            return (len(self._times) - 1) / max(self._times[-1] - self._times[0], 1e-9)

    def snapshot(self) -> tuple[int, float, list[Face]]:
        """(frames processed, frames per second, faces in the latest frame)."""
        fps = self.fps()
        with self._lock:
            return self.frames, fps, list(self.faces)
