"""Drawing results onto images, sized for the width at which the image is shown.

Text, lines and landmark dots are sized in screen pixels: `display_width` is the width the image is shown at
(a page column, a video player), so a label is as readable on a 224 px portrait shown at 300 px as on a 4000 px
photo shown at 1000 px. Each face gets `#2 34±4 F 97%`, unless such labels would overlap (a crowd): then each face
gets only its number, placed where it overlaps no other number, and the rest is in the table and gallery.
Landmarks are drawn only on faces large enough on screen to show them. Fonts ship with Pillow.
"""

from dataclasses import dataclass
from functools import lru_cache

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from .results import Face, numbered

TEXT_PX = 18  # label font size on screen: its digits are 13 px tall
LINE_PX = 2  # box lines on screen
DOT_PX = 2  # landmark dot radius on screen
LANDMARK_FACE_PX = 64  # landmarks only on faces at least this wide on screen
DISPLAY_WIDTH = 1000  # the width an image is assumed to be shown at when not said (a page or a viewer)
UNSURE = 0.65  # a gender with a lower probability is shown with a "?" (until the model abstains itself)
COLOURS = {"female": (214, 39, 140), "male": (31, 119, 220)}
NEUTRAL = (96, 96, 96)  # unknown or uncertain gender, and notes
TEXT = (255, 255, 255)


@lru_cache(maxsize=64)
def font(size: int) -> ImageFont.FreeTypeFont:
    """Pillow's bundled TrueType font (Aileron Regular) at a pixel size: no font file is looked for or fetched."""
    return ImageFont.load_default(size=size)


def gender_text(gender: str, probability: float, short: bool = False) -> str:
    """How a gender is shown on every page and image: `female` (or `F`); `female?` (`F?`) when its probability is
    under UNSURE; `unknown` (`?`) when the model abstained. Downloads keep the model's own `gender`."""
    if gender not in COLOURS:
        return "?" if short else "unknown"
    return (gender[0].upper() if short else gender) + ("?" if probability < UNSURE else "")


def colour(face: Face) -> tuple[int, int, int]:
    """The face's gender colour, grey where the gender is unknown or uncertain."""
    sure = face.gender in COLOURS and face.gender_probability >= UNSURE
    return COLOURS[face.gender] if sure else NEUTRAL


def caption(face: Face, number: int | None = None) -> str:
    """`#2 34±4 F 97%`: face number (or track id), age ± spread, gender and its probability (`?` if unknown)."""
    tag = f"#{face.track_id}" if face.track_id is not None else (f"#{number}" if number is not None else "")
    gender = gender_text(face.gender, face.gender_probability, short=True)
    probability = "" if face.gender not in COLOURS else f" {face.gender_probability:.0%}"
    return f"{tag} {face.age:.0f}±{face.age_std:.0f} {gender}{probability}".strip()


@dataclass
class Label:
    """A filled box of text on the image; `rect` is (x0, y0, x1, y1) in the image's pixels."""

    text: str
    rect: tuple[int, int, int, int]
    colour: tuple[int, int, int]


@dataclass
class Layout:
    """Where everything goes on one image, in its pixels; `ratio` is image pixels per screen pixel."""

    labels: list[Label]
    boxes: list[tuple[int, int, int, int]]
    font_size: int
    thickness: int
    compact: bool
    ratio: float


def overlap(a: tuple, b: tuple) -> int:
    """The area two rectangles (x0, y0, x1, y1) share."""
    return max(0, min(a[2], b[2]) - max(a[0], b[0])) * max(0, min(a[3], b[3]) - max(a[1], b[1]))


def _sized(text: str, size: int) -> tuple[int, int]:
    left, top, right, bottom = font(size).getbbox(text)
    pad = max(2, size // 6)
    return right - left + 2 * pad, bottom - top + 2 * pad


def _inside(x: float, y: float, w: int, h: int, size: tuple[int, int]) -> tuple[int, int, int, int]:
    x, y = int(min(max(0, x), max(0, size[0] - w))), int(min(max(0, y), max(0, size[1] - h)))
    return x, y, x + w, y + h


def _full(texts: list[str], boxes: list, size: tuple[int, int], font_size: int) -> list[tuple]:
    """Each caption above its box, or below it where there is no room above."""
    rects = []
    for text, (x1, y1, _, y2) in zip(texts, boxes, strict=True):
        w, h = _sized(text, font_size)
        rects.append(_inside(x1, y1 - h if y1 - h >= 0 else y2, w, h, size))
    return rects


def _compact(texts: list[str], boxes: list, size: tuple[int, int], font_size: int) -> list[tuple]:
    """Each number on its face's top edge, or the nearest place on or around the box that no number placed before
    overlaps (the least overlapped one where none is free)."""
    rects: list[tuple] = []
    for text, (x1, y1, x2, y2) in zip(texts, boxes, strict=True):
        w, h = _sized(text, font_size)
        cx, cy = (x1 + x2 - w) / 2, (y1 + y2 - h) / 2
        spots = [(cx, y1 - h / 2), (cx, cy), (cx, y1 - h), (cx, y2), (x1 - w, cy), (x2, cy), (x1 - w, y1 - h),
                 (x2, y1 - h), (x1 - w, y2), (x2, y2), (cx, y1 - 2 * h), (cx, y2 + h)]
        candidates = [_inside(x, y, w, h, size) for x, y in spots]
        rects.append(min(candidates, key=lambda r: sum(overlap(r, other) for other in rects)))
    return rects


def _overlapping(rects: list[tuple]) -> bool:
    return any(overlap(a, b) for i, a in enumerate(rects) for b in rects[i + 1 :])


def layout(faces: list[Face], size: tuple[int, int], scale: float = 1.0, display_width: float | None = None,
           numbers: list[int] | None = None, note: str | None = None) -> Layout:
    """Boxes and labels for faces on an image of `size` (width, height) shown `display_width` wide."""
    ratio = size[0] / (display_width or min(size[0], DISPLAY_WIDTH))
    font_size = max(1, round(TEXT_PX * ratio))
    boxes = [tuple(int(round(v * scale)) for v in face.box) for face in faces]
    numbers = numbers or [n for n, _ in numbered(faces)]
    texts = [caption(face, n) for face, n in zip(faces, numbers, strict=True)]
    rects = _full(texts, boxes, size, font_size)
    compact = _overlapping(rects)
    if compact:
        texts = [str(n if face.track_id is None else face.track_id) for face, n in zip(faces, numbers, strict=True)]
        rects = _compact(texts, boxes, size, font_size)
    labels = [Label(t, r, colour(f)) for t, r, f in zip(texts, rects, faces, strict=True)]
    if note:
        labels.append(Label(note, _inside(0, 0, *_sized(note, font_size), size), NEUTRAL))
    return Layout(labels, boxes, font_size, max(1, round(LINE_PX * ratio)), compact, ratio)


def annotate(image: np.ndarray, faces: list[Face], landmarks: bool = True, scale: float = 1.0,
             note: str | None = None, display_width: float | None = None,
             numbers: list[int] | None = None) -> np.ndarray:
    """A copy of an RGB image with each face's box, landmarks (if asked and large enough) and label, `note` top left.

    `scale` maps the faces' coordinates onto this image (a copy decoded or shown at another size);
    `display_width` is the width it will be shown at (default: its width, at most DISPLAY_WIDTH); `numbers` the
    faces' numbers where they are a selection (default 1, 2, ... in order).
    """
    out = np.ascontiguousarray(image.copy())
    plan = layout(faces, (out.shape[1], out.shape[0]), scale, display_width, numbers, note)
    dot = max(1, round(DOT_PX * plan.ratio))
    for face, box in zip(faces, plan.boxes, strict=True):
        cv2.rectangle(out, box[:2], box[2:], colour(face), plan.thickness, cv2.LINE_AA)
        if landmarks and (box[2] - box[0]) >= LANDMARK_FACE_PX * plan.ratio:
            for x, y in face.landmarks:
                cv2.circle(out, (int(round(x * scale)), int(round(y * scale))), dot, (255, 255, 0), -1, cv2.LINE_AA)
    if not plan.labels:
        return out
    canvas = Image.fromarray(out)
    draw, text_font = ImageDraw.Draw(canvas), font(plan.font_size)
    for label in plan.labels:
        x0, y0, x1, y1 = label.rect
        left, top, right, bottom = text_font.getbbox(label.text)
        draw.rectangle((x0, y0, x1 - 1, y1 - 1), fill=label.colour)
        draw.text(((x0 + x1 - right - left) / 2, (y0 + y1 - bottom - top) / 2), label.text, font=text_font, fill=TEXT)
    return np.asarray(canvas)
