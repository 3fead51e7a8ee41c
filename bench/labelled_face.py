"""Which face of a labelled photo is scored: for each set of labelled photos (the development sets, UTKFace test and
the unlabelled CFP pool), how many photos have several faces, and in how many the labelled face
(`network_outputs.labelled_face`: of the faces at least half as wide as the widest, the one nearest the centre) is
not the largest, with those photos listed. Writes bench/results/labelled_face.json.
"""

import numpy as np

from agegender import Estimator
from agegender.inference.decode import ImageError, read_image
from agegender.paths import data_root
from agegender.training.dataset import read_labels
from agegender.training.devsets import SETS, faces_of
from agegender.training.network_outputs import labelled_face
from bench.report import bench_parser, write_json


def audit(paths, estimator: Estimator) -> dict:
    """Photos, those with several faces, and those whose labelled face is not their largest."""
    several, moved = 0, []
    for path in paths:
        try:
            image = read_image(path)
        except ImageError:
            continue
        found = estimator.detect(image)
        if len(found) < 2:
            continue
        several += 1
        if labelled_face(found, image.shape).boxes[0].tolist() != found.boxes[int(np.argmax(found.widths))].tolist():
            moved.append(str(path.relative_to(data_root())))
    return {"photos": len(paths), "several_faces": several, "labelled_not_largest": len(moved), "photos_moved": moved}


def main() -> None:
    parser = bench_parser(__doc__, "labelled_face")
    args = parser.parse_args()
    estimator = Estimator()
    sets = {name: faces_of(name).paths for name, spec in SETS.items() if spec.mode == "photos"}
    sets["cfp"] = read_labels(data_root() / "unlabelled" / "cfp" / "labels.csv").paths
    result = {}
    for name, paths in sets.items():
        result[name] = audit(list(paths), estimator)
        r = result[name]
        print(f"{name}: {r['photos']} photos, {r['several_faces']} with several faces, the labelled face not the "
              f"largest in {r['labelled_not_largest']}")
    write_json(args.out, result)


if __name__ == "__main__":
    main()
