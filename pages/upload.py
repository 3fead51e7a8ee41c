"""Upload page: every face in one or many images, a summary across them, a face gallery and combined downloads."""

import time

import streamlit as st

import agegender
from agegender.apps import charts, downloads, faces, ui

ui.header("Upload images", "Every face in each photo, numbered left to right. " + ui.PRIVACY)

with st.sidebar:
    st.header("Detection")
    detector = st.radio(
        "Face detector",
        list(ui.DETECTOR_CHOICES),
        format_func=ui.DETECTOR_CHOICES.get,
        help="Auto (best for photos) runs the fast one on a 512 px copy and hands photos with small faces, or none "
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
    flip = st.checkbox("Mirror test-time augmentation", value=bool(ui.model_info()["spec"].get("flip_tta")),
                       help="Average each face with its mirror image in every network (slower). Off by default: "
                       "the shipped model is fitted and served without it.")
    st.header("Display")
    landmarks = st.checkbox("Draw landmarks", value=True, help="On faces large enough on screen to show them")
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
failed = [r for r in results if r.status == "error"]
ui.metric_row({
    "Images": f"{len(results) - len(failed)}",
    "Faces": f"{sum(len(r.faces) for r in results)}",
    "Without a face": f"{sum(r.status == 'no_face' for r in results)}",
    "Unreadable": f"{len(failed)}",
})
for r in failed:
    st.error(ui.problem(r.source, r.error, others=len(uploads) > 1), icon=":material/error:")

selection = faces.Selection()
if any(r.faces for r in results):
    present = {f.gender for r in results for f in r.faces}
    f1, f2, f3 = st.columns(3)
    genders = f1.multiselect("Gender", [g for g in ("female", "male", "unknown") if g in present], default=None,
                             placeholder="All genders")
    low, high = f2.slider("Age range", 0, 100, (0, 100), help="100 includes everyone older")
    files = f3.multiselect("Files", sorted({r.source for r in results}), placeholder="All files")
    selection = faces.Selection(tuple(genders or present), (low, high if high < 100 else float("inf")), tuple(files))
    st.caption("These filters apply to everything below: the charts, the table, the images, the gallery and the "
               "downloads.")
kept = selection.results(results)
table = faces.faces_table(kept, selection.faces)
if len(table):
    left, right = st.columns(2)
    left.plotly_chart(charts.age_histogram(table["age"]), key="ages")
    right.plotly_chart(charts.gender_pie([f.gender for r in kept for _, f in selection.faces(r)]), key="genders")
    st.dataframe(table, hide_index=True, column_config=faces.FACE_COLUMNS, key="all-faces")
    st.caption(f"{len(table)} of {sum(len(r.faces) for r in results)} faces. Click a column header to sort.")
elif selection != faces.Selection():
    st.info("No face matches the filters.", icon=":material/filter_alt_off:")
st.caption(faces.LEGEND)

rows = selection.rows(results)
d1, d2, d3 = st.columns(3)
d1.download_button("All faces (CSV)", downloads.csv_text(rows), "faces.csv", "text/csv", icon=":material/download:",
                   on_click="ignore")
d2.download_button("All faces (JSON)", downloads.json_text(rows), "faces.json", "application/json",
                   icon=":material/download:", on_click="ignore")


def shown_pages():
    """(title, result, display page, its scale, kept (number, face) pairs) for every page of the kept files."""
    for upload, image in per_file:
        for result, page in zip(image.results, image.pages(), strict=False):
            result = result.filtered(threshold, min_face)
            if selection.keeps_file(result):
                title = upload.name + (f", page {result.frame + 1}" if result.frame is not None else "")
                yield title, result, page, page.shape[1] / result.width, selection.faces(result)


def drawn(page, pairs, scale, width=None):
    return agegender.annotate(page, [f for _, f in pairs], landmarks, scale, display_width=width,
                              numbers=[n for n, _ in pairs])


def full_resolution():
    """The kept files' pages at their original size, annotated with the kept faces."""
    for _, image in per_file:
        try:
            for result, pixels in zip(image.results, image.full_pages(), strict=False):
                result = result.filtered(threshold, min_face)
                if selection.keeps_file(result):
                    yield result, drawn(pixels, selection.faces(result), pixels.shape[1] / result.width)
        except agegender.ImageError:
            continue


d3.download_button("Annotated images (ZIP)", lambda: downloads.zip_bytes(full_resolution()), "annotated.zip",
                   "application/zip", icon=":material/folder_zip:", on_click="ignore",
                   help="Every image at its original size, with the faces the filters keep")


def show(title: str, result, page, scale: float, pairs, width: int) -> None:
    """One page: the annotated image drawn for `width` on screen, and the gallery of its faces."""
    if not result.faces:
        st.warning(f"No face found in **{title}** ({result.width}×{result.height}). Try a lower detection "
                   "threshold or minimum face size.", icon=":material/search_off:")
        st.image(page)
        return
    st.image(drawn(page, pairs, scale, min(width, page.shape[1])),
             caption=f"{len(result.faces)} face(s) · {result.width}×{result.height} px")
    if gallery and pairs:
        crops = ui.face_crops(page, [f for _, f in pairs], scale)
        labels = [faces.gallery_caption(n, f) for n, f in pairs]
        if width < ui.MAIN_WIDTH:
            with st.expander(f"Faces of {title}"):
                st.image(crops, caption=labels, width=96)
        else:
            st.image(crops, caption=labels, width=140)


st.header("Images")
pages = list(shown_pages())
if len(pages) == 1:
    st.subheader(pages[0][0], divider="gray")
    show(*pages[0], ui.MAIN_WIDTH)
for start in range(0, len(pages) if len(pages) > 1 else 0, ui.GRID_COLUMNS):
    for column, (title, *rest) in zip(st.columns(ui.GRID_COLUMNS), pages[start : start + ui.GRID_COLUMNS],
                                      strict=False):
        with column:
            st.markdown(f"##### {title}")
            show(title, *rest, ui.MAIN_WIDTH // ui.GRID_COLUMNS)
