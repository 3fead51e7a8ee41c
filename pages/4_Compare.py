"""Compare page: predictions on sample photos beside what is known about them."""

import json

import pandas as pd
import streamlit as st

from agegender import ui
from agegender.imageio import ImageError, read_image
from agegender.paths import SAMPLES
from agegender.render import annotate

st.set_page_config(page_title="Compare · agegender", page_icon="🔍", layout="wide")
st.title("Compare predictions with known facts")
st.caption(
    "Public-domain and CC0 photos shipped with agegender (see agegender/samples/SOURCES.md), plus any "
    "you add. " + ui.PRIVACY
)


@st.cache_data(show_spinner="Analysing the sample photos…")
def sample_rows() -> list[dict]:
    known = json.loads((SAMPLES / "known.json").read_text())
    images = [read_image(SAMPLES / name) for name in known]
    results = ui.estimator().analyze_batch(images)
    return [
        {"name": name, "facts": facts, "image": ui.for_display(annotate(image, r.faces), 360), "faces": r.faces}
        for (name, facts), image, r in zip(known.items(), images, results, strict=True)
    ]


def compare_row(name: str, facts: dict, faces) -> dict:
    face = max(faces, key=lambda f: f.width) if faces else None
    row = {"photo": name, "known age": facts.get("age_note", facts.get("age")), "known gender": facts.get("gender")}
    if face is None:
        return {**row, "predicted age": None, "90% interval": None, "predicted gender": "no face found"}
    row.update(
        {
            "predicted age": round(face.age, 1),
            "90% interval": f"{face.age_low:.0f}–{face.age_high:.0f}",
            "predicted gender": f"{face.gender} ({face.gender_probability:.0%})",
        }
    )
    if facts.get("age") is not None:
        row["age error"] = round(face.age - float(facts["age"]), 1)
    if facts.get("gender"):
        row["gender right"] = "✅" if face.gender == facts["gender"] else "❌"
    return row


rows = sample_rows()
gallery = st.columns(len(rows))
for column, row in zip(gallery, rows, strict=True):
    column.image(row["image"], caption=row["facts"].get("name", row["name"]))

st.subheader("Your own photos")
uploads = st.file_uploader(
    "Add images to the comparison",
    type=ui.UPLOAD_TYPES,
    accept_multiple_files=True,
)
table = [compare_row(r["name"], r["facts"], r["faces"]) for r in rows]
for upload in uploads or []:
    cols = st.columns([2, 1, 1])
    try:
        image = read_image(upload.getvalue())
    except ImageError as exc:
        cols[0].error(f"Could not read {upload.name}: {str(exc).removeprefix('image: ')}")
        continue
    age = cols[1].number_input(f"Known age of {upload.name}", 0, 120, value=None, key=f"age-{upload.file_id}")
    gender = cols[2].selectbox(f"Known gender of {upload.name}", ["", "female", "male"], key=f"g-{upload.file_id}")
    faces = ui.estimator().analyze(image)
    cols[0].image(ui.for_display(annotate(image, faces), 360), caption=upload.name)
    table.append(compare_row(upload.name, {"age": age, "gender": gender or None}, faces))

st.subheader("Predictions beside the known facts")
st.table(pd.DataFrame(table), hide_index=True)
st.caption("For photos with several faces the largest face is compared.")
