"""Live video: the webcam page's WebRTC frame callback, which never waits for the model.

The callback hands each frame to one analysis thread and returns at once with the latest analysed faces drawn
on it. A frame the thread has not started on is replaced by the next one (stale frames are dropped, never
queued), so under CPU load the video keeps flowing and only the analysis rate falls. On Linux the thread runs
at a lower priority than the media threads, so decoding and encoding the stream come first.

Live analysis is set for speed (bench/webcam_speed.py): RetinaFace searches a copy of at most `DETECT_SIDE`
pixels (webcam faces are large; a face 32 px wide in a 640x480 frame is still found), and there is no flip
test-time augmentation, since the tracker already smooths each face's age and gender over many frames.

The tracker recognises a face it has seen before in the session (by its descriptor), so a person who turns away or
leaves and comes back keeps their number; `people()` lists everyone seen so far.
"""

import os
import sys
import threading
import time
from collections import deque
from dataclasses import dataclass

import av
import numpy as np

from ..inference.estimator import Estimator
from ..inference.render import annotate
from ..inference.results import Face
from ..inference.tracking import FaceTracker
from ..inference.video import VideoAnalyzer

ANALYSIS_NICENESS = 5
DETECT_SIDE = 320
REFRESH = 60  # analysed frames between checks of a tracked face's descriptor (about 2 s live; new faces at once)
SHOWN_WIDTH = 560  # the webcam page shows the video about this wide (three fifths of its main column)
IN_VIEW_GAP = 1.0  # seconds between two sightings that still count as one stretch in view
MIN_SIGHTINGS = 3  # analysed frames a face must be in before it is listed as a person


@dataclass
class Seen:
    """A person seen this session: their latest face, a crop of their largest sighting, and the seconds they were
    in view (`seconds`) and since they were first seen (`first`, time.monotonic)."""

    number: int
    face: Face
    thumbnail: np.ndarray
    first: float
    last: float
    seconds: float = 0.0
    sightings: int = 1


def _crop(image: np.ndarray, face: Face) -> np.ndarray:
    """The face's box with a margin, as a copy."""
    x1, y1, x2, y2 = face.box
    margin = 0.3 * (x2 - x1)
    h, w = image.shape[:2]
    top, left = int(max(0, y1 - margin)), int(max(0, x1 - margin))
    return image[top : int(min(h, y2 + margin)), left : int(min(w, x2 + margin))].copy()


def live_estimator(estimator: Estimator) -> Estimator:
    """`estimator`'s model and filters with the live settings: RetinaFace at `DETECT_SIDE`, no flip, and the
    model's `live` serving where it has one and `estimator` serves the whole combination (the descriptor's gender
    would cost the webcam its frame rate: bench/webcam_speed.py)."""
    serving = "live" if estimator.serving == "combined" and "live" in estimator.spec.combiners else None
    return estimator.with_options(detector="retinaface", max_side=DETECT_SIDE, flip=False, serving=serving)


class LiveAnnotator:
    """Callable on `av.VideoFrame`s: annotates tracked faces and keeps thread-safe statistics.

    Uses `estimator` with the live settings (`live_estimator`).
    """

    def __init__(self, estimator: Estimator, window: int = 30):
        self.estimator = live_estimator(estimator)
        self._lock = threading.Condition()
        self._times: deque[float] = deque(maxlen=window)
        self._pending: np.ndarray | None = None
        self._worker: threading.Thread | None = None
        self._stopping = False
        self._reset()

    def _reset(self) -> None:
        """A new session: a fresh tracker (numbers from 1 again) and counters from zero."""
        self.analyzer = VideoAnalyzer(self.estimator, FaceTracker(refresh=REFRESH, threads=self.estimator.threads))
        self._times.clear()
        self.frames = 0  # frames analysed
        self.received = 0  # frames the stream delivered
        self.last_received = 0.0
        self.first_analysed: float | None = None
        self.tracks: set[int] = set()  # track ids seen this session
        self.faces: list[Face] = []
        self.error: str | None = None
        self._seen: dict[int, Seen] = {}

    def process(self, image: np.ndarray) -> np.ndarray:
        """Analyse one RGB frame now (tracking and smoothing) and return it annotated, with the analysis rate."""
        return self._drawn(image, self._analyse(image))

    def _drawn(self, image: np.ndarray, faces: list[Face]) -> np.ndarray:
        return annotate(image, faces, note=f"{self.fps():.1f} fps", display_width=SHOWN_WIDTH)

    def _analyse(self, image: np.ndarray) -> list[Face]:
        result = self.analyzer.process([image], [self.frames], "webcam")[0]
        with self._lock:
            self.frames += 1
            self._times.append(time.perf_counter())
            self.first_analysed = self.first_analysed or self._times[-1]
            self.faces = result.faces
            self.tracks |= {f.track_id for f in result.faces if f.track_id is not None}
            self._remember(image, result.faces)
        return result.faces

    def _remember(self, image: np.ndarray, faces: list[Face]) -> None:
        now = time.monotonic()
        for face in faces:
            seen = self._seen.get(face.track_id)
            if seen is None:
                self._seen[face.track_id] = Seen(face.track_id, face, _crop(image, face), now, now)
                continue
            if now - seen.last <= IN_VIEW_GAP:
                seen.seconds += now - seen.last
            if face.width > seen.face.width:
                seen.thumbnail = _crop(image, face)
            seen.face, seen.last, seen.sightings = face, now, seen.sightings + 1

    def people(self) -> list[Seen]:
        """Everyone seen so far this session (in at least MIN_SIGHTINGS analysed frames), by number."""
        with self._lock:
            return [s for _, s in sorted(self._seen.items()) if s.sightings >= MIN_SIGHTINGS]

    def _run(self) -> None:
        if sys.platform == "linux":
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), ANALYSIS_NICENESS)
        while True:
            with self._lock:
                while self._pending is None and not self._stopping:
                    self._lock.wait()
                if self._stopping:
                    return
                image, self._pending = self._pending, None
            try:
                self._analyse(image)
            except Exception as exc:  # the page shows it; the stream goes on
                self.error = f"{type(exc).__name__}: {exc}"

    def __call__(self, frame: av.VideoFrame) -> av.VideoFrame:
        """The WebRTC frame callback: queue the frame for analysis (replacing a stale one) and draw the latest faces.
        The first frame after `stop` starts a new session."""
        image = frame.to_ndarray(format="rgb24")
        with self._lock:
            if self._worker is None:
                self._reset()
                self._stopping = False
                self._worker = threading.Thread(target=self._run, name="agegender-live", daemon=True)
                self._worker.start()
            self.received += 1
            self.last_received = time.monotonic()
            self._pending = image
            self._lock.notify()
            faces = list(self.faces)
        out = av.VideoFrame.from_ndarray(self._drawn(image, faces), format="rgb24")
        out.pts, out.time_base = frame.pts, frame.time_base
        return out

    def stop(self) -> None:
        """End the analysis thread and the session; its figures stay until the next frame starts a new one."""
        with self._lock:
            worker, self._worker, self._stopping, self._pending = self._worker, None, True, None
            self._lock.notify()
        if worker is not None:
            worker.join(timeout=10)

    def fps(self) -> float:
        """Frames analysed per second over the last `window` analyses."""
        with self._lock:
            if len(self._times) < 2:
                return 0.0
            return (len(self._times) - 1) / max(self._times[-1] - self._times[0], 1e-9)

    def snapshot(self) -> tuple[int, float, list[Face]]:
        """(frames analysed, analysed frames per second, faces in the latest analysed frame)."""
        fps = self.fps()
        with self._lock:
            return self.frames, fps, list(self.faces)

    def summary(self) -> tuple[int, int, int, float]:
        """The session's (people seen: tracks, frames analysed, frames received, analysed frames per second)."""
        with self._lock:
            seconds = self._times[-1] - self.first_analysed if self.frames > 1 else 0.0
            fps = (self.frames - 1) / seconds if seconds > 0 else 0.0
            return len(self.tracks), self.frames, self.received, fps

    def seconds_since_frame(self) -> float | None:
        """Seconds since the stream last delivered a frame (None before the first)."""
        return time.monotonic() - self.last_received if self.received else None
