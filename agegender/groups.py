"""Age groups: the 8 classic Adience groups and the coarse reporting bins."""

import numpy as np

AGE_GROUPS = ("0-2", "4-6", "8-12", "15-20", "25-32", "38-43", "48-53", "60-100")
# Gaps between groups go to the nearest group; a tie (3, 7, 35) goes to the older one.
_GROUP_EDGES = np.array([3.0, 7.0, 13.5, 22.5, 35.0, 45.5, 56.5])

AGE_BINS = ("0-12", "13-19", "20-39", "40-59", "60+")
_BIN_EDGES = np.array([13.0, 20.0, 40.0, 60.0])


def group_index(age):
    """Index into AGE_GROUPS for each age (scalar or array)."""
    return np.searchsorted(_GROUP_EDGES, np.asarray(age, dtype=float), side="right")


def bin_index(age):
    """Index into AGE_BINS for each age (scalar or array)."""
    return np.searchsorted(_BIN_EDGES, np.asarray(age, dtype=float), side="right")


def age_group(age: float) -> str:
    """The classic age group an age falls in."""
    return AGE_GROUPS[int(group_index(age))]
