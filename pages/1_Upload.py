"""Upload page: annotate every face in one or several images."""

from pathlib import Path

import streamlit as st

from agegender import ui
from agegender.imageio import ImageError, read_image
from agegender.render import annotate
from agegender.results import ImageResult

st.set_page_config(page_title="Upload · agegender", page_icon="🖼️", layout="wide")
st.title("Upload images")
st.caption(ui.PRIVACY)

with st.sidebar:
    st.header("Detection")
    detector = st.radio(
        "Face detector",
        list(ui.DETECTOR_CHOICES),
        format_func=ui.DETECTOR_CHOICES.get,
        help="Auto (best for photos) runs the fast one on a 640 px copy and hands photos with small faces, or none "
        "found, to the thorough one. Thorough finds more small, blurred and turned faces, at two to three times the "
        "cost. Chosen alone, either searches the full resolution and can misplace a face that fills a big photo.",
    )
    min_face = st.slider(
        "Minimum face size (px)",
        0,
        200,
        int(ui.estimator().min_face),
        help="Ignore faces narrower than this. Under 16 px, detections are often false and too small to read.",
    )
    threshold = st.slider(
        "Detection threshold",
        ui.estimator().DETECTOR_FLOOR,
        0.95,
        ui.estimator(detector).score_threshold,
        step=0.01,
        help="Lower finds more faces, including false ones. The default is the detector's tested operating point.",
    )
    flip = st.checkbox(
        "Mirror test-time augmentation",
        value=ui.estimator().model.flip,
        help="Average each face with its mirror image: the way the model was evaluated. Off is faster.",
    )

uploads = st.file_uploader(
    "Images (jpg, png, webp, bmp, tiff)",
    type=ui.UPLOAD_TYPES,
    accept_multiple_files=True,
)
if not uploads:
    st.info("Choose one or more images to analyse.")
    st.stop()

estimator = ui.estimator(detector).with_options(score_threshold=threshold, min_face=min_face, flip=flip)
for upload in uploads:
    st.divider()
    st.subheader(upload.name)
    try:
        image = read_image(upload.getvalue())
    except ImageError as exc:
        message = str(exc).removeprefix("image: ")
        st.error(f"Could not read **{upload.name}**: {message}. Other files are still processed.", icon="⚠️")
        continue
    with st.spinner(f"Analysing {upload.name}…"):
        faces = estimator.analyze(image)
    result = ImageResult(upload.name, image.shape[1], image.shape[0], faces)
    if not faces:
        st.warning(
            f"No face found in **{upload.name}** ({image.shape[1]}×{image.shape[0]}). "
            "Try a lower detection threshold or minimum face size.",
            icon="🔍",
        )
        st.image(ui.for_display(image))
        continue
    annotated = annotate(image, faces)
    left, right = st.columns([3, 2])
    left.image(ui.for_display(annotated), caption=f"{len(faces)} face(s) · {image.shape[1]}×{image.shape[0]} px")
    right.table(ui.faces_table(faces), hide_index=True)
    stem = Path(upload.name).stem
    downloads = right.columns(3)
    downloads[0].download_button(
        "Annotated image", ui.jpeg_bytes(annotated), f"{stem}.annotated.jpg", "image/jpeg", key=f"img-{upload.file_id}"
    )
    downloads[1].download_button(
        "JSON", ui.results_json(result), f"{stem}.faces.json", "application/json", key=f"json-{upload.file_id}"
    )
    downloads[2].download_button(
        "CSV", ui.results_csv(result), f"{stem}.faces.csv", "text/csv", key=f"csv-{upload.file_id}"
    )
