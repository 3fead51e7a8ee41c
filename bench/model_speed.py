"""Model speed: chips per second of the served model (ONNX on onnxruntime) at batch 1 and 32, beside TensorFlow.

The served path is measured with the session settings it ships with and with the others tried (threads,
spinning, and how many chips go to the network per call). TensorFlow (the folded Keras network, as served
before) runs in a subprocess, on this CPU's native instruction set and held to AVX2
(`ONEDNN_MAX_CPU_ISA=AVX2`), if it is installed.
Prints the figures and writes bench/results/model_speed.json.
"""

import json
import os
import platform
import subprocess
import sys
import time

import numpy as np

from agegender.inference import onnx
from agegender.inference.networks.agegender import OUR_SPEC, AgeGenderModel
from bench.report import bench_parser, write_json

TF_SCRIPT = """
import json, sys, time, numpy as np
from agegender.training.network import fold_batchnorm, served_forward
import keras
spec = json.load(open(sys.argv[1])); size = spec["input_size"]
net = fold_batchnorm(keras.saving.load_model(sys.argv[1].rsplit("/", 1)[0] + "/" + spec["model_file"], compile=False))
forward = served_forward(net, size)[True]
chips = np.random.default_rng(0).integers(0, 256, (32, size, size, 3), dtype=np.uint8)
out = {}
for batch in (1, 32):
    for _ in range(3): forward(chips[:batch])
    times = []
    for _ in range(int(sys.argv[2])):
        t = time.perf_counter(); a, g = forward(chips[:batch]); a.numpy(); times.append(time.perf_counter() - t)
    out[batch] = batch / float(np.median(times))
print(json.dumps(out))
"""


def rate(model: AgeGenderModel, chips: np.ndarray, repeats: int, flip: bool = True) -> float:
    for _ in range(3):
        model.predict(chips, flip=flip)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        model.predict(chips, flip=flip)
        times.append(time.perf_counter() - start)
    return len(chips) / float(np.median(times))


def tensorflow_rates(spec, repeats: int, isa: str | None) -> dict | None:
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", **({"ONEDNN_MAX_CPU_ISA": isa} if isa else {})}
    run = subprocess.run([sys.executable, "-c", TF_SCRIPT, str(spec), str(repeats)], capture_output=True, text=True,
                         env=env)
    if run.returncode != 0:
        print("TensorFlow not measured:", run.stderr.strip().splitlines()[-1:], file=sys.stderr)
        return None
    return {f"batch{k}_chips_per_s": round(v, 1) for k, v in json.loads(run.stdout.splitlines()[-1]).items()}


def main() -> None:
    p = bench_parser(__doc__, "model_speed")
    p.add_argument("--model", default=str(OUR_SPEC), help="our network's spec")
    p.add_argument("--repeats", type=int, default=30)
    p.add_argument("--no-tensorflow", action="store_true", help="measure only the served ONNX model")
    args = p.parse_args()
    model = AgeGenderModel(args.model)
    s = model.input_size
    chips = np.random.default_rng(0).integers(0, 256, (32, s, s, 3), dtype=np.uint8)
    result = {"input_size": s, "cpu_count": os.cpu_count(), "machine": platform.processor() or platform.machine(),
              "runtime": "onnxruntime", "flip_tta": model.flip}
    for batch in (1, 32):
        chips_per_s = rate(model, chips[:batch], args.repeats)
        result[f"batch{batch}_ms"] = round(batch / chips_per_s * 1000, 2)
        result[f"batch{batch}_chips_per_s"] = round(chips_per_s, 1)
        plain = rate(model, chips[:batch], args.repeats, flip=False)
        result.setdefault("without_flip", {})[f"batch{batch}_chips_per_s"] = round(plain, 1)
        ms = batch / chips_per_s * 1e3
        print(f"onnxruntime, flip, batch {batch:2d}: {chips_per_s:7.1f} chips/s ({ms:.2f} ms); no flip {plain:7.1f}")
    tried = {}
    for threads in (1, 0):
        for spinning in (False, True):
            model.session = onnx.session(model.spec_path.parent / model.spec["onnx_file"], threads, spinning)
            tried[f"threads={threads or 'cores'}, spinning={spinning}"] = round(rate(model, chips, args.repeats), 1)
    result["session_options_batch32_chips_per_s"] = tried
    print("session options, batch 32:", tried)
    models = {f"threads={t or 'cores'}, chips per call={size}": AgeGenderModel(args.model, batch_size=size, threads=t)
              for t in (1, 0) for size in (4, 8, 16, 32, 64)}
    times: dict[str, list[float]] = {name: [] for name in models}
    for _ in range(args.repeats):  # interleaved, so that a busy moment of the machine falls on all of them
        for name, each in models.items():
            start = time.perf_counter()
            each.predict(chips)
            times[name].append(time.perf_counter() - start)
    per_call = {name: round(len(chips) / float(np.median(t[3:])), 1) for name, t in times.items()}
    result["chips_per_call_batch32_chips_per_s"] = per_call
    print("network inputs per call (flipped copies included), batch 32:", per_call)
    if not args.no_tensorflow:
        for name, isa in (("tensorflow_native", None), ("tensorflow_avx2", "AVX2")):
            figures = tensorflow_rates(args.model, args.repeats, isa)
            if figures:
                result[name] = figures
                ratio = result["batch32_chips_per_s"] / figures["batch32_chips_per_s"]
                result[f"onnx_over_{name}_batch32"] = round(ratio, 2)
                print(f"{name}: {figures}; onnxruntime / tensorflow at batch 32: {ratio:.2f}x")
    write_json(args.out, result)


if __name__ == "__main__":
    main()
