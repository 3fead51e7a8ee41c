"""Video page: a video file analysed frame by frame with tracking; one row per person, an annotated video."""

import pandas as pd
import plotly.express as px
import streamlit as st

import agegender
from agegender.apps import annotated, downloads, faces, ui
from agegender.apps.video_job import analyse_video

ui.header("Video file", "Faces tracked across the frames of a video; one answer per person. " + ui.PRIVACY)

with st.sidebar:
    st.header("Analysis")
    every = st.slider("Analyse every Nth frame", 1, 10, 2, help="Higher is faster; tracking still follows faces.")
    detector = st.radio("Face detector", ["retinaface", "auto"], format_func=ui.DETECTOR_CHOICES.get,
                        help="RetinaFace is fast and right for video; Auto also finds small faces, slower.")
    same_person = st.slider("Same person under distance", 0.3, 0.8, agegender.SAME_PERSON, 0.05,
                            help="Tracks whose faces are closer than this (face descriptor distance) are one person. "
                            "Lower is stricter: fewer people joined, more rows.")

upload = st.file_uploader("Video (mp4, mov, avi, webm, mkv)", type=ui.VIDEO_TYPES)
if upload is None:
    st.info("Choose a video file to analyse.", icon=":material/movie:")
    st.stop()

data = upload.getvalue()
key = ("video", ui.content_key(data), every, detector, same_person)
job = ui.cached_analysis(key)
if job is None:
    bar = st.progress(0.0, text=f"Analysing {upload.name}…")
    try:
        job = analyse_video(ui.estimator(detector), data, upload.name, every, lambda f: bar.progress(f), same_person)
    except agegender.VideoError as exc:
        bar.empty()
        st.error(ui.problem(upload.name, exc), icon=":material/error:")
        st.stop()
    bar.empty()
    ui.store_analysis(key, job)

info = job.info
ui.metric_row({
    "People": f"{len(job.persons)}",
    "Frames analysed": f"{len(job.results):,}",
    "Scene cuts": f"{len(job.cuts)}",
    "Duration": f"{info.seconds:.1f} s",
    "Frame rate": f"{info.fps:.1f} fps",
})

st.subheader("Annotated video")
st.video(job.video, format="video/mp4")

st.subheader("People")
st.caption(faces.LEGEND)
if not job.persons:
    st.warning("No face was found in the analysed frames.", icon=":material/search_off:")
else:
    people = pd.DataFrame(
        [
            {
                "thumbnail": annotated.jpeg_uri(job.thumbnails[p.person]),
                "person": p.person,
                "tracks": ", ".join(f"#{t}" for t in p.tracks),
                "first seen (s)": round(p.first_seconds, 2),
                "last seen (s)": round(p.last_seconds, 2),
                "frames": p.frames,
                "age": round(p.age, 1),
                "90% interval": f"{p.age_low:.0f}–{p.age_high:.0f}",
                "age group": p.age_group,
                "gender": faces.gender_text(p.gender, p.gender_probability),
                "probability": round(p.gender_probability, 3),
            }
            for p in job.persons
        ]
    )
    st.dataframe(
        people,
        hide_index=True,
        row_height=80,
        column_config={
            "thumbnail": st.column_config.ImageColumn("Face", width="small"),
            "person": st.column_config.NumberColumn("Person", help="Numbered in order of first appearance"),
            "tracks": st.column_config.TextColumn("Tracks", help="The numbers this person's faces have in the video: "
                                                  "tracks joined because their faces look alike"),
            "first seen (s)": st.column_config.NumberColumn("First seen (s)", format="%.2f"),
            "last seen (s)": st.column_config.NumberColumn("Last seen (s)", format="%.2f"),
            "frames": st.column_config.NumberColumn("Frames", help="Analysed frames the person was seen in"),
            "age group": st.column_config.TextColumn("Age group"),
            "gender": st.column_config.TextColumn("Gender"),
            "age": st.column_config.NumberColumn("Age", format="%.1f", help="Median over the person's frames"),
            "probability": st.column_config.ProgressColumn("Gender probability", min_value=0.0, max_value=1.0,
                                                           format="percent", help="Detector-score weighted vote"),
        },
        key="people",
    )
    person_of = job.person_of()
    timeline = pd.DataFrame(
        [
            {"time (s)": job.seconds(r.frame), "person": f"Person {person_of[f.track_id]}", "track": f.track_id,
             "age": round(f.age, 1), "gender": f.gender}
            for r in job.results
            for f in r.faces
        ]
    )
    chart = px.scatter(timeline, x="time (s)", y="person", color="gender", hover_data=["track", "age"],
                       title="Faces over time", labels={"person": "Person"},
                       color_discrete_map={"female": "#d6278c", "male": "#1f77dc", "unknown": "#888888"})
    for cut in job.cuts:
        chart.add_vline(x=job.seconds(cut), line_dash="dot", line_color="#888888", annotation_text="cut")
    chart.update_traces(marker={"size": 9, "symbol": "line-ns-open"})
    chart.update_yaxes(type="category", title=None)
    chart.update_xaxes(title="Time (s)")
    chart.update_layout(legend_title_text="Gender")
    st.plotly_chart(chart, key="timeline")

st.subheader("Downloads")
d1, d2, d3 = st.columns(3)
stem = upload.name.rsplit(".", 1)[0]
d1.download_button("Per-frame rows (CSV)", downloads.rows_csv([r for r in job.results if r.faces]),
                   f"{stem}.frames.csv", "text/csv", icon=":material/download:", on_click="ignore")


d2.download_button("Per-person rows (CSV)", lambda: downloads.people_csv(job.persons), f"{stem}.people.csv", "text/csv",
                   icon=":material/download:", on_click="ignore")
d3.download_button("Annotated video (MP4)", job.video, f"{stem}.annotated.mp4", "video/mp4", icon=":material/movie:",
                   on_click="ignore")
