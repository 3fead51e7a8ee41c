"""Metrics page: how accurate the shipped model is, by group, under image degradations and on whole photos."""

import pandas as pd
import plotly.express as px
import plotly.graph_objects as go
import streamlit as st

from agegender.apps import ui

LABELS = {
    "group": "Group",
    "n": "Faces",
    "age_mae": "Age MAE (years)",
    "age_median_ae": "Median abs. error (years)",
    "age_bias": "Bias (years)",
    "age_cs5": "Within 5 years",
    "gender_accuracy": "Gender accuracy",
    "gender_accuracy_women": "Gender acc. (women)",
    "gender_accuracy_men": "Gender acc. (men)",
    "interval90_coverage": "90% interval coverage",
    "matched": "Found by the pipeline",
}
PERCENT = {"age_cs5", "gender_accuracy", "gender_accuracy_women", "gender_accuracy_men", "interval90_coverage",
           "matched"}
COLUMNS = {
    key: st.column_config.NumberColumn(label, format="%.1f%%" if key in PERCENT else "%.2f")
    for key, label in LABELS.items()
    if key not in ("group", "n")
} | {"group": st.column_config.TextColumn("Group"), "n": st.column_config.NumberColumn("Faces", format="%d")}
GROUPINGS = (
    "Three age groupings appear below. **Classic groups** (0-2, 4-6, 8-12, 15-20, 25-32, 38-43, 48-53, 60-100, "
    "the Adience groups; a true age between two groups counts with the nearer one) for the error by group and the "
    "group confusion. **Coarse bins** (0-12, 13-19, 20-39, 40-59, 60+) for the interval coverage, so that each bin "
    "holds enough faces. The other pages show each face's **display group** (0-2, 3-6, 7-13, 14-22, 23-34, 35-45, "
    "46-56, 57+): the classic groups widened to meet, so that every age has one."
)

info = ui.model_info()
m, spec = info["metrics"], info["spec"]
flips = m.get("flip_tta")
mirrored = "all" if flips is True else ", ".join(flips or []) or "none"
ui.header("Model metrics", f"Model {m.get('model_version', spec.get('version'))}, served as it ships (networks "
          f"averaging mirror images: {mirrored}). Every figure is measured, on data the model was not trained on.")


def frame(groups: dict, keys) -> pd.DataFrame:
    return pd.DataFrame([{"group": name, **{k: values.get(k) for k in keys}} for name, values in groups.items()])


def bars(data: pd.DataFrame, y: str, title: str, percent: bool = False, target: float | None = None,
         x_title: str = "True age group"):
    """One bar per group, values inside the bars (away from a target line, which the title names)."""
    fig = px.bar(data, x="group", y=y, text_auto=".1%" if percent else ".2f", title=title, labels=LABELS,
                 custom_data=["n"])
    value = "%{y:.1%}" if percent else "%{y:.2f} years"
    fig.update_traces(textposition="inside", insidetextanchor="middle" if target is not None else "end",
                      hovertemplate=f"%{{x}}: {value} (%{{customdata[0]:,}} faces)<extra></extra>")
    fig.update_xaxes(title=x_title)
    if percent:
        fig.update_yaxes(range=[0, 1], tickformat=".0%")
    if target is not None:
        fig.add_hline(y=target, line_dash="dash")
    return fig


def table(data: pd.DataFrame, first: str) -> None:
    """A table as tall as its rows, its first column named `first`, percentages with one decimal."""
    data = data.assign(**{key: data[key] * 100 for key in PERCENT if key in data})
    st.dataframe(data, hide_index=True, height=35 * (len(data) + 1) + 3,
                 column_config=COLUMNS | {"group": st.column_config.TextColumn(first)})


OFF_DOMAIN = {"London": "London studio portraits (ages 18-54, six poses)", "LFW": "LFW news photos (greyscale)",
              "FairFace": "FairFace Flickr photos (infants to 70+)",
              "widerface": "WIDER FACE crowd photos (faces 32 px and wider)"}


def _shown(line: str, figure: dict) -> str:
    """A line's value as text: years for an age error or bias, otherwise a share with one decimal."""
    value = figure["value"]
    if "bias" in line:
        return f"{value:+.2f} y"
    return f"{value:.2f} y" if "MAE" in line else f"{value:.1%}"


POSE_SETS = {"london": "London", "lfw": "LFW", "fairface": "FairFace", "utk_test": "UTKFace test (whole photos)"}
POSE_FIGURES = {"age MAE": "Age MAE", "group exact": "Age group right", "within one group": "Within one group",
                "gender told": "Genders told", "told right": "Right, of those told"}


def _turned(yaw_bin: str) -> str:
    """A yaw bin's name as the page shows it."""
    return "under 15 degrees (frontal)" if yaw_bin == "frontal" else yaw_bin.replace("deg", "degrees")


def by_yaw(pose: dict) -> pd.DataFrame:
    """Each set's figures by head yaw, as text (bins of fewer than 20 faces left out)."""
    rows = []
    for name, bins in pose["sets"].items():
        for yaw, figures in bins.items():
            if figures["faces"] < 20:
                continue
            row = {"Set": POSE_SETS[name], "Head turned": _turned(yaw), "Faces": figures["faces"]}
            for key, label in POSE_FIGURES.items():
                value = figures.get(key)
                row[label] = "" if value is None or value != value else _shown(key, {"value": value})
            rows.append(row)
    return pd.DataFrame(rows)


def off_domain(card: dict, before: dict | None) -> pd.DataFrame:
    """The scorecard's lines on photos unlike UTKFace, beside the earlier model's."""
    rows = []
    for line, figure in card["lines"].items():
        if line.split()[0] not in OFF_DOMAIN:
            continue
        old = before["lines"].get(line) if before else None
        low, high = figure.get("interval", (None, None))
        rows.append({"Set": line.split()[0], "Figure": line.split(maxsplit=1)[1], "This model": _shown(line, figure),
                     "90% range": "" if low is None else f"{_shown(line, {'value': low})} to "
                                                         f"{_shown(line, {'value': high})}",
                     "Target": figure["target"].replace("|.|", "|bias|"),
                     "Held": "yes" if figure["held"] else "no" if figure["held"] is not None else "",
                     "Model 0.1.0": _shown(line, old) if old else ""})
    return pd.DataFrame(rows)


if "scorecard" in info:
    card = info["scorecard"]
    st.header("Photos unlike UTKFace")
    st.caption(" · ".join(f"**{k}**: {v}" for k, v in OFF_DOMAIN.items()) + ". London, LFW and FairFace are the "
               "development photos the combination was fitted on: their figures are out of fold (each face predicted "
               "by a fit on other people), each photo scoring the face of the person labelled (of the faces at least "
               "half as wide as the widest, the one nearest the centre). A gender is told only when the model is "
               "sure enough; the answered accuracy counts the genders told, the coverage how many were told. The "
               "90% range is how far a figure could move on as many other photos of the same kinds (the people of "
               "the set drawn again).")
    st.dataframe(off_domain(card, info.get("scorecard_before")), hide_index=True)
    told = [{"group": f"{name}: {group}", **figures} for name, groups in card.get("answered_gender", {}).items()
            for group, figures in groups.items() if group.startswith("age ") and name in ("utk_test", "fairface")]
    if told:
        frame_told = pd.DataFrame(told)
        fig = go.Figure([go.Bar(x=frame_told["group"], y=frame_told["coverage"], name="Genders told (coverage)"),
                         go.Bar(x=frame_told["group"], y=frame_told["answered_accuracy"], name="Right, of those told")])
        fig.update_layout(title="Gender: coverage beside the accuracy of the genders told, by true age",
                          yaxis_tickformat=".0%", yaxis_range=[0, 1], barmode="group")
        fig.update_traces(hovertemplate="%{x}: %{y:.1%}<extra></extra>")
        st.plotly_chart(fig, key="answered")

if "pose" in info and "fairface" in info["pose"]["sets"]:
    fairface = info["pose"]["sets"]["fairface"]
    st.subheader("By how far the face is turned")
    st.caption(f"Head yaw from the detected landmarks, the same faces and figures as above. Faces turned far from the "
               f"camera are read worse, few training photos showing them: FairFace's age group is right for "
               f"{fairface['frontal']['group exact']:.1%} of its frontal faces and "
               f"{fairface['over 30 deg']['group exact']:.1%} of those turned past 30 degrees. A studio's 3/4 view "
               f"(London) reads as well as a front view.")
    fig = go.Figure(go.Bar(x=[_turned(yaw) for yaw in fairface],
                           y=[f["group exact"] for f in fairface.values()],
                           customdata=[f["faces"] for f in fairface.values()], texttemplate="%{y:.1%}"))
    fig.update_layout(title="FairFace: age group right, by how far the face is turned", yaxis_tickformat=".0%",
                      yaxis_range=[0, 1], xaxis_title="Head turned")
    fig.update_traces(hovertemplate="%{x}: %{y:.1%} (%{customdata:,} faces)<extra></extra>")
    st.plotly_chart(fig, key="by-yaw")
    st.dataframe(by_yaw(info["pose"]), hide_index=True)

st.header("UTKFace test split: aligned face chips")
st.caption(f"{m['n']:,} aligned face chips of the fixed UTKFace test split (never used for training or selection).")
ui.metric_row({
    "Age MAE": f"{m['age_mae']:.2f} y",
    "Within 5 years": f"{m['age_cs5']:.1%}",
    "Gender right (before abstaining)": f"{m['gender_accuracy']:.1%}",
    "Genders told": f"{m['gender_coverage']:.1%}",
    "Right, of those told": f"{m['gender_answered_accuracy']:.1%}",
    "90% interval coverage": f"{m['interval90_coverage']:.1%}",
})

keys = ["n", "age_mae", "age_cs5", "gender_accuracy", "interval90_coverage"]
by_group = frame(m["by_age_group"], keys)
st.caption(GROUPINGS)
left, right = st.columns(2)
left.plotly_chart(bars(by_group, "age_mae", "Age MAE by true age (classic groups)", x_title="True age, classic group"),
                  key="mae-by-group")
right.plotly_chart(bars(by_group, "gender_accuracy", "Gender accuracy by true age (classic groups)", percent=True,
                        x_title="True age, classic group"), key="gender-by-group")

confusion = m["age_group_confusion"]
heat = go.Figure(go.Heatmap(z=confusion["matrix"], x=confusion["labels"], y=confusion["labels"], colorscale="Blues",
                            text=confusion["matrix"], texttemplate="%{text}", colorbar={"title": "Faces"},
                            hovertemplate="True %{y}, predicted %{x}: %{z:,} faces<extra></extra>"))
heat.update_layout(title=f"Classic age groups: true against predicted (exact {m['age_group_accuracy']:.1%}, within "
                   f"one group {m['age_group_one_off_accuracy']:.1%})", xaxis_title="Predicted group",
                   yaxis_title="True group", yaxis_autorange="reversed")
st.plotly_chart(heat, key="confusion")

for key, title, first in (("by_gender", "By gender", "Gender"), ("by_race", "By race (UTKFace's labels)", "Race")):
    if key in m:
        st.subheader(title)
        table(frame(m[key], keys), first)
left, right = st.columns(2)
coverage = frame(m["by_age_bin"], keys)
left.plotly_chart(bars(coverage, "interval90_coverage", "90% interval coverage (dashed: the aim)", percent=True,
                       target=0.9, x_title="True age, coarse bin"), key="coverage")
calibration = pd.DataFrame(m["gender_calibration"])
fig = px.line(calibration, x="confidence", y="accuracy", markers=True, title="Gender: confidence against accuracy",
              range_x=[0.5, 1], range_y=[0.4, 1], labels={"confidence": "Stated probability", "accuracy": "Accuracy"})
fig.update_traces(hovertemplate="Stated %{x:.1%}: right %{y:.1%}<extra></extra>")
fig.add_trace(go.Scatter(x=[0.5, 1], y=[0.5, 1], mode="lines", line={"dash": "dash"}, name="perfect calibration"))
right.plotly_chart(fig, key="calibration")

if "robustness" in info:
    robust = info["robustness"]
    st.header("Image quality: the same test chips degraded")
    st.caption(robust.get("description", "Each degradation applied to every test chip (bench/robustness.py)."))
    rows = [{"group": name.replace("_", " "), **values["all"]} for name, values in robust["test"].items()]
    degraded = pd.DataFrame(rows)[["group", "n", "age_mae", "age_bias", "gender_accuracy", "gender_accuracy_women",
                                   "gender_accuracy_men", "interval90_coverage"]]
    fig = px.bar(degraded, y="group", x="age_mae", orientation="h", text_auto=".2f", labels=LABELS,
                 title="Age MAE by degradation")
    fig.update_traces(hovertemplate="%{y}: %{x:.2f} years<extra></extra>")
    fig.update_yaxes(title=None, autorange="reversed")
    st.plotly_chart(fig, key="robust-mae")
    table(degraded, "Degradation")
    st.caption(" · ".join(f"**{name.replace('_', ' ')}**: {text}" for name, text in robust["labels"].items()))

if "photos" in info or "widerface" in info:
    st.header("Whole photos")
    if "photos" in info:
        p = info["photos"]
        st.caption("The UTKFace test images run through the whole pipeline (detection, alignment, model), scoring the "
                   "labelled face of each (of the faces at least half as wide as the widest, the one nearest the "
                   "centre).")
        ui.metric_row({
            "Faces found": f"{p['detected_fraction']:.1%}",
            "Age MAE": f"{p['age_mae']:.2f} y",
            "Gender accuracy": f"{p['gender_accuracy']:.1%}",
            "90% interval coverage": f"{p['interval90_coverage']:.1%}",
        })
    if "widerface" in info:
        w = info["widerface"]
        st.caption("Crowd photos of WIDER FACE (widerface_dev): gender on the labelled faces the default pipeline "
                   "finds (IoU ≥ 0.4).")
        table(pd.DataFrame([{"group": k, **v} for k, v in w["by_width"].items()]), "Face width")

if "history" in info:
    st.header("Training")
    curves = info["history"].copy()
    curves["epoch"] = range(1, len(curves) + 1)
    curves = curves.rename(columns={"age_mae_years": "train (augmented)", "val_age_mae_years": "dev"})
    fig = px.line(curves, x="epoch", y=["train (augmented)", "dev"], markers=True, title="Age MAE during training",
                  labels={"value": "Age MAE (years)", "variable": "Split", "epoch": "Epoch"})
    fig.update_traces(hovertemplate="Epoch %{x}: %{y:.2f} years<extra></extra>")
    st.plotly_chart(fig, key="history")
    st.caption("Recorded while training: the UTKFace train split (with augmentation) and the dev split.")
