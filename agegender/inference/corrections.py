"""What the combiner does to our network's age distributions before it mixes them with the partner's: the second
look (`second_look`: the mirror image read again where the two networks read ages far apart, averaged in) and the
prior correction (`age_prior`). Both take the serving's parameters and the networks' columns, and give columns."""

import numpy as np

N_AGES = 101  # age distributions are over whole years 0..100
GRID = np.arange(N_AGES, dtype=np.float64)


def second_look(columns: dict, params: dict) -> np.ndarray:
    """The faces our network reads again in mirror image: where its age and the partner's are more than
    `second_look.apart` years apart (none without `second_look` or a partner). The mirror image is another draw
    of the same face, so it is worth its cost where the two networks disagree, not where they agree."""
    ours = columns[params["networks"][0]]["age"]
    look = params.get("second_look")
    if not look or len(params["networks"]) < 2:
        return np.zeros(len(ours), bool)
    return np.abs(ours @ GRID - columns[params["networks"][1]]["age"] @ GRID) > look["apart"]


def looked_again(columns: dict, params: dict) -> dict:
    """`columns` with our network's age distribution averaged with its mirror image's (its `mirror_age` column:
    read for every face, or, as the Estimator reads it, only for the faces `second_look` gives) where
    `second_look` asks; P(female) stays as read once."""
    asked = second_look(columns, params)
    if not asked.any():
        return columns
    name = params["networks"][0]
    ours = columns[name]
    if "mirror_age" not in ours:
        raise ValueError(f"second_look asks for {name}'s mirror reads, and the columns have none")
    age = np.array(ours["age"], np.float64)
    age[asked] = (age[asked] + ours["mirror_age"][asked]) / 2
    return {**columns, name: {**ours, "age": age}}


def prior_corrected(columns: dict, params: dict) -> dict:
    """`columns` with our network's age distributions divided by `age_prior`'s `ages` to its `power`, renormalised."""
    if not (prior := params.get("age_prior")):
        return columns
    name = params["networks"][0]
    probs = columns[name]["age"] * np.asarray(prior["ages"], np.float64) ** -prior["power"]
    return {**columns, name: {**columns[name], "age": probs / probs.sum(axis=1, keepdims=True)}}


def corrected(columns: dict, params: dict) -> dict:
    """Our network's columns with every correction the parameters ask for: the second look, then the prior."""
    return prior_corrected(looked_again(columns, params), params)
