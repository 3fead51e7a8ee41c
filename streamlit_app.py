"""agegender dashboard: `streamlit run streamlit_app.py`. Its pages are in pages/; this file only navigates."""

import streamlit as st

# The favicon is an emoji, which the frontend draws itself: a ":material/...:" icon would be fetched from Google.
# The menu keeps Streamlit's settings (light, dark or the system's theme) and drops the links to Streamlit's site.
st.set_page_config(page_title="agegender", page_icon="🧑", layout="wide",
                   menu_items={"Get help": None, "Report a bug": None, "About": "agegender: apparent age and gender "
                               "of every face, offline. Nothing is sent anywhere."})

PAGES = [
    st.Page("pages/home.py", title="Home", icon=":material/home:", default=True),
    st.Page("pages/upload.py", title="Upload", icon=":material/photo_library:"),
    st.Page("pages/video.py", title="Video", icon=":material/movie:"),
    st.Page("pages/webcam.py", title="Webcam", icon=":material/videocam:"),
    st.Page("pages/metrics.py", title="Metrics", icon=":material/monitoring:"),
    st.Page("pages/compare.py", title="Compare", icon=":material/compare:"),
]
st.navigation(PAGES).run()
