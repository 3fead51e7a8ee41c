"""Synthetic test media: video clips made from a still photo with small camera jitter."""

from pathlib import Path

import cv2
import numpy as np

from ..inference.video import VideoWriter


def jitter_frames(image: np.ndarray, n: int, size=(640, 480), jitter_px: float = 3.0, seed: int = 0):
    """n RGB frames of `size` (w, h): the image fitted into the frame, shifted and scaled by a few pixels each frame."""
    w, h = size
    scale = min(w / image.shape[1], h / image.shape[0])
    rng = np.random.default_rng(seed)
    for _ in range(n):
        dx, dy = rng.normal(0, jitter_px, 2)
        s = scale * (1 + rng.normal(0, jitter_px / 400))
        m = np.array([[s, 0, (w - image.shape[1] * s) / 2 + dx], [0, s, (h - image.shape[0] * s) / 2 + dy]])
        yield cv2.warpAffine(image, m, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


def write_mp4(frames, path, fps: float = 30.0) -> Path:
    """Write RGB frames as an H.264 MP4 video with its index at the end, as cameras write them."""
    with VideoWriter(path, fps, faststart=False) as writer:
        for frame in frames:
            writer.write(frame)
    return Path(path)


def write_y4m(frames, path, fps: int = 30) -> Path:
    """Write RGB frames as a YUV4MPEG2 (4:2:0) file, the format Chromium's fake camera reads."""
    path = Path(path)
    with open(path, "wb") as fh:
        for i, frame in enumerate(frames):
            h, w = frame.shape[:2]
            if i == 0:
                fh.write(f"YUV4MPEG2 W{w} H{h} F{fps}:1 Ip A1:1 C420jpeg\n".encode())
            fh.write(b"FRAME\n")
            fh.write(cv2.cvtColor(frame, cv2.COLOR_RGB2YUV_I420).tobytes())
    return path


def head_crops(portraits: list[np.ndarray], boxes: list[np.ndarray], margin: float = 1.0) -> list[np.ndarray]:
    """Square crops around one face box per portrait, `margin` box-widths of context on each side."""
    crops = []
    for image, (x1, y1, x2, y2) in zip(portraits, boxes, strict=True):
        cx, cy, half = (x1 + x2) / 2, (y1 + y2) / 2, (x2 - x1) * (0.5 + margin)
        m = np.array([[1.0, 0, half - cx], [0, 1.0, half - cy]])
        side = int(round(2 * half))
        crops.append(cv2.warpAffine(image, m, (side, side), borderMode=cv2.BORDER_REPLICATE))
    return crops


def face_canvas(crops: list[np.ndarray], n_faces: int, size=(640, 480), background: int = 200) -> np.ndarray:
    """An RGB canvas of `size` (w, h) with n_faces head crops laid out on a grid (crops reused in turn)."""
    w, h = size
    cols = int(np.ceil(np.sqrt(n_faces * w / h)))
    rows = int(np.ceil(n_faces / cols))
    cell = min(w // cols, h // rows)
    canvas = np.full((h, w, 3), background, np.uint8)
    for i in range(n_faces):
        r, c = divmod(i, cols)
        tile = cv2.resize(crops[i % len(crops)], (cell, cell), interpolation=cv2.INTER_AREA)
        y0 = (h - rows * cell) // 2 + r * cell
        x0 = (w - cols * cell) // 2 + c * cell
        canvas[y0 : y0 + cell, x0 : x0 + cell] = tile
    return canvas
