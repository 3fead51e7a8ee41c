"""Alignment: warp each detected face onto the UTKFace chip geometry the model was trained on."""

import cv2
import numpy as np

CHIP_SIZE = 200
LANDMARK_ORDER = ("eye (image left)", "eye (image right)", "nose", "mouth (image left)", "mouth (image right)")

def similarity(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """Least-squares similarity transform (rotation, uniform scale, shift) taking src points to dst, as 2x3."""
    src, dst = np.asarray(src, np.float64), np.asarray(dst, np.float64)
    mu_s, mu_d = src.mean(axis=0), dst.mean(axis=0)
    s, d = src - mu_s, dst - mu_d
    a = (s * d).sum() / (s**2).sum()
    b = (s[:, 0] * d[:, 1] - s[:, 1] * d[:, 0]).sum() / (s**2).sum()
    rot = np.array([[a, -b], [b, a]])
    return np.hstack([rot, (mu_d - rot @ mu_s)[:, None]])


def _warp(image: np.ndarray, m: np.ndarray, size: int) -> np.ndarray:
    scale = float(np.sqrt(abs(np.linalg.det(m[:, :2]))))
    if scale < 0.75:
        # Downscale the face's region with area interpolation first, so the warp does not alias.
        inverse = cv2.invertAffineTransform(m)
        corners = np.array([[0, 0, 1], [size, 0, 1], [0, size, 1], [size, size, 1]], np.float64) @ inverse.T
        h, w = image.shape[:2]
        x0, y0 = np.clip(np.floor(corners.min(axis=0)).astype(int) - 2, 0, [w - 1, h - 1])
        x1, y1 = np.clip(np.ceil(corners.max(axis=0)).astype(int) + 2, [x0 + 1, y0 + 1], [w, h])
        crop = image[y0:y1, x0:x1]
        cw, ch = max(1, round((x1 - x0) * scale)), max(1, round((y1 - y0) * scale))
        image = cv2.resize(crop, (cw, ch), interpolation=cv2.INTER_AREA)
        to_source = np.array([[(x1 - x0) / cw, 0, x0], [0, (y1 - y0) / ch, y0], [0, 0, 1]], np.float64)
        m = m @ to_source
    return cv2.warpAffine(image, m, (size, size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT_101)


def align_faces(
    image: np.ndarray,
    landmarks: np.ndarray,
    size: int,
    template: np.ndarray,
    chip_size: int = CHIP_SIZE,
) -> np.ndarray:
    """Chips [N, size, size, 3] for the faces whose 5 landmarks are given ([N, 5, 2] image pixels).

    `template` is where the detector that found them puts the landmarks on a `chip_size` chip
    (`Detections.chip_template`).
    """
    target = np.asarray(template, np.float64) * (size / chip_size)
    chips = [_warp(image, similarity(points, target), size) for points in np.asarray(landmarks)]
    return np.stack(chips) if chips else np.zeros((0, size, size, 3), np.uint8)
