"""CC0 age network layout: its time a face in onnxruntime's blocked (NCHWc) layout and without it, on the real
chips of the bundled sample photos (tiled to a batch), with the largest difference between the two's outputs.
Both sessions are made as served (`inference.onnx.session`). Run it under `tools/without_avx512.sh` for AVX2.
Prints the figures and writes bench/results/cc0_layout.json.
"""

import time

import numpy as np

from agegender import Estimator, read_image
from agegender.inference.networks.cc0 import _net_input
from agegender.inference.onnx import session
from agegender.paths import SAMPLES
from bench.report import bench_parser, write_json


def per_face_ms(net, chips: np.ndarray, batch: int, seconds: float) -> float:
    """Median milliseconds a face over rounds of the whole set of chips, `batch` a call."""
    net.run(None, {"images": chips[:batch]})
    times = []
    end = time.perf_counter() + seconds
    while time.perf_counter() < end or len(times) < 3:
        start = time.perf_counter()
        for first in range(0, len(chips), batch):
            net.run(None, {"images": chips[first : first + batch]})
        times.append(time.perf_counter() - start)
    return 1000 * float(np.median(times)) / len(chips)


def main() -> None:
    p = bench_parser(__doc__, "cc0_layout")
    p.add_argument("--faces", type=int, default=192)
    p.add_argument("--seconds", type=float, default=3.0, help="timing per layout and batch size")
    args = p.parse_args()
    estimator = Estimator()
    cc0 = estimator.networks["cc0"]
    chips = []
    for path in sorted(SAMPLES.glob("*.[jp][pn]g")):
        image = read_image(path)
        chips.append(cc0.crop(image, estimator.detect(image))["age"])
    chips = np.concatenate(chips)
    chips = _net_input(np.resize(chips, (args.faces, *chips.shape[1:])))
    nets = {name: session(cc0.spec.file("age"), blocked=name == "blocked") for name in ("blocked", "plain")}
    outputs = {name: net.run(None, {"images": chips})[0] for name, net in nets.items()}
    result = {"faces": len(chips), "max_output_difference": float(np.abs(outputs["blocked"] - outputs["plain"]).max())}
    for batch in (4, 48):
        times = {name: round(per_face_ms(net, chips, batch, args.seconds), 3) for name, net in nets.items()}
        result[f"batch{batch}_ms_a_face"] = times
        print(f"batch {batch:3d}: blocked {times['blocked']:.2f} ms a face, plain {times['plain']:.2f} "
              f"({times['blocked'] / times['plain']:.2f}x faster)")
    print(f"largest output difference {result['max_output_difference']:.1e}")
    write_json(args.out, result)


if __name__ == "__main__":
    main()
