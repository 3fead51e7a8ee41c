"""Export: the served ONNX model generated from the `.keras` file (batch norms folded, uint8 chips in).

The `.keras` file stays the source of truth: the spec records its SHA-256 beside the ONNX file's, so a stale
export is detected (`stale`), and the export is checked against Keras on the way out.
"""

import hashlib
import json
import logging
from pathlib import Path

import numpy as np

from .finalize import SPEC_FILE

log = logging.getLogger(__name__)

ONNX_FILE = "agegender.onnx"
OPSET = 17
TOLERANCE = 1e-4


def sha256(path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def stale(spec_path) -> str | None:
    """Why the ONNX export recorded in a spec does not match its `.keras` file, or None if it does."""
    spec_path = Path(spec_path)
    spec = json.loads(spec_path.read_text())
    folder = spec_path.parent
    if "onnx_file" not in spec:
        return "no ONNX export recorded"
    if spec.get("keras_sha256") != sha256(folder / spec["model_file"]):
        return f"{spec['model_file']} changed since it was exported"
    if spec.get("onnx_sha256") != sha256(folder / spec["onnx_file"]):
        return f"{spec['onnx_file']} is not the file that was exported"
    return None


def keras_outputs(keras_model, chips: np.ndarray):
    """The `.keras` model's own (unfolded) age distributions and P(female) for uint8 chips, without flip."""
    out = keras_model(chips.astype(np.float32), training=False)
    return np.asarray(out["age"]), np.asarray(out["gender"])[:, 0]


def export(folder, check_chips: np.ndarray | None = None) -> dict:
    """Write `folder/agegender.onnx` from the spec's `.keras` file and record both hashes in the spec.

    Checked against the `.keras` model on `check_chips` (default: 64 random chips); raises if they differ by
    more than 1e-4.
    """
    import keras
    import onnx
    import tensorflow as tf
    import tf2onnx

    from ..inference.networks.agegender import AgeGenderModel
    from .network import fold_batchnorm, served_forward

    folder = Path(folder)
    spec_path = folder / SPEC_FILE
    spec = json.loads(spec_path.read_text())
    size = int(spec["input_size"])
    model = keras.saving.load_model(folder / spec["model_file"], compile=False)
    forward = served_forward(fold_batchnorm(model), size)[False]
    proto, _ = tf2onnx.convert.from_function(
        forward, input_signature=[tf.TensorSpec([None, size, size, 3], tf.uint8)], opset=OPSET
    )
    graph = proto.graph
    names = {graph.input[0].name: "chips", graph.output[0].name: "age", graph.output[1].name: "p_female"}
    for node in proto.graph.node:
        node.input[:] = [names.get(n, n) for n in node.input]
        node.output[:] = [names.get(n, n) for n in node.output]
    for value in [*proto.graph.input, *proto.graph.output]:
        value.name = names[value.name]
    keras_hash = sha256(folder / spec["model_file"])
    proto.doc_string = f"agegender {spec.get('version')} from {spec['model_file']} (sha256 {keras_hash})"
    onnx.checker.check_model(proto)
    onnx.save(proto, folder / ONNX_FILE)
    spec.update(
        onnx_file=ONNX_FILE,
        onnx_opset=OPSET,
        keras_sha256=keras_hash,
        onnx_sha256=sha256(folder / ONNX_FILE),
    )
    spec_path.write_text(json.dumps(spec, indent=2) + "\n")
    if check_chips is None:
        check_chips = np.random.default_rng(0).integers(0, 256, (64, size, size, 3), dtype=np.uint8)
    age, female = AgeGenderModel(spec_path).distributions(check_chips, flip=False)
    ref_age, ref_female = keras_outputs(model, check_chips)
    difference = float(max(np.abs(age - ref_age).max(), np.abs(female - ref_female).max()))
    if difference > TOLERANCE:
        raise RuntimeError(f"ONNX export differs from the Keras model by {difference:.2e} (limit {TOLERANCE:.0e})")
    log.info("exported %s: largest difference from Keras %.1e on %d chips", folder / ONNX_FILE, difference,
             len(check_chips))
    return spec
