"""Faces as the pages show them: the table's rows and columns, gallery captions, the legend, and the filters."""

from dataclasses import dataclass

import pandas as pd
import streamlit as st

from ..inference.render import UNSURE, gender_text
from ..inference.results import Face, ImageResult, numbered

LEGEND = (
    "**How to read the results.** `34±4`: the apparent age in years, ± its spread (one standard deviation of "
    "the estimate). **90% interval** `28–41`: the true age lies in it for nine faces in ten. `F 97%` (female) or "
    f"`M 97%` (male): the gender and the model's probability for it (50% is a coin toss); a `?` after it (`F?`) "
    f"means under {UNSURE:.0%}, so treat it as a guess; `?` or **unknown** alone means the model does not say. "
    "Faces are numbered left to right, the same on the images, in the table and in the downloads; on a crowded "
    "image only the numbers are drawn."
)


def face_rows(faces: list[Face], file: str = "", page: int | None = None, numbers: list[int] | None = None
              ) -> list[dict]:
    """The columns a person reads, one dict per face: its number as in the rows (or its track id), the gender as
    every page shows it (`gender_text`)."""
    numbers = numbers or [n for n, _ in numbered(faces)]
    return [
        {
            "file": file,
            "page": None if page is None else page + 1,
            "face": f.track_id if f.track_id is not None else number,
            "age": round(f.age, 1),
            "90% interval": f"{f.age_low:.0f}–{f.age_high:.0f}",
            "age group": f.age_group,
            "gender": gender_text(f.gender, f.gender_probability),
            "probability": round(f.gender_probability, 3),
            "detector score": round(f.detector_score, 2),
            "box (x1, y1, x2, y2)": ", ".join(f"{v:.0f}" for v in f.box),
        }
        for number, f in zip(numbers, faces, strict=True)
    ]


def faces_table(results: list[ImageResult], keep=None) -> pd.DataFrame:
    """One row per face of the results, or of the faces `keep(result)` gives as (number, face) pairs (the page
    column only where a file has pages or frames)."""
    kept = [(r, keep(r) if keep else numbered(r.faces)) for r in results]
    table = pd.DataFrame([row for r, pairs in kept for row in face_rows([f for _, f in pairs], r.source, r.frame,
                                                                         [n for n, _ in pairs])])
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
    "face": st.column_config.NumberColumn("Face", help="Numbered left to right, as on the images and in the downloads"),
    "age": st.column_config.NumberColumn("Age", format="%.1f"),
    "90% interval": st.column_config.TextColumn("90% interval"),
    "age group": st.column_config.TextColumn("Age group"),
    "gender": st.column_config.TextColumn("Gender", help=f"With a ? where the model is less than {UNSURE:.0%} sure"),
    "probability": st.column_config.ProgressColumn("Gender probability", min_value=0.0, max_value=1.0,
                                                   format="percent", help="The probability of the gender shown"),
    "detector score": st.column_config.NumberColumn("Detector score", format="%.2f"),
    "box (x1, y1, x2, y2)": st.column_config.TextColumn("Box (x1, y1, x2, y2)"),
}


def gender_with_probability(face: Face) -> str:
    """`female 97%`, `female? 58%` or `unknown`, as the pages write a face's gender in words."""
    gender = gender_text(face.gender, face.gender_probability)
    return gender if face.gender == "unknown" else f"{gender} {face.gender_probability:.0%}"


def gallery_caption(number: int, face: Face) -> str:
    """`#2 · 34 ± 4 · female 97%`: a face's number (as on the image and in the rows) and its estimates."""
    return f"#{number} · {face.age:.0f} ± {face.age_std:.0f} · {gender_with_probability(face)}"


@dataclass(frozen=True)
class Selection:
    """Filters on the faces: genders (the model's answer), an age range and files (none chosen: all). Whatever a page
    shows and offers for download goes through one selection, with each face keeping its number."""

    genders: tuple[str, ...] = ("female", "male", "unknown")
    ages: tuple[float, float] = (0, 200)
    files: tuple[str, ...] = ()

    def keeps_file(self, result: ImageResult) -> bool:
        return not self.files or result.source in self.files

    def faces(self, result: ImageResult) -> list[tuple[int, Face]]:
        """The (number, face) pairs of a result that the filters keep."""
        lo, hi = self.ages
        return [(n, f) for n, f in numbered(result.faces) if f.gender in self.genders and lo <= round(f.age, 1) <= hi]

    def results(self, results: list[ImageResult]) -> list[ImageResult]:
        return [r for r in results if self.keeps_file(r)]

    def rows(self, results: list[ImageResult]) -> list[dict]:
        """The download rows of the kept files: kept faces, and the rows of images without faces or unreadable."""
        kept = []
        for result in self.results(results):
            numbers = {n for n, _ in self.faces(result)}
            kept += [row for row in result.rows() if row["face"] is None or row["face"] in numbers]
        return kept
