"""Home page: what agegender does, the loaded model, and the pages."""

import streamlit as st

import agegender
from agegender.apps import ui

ui.header("agegender", "Apparent age and gender of every face, offline. " + ui.PRIVACY)
st.markdown(
    "Estimates the **apparent age** (with its uncertainty, a 90% interval and an age group) and the **gender** "
    "(with its probability) of every face in photos, video files and live webcam video."
)

info = ui.model_info()
metrics, spec = info["metrics"], info["spec"]
st.subheader("Loaded model")
ui.metric_row({
    "Model version": spec.get("version", "?"),
    "Age error (MAE)": f"{metrics['age_mae']:.2f} years",
    "Gender accuracy": f"{metrics['gender_accuracy']:.1%}",
    "Test faces": f"{metrics['n']:,}",
})
st.caption(
    f"Networks: {', '.join(spec['networks'])}, combined ({', '.join(spec['combiners'])} servings), served on "
    f"onnxruntime; measured on the UTKFace test split (aligned face chips). Package {agegender.__version__}."
)

st.subheader("Pages")
st.page_link("pages/upload.py", label="Upload: every face in many photos, with a summary and downloads",
             icon=":material/photo_library:")
st.page_link("pages/video.py", label="Video: a video file, one row per person", icon=":material/movie:")
st.page_link("pages/webcam.py", label="Webcam: tracked faces live", icon=":material/videocam:")
st.page_link("pages/metrics.py", label="Metrics: accuracy by age, gender, race and image quality",
             icon=":material/monitoring:")
st.page_link("pages/compare.py", label="Compare: predictions on sample photos against known facts",
             icon=":material/compare:")
