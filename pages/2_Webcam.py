"""Live webcam page: tracked, smoothed faces annotated in real time over WebRTC."""

import streamlit as st
from streamlit_webrtc import WebRtcMode, webrtc_streamer

from agegender import ui
from agegender.detect import RetinaFace
from agegender.live import LiveAnnotator

st.set_page_config(page_title="Webcam · agegender", page_icon="🎥", layout="wide")
st.title("Live webcam")
st.caption(ui.PRIVACY + " Works on localhost with no STUN/TURN server.")

if "live" not in st.session_state:
    st.session_state.live = LiveAnnotator(ui.estimator(RetinaFace.name))
live: LiveAnnotator = st.session_state.live

left, right = st.columns([3, 2])
with left:
    webrtc_streamer(
        key="webcam",
        mode=WebRtcMode.SENDRECV,
        rtc_configuration={"iceServers": []},
        media_stream_constraints={"video": {"width": 640, "height": 480}, "audio": False},
        video_frame_callback=live,
        async_processing=True,
    )
    st.caption(
        "Press START and allow the camera. Faces keep their number while tracked; age and gender are "
        "smoothed over time so a still face does not flicker."
    )


@st.fragment(run_every=1.0)
def live_stats() -> None:
    frames, fps, faces = live.snapshot()
    if live.error:
        st.error(f"Frame processing failed: {live.error}")
    cols = st.columns(2)
    cols[0].metric("Frames processed", f"{frames:,}")
    cols[1].metric("Frame rate", f"{fps:.1f} fps")
    if faces:
        st.table(ui.faces_table(faces), hide_index=True)
    elif frames:
        st.write("No face in the latest frame.")


with right:
    live_stats()
