"""Our network: MobileNetV2 trained by this project, served from its ONNX export, on UTKFace-geometry chips."""

import json
from pathlib import Path

import numpy as np

from ...paths import MODELS
from ..align import align_faces
from ..combiner import ModelOutput, summarise
from ..detect import Detections
from ..onnx import session, thread_count
from . import Network

OUR_SPEC = MODELS / "agegender.json"
CHIPS_PER_THREAD = 4  # network inputs per call and thread (flipped copies included): bench/model_speed.py


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


class AgeGenderModel:
    """The model in `models/` with its spec; `predict` takes uint8 RGB chips of the spec's input size.

    The `.keras` file is the source of truth; what runs is its ONNX export (`python -m agegender export`,
    batch norms folded), whose spec records the hash of the `.keras` file it came from. `flip` (flip
    test-time augmentation: each chip and its mirror image in one network call, averaged) defaults to the
    spec's `flip_tta`, the way the model is served. Larger inputs go to the network `batch_size` chips at a time
    (default `CHIPS_PER_THREAD` per thread, flipped copies included): bigger batches spill out of the CPU's caches
    and run slower per chip.
    """

    def __init__(self, spec_path=OUR_SPEC, batch_size: int | None = None, threads: int = 0):
        self.spec_path = Path(spec_path)
        self.spec = json.loads(self.spec_path.read_text())
        self.input_size = int(self.spec["input_size"])
        self.temperature = float(self.spec.get("age_temperature", 1.0))
        self.age_offset = float(self.spec.get("age_offset", 0.0))
        self.flip = bool(self.spec.get("flip_tta", False))
        self.batch_size = batch_size or CHIPS_PER_THREAD * thread_count(threads)
        self.chip_size = int(self.spec.get("chip", {}).get("size", 200))
        if "onnx_file" not in self.spec:
            raise FileNotFoundError(f"{self.spec_path}: no ONNX export recorded; run `python -m agegender export`")
        self.session = session(self.spec_path.parent / self.spec["onnx_file"], threads=threads)
        self._input = self.session.get_inputs()[0].name

    @property
    def version(self) -> str:
        return str(self.spec.get("version", "unknown"))

    def distributions(self, chips: np.ndarray, flip: bool | None = None):
        """Age distributions [N, 101] and P(female) [N] for uint8 chips [N, S, S, 3]."""
        chips = np.asarray(chips)
        if chips.ndim != 4 or chips.shape[1:] != (self.input_size, self.input_size, 3):
            raise ValueError(f"chips must be [N, {self.input_size}, {self.input_size}, 3], got {chips.shape}")
        if chips.dtype != np.uint8:
            chips = np.clip(np.rint(chips), 0, 255).astype(np.uint8)
        flip = self.flip if flip is None else bool(flip)
        ages, genders = [np.zeros((0, 101), np.float32)], [np.zeros(0, np.float32)]
        step = max(1, self.batch_size // 2) if flip else self.batch_size
        for start in range(0, len(chips), step):
            batch = chips[start : start + step]
            n = len(batch)
            if flip:
                batch = np.concatenate([batch, batch[:, :, ::-1]])
            age, gender = self.session.run(None, {self._input: np.ascontiguousarray(batch)})
            if flip:
                age, gender = (age[:n] + age[n:]) / 2, (gender[:n] + gender[n:]) / 2
            ages.append(age)
            genders.append(gender)
        return np.concatenate(ages), np.concatenate(genders)

    def predict(self, chips: np.ndarray, flip: bool | None = None) -> ModelOutput:
        """Age estimate, spread, 90% interval and P(female) for each chip, in one batched pass."""
        probs, p_female = self.distributions(chips, flip)
        mean, std, low, high = summarise(probs, self.temperature, offset=self.age_offset)
        return ModelOutput(mean, std, low, high, p_female.astype(np.float64))
