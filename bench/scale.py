"""Scale-out: images/s over the same folder with the local command line and with `--engine ray` on a local
cluster of 1 and 2 actors, with each actor's peak memory (sampled from /proc while the job runs).

The folder is made from the sample photos (tests/test_scale.py's maker). Writes bench/results/scale.json.
"""

import argparse
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from bench.report import add_out_argument, write_json
from tests.test_scale import photo_folder


def actor_peaks(stop: threading.Event, peaks: dict) -> None:
    """Sample the resident memory of Ray's map workers until `stop`."""
    while not stop.is_set():
        for proc in Path("/proc").glob("[0-9]*"):
            try:
                if "ray::MapWorker" not in (proc / "cmdline").read_bytes().decode(errors="ignore"):
                    continue
                rss = int(re.search(r"VmRSS:\s+(\d+)", (proc / "status").read_text()).group(1)) / 1024
                peaks[proc.name] = max(peaks.get(proc.name, 0.0), rss)
            except (OSError, AttributeError):
                continue
        time.sleep(0.2)


def timed(args: list[str]) -> tuple[float, str, dict]:
    stop, peaks = threading.Event(), {}
    sampler = threading.Thread(target=actor_peaks, args=(stop, peaks), daemon=True)
    sampler.start()
    start = time.perf_counter()
    run = subprocess.run([sys.executable, "-m", "agegender", "predict", *args], capture_output=True, text=True)
    seconds = time.perf_counter() - start
    stop.set()
    sampler.join()
    if run.returncode:
        raise RuntimeError(run.stderr[-2000:])
    return seconds, run.stderr.strip().splitlines()[-1], peaks


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--photos", type=int, default=400)
    add_out_argument(p, "scale")
    args = p.parse_args()
    result = {"cpu_count": os.cpu_count(), "photos": args.photos}
    with tempfile.TemporaryDirectory() as tmp:
        folder = photo_folder(Path(tmp) / "photos", args.photos)
        inputs = len(list(folder.iterdir()))
        seconds, line, _ = timed([str(folder), "--out", f"{tmp}/local.jsonl", "--no-progress"])
        result["local"] = {"seconds": round(seconds, 2), "inputs_per_s": round(inputs / seconds, 2), "summary": line}
        print(f"local: {inputs / seconds:.1f} inputs/s ({seconds:.1f} s, whole process) | {line}")
        for actors, cpus in ((1, 1.0), (2, 0.5)):
            out = f"{tmp}/ray{actors}"
            seconds, line, peaks = timed([str(folder), "--engine", "ray", "--out", out, "--actors", str(actors),
                                          "--cpus-per-actor", str(cpus)])
            figures = {"seconds": round(seconds, 2), "inputs_per_s": round(inputs / seconds, 2), "summary": line,
                       "actor_peak_rss_mb": sorted(round(v) for v in peaks.values())}
            figures["ratio_to_local"] = round(result["local"]["seconds"] / seconds, 2)
            result[f"ray_{actors}_actors"] = figures
            print(f"ray, {actors} actor(s) x {cpus} CPU: {inputs / seconds:.1f} inputs/s ({seconds:.1f} s, cluster "
                  f"start included), {figures['ratio_to_local']:.2f}x the local rate; actor peak RSS "
                  f"{figures['actor_peak_rss_mb']} MB | {line}")
    write_json(args.out, result)


if __name__ == "__main__":
    main()
