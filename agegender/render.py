"""Drawing results onto images: boxes, landmarks and a caption per face."""

import cv2
import numpy as np

from .results import Face

COLOURS = {"female": (214, 39, 140), "male": (31, 119, 220)}


def caption(face: Face, number: int | None = None) -> str:
    """`#2 34±4 F 97%`: face number (or track id), age ± spread, gender and its probability."""
    tag = f"#{face.track_id}" if face.track_id is not None else (f"#{number}" if number is not None else "")
    gender = "F" if face.gender == "female" else "M"
    return f"{tag} {face.age:.0f}+-{face.age_std:.0f} {gender} {face.gender_probability:.0%}".strip()


def annotate(image: np.ndarray, faces: list[Face], landmarks: bool = True) -> np.ndarray:
    """A copy of an RGB image with each face's box, landmarks and caption drawn on it."""
    out = np.ascontiguousarray(image.copy())
    h, w = out.shape[:2]
    thickness = max(1, round(max(h, w) / 500))
    scale = max(0.4, max(h, w) / 1400)
    for number, face in enumerate(faces, start=1):
        colour = COLOURS.get(face.gender, (255, 255, 255))
        x1, y1, x2, y2 = (int(round(v)) for v in face.box)
        cv2.rectangle(out, (x1, y1), (x2, y2), colour, thickness, cv2.LINE_AA)
        if landmarks:
            for x, y in face.landmarks:
                cv2.circle(out, (int(round(x)), int(round(y))), thickness + 1, (255, 255, 0), -1, cv2.LINE_AA)
        text = caption(face, number)
        (tw, th), base = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, thickness)
        top = y1 - th - base - 4 if y1 - th - base - 4 >= 0 else min(y2 + 2, h - th - base - 2)
        cv2.rectangle(out, (x1, top), (x1 + tw + 4, top + th + base + 4), colour, -1)
        cv2.putText(
            out, text, (x1 + 2, top + th + 2), cv2.FONT_HERSHEY_SIMPLEX, scale, (255, 255, 255), thickness, cv2.LINE_AA
        )
    return out
