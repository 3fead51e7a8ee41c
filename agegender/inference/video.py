"""Video files: reading frames (from a path or in-memory bytes), writing browser-playable H.264, and analysing
frames with face tracking. Decoding and encoding are FFmpeg's, through PyAV, with FFmpeg's own logging off."""

import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np

from .decode import file_problem
from .results import ImageResult
from .tracking import FaceTracker

VIDEO_EXTENSIONS = {".mp4", ".avi", ".mov", ".mkv", ".webm", ".m4v", ".mpg", ".mpeg", ".wmv", ".y4m", ".mjpeg"}
av.logging.set_level(None)


class VideoError(ValueError):
    """A video that cannot be opened or decoded: `source` names it, `reason` says why."""

    def __init__(self, source: str, reason: str):
        self.source, self.reason = source, reason
        super().__init__(f"{source}: {reason}" if source else reason)


@dataclass
class VideoInfo:
    """What a video's header says: frame rate, frame count (0 if unknown), size and duration in seconds."""

    fps: float
    frames: int
    width: int
    height: int
    seconds: float


def _name(src, name: str = "") -> str:
    return name or (str(src) if isinstance(src, str | Path) else "video")


def _reason(exc: Exception) -> str:
    return getattr(exc, "strerror", None) or str(exc)


def _open(src, name: str = ""):
    """A PyAV container and its video stream, from a path or bytes; VideoError if it is no readable video."""
    name = _name(src, name)
    if isinstance(src, str | Path):
        path = Path(src)
        problem = file_problem(path, "a video")
        if problem:
            raise VideoError(str(path), problem)
        source = str(path)
    elif isinstance(src, bytes | bytearray | memoryview):
        if not len(src):
            raise VideoError(name, "the file is empty")
        source = io.BytesIO(bytes(src))
    else:
        raise VideoError("", f"unsupported video input of type {type(src).__name__}: give a path or bytes")
    try:
        container = av.open(source)
    except (av.FFmpegError, OSError, ValueError) as exc:
        raise VideoError(name, f"not a readable video (corrupt, truncated or unsupported: {_reason(exc)})") from None
    if not container.streams.video:
        container.close()
        raise VideoError(name, "has no video stream")
    stream = container.streams.video[0]
    stream.thread_type = "AUTO"
    return container, stream


def video_info(src, name: str = "") -> VideoInfo:
    """The header figures of a video (path or bytes); VideoError, worded with `name`, if it cannot be opened."""
    container, stream = _open(src, name)
    with container:
        fps = float(stream.average_rate or stream.guessed_rate or 25.0)
        if stream.duration:
            seconds = float(stream.duration * stream.time_base)
        else:
            seconds = float(container.duration or 0) / 1e6
        frames = int(stream.frames or round(seconds * fps))
        return VideoInfo(fps, frames, stream.codec_context.width, stream.codec_context.height, seconds)


def read_frames(
    src, every: int = 1, max_frames: int | None = None, name: str = ""
) -> Iterator[tuple[int, np.ndarray]]:
    """(frame index, RGB frame) for every `every`-th frame of a video path or bytes.

    VideoError if not even the first frame decodes; a video truncated later yields the frames before the damage.
    """
    container, stream = _open(src, name)
    yielded = 0
    try:
        for index, frame in enumerate(container.decode(stream)):
            if max_frames is not None and yielded >= max_frames:
                break
            if index % every == 0:
                yield index, frame.to_ndarray(format="rgb24")
                yielded += 1
    except (av.FFmpegError, OSError) as exc:
        if yielded == 0:
            message = f"no frame could be decoded (corrupt or truncated video: {_reason(exc)})"
            raise VideoError(_name(src, name), message) from None
    finally:
        container.close()
    if yielded == 0:
        raise VideoError(_name(src, name), "no frame could be decoded (corrupt or truncated video)")


class VideoWriter:
    """Writes RGB frames as H.264 in MP4 (yuv420p, even sizes), which browsers play, to a path or a BytesIO.

    Files get their index first (`faststart`), so they play while still loading; cameras write it last.
    """

    def __init__(self, target, fps: float, faststart: bool = True):
        self.target, self.fps, self.faststart = target, fps, faststart
        self._container = self._stream = None

    def write(self, frame: np.ndarray) -> None:
        h, w = frame.shape[0] // 2 * 2, frame.shape[1] // 2 * 2
        if self._container is None:
            on_disk = isinstance(self.target, str | Path)
            options = {"movflags": "+faststart"} if on_disk and self.faststart else {}  # it reopens the file by name
            self._container = av.open(str(self.target) if on_disk else self.target, "w", format="mp4", options=options)
            self._stream = self._container.add_stream("libx264", rate=max(1, round(self.fps)))
            self._stream.width, self._stream.height, self._stream.pix_fmt = w, h, "yuv420p"
            self._stream.options = {"preset": "veryfast", "crf": "23"}
        image = av.VideoFrame.from_ndarray(np.ascontiguousarray(frame[:h, :w]), format="rgb24")
        for packet in self._stream.encode(image):
            self._container.mux(packet)

    def close(self) -> None:
        if self._container is not None:
            for packet in self._stream.encode():
                self._container.mux(packet)
            self._container.close()
            self._container = None

    def __enter__(self) -> "VideoWriter":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class VideoAnalyzer:
    """Runs an Estimator over consecutive frames, keeping face ids and smoothing their estimates."""

    def __init__(self, estimator, tracker: FaceTracker | None = None):
        self.estimator = estimator
        self.tracker = tracker or FaceTracker()

    def process(self, frames: list[np.ndarray], indices: list[int], source: str = "") -> list[ImageResult]:
        """Results for consecutive RGB frames; all their faces go through the model as one batch."""
        return self.estimator.analyze_batch(
            frames, sources=[source] * len(frames), frames=indices, tracker=self.tracker, errors="raise"
        )

    def run(
        self, src, source: str, every: int = 1, max_frames: int | None = None, chunk: int = 8
    ) -> Iterator[tuple[np.ndarray, ImageResult]]:
        """(frame, result) for every `every`-th frame of a video (path or bytes), analysed `chunk` frames at a time."""
        pending: list[tuple[int, np.ndarray]] = []
        for index, frame in read_frames(src, every, max_frames, source):
            pending.append((index, frame))
            if len(pending) == chunk:
                yield from self._flush(pending, source)
        if pending:
            yield from self._flush(pending, source)

    def _flush(self, pending: list, source: str) -> Iterator[tuple[np.ndarray, ImageResult]]:
        frames = [frame for _, frame in pending]
        results = self.process(frames, [index for index, _ in pending], source)
        pending.clear()
        yield from zip(frames, results, strict=True)
