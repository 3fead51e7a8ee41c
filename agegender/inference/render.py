"""Drawing results onto images: boxes, landmarks and a caption per face, in a font that ships with Pillow."""

from functools import lru_cache

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from .results import Face

COLOURS = {"female": (214, 39, 140), "male": (31, 119, 220)}


@lru_cache(maxsize=32)
def font(size: int) -> ImageFont.FreeTypeFont:
    """Pillow's bundled TrueType font (Aileron Regular) at a pixel size: no font file is looked for or fetched."""
    return ImageFont.load_default(size=size)


def caption(face: Face, number: int | None = None) -> str:
    """`#2 34±4 F 97%`: face number (or track id), age ± spread, gender and its probability."""
    tag = f"#{face.track_id}" if face.track_id is not None else (f"#{number}" if number is not None else "")
    gender = "F" if face.gender == "female" else "M"
    return f"{tag} {face.age:.0f}±{face.age_std:.0f} {gender} {face.gender_probability:.0%}".strip()


def annotate(
    image: np.ndarray, faces: list[Face], landmarks: bool = True, scale: float = 1.0, note: str | None = None
) -> np.ndarray:
    """A copy of an RGB image with each face's box, landmarks and caption drawn on it, and `note` top left.

    `scale` maps the faces' coordinates onto this image (for a copy decoded or shown at another size).
    Text is sized to the image (about 1/45 of its larger side, at least 12 px).
    """
    out = np.ascontiguousarray(image.copy())
    h, w = out.shape[:2]
    thickness = max(1, round(max(h, w) / 500))
    boxes = [tuple(int(round(v * scale)) for v in face.box) for face in faces]
    for face, (x1, y1, x2, y2) in zip(faces, boxes, strict=True):
        cv2.rectangle(out, (x1, y1), (x2, y2), COLOURS.get(face.gender, (255, 255, 255)), thickness, cv2.LINE_AA)
        if landmarks:
            for x, y in face.landmarks:
                centre = (int(round(x * scale)), int(round(y * scale)))
                cv2.circle(out, centre, thickness + 1, (255, 255, 0), -1, cv2.LINE_AA)
    if not faces and not note:
        return out
    canvas = Image.fromarray(out)
    draw = ImageDraw.Draw(canvas)
    text_font = font(max(12, round(max(h, w) / 45)))
    labels = [(caption(face, number), box, COLOURS.get(face.gender, (90, 90, 90)))
              for number, (face, box) in enumerate(zip(faces, boxes, strict=True), start=1)]
    if note:
        labels.append((note, (0, 0, 0, 0), (0, 0, 0)))
    pad = max(2, text_font.size // 6)
    for text, (x1, y1, _, y2), colour in labels:
        left, top, right, bottom = draw.textbbox((0, 0), text, font=text_font)
        tw, th = right - left + 2 * pad, bottom - top + 2 * pad
        ty = y1 - th if y1 - th >= 0 else min(y2, h - th)
        tx = min(max(0, x1), max(0, w - tw))
        draw.rectangle((tx, ty, tx + tw, ty + th), fill=colour)
        draw.text((tx + pad - left, ty + pad - top), text, font=text_font, fill=(255, 255, 255))
    return np.asarray(canvas)
