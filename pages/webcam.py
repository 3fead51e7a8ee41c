"""Live webcam page: tracked, smoothed faces annotated in real time over WebRTC."""

import pandas as pd
import streamlit as st
from streamlit_webrtc import WebRtcMode, webrtc_streamer

from agegender.apps import annotated, faces, ui
from agegender.apps.live import LiveAnnotator

STALL_SECONDS = 5.0

ui.header("Live webcam", "Faces keep their number while tracked; age and gender are smoothed over time. Works on "
          "localhost with no STUN/TURN server. " + ui.PRIVACY)

if "live" not in st.session_state:
    st.session_state.live = LiveAnnotator(ui.estimator("retinaface"))
live: LiveAnnotator = st.session_state.live

left, right = st.columns([3, 2])
with left:
    context = webrtc_streamer(
        key="webcam",
        mode=WebRtcMode.SENDRECV,
        rtc_configuration={"iceServers": []},
        media_stream_constraints={"video": {"width": 640, "height": 480}, "audio": False},
        video_frame_callback=live,
        async_processing=True,
    )
    st.caption("Press START and allow the camera. Under CPU load the video keeps flowing and fewer frames are "
               "analysed: the rate shown is the analysed one.")


@st.fragment(run_every=1.0)
def live_stats() -> None:
    playing = context.state.playing
    if not playing:
        live.stop()
        people, frames, received, fps = live.summary()
        if frames or received:
            st.info(f"Stopped. This session: {people} {'person' if people == 1 else 'people'} seen (tracked faces), "
                    f"{frames:,} frames analysed of {received:,} received, {fps:.1f} analysed frames per second. "
                    "Press START to begin a new session.", icon=":material/stop_circle:")
            people_seen()
        return
    frames, fps, faces_now = live.snapshot()
    waited = live.seconds_since_frame()
    if waited is not None and waited > STALL_SECONDS:
        st.warning(f"No video frame has arrived for {waited:.0f} s: the connection is stalled (is the computer "
                   "overloaded?).", icon=":material/hourglass_empty:")
    if live.error:
        st.error(f"Frame analysis failed: {live.error}", icon=":material/error:")
    cols = st.columns(2)
    cols[0].metric("Analysed frame rate", f"{fps:.1f} fps")
    cols[1].metric("Frames analysed", f"{frames:,}")
    cols[1].metric("Frames received", f"{live.received:,}")
    if faces_now:
        st.table(faces.live_table(faces_now), hide_index=True)
    elif frames:
        st.write("No face in the latest analysed frame.")
    st.caption(faces.LEGEND)
    people_seen()


def people_seen() -> None:
    """Everyone seen this session: a person who turns away or leaves and comes back keeps their number."""
    seen = live.people()
    if not seen:
        return
    st.subheader("People seen")
    st.caption(f"{len(seen)} {'person' if len(seen) == 1 else 'people'} seen this session: a person who turns away "
               "or leaves and comes back keeps their number.")
    table = pd.DataFrame([{"face": annotated.jpeg_uri(p.thumbnail, 96), "person": p.number, "age": round(p.face.age),
                           "gender": p.face.gender, "in view (s)": round(p.seconds, 1)} for p in seen])
    st.dataframe(table, hide_index=True, row_height=64, key="people_seen", column_config={
        "face": st.column_config.ImageColumn("Face", width="small"),
        "person": st.column_config.NumberColumn("Person", help="Kept when they turn away or leave and come back"),
        "in view (s)": st.column_config.NumberColumn("In view (s)", format="%.1f", help="Seconds in front of the "
                                                     "camera this session"),
    })


with right:
    live_stats()
