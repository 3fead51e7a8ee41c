"""The combiner: the networks' columns for a batch of faces in, one `ModelOutput` out (pure NumPy).

Age: a mixture of the networks' age distributions, our network weighted by the age it reads (`age_weights` at
`age_knots`: ours for children and the old, where it is better, the partner for adults, where that one is), with
`age_spread`, more on the network that is surer of this face than the other (each network's spread relative to the
age it reads, compared on the logit of the weight), and with `low_detail`, more on adults' faces with little fine
detail (the CC0 age network reads an adult's face enlarged from a few pixels years young; ours much less so), then
moved by a bias correction read off the mixture's mean (`age_bias` at the same knots). Its mean is the estimate, its
sd the spread, and its central 90% at `temperature` the interval. Our network's age distributions are first
corrected as the parameters ask (`corrections.py`): `second_look`, averaged with its read of the mirror image where
the two networks read ages far apart; `age_prior`, divided by the age prior it was trained under. Gender: P(female)
from a weighted sum of every network's logit (`gender`: a weight per network and a bias, another set for faces read
as children; networks after the first two, such as the face descriptor's gender head, add to the gender only). A
`gate` names a network read only where the others are unsure: P(female) comes from the stack without it
(`gender_without`), and where that is within `gate.within` of even, from the stack with it; where the gate names a
`quick` network (a faster copy of the gated one, such as the descriptor in 8 bits), that is read first in its place,
and the gated one only for the faces whose P(female) then lies within `gate.recheck` of a decision (even, or the
abstention band's edge). Abstention: a gender is "unknown" where P(female) is within `gender_band.half_widths` of
even, a half-width per band of the age estimate (`gender_band.edges`), and with `gender_band.low_detail` wider ones
for faces with little fine detail, whose genders are wrong more often. With our network alone the age weights are 1
and the bias one `age_offset`. The parameters are fitted in `training/combine.py` (the age in
`training/combine_age.py`) and stored in the model spec.
"""

from dataclasses import dataclass, field

import numpy as np

from .corrections import GRID, corrected, second_look

INTERVAL_LEVEL = 0.9  # the interval given with every age
SPREAD_YEARS = 5.0  # keeps an infant's relative spread finite


@dataclass
class ModelOutput:
    """Per-face columns: expected age, its spread (sd), the 90% interval, P(female), and whether the gender is
    told (False: "unknown", P(female) too close to even); `data` holds further per-face columns that slice along."""

    age: np.ndarray
    age_std: np.ndarray
    age_low: np.ndarray
    age_high: np.ndarray
    p_female: np.ndarray
    gender_known: np.ndarray = None
    data: dict = field(default_factory=dict)

    def __post_init__(self):
        if self.gender_known is None:
            self.gender_known = np.ones(len(self.age), bool)

    def __len__(self) -> int:
        return len(self.age)

    def __getitem__(self, index) -> "ModelOutput":
        return ModelOutput(self.age[index], self.age_std[index], self.age_low[index], self.age_high[index],
                           self.p_female[index], self.gender_known[index], {k: v[index] for k, v in self.data.items()})


def _quantile(cdf: np.ndarray, q: float) -> np.ndarray:
    """Linear-interpolated quantile (in years) of each row's age distribution given its CDF."""
    idx = np.minimum((cdf < q).sum(axis=1), cdf.shape[1] - 1)
    rows = np.arange(len(cdf))
    below = np.where(idx > 0, cdf[rows, np.maximum(idx - 1, 0)], 0.0)
    step = np.maximum(cdf[rows, idx] - below, 1e-12)
    return idx - 1 + np.clip((q - below) / step, 0.0, 1.0) + 0.5


def moments(probs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and sd (years) of each row's age distribution over whole years from 0."""
    grid = np.arange(probs.shape[1], dtype=np.float64)
    mean = probs @ grid
    return mean, np.sqrt(np.maximum(probs @ grid**2 - mean**2, 0.0))


def summarise(probs: np.ndarray, temperature: float = 1.0, level: float = INTERVAL_LEVEL, offset=0.0):
    """Mean, sd and central `level` interval of age distributions; the interval uses tempered probabilities.

    `offset` (years, a number or one per row) moves the estimate and the interval together, within 0-100.
    """
    probs = np.asarray(probs, dtype=np.float64)
    top = probs.shape[1] - 1
    mean, std = moments(probs)
    tempered = np.power(np.maximum(probs, 1e-12), 1.0 / temperature)
    cdf = np.cumsum(tempered / tempered.sum(axis=1, keepdims=True), axis=1)
    tail = (1.0 - level) / 2
    low, high = _quantile(cdf, tail), _quantile(cdf, 1.0 - tail)
    mean, low, high = (np.clip(v + offset, 0.0, top) for v in (mean, low, high))
    return mean, std, np.minimum(low, mean), np.maximum(high, mean)


def logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(np.asarray(p, np.float64), 1e-6, 1 - 1e-6)
    return np.log(p / (1 - p))


def relative_spread(probs: np.ndarray) -> np.ndarray:
    """How unsure a network is of each face's age: the log of its distribution's sd (plus a year) over the age it
    reads (plus `SPREAD_YEARS`), since a network's spread grows with the age it reads."""
    mean, sd = moments(probs)
    return np.log((sd + 1.0) / (mean + SPREAD_YEARS))


def our_weight(our_mean: np.ndarray, sharpness: np.ndarray | None, params: dict,
               spread: np.ndarray | None = None) -> np.ndarray:
    """Our network's weight in the age mixture: `age_weights` at `age_knots` of the age it reads; with `age_spread`,
    its logit moved by that much times `spread` (the partner's `relative_spread` less ours: positive where ours is
    the surer); and with `low_detail`, leaning to ours on faces whose partner chip is less sharp than `knee`, wholly
    at `floor`, where ours reads an adult (from none at `ages[0]` to all at `ages[1]`)."""
    weight = np.interp(our_mean, params["age_knots"], params["age_weights"])
    slope = params.get("age_spread")
    if slope and spread is not None:
        weight = 1 / (1 + np.exp(-(logit(np.clip(weight, 1e-3, 1 - 1e-3)) + slope * spread)))
    low = params.get("low_detail")
    if low and sharpness is not None:
        (young, adult), (knee, floor) = low["ages"], (low["knee"], low["floor"])
        lean = np.clip((knee - sharpness) / (knee - floor), 0, 1) * np.clip((our_mean - young) / (adult - young), 0, 1)
        weight = weight + (1 - weight) * lean
    return weight


class Combiner:
    """The combination of one serving's networks, from its parameters in the model spec."""

    def __init__(self, params: dict, level: float = INTERVAL_LEVEL):
        self.networks = list(params["networks"])
        self.params, self.level = params, level

    def mixture(self, columns: dict) -> np.ndarray:
        """The combined age distributions [N, 101] before the bias correction."""
        columns = corrected(columns, self.params)
        ours = columns[self.networks[0]]["age"]
        if len(self.networks) == 1:
            return ours
        partner = columns[self.networks[1]]
        spread = relative_spread(partner["age"]) - relative_spread(ours)
        weight = our_weight(ours @ GRID, partner.get("sharpness"), self.params, spread)[:, None]
        return weight * ours + (1 - weight) * partner["age"]

    def second_look(self, columns: dict) -> np.ndarray:
        """The faces our network reads again in mirror image (`corrections.second_look`), given the first reads."""
        return second_look(columns, self.params)

    def age_shift(self, mixture_mean: np.ndarray) -> np.ndarray:
        if "age_bias" in self.params:
            return np.interp(mixture_mean, self.params["age_knots"], self.params["age_bias"])
        return np.full(len(mixture_mean), float(self.params.get("age_offset", 0.0)))

    @property
    def gated(self) -> str | None:
        """The network read only for the faces `stages` gives (None: every network reads every face)."""
        return self.params.get("gate", {}).get("network")

    @property
    def staged(self) -> list[str]:
        """The networks read only for some faces, in the order they are read: the gate's quick one, then the gated."""
        gate = self.params.get("gate", {})
        return [gate[key] for key in ("quick", "network") if key in gate]

    @property
    def reads(self) -> list[str]:
        """Every network whose columns the combination takes."""
        return [*self.networks, *(name for name in self.staged if name not in self.networks)]

    def _stack(self, columns: dict, child: np.ndarray, gender: dict) -> np.ndarray:
        z = np.where(child, gender["child_bias"], gender["bias"])
        for name in gender["weights"]:
            z = z + np.where(child, gender["child"][name], gender["weights"][name]) * logit(columns[name]["p_female"])
        return 1 / (1 + np.exp(-z))

    def _age_and_child(self, columns: dict):
        probs = self.mixture(columns)
        age, std, low, high = summarise(probs, self.params["temperature"], self.level, self.age_shift(probs @ GRID))
        return (age, std, low, high), age < self.params.get("gender", {}).get("child_below", 0)

    def _sharpness(self, columns: dict) -> np.ndarray | None:
        return columns[self.networks[1]].get("sharpness") if len(self.networks) > 1 else None

    def _unsure(self, columns: dict, child: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """P(female) from the stack without the gated network, and where it is within `gate.within` of even."""
        out = self._stack(columns, child, self.params["gender_without"])
        return out, np.abs(out - 0.5) < self.params["gate"]["within"]

    def _gated(self, columns: dict, child: np.ndarray, half: np.ndarray, exact: bool = True):
        """P(female) with the gate, and the faces the gated network itself reads (without `exact`, before it has)."""
        gate, gender = self.params["gate"], self.params["gender"]
        out, unsure = self._unsure(columns, child)

        def stack(source: str, rows: np.ndarray) -> np.ndarray:
            names = {name: source if name == gate["network"] else name for name in gender["weights"]}
            sub = {name: {"p_female": np.asarray(columns[read]["p_female"])[rows]} for name, read in names.items()}
            return self._stack(sub, child[rows], gender)

        out[unsure] = stack(self.staged[0], unsure)
        if len(self.staged) == 1:
            return out, unsure
        edge = np.abs(out - 0.5)
        again = unsure & (np.minimum(edge, np.abs(edge - half)) < gate["recheck"])
        if exact:
            out[again] = stack(gate["network"], again)
        return out, again

    def stages(self, columns: dict):
        """Each `staged` network in turn, with the faces it reads given the columns read so far: the caller adds a
        network's columns to `columns` before taking the next. The age, which picks each face's band, is read once."""
        if not self.staged:
            return
        (age, *_), child = self._age_and_child(columns)
        yield self.staged[0], self._unsure(columns, child)[1]
        if len(self.staged) > 1:
            yield self.staged[1], self._gated(columns, child, self._half_widths(age, self._sharpness(columns)),
                                              exact=False)[1]

    def p_female(self, columns: dict, child: np.ndarray, half: np.ndarray) -> np.ndarray:
        """P(female) of each face; `half` is its abstention half-width (where the gate rechecks)."""
        gender = self.params.get("gender")
        if gender is None:
            return np.asarray(columns[self.networks[0]]["p_female"], np.float64)
        if not self.gated:
            return self._stack(columns, child, gender)
        return self._gated(columns, child, half)[0]

    def _half_widths(self, age: np.ndarray, sharpness: np.ndarray | None = None) -> np.ndarray:
        """Each face's abstention half-width: its age band's, or with the band's `low_detail` its own for faces less
        sharp than `below`."""
        band = self.params.get("gender_band")
        if not band:
            return np.zeros(len(age))
        which = np.searchsorted(band["edges"], age, side="right")
        half = np.asarray(band["half_widths"])[which]
        low = band.get("low_detail")
        if low and sharpness is not None:
            half = np.where(sharpness < low["below"], np.asarray(low["half_widths"])[which], half)
        return half

    def gender_known(self, p_female: np.ndarray, age: np.ndarray, sharpness: np.ndarray | None = None) -> np.ndarray:
        """Where the gender is told: P(female) at least the `_half_widths` from even (every face without a band)."""
        return np.abs(p_female - 0.5) >= self._half_widths(age, sharpness)

    def __call__(self, columns: dict) -> ModelOutput:
        """The combined output; the partner's `sharpness`, where it gives one, is kept in `data`."""
        (age, std, low, high), child = self._age_and_child(columns)
        sharpness = self._sharpness(columns)
        p_female = self.p_female(columns, child, self._half_widths(age, sharpness))
        data = {} if sharpness is None else {"sharpness": np.asarray(sharpness, np.float64)}
        return ModelOutput(age, std, low, high, p_female, self.gender_known(p_female, age, sharpness), data)
