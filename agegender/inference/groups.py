"""Age groups: the contiguous display groups every result carries, the 8 classic groups and the coarse bins.

Results show the classic Adience groups widened to meet halfway, so that together they cover every age and
the group shown always contains the age shown: a group "a-b" holds the ages from a up to (not including)
b + 1, as ages in completed years do, and it is picked from the age rounded to the one decimal shown.
Metrics keep the 8 classic groups by name (true ages in the gaps between them go to the nearest group).
"""

import numpy as np

AGE_GROUPS = ("0-2", "4-6", "8-12", "15-20", "25-32", "38-43", "48-53", "60-100")
# Gaps between classic groups go to the nearest group; a tie (3, 7, 35) goes to the older one.
_GROUP_EDGES = np.array([3.0, 7.0, 13.5, 22.5, 35.0, 45.5, 56.5])

DISPLAY_GROUPS = ("0-2", "3-6", "7-13", "14-22", "23-34", "35-45", "46-56", "57+")
_DISPLAY_EDGES = np.array([3.0, 7.0, 14.0, 23.0, 35.0, 46.0, 57.0])

AGE_BINS = ("0-12", "13-19", "20-39", "40-59", "60+")
_BIN_EDGES = np.array([13.0, 20.0, 40.0, 60.0])


def group_index(age):
    """Index into AGE_GROUPS (the classic groups) for each age (scalar or array)."""
    return np.searchsorted(_GROUP_EDGES, np.asarray(age, dtype=float), side="right")


def bin_index(age):
    """Index into AGE_BINS for each age (scalar or array)."""
    return np.searchsorted(_BIN_EDGES, np.asarray(age, dtype=float), side="right")


def age_group(age: float) -> str:
    """The display group of an age, as results show it next to the age rounded to one decimal."""
    return DISPLAY_GROUPS[int(np.searchsorted(_DISPLAY_EDGES, round(float(age), 1), side="right"))]
