"""Upload page: every face in one or many images, a summary across them, a face gallery and combined downloads."""

import time

import plotly.express as px
import streamlit as st

import agegender
from agegender.apps import downloads, ui

ui.header("Upload images", "Every face in each photo, numbered left to right. " + ui.PRIVACY)

with st.sidebar:
    st.header("Detection")
    detector = st.radio(
        "Face detector",
        list(ui.DETECTOR_CHOICES),
        format_func=ui.DETECTOR_CHOICES.get,
        help="Auto (best for photos) runs the fast one on a 640 px copy and hands photos with small faces, or none "
        "found, to the thorough one, which finds more small, blurred and turned faces at two to three times the cost.",
    )
    threshold = st.slider(
        "Detection threshold",
        agegender.Estimator.DETECTOR_FLOOR,
        0.95,
        float(agegender.DETECTORS[detector].default_threshold),
        step=0.01,
        help="Lower finds more faces, including false ones. The default is the detector's tested operating point.",
    )
    min_face = st.slider(
        "Minimum face size (px)", 0, 200, int(agegender.Estimator.MIN_FACE),
        help="Ignore faces narrower than this. Under 16 px, detections are often false and too small to read.",
    )
    flip = st.checkbox("Mirror test-time augmentation", value=True,
                       help="Average each face with its mirror image, the way the model was evaluated. Off is faster.")
    st.header("Display")
    landmarks = st.checkbox("Draw landmarks", value=True)
    gallery = st.checkbox("Face gallery", value=True)

uploads = st.file_uploader(
    "Images (jpg, png, webp, bmp, tiff, gif): every page of a TIFF and every frame of a GIF is analysed",
    type=ui.IMAGE_TYPES,
    accept_multiple_files=True,
)
if not uploads:
    st.info("Choose one or more images to analyse.", icon=":material/upload:")
    st.stop()

started, progress, per_file = time.perf_counter(), st.progress(0.0), []
for k, upload in enumerate(uploads):
    progress.progress(k / len(uploads), text=f"Analysing {upload.name} ({k + 1} of {len(uploads)})")
    per_file.append((upload, ui.analyse_image(upload.getvalue(), upload.name, detector, flip)))
progress.empty()
elapsed = time.perf_counter() - started
cached = sum(image.cached for _, image in per_file)
results = [r.filtered(threshold, min_face) for _, image in per_file for r in image.results]
st.caption(f"Analysis: {len(uploads)} files, {cached} from cache, {elapsed:.2f} s", help="Results are kept per file "
           "content and detector/mirror settings; threshold, size and display changes reuse them.")

st.header("Summary")
faces = [f for r in results for f in r.faces]
failed = [r for r in results if r.status == "error"]
cols = st.columns(4)
cols[0].metric("Images", f"{len(results) - len(failed)}")
cols[1].metric("Faces", f"{len(faces)}")
cols[2].metric("Without a face", f"{sum(r.status == 'no_face' for r in results)}")
cols[3].metric("Unreadable", f"{len(failed)}")
for r in failed:
    st.error(f"Could not read **{r.source}**: {r.error.removeprefix('image: ')}. The other files are analysed.",
             icon=":material/error:")
table = ui.faces_table(results)
if len(table):
    left, right = st.columns(2)
    hist = px.histogram(table, x="age", nbins=20, range_x=[0, 100], title="Ages",
                        labels={"age": "Apparent age (years)", "count": "Faces"}, color_discrete_sequence=["#1f77dc"])
    hist.update_layout(yaxis_title="Faces", bargap=0.05)
    left.plotly_chart(hist, key="ages")
    split = table["gender"].value_counts().rename_axis("gender").reset_index(name="faces")
    pie = px.pie(split, names="gender", values="faces", title="Gender", color="gender",
                 color_discrete_map={"female": "#d6278c", "male": "#1f77dc"})
    right.plotly_chart(pie, key="genders")
    f1, f2, f3 = st.columns(3)
    genders = f1.multiselect("Gender", ["female", "male"], default=["female", "male"])
    ages = f2.slider("Age range", 0, 100, (0, 100))
    files = f3.multiselect("Files", sorted(table["file"].unique()), placeholder="All files")
    shown = table[table["gender"].isin(genders) & table["age"].between(*ages)]
    shown = shown[shown["file"].isin(files)] if files else shown
    st.dataframe(shown, hide_index=True, column_config=ui.FACE_COLUMNS, key="all-faces")
    st.caption(f"{len(shown)} of {len(table)} faces. Click a column header to sort.")

d1, d2, d3 = st.columns(3)
d1.download_button("All faces (CSV)", downloads.rows_csv(results), "faces.csv", "text/csv", icon=":material/download:",
                   on_click="ignore")
d2.download_button("All faces (JSON)", downloads.rows_json(results), "faces.json", "application/json",
                   icon=":material/download:", on_click="ignore")


def shown_pages():
    """(upload, result, display page, its scale) for every page of every file, with the sliders' filters applied."""
    for upload, image in per_file:
        for result, page in zip(image.results, image.pages(), strict=False):
            result = result.filtered(threshold, min_face)
            yield upload, result, page, page.shape[1] / result.width


def annotated_images():
    for _, result, page, scale in shown_pages():
        yield result, agegender.annotate(page, result.faces, landmarks, scale)


d3.download_button("Annotated images (ZIP)", lambda: downloads.zip_bytes(annotated_images()), "annotated.zip",
                   "application/zip", icon=":material/folder_zip:", on_click="ignore")

st.header("Images")
for upload, result, page, scale in shown_pages():
    title = upload.name + (f", page {result.frame + 1}" if result.frame is not None else "")
    st.subheader(title, divider="gray")
    if not result.faces:
        st.warning(f"No face found in **{title}** ({result.width}×{result.height}). Try a lower detection "
                   "threshold or minimum face size.", icon=":material/search_off:")
        st.image(page)
        continue
    st.image(agegender.annotate(page, result.faces, landmarks, scale),
             caption=f"{len(result.faces)} face(s) · {result.width}×{result.height} px")
    if gallery:
        crops = ui.face_crops(page, result.faces, scale)
        labels = [f"#{i} · {face.label()}" for i, face in enumerate(result.faces, start=1)]
        st.image(crops, caption=labels, width=140)
