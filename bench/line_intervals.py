"""How far a scorecard line could move on other photos of the same kinds: a 90% bootstrap interval per line.

Each round draws a set's people with replacement (a person's faces together, as the out-of-fold split keeps them)
and recomputes the set's lines from the same outputs, so the interval shows the sampling noise of the faces scored,
not that of refitting the combiner or retraining a network (both move the lines further still). Given a second
model's outputs on the same faces, the interval is of the difference between the two, drawn in the same rounds
(paired: it is narrower than either model's own wherever the two read most faces alike).
"""

from dataclasses import replace

import numpy as np

ROUNDS = 1000
LEVEL = 0.9


def line_draws(name: str, data, out, lines_of, against=None, rounds: int = ROUNDS,
               seed: int = 0) -> dict[str, list[float]]:
    """{line: values}: `lines_of(name, data, out)`'s values (with `against`, another `ModelOutput` for the same rows,
    their difference from its values) over `rounds` resamplings of `data.persons` (a `DevData`) and the matching rows
    of `out` (a `ModelOutput`)."""
    data = replace(data, columns={})  # the lines read the labels and the outputs only
    people, inverse = np.unique(data.persons, return_inverse=True)
    order = np.argsort(inverse, kind="stable")
    faces = np.split(order, np.cumsum(np.bincount(inverse))[:-1])
    rng = np.random.default_rng(seed)
    values: dict[str, list[float]] = {}
    with np.errstate(invalid="ignore", divide="ignore"):
        for _ in range(rounds):
            rows = np.concatenate([faces[p] for p in rng.integers(0, len(people), len(people))])
            drawn = data.rows(rows)
            base = {} if against is None else lines_of(name, drawn, against[rows])
            for line, (value, _) in lines_of(name, drawn, out[rows]).items():
                values.setdefault(line, []).append(value - base[line][0] if base else value)
    return values


def central(values) -> list[float]:
    """[low, high]: the central LEVEL of the values (NaN draws left out)."""
    tail = 100 * (1 - LEVEL) / 2
    return [round(float(np.nanpercentile(values, tail)), 4), round(float(np.nanpercentile(values, 100 - tail)), 4)]


def line_intervals(name: str, data, out, lines_of, against=None, rounds: int = ROUNDS,
                   seed: int = 0) -> dict[str, list[float]]:
    """{line: [low, high]}: the `central` interval of each line's `line_draws`."""
    return {line: central(v) for line, v in line_draws(name, data, out, lines_of, against, rounds, seed).items()}


def paired_lines(name: str, data, out, against, lines_of) -> dict[str, dict]:
    """{line: {"difference", "interval"}}: each of `lines_of`'s values for `out` less `against`'s on the same rows,
    with the `line_intervals` interval of that difference."""
    values, base = lines_of(name, data, out), lines_of(name, data, against)
    intervals = line_intervals(name, data, out, lines_of, against=against)
    return {line: {"difference": round(float(value - base[line][0]), 4), "interval": intervals[line]}
            for line, (value, _) in values.items()}
