"""agegender dashboard: home page."""

import streamlit as st

from agegender import __version__, ui

st.set_page_config(page_title="agegender", page_icon="🙂", layout="wide")

st.title("agegender")
st.markdown(
    "Estimates the **apparent age** (with an uncertainty and one of 8 age groups) and the **gender** "
    "(with its probability) of every face in photos, live webcam video and batches of files."
)
st.info(ui.PRIVACY, icon="🔒")

info = ui.model_metrics()
metrics, spec = info["metrics"], info["spec"]
st.subheader("Loaded model")
cols = st.columns(4)
cols[0].metric("Model version", spec.get("version", "?"))
cols[1].metric("Age MAE (years)", f"{metrics['age_mae']:.2f}")
cols[2].metric("Gender accuracy", f"{metrics['gender_accuracy']:.1%}")
cols[3].metric("Faces in test set", f"{metrics['n']:,}")
st.caption(
    f"{spec.get('name', 'model')} · input {spec['input_size']}×{spec['input_size']} · measured on the UTKFace "
    f"test split (aligned chips) · package {__version__}"
)

st.subheader("Pages")
st.page_link("pages/1_Upload.py", label="Upload images: annotate every face, download the results", icon="🖼️")
st.page_link("pages/2_Webcam.py", label="Live webcam: tracked faces in real time", icon="🎥")
st.page_link("pages/3_Metrics.py", label="Metrics: accuracy and error by age group, gender and race", icon="📊")
st.page_link("pages/4_Compare.py", label="Compare: predictions on sample photos against known facts", icon="🔍")
