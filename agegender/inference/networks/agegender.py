"""Our network: MobileNetV2 trained by this project, served from its ONNX export, on UTKFace-geometry chips."""

import numpy as np

from ..align import align_faces
from ..detect import Detections
from ..runtime import AgeGenderModel
from . import Network


class OurNetwork(Network):
    """The age distribution over 0-100 years and P(female) of our trained network (`AgeGenderModel`)."""

    name = "agegender"

    def __init__(self, spec, threads: int = 0):
        self.spec = spec
        self.model = AgeGenderModel(spec.path, threads=threads)

    def crop(self, image: np.ndarray, found: Detections) -> dict[str, np.ndarray]:
        m = self.model
        return {"chips": align_faces(image, found.landmarks, m.input_size, found.chip_template, m.chip_size)}

    def predict(self, crops: dict, flip: bool = False) -> dict[str, np.ndarray]:
        age, p_female = self.model.distributions(crops["chips"], flip=flip)
        return {"age": age.astype(np.float64), "p_female": p_female.astype(np.float64)}
