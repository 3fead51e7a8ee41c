"""The served ONNX model is the `.keras` model: same outputs on real dev chips, and a stale export is detected."""

import json
import shutil

import numpy as np
import pytest

from agegender.inference.networks.agegender import OUR_SPEC, AgeGenderModel
from agegender.paths import MODELS, data_root
from agegender.training.export import TOLERANCE, keras_outputs, stale


def test_stale_export_is_detected(tmp_path):
    for name in ("agegender.json", "agegender.onnx", "agegender.keras"):
        shutil.copy(MODELS / name, tmp_path / name)
    assert stale(tmp_path / "agegender.json") is None
    with open(tmp_path / "agegender.keras", "ab") as fh:
        fh.write(b"retrained")
    assert "changed since it was exported" in stale(tmp_path / "agegender.json")
    spec = json.loads(OUR_SPEC.read_text())
    (tmp_path / "agegender.json").write_text(json.dumps({k: v for k, v in spec.items() if k != "onnx_file"}))
    assert stale(tmp_path / "agegender.json") == "no ONNX export recorded"


@pytest.mark.slow
@pytest.mark.skipif(not (data_root() / "utkface" / "labels.csv").is_file(), reason="UTKFace is not in the data folder")
def test_onnx_equals_keras_on_dev_chips():
    import keras

    from agegender.training.dataset import load_chips, utkface

    dev = utkface("dev")
    model = AgeGenderModel()
    chips = np.asarray(load_chips(dev.subset(range(256)), model.input_size, cache=False))
    served, served_female = model.distributions(chips, flip=False)
    source = keras.saving.load_model(MODELS / model.spec["model_file"], compile=False)
    reference, reference_female = keras_outputs(source, chips)
    assert np.abs(served - reference).max() <= TOLERANCE
    assert np.abs(served_female - reference_female).max() <= TOLERANCE
