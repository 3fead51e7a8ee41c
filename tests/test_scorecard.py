"""The scorecard's arithmetic: when a figure meets its target, and the rule for shipping."""

from bench.scorecard import held, ships


def test_a_share_at_its_limit_is_held():
    assert held(1 - 357 / 420, "<= 0.15") is True  # 63 of 420 abstaining: 15%, a hair over 0.15 in floating point
    assert held(1 - 356 / 420, "<= 0.15") is False
    assert held(332 / 357, ">= 0.93") is False
    assert held(-0.75, "|.| <= 0.75") is True and held(-0.76, "|.| <= 0.75") is False
    assert held(3.1, "report") is None


def _card(version, **values):
    targets = {"FairFace age group exact": ">= 0.50", "LFW gender": ">= 0.975", "UTKFace test age MAE": "<= 4.6",
               "robustness down32: bias": "|.| <= 0.75"}
    return {"version": version, "lines": {k: {"value": v, "target": targets[k], "held": held(v, targets[k])}
                                          for k, v in values.items()}}


def test_the_rule_for_shipping():
    shipped = _card("old", **{"FairFace age group exact": 0.47, "LFW gender": 0.98, "UTKFace test age MAE": 4.5,
                              "robustness down32: bias": -0.9})
    better = _card("new", **{"FairFace age group exact": 0.48, "LFW gender": 0.98, "UTKFace test age MAE": 4.55,
                             "robustness down32: bias": -0.95})
    assert ships(better, shipped)  # better off-domain; a held line still held, a missed one may move
    same = _card("same", **{k: v["value"] for k, v in shipped["lines"].items()})
    assert not ships(same, shipped)  # nothing better
    worse_missed = _card("w", **{**{k: v["value"] for k, v in better["lines"].items()}, "LFW gender": 0.97})
    assert not ships(worse_missed, shipped)  # an off-domain line missed and worse
    broken = _card("b", **{**{k: v["value"] for k, v in better["lines"].items()}, "UTKFace test age MAE": 4.7})
    assert not ships(broken, shipped)  # a held UTKFace line broken
