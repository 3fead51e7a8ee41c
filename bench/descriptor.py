"""The face descriptor (networks/descriptor.py): same/different accuracy on pairs, and its cost per face.

London studio photos (offdomain_dev/london: 54 people, six poses each): every pair of one person's photos is a
true pair (front against 3/4, neutral against smiling, ...), every pair of two people's a false one. LFW news photos
(offdomain_dev/lfw, greyscale, 250 px): every pair of one identity's photos against every pair of two identities'.
Each photo's labelled RetinaFace face (`network_outputs.labelled_face`) is described. Reported: the true-match rate
at the distance where the false-match rate is at most 1% (and 0.1%), and both rates at the operating distances
`tracking.SAME_PERSON` and dlib's 0.6; also milliseconds per face (crop and network) in batches of 1 and 8.
Writes bench/results/descriptor.json.
"""

import csv
import time

import numpy as np

from agegender.inference.decode import read_image
from agegender.inference.detect import get_detector
from agegender.inference.networks.descriptor import Descriptor, distances
from agegender.inference.tracking import SAME_PERSON
from agegender.paths import data_root
from agegender.training.network_outputs import labelled_face
from bench.report import bench_parser, write_json


def describe(folder: str, net: Descriptor, detector) -> tuple[np.ndarray, list[dict]]:
    """Descriptors of the labelled face in each labelled photo that has one, and those photos' label rows."""
    root = data_root() / "offdomain_dev" / folder
    vectors, rows = [], []
    for row in csv.DictReader(open(root / "labels.csv")):
        image = read_image(root / row["path"])
        found = detector.detect(image)
        if len(found):
            vectors.append(net.predict(net.crop(image, labelled_face(found, image.shape)))["descriptor"][0])
            rows.append(row)
    return np.array(vectors), rows


def rates(d: np.ndarray, same: np.ndarray, pairs: np.ndarray) -> dict:
    """True- and false-match rates over the pairs (upper triangle) at the operating distances and at FMR caps."""
    genuine, impostor = np.sort(d[pairs & same]), np.sort(d[pairs & ~same])
    out = {"true_pairs": int(len(genuine)), "false_pairs": int(len(impostor))}
    for cap in (0.01, 0.001):
        threshold = impostor[int(np.floor(cap * len(impostor)))]  # matches are distances strictly below it
        out[f"tmr_at_fmr_{cap:g}"] = round(float(np.mean(genuine < threshold)), 4)
        out[f"distance_at_fmr_{cap:g}"] = round(float(threshold), 4)
    for name, threshold in (("same_person", SAME_PERSON), ("dlib_0.6", 0.6)):
        out[f"at_{name}"] = {"distance": threshold, "tmr": round(float(np.mean(genuine < threshold)), 4),
                             "fmr": round(float(np.mean(impostor < threshold)), 5)}
    return out


def london(net: Descriptor, detector) -> dict:
    vectors, rows = describe("london", net, detector)
    ids = np.array([r["face_id"] for r in rows])
    poses = np.array([r["pose"] for r in rows])
    d, same = distances(vectors, vectors), ids[:, None] == ids[None, :]
    pairs = np.triu(np.ones_like(same), 1)
    front = np.char.endswith(poses.astype(str), "front")
    smiling = np.char.startswith(poses.astype(str), "smiling")
    out = {"photos": len(rows), "all": rates(d, same, pairs)}
    kinds = {
        "front_vs_3quarter": front[:, None] != front[None, :],
        "neutral_vs_smiling": smiling[:, None] != smiling[None, :],
        "3quarter_left_vs_right": (np.char.find(poses.astype(str), "left") >= 0)[:, None]
        & (np.char.find(poses.astype(str), "right") >= 0)[None, :],
    }
    for name, kind in kinds.items():
        true = d[pairs & same & kind]
        out[name] = {"true_pairs": int(len(true)), "tmr_at_all_fmr_0.01": round(float(np.mean(
            true < out["all"]["distance_at_fmr_0.01"])), 4)}
    return out


def lfw(net: Descriptor, detector) -> dict:
    vectors, rows = describe("lfw", net, detector)
    ids = np.array([r["identity"] for r in rows])
    d, same = distances(vectors, vectors), ids[:, None] == ids[None, :]
    return {"photos": len(rows), "identities": len(set(ids)), "all": rates(d, same, np.triu(np.ones_like(same), 1))}


def cost(net: Descriptor, detector) -> dict:
    """Milliseconds per face for the crop and the network, one face at a time and eight at a time."""
    image = read_image(data_root() / "offdomain_dev" / "london" / "images" / "neutral_front" / "002_03.jpg")
    found = detector.detect(image)[:1]
    out = {}
    for batch in (1, 8):
        many = found[[0] * batch]
        net.predict(net.crop(image, many))
        start, rounds = time.perf_counter(), max(3, 40 // batch)
        for _ in range(rounds):
            crops = net.crop(image, many)
        crop = (time.perf_counter() - start) / rounds / batch
        start = time.perf_counter()
        for _ in range(rounds):
            net.predict(crops)
        run = (time.perf_counter() - start) / rounds / batch
        out[f"batch_{batch}"] = {"crop_ms": round(crop * 1000, 2), "network_ms": round(run * 1000, 2)}
    return out


def main() -> None:
    args = bench_parser(__doc__, "descriptor").parse_args()
    net, detector = Descriptor(), get_detector("retinaface", max_side=None)
    result = {"cost_per_face": cost(net, detector), "london": london(net, detector), "lfw": lfw(net, detector)}
    write_json(args.out, result)
    for name in ("london", "lfw"):
        r = result[name]["all"]
        print(f"{name}: TMR {r['tmr_at_fmr_0.01']:.1%} at FMR <= 1% (distance {r['distance_at_fmr_0.01']}), "
              f"{r['true_pairs']} true and {r['false_pairs']} false pairs; at {SAME_PERSON}: {r['at_same_person']}")
    print("cost per face:", result["cost_per_face"])


if __name__ == "__main__":
    main()
