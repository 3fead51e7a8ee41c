"""The Upload page's charts: ages in fixed 5-year bins with whole-number counts, and the gender split."""

import math

import numpy as np
import plotly.graph_objects as go

from ..inference.render import COLOURS, NEUTRAL

BIN_YEARS = 5
TOP_AGE = 100  # older ages go to the last bin


def age_histogram(ages) -> go.Figure:
    """Faces per 5-year bin of apparent age, 0-100; the count axis is ticked in whole faces."""
    edges = np.arange(0, TOP_AGE + BIN_YEARS, BIN_YEARS)
    counts, _ = np.histogram(np.clip(np.asarray(ages, dtype=float), 0, TOP_AGE - 1e-6), bins=edges)
    names = [f"{lo}–{lo + BIN_YEARS - 1}" for lo in edges[:-1]]
    bars = go.Bar(x=edges[:-1] + BIN_YEARS / 2, y=counts, width=BIN_YEARS * 0.92, customdata=names,
                  hovertemplate="Age %{customdata}: %{y} faces<extra></extra>", marker_color=f"rgb{COLOURS['male']}")
    fig = go.Figure(bars)
    fig.update_layout(title="Ages", showlegend=False)
    fig.update_xaxes(title="Apparent age (years), 5-year bins", range=[0, TOP_AGE], tick0=0, dtick=10)
    step = max(1, math.ceil(int(counts.max(initial=0)) / 6))
    fig.update_yaxes(title="Faces", tick0=0, dtick=step, tickformat="d", rangemode="tozero")
    return fig


def gender_pie(genders) -> go.Figure:
    """The split of the model's answers: female, male and (where it abstains) unknown."""
    names = [g for g in ("female", "male", "unknown") if g in set(genders)]
    counts = [sum(g == name for g in genders) for name in names]
    colours = [f"rgb{COLOURS.get(name, NEUTRAL)}" for name in names]
    pie = go.Pie(labels=names, values=counts, marker_colors=colours, sort=False,
                 hovertemplate="%{label}: %{value} faces (%{percent})<extra></extra>")
    return go.Figure(pie).update_layout(title="Gender")
