"""Compare page: predictions on sample photos beside what is known about them, with the error per photo."""

import json

import pandas as pd
import streamlit as st

import agegender
from agegender.apps import faces as faces_view
from agegender.apps import ui

COLUMN = ui.MAIN_WIDTH // 3  # about the width each photo is shown at
ui.header("Compare predictions with known facts", "Public-domain and CC0 photos shipped with agegender (see "
          "agegender/samples/SOURCES.md), plus any you add. The largest face of each photo is compared. " + ui.PRIVACY)


@st.cache_data(show_spinner="Analysing the sample photos…")
def samples() -> list[dict]:
    known = json.loads((agegender.SAMPLES / "known.json").read_text())
    images = [agegender.read_image(agegender.SAMPLES / name) for name in known]
    results = ui.estimator().analyze_batch(images, sources=list(known))
    small = [ui.for_display(image, 520) for image in images]
    shown = [agegender.annotate(s, r.faces, scale=s.shape[1] / r.width, display_width=min(COLUMN, s.shape[1]))
             for s, r in zip(small, results, strict=True)]
    return [
        {"name": name, "facts": facts, "faces": r.faces, "image": image}
        for (name, facts), image, r in zip(known.items(), shown, results, strict=True)
    ]


def compare_row(name: str, facts: dict, faces) -> dict:
    face = max(faces, key=lambda f: f.width) if faces else None
    row = {"photo": name, "known age": facts.get("age_note", facts.get("age")), "known gender": facts.get("gender")}
    if face is None:
        return {**row, "predicted gender": "no face found"}
    row.update(
        {
            "predicted age": round(face.age, 1),
            "90% interval": f"{face.age_low:.0f}–{face.age_high:.0f}",
            "predicted gender": faces_view.gender_with_probability(face),
        }
    )
    if facts.get("age") is not None:
        row["age error"] = round(face.age - float(facts["age"]), 1)
    if facts.get("gender"):
        right = "no answer" if face.gender == "unknown" else "yes" if face.gender == facts["gender"] else "no"
        row["gender right"] = right
    return row


rows = samples()
for start in range(0, len(rows), 3):
    for column, row in zip(st.columns(3), rows[start : start + 3], strict=False):
        column.image(row["image"], caption=row["facts"].get("name", row["name"]))

st.subheader("Your own photos")
uploads = st.file_uploader("Add images to the comparison", type=ui.IMAGE_TYPES, accept_multiple_files=True)
table = [compare_row(r["name"], r["facts"], r["faces"]) for r in rows]
for upload in uploads or []:
    cols = st.columns([2, 1, 1])
    image = ui.analyse_image(upload.getvalue(), upload.name, "auto", True)
    result = image.results[0]
    if result.status == "error":
        cols[0].error(ui.problem(upload.name, result.error), icon=":material/error:")
        continue
    faces = result.filtered(agegender.DETECTORS["auto"].default_threshold, agegender.Estimator.MIN_FACE).faces
    age = cols[1].number_input(f"Known age of {upload.name}", 0, 120, value=None, key=f"age-{upload.file_id}")
    gender = cols[2].selectbox(f"Known gender of {upload.name}", ["", "female", "male"], key=f"g-{upload.file_id}")
    page = image.pages()[0]
    cols[0].image(agegender.annotate(page, faces, scale=page.shape[1] / result.width, display_width=420),
                  caption=upload.name, width=420)
    table.append(compare_row(upload.name, {"age": age, "gender": gender or None}, faces))

st.subheader("Predictions beside the known facts")
st.caption(faces_view.LEGEND)
frame = pd.DataFrame(table)
errors = frame["age error"].dropna() if "age error" in frame else pd.Series(dtype=float)
judged = frame["gender right"].dropna() if "gender right" in frame else pd.Series(dtype=str)
judged = judged[judged != "no answer"]
summary = {"photo": "summary", "known age": None, "known gender": None, "predicted gender":
           f"{(judged == 'yes').sum()} of {len(judged)} right" if len(judged) else None}
if len(errors):
    summary.update({"age error": f"MAE {errors.abs().mean():.1f}"})
frame = pd.concat([frame, pd.DataFrame([summary])], ignore_index=True)
for column, fmt in (("predicted age", "{:.1f}"), ("age error", "{:+.1f}")):
    if column in frame:
        frame[column] = [fmt.format(v) if isinstance(v, float) and v == v else v for v in frame[column]]
st.table(frame.fillna("").astype(str), hide_index=True)
