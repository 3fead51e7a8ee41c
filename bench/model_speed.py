"""Model speed: chips per second at batch 1 and batch 32 with the shipped model on this machine.

Measured as the model is served (flip test-time augmentation if its spec says so), and also without
flip for comparison. Prints the figures and writes bench/results/model_speed.json.
"""

import argparse
import os
import platform
import time

import numpy as np

from agegender.model import AgeGenderModel
from agegender.paths import MODEL_SPEC
from bench.report import add_out_argument, write_json


def timed(fn, repeats: int) -> list[float]:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return times


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--model", default=str(MODEL_SPEC))
    p.add_argument("--repeats", type=int, default=30)
    add_out_argument(p, "model_speed")
    args = p.parse_args()
    model = AgeGenderModel(args.model)
    s = model.input_size
    rng = np.random.default_rng(0)
    chips = rng.integers(0, 256, (32, s, s, 3), dtype=np.uint8)
    result = {
        "input_size": s,
        "cpu_count": os.cpu_count(),
        "machine": platform.processor() or platform.machine(),
        "flip_tta": model.flip,
    }
    for flip in dict.fromkeys([model.flip, False]):
        figures = result if flip == model.flip else result.setdefault("without_flip", {})
        for batch in (1, 32):
            data = chips[:batch]
            for _ in range(3):
                model.predict(data, flip=flip)
            times = timed(lambda data=data, flip=flip: model.predict(data, flip=flip), args.repeats)
            median = float(np.median(times))
            figures[f"batch{batch}_ms"] = round(median * 1000, 2)
            figures[f"batch{batch}_chips_per_s"] = round(batch / median, 1)
            print(
                f"{'flip TTA' if flip else 'no flip '} batch {batch:2d}: {median * 1000:7.2f} ms per call, "
                f"{batch / median:7.1f} chips/s (median of {args.repeats})"
            )
    write_json(args.out, result)


if __name__ == "__main__":
    main()
