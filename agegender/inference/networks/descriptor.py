"""The face descriptor: dlib's face recognition ResNet (public domain), converted to ONNX by
tools/convert_dlib_descriptor.py. A 128-d vector per face; two faces of one person lie closer than about 0.6.
Its spec (`models/descriptor.json`) also holds a gender head (`training/gender_head.py`): P(female) from the
descriptor, a third opinion for the combiner's gender.

It reads dlib's 150 px chip with padding 0.25. `TEMPLATE` is where RetinaFace's 5 landmarks fall on that chip:
`cc0.CC0_TEMPLATE` (measured on dlib's chip with padding 0.2) moved to padding 0.25 by dlib's own rule (a point
`p` of its unpadded unit chip lies at `(padding + p) / (1 + 2 padding)`); tools/verify_dlib_descriptor.py measures it
again on this chip and compares the whole path with dlib's.
"""

from functools import lru_cache

import numpy as np

from ...paths import MODELS
from ..detect import Detections
from ..onnx import session
from ..spec import NetworkSpec
from . import Network
from .cc0 import CC0_TEMPLATE, dlib_chips, template_for

DESCRIPTOR_SPEC = MODELS / "descriptor.json"
DESCRIPTOR_FILE = MODELS / "dlib_face_descriptor.onnx"
SIZE, PADDING, CC0_PADDING = 150, 0.25, 0.2
DLIB_5 = np.array(  # dlib's get_face_chip_details: its 5-point shape on the unpadded unit chip
    [[0.8595674595992, 0.2134981538014], [0.6460604764104, 0.2289674387677], [0.1205750620789, 0.2137274526848],
     [0.3340850613712, 0.2290642403242], [0.4901123135679, 0.6277975316475]]
)


def repadded(template: np.ndarray, padding: float = PADDING, was: float = CC0_PADDING) -> np.ndarray:
    """A template on dlib's unit chip with padding `was`, moved to the chip with `padding`."""
    return (np.asarray(template) * (1 + 2 * was) - was + padding) / (1 + 2 * padding)


TEMPLATE = repadded(CC0_TEMPLATE)


class Descriptor(Network):
    """128-d face descriptors (column `descriptor`, float32), compared by Euclidean distance, and P(female) from
    them (column `p_female`) where the spec has a gender head."""

    name = "descriptor"
    mirrors = False  # used as dlib uses it
    crop_key = ("dlib", SIZE, PADDING)  # one crop for the float and the 8-bit network
    columns = ("descriptor", "p_female")

    def __init__(self, spec: NetworkSpec | None = None, threads: int = 0):
        self.spec = spec or NetworkSpec.load(DESCRIPTOR_SPEC)
        self.session = session(self.spec.file("onnx"), threads=threads)
        head = self.spec.settings.get("gender_head")
        self.head = head and (np.asarray(head["mean"]), np.asarray(head["weights"]), float(head["bias"]))

    def crop(self, image: np.ndarray, found: Detections) -> dict[str, np.ndarray]:
        return {"chips": dlib_chips(image, found.landmarks, SIZE, repadded(template_for(found.detector)))}

    def predict(self, crops: dict, flip: bool = False) -> dict[str, np.ndarray]:
        """Descriptors of the chips, and P(female) where there is a head (the network is used as dlib uses it:
        no mirror images)."""
        chips = crops["chips"]
        vectors = (self.session.run(None, {"chips": np.ascontiguousarray(chips)})[0] if len(chips)
                   else np.zeros((0, 128), np.float32))
        if not self.head:
            return {"descriptor": vectors}
        mean, weights, bias = self.head
        return {"descriptor": vectors, "p_female": 1 / (1 + np.exp(-((vectors - mean) @ weights + bias)))}


@lru_cache(maxsize=4)
def shared_descriptor(threads: int = 0) -> Descriptor:
    """The descriptor network of this process for a thread count, loaded when first needed."""
    return Descriptor(threads=threads)


def distances(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Euclidean distances [N, M] between descriptors a [N, 128] and b [M, 128]."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    squared = (a**2).sum(1)[:, None] + (b**2).sum(1)[None, :] - 2 * a @ b.T
    return np.sqrt(np.maximum(squared, 0.0))


__all__ = ["DESCRIPTOR_SPEC", "DLIB_5", "Descriptor", "PADDING", "TEMPLATE", "distances", "shared_descriptor"]
