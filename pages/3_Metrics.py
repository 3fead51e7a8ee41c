"""Metrics page: how accurate the shipped model is, by group, from models/metrics.json."""

import pandas as pd
import plotly.express as px
import plotly.graph_objects as go
import streamlit as st

from agegender import ui
from agegender.paths import MODELS

st.set_page_config(page_title="Metrics · agegender", page_icon="📊", layout="wide")
st.title("Model metrics")

info = ui.model_metrics()
m, spec = info["metrics"], info["spec"]
source = (
    f"Measured on the UTKFace test split ({m['n']:,} aligned face chips, {m['mode']} mode), "
    f"model {m.get('model_version', spec.get('version'))}."
)
st.caption(source)

cols = st.columns(5)
cols[0].metric("Age MAE", f"{m['age_mae']:.2f} y")
cols[1].metric("CS@5", f"{m['age_cs5']:.1%}")
cols[2].metric("Gender accuracy", f"{m['gender_accuracy']:.1%}")
cols[3].metric("90% interval coverage", f"{m['interval90_coverage']:.1%}")
cols[4].metric("Gender ECE", f"{m['gender_ece']:.3f}")


def group_frame(groups: dict) -> pd.DataFrame:
    return pd.DataFrame([{"group": name, **values} for name, values in groups.items()])


def bar_chart(column, frame: pd.DataFrame, y: str, fmt: str, title: str, key: str, target=None, **options) -> None:
    """A bar chart of one metric per group (with an optional target line), the data source under it."""
    fig = px.bar(frame, x="group", y=y, text_auto=fmt, title=title, **options)
    if target is not None:
        fig.add_hline(y=target, line_dash="dash")
    column.plotly_chart(fig, key=key)
    column.caption(source)


by_group = group_frame(m["by_age_group"])
left, right = st.columns(2)
bar_chart(
    left,
    by_group,
    "age_mae",
    ".2f",
    "Age MAE by age group (years)",
    "mae-by-group",
    labels={"group": "true age group", "age_mae": "MAE (years)"},
)
bar_chart(
    right,
    by_group,
    "gender_accuracy",
    ".1%",
    "Gender accuracy by age group",
    "gender-by-group",
    labels={"group": "true age group", "gender_accuracy": "accuracy"},
    range_y=[0, 1],
)

confusion = m["age_group_confusion"]
fig = go.Figure(
    go.Heatmap(
        z=confusion["matrix"],
        x=confusion["labels"],
        y=confusion["labels"],
        colorscale="Blues",
        text=confusion["matrix"],
        texttemplate="%{text}",
    )
)
fig.update_layout(
    title=f"Age-group confusion (exact {m['age_group_accuracy']:.1%}, one-off {m['age_group_one_off_accuracy']:.1%})",
    xaxis_title="predicted group",
    yaxis_title="true group",
    yaxis_autorange="reversed",
)
st.plotly_chart(fig, key="confusion")
st.caption(source)

left, right = st.columns(2)
for column, key, title in ((left, "by_gender", "By gender"), (right, "by_race", "By race")):
    if key in m:
        frame = group_frame(m[key])
        bar_chart(column, frame, "age_mae", ".2f", f"{title}: age MAE (years)", f"{key}-mae")
        column.dataframe(
            frame[["group", "n", "age_mae", "age_cs5", "gender_accuracy", "interval90_coverage"]].round(3),
            hide_index=True,
        )

left, right = st.columns(2)
bar_chart(
    left,
    group_frame(m["by_age_bin"]),
    "interval90_coverage",
    ".1%",
    "90% age-interval coverage by age bin (target 0.90)",
    "coverage",
    target=0.9,
    range_y=[0, 1],
    labels={"group": "true age", "interval90_coverage": "coverage"},
)
calibration = pd.DataFrame(m["gender_calibration"])
fig = px.line(
    calibration,
    x="confidence",
    y="accuracy",
    markers=True,
    title="Gender calibration (reliability)",
    range_x=[0.5, 1],
    range_y=[0.4, 1],
)
fig.add_trace(go.Scatter(x=[0.5, 1], y=[0.5, 1], mode="lines", line={"dash": "dash"}, name="perfect"))
right.plotly_chart(fig, key="calibration")
right.caption(source)

history = MODELS / "history.csv"
if history.is_file():
    curves = pd.read_csv(history)
    curves["epoch"] += 1
    fig = px.line(
        curves,
        x="epoch",
        y=["age_mae_years", "val_age_mae_years"],
        markers=True,
        title="Training curves: age MAE (train with augmentation, dev)",
    )
    st.plotly_chart(fig, key="history")
    st.caption("Recorded during training: UTKFace train split (augmented) and dev split.")
