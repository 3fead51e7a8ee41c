"""Scale-out: images/s over the same folder with the local command line and with `--engine ray`, on a cluster the
command starts (one machine) and on one started before (`ray start --head`, a warm-up job first, as a user with a
cluster has it), with 1 and 2 actors and each actor's peak memory (sampled from /proc while the job runs).

The folder is made from the sample photos (tests/test_scale.py's maker). Writes bench/results/scale.json.
"""

import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from bench.report import bench_parser, write_json
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


def timed(inputs: int, args: list[str]) -> dict:
    """Whole-process and in-job (the command's own summary) inputs/s of `agegender predict ARGS`."""
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
    line = run.stderr.strip().splitlines()[-1]
    return {"seconds": round(seconds, 2), "inputs_per_s": round(inputs / seconds, 1),
            "job_inputs_per_s": float(re.search(r"([0-9.]+) inputs/s", line).group(1)), "summary": line,
            **({"actor_peak_rss_mb": sorted(round(v) for v in peaks.values())} if peaks else {})}


def main() -> None:
    p = bench_parser(__doc__, "scale")
    p.add_argument("--photos", type=int, default=2000)
    args = p.parse_args()
    result = {"cpu_count": os.cpu_count(), "photos": args.photos}
    with tempfile.TemporaryDirectory() as tmp:
        folder = photo_folder(Path(tmp) / "photos", args.photos)
        n = len(list(folder.iterdir()))
        result["local"] = local = timed(n, [str(folder), "--out", f"{tmp}/local.jsonl", "--no-progress"])
        print(f"local: {local['inputs_per_s']} inputs/s whole process, {local['job_inputs_per_s']} in the run")
        for actors in (1, 2):
            figures = timed(n, [str(folder), "--engine", "ray", "--out", f"{tmp}/new{actors}", "--actors", str(actors)])
            result[f"ray_new_cluster_{actors}_actors"] = figures
            print(f"ray, cluster started by the command, {actors} actor(s): {figures['inputs_per_s']} inputs/s whole "
                  f"process, {figures['job_inputs_per_s']} in the job; actor peak RSS "
                  f"{figures.get('actor_peak_rss_mb')}")
        ray = str(Path(sys.executable).parent / "ray")
        subprocess.run([ray, "start", "--head", f"--num-cpus={os.cpu_count()}", "--disable-usage-stats",
                        "--include-dashboard=false"], capture_output=True, check=True,
                       env={**os.environ, "RAY_USAGE_STATS_ENABLED": "0"})
        try:
            for actors in (1, 2):
                common = [str(folder), "--engine", "ray", "--address", "auto", "--actors", str(actors),
                          "--cpus-per-actor", str(os.cpu_count() / (2 * actors))]
                timed(n, [*common, "--out", f"{tmp}/warm{actors}"])
                figures = timed(n, [*common, "--out", f"{tmp}/existing{actors}"])
                figures["job_ratio_to_local"] = round(figures["job_inputs_per_s"] / local["job_inputs_per_s"], 2)
                result[f"ray_existing_cluster_{actors}_actors"] = figures
                print(f"ray, existing cluster, {actors} actor(s): {figures['job_inputs_per_s']} inputs/s in the job, "
                      f"{figures['job_ratio_to_local']}x the local rate; actor peak RSS "
                      f"{figures.get('actor_peak_rss_mb')}")
        finally:
            subprocess.run([ray, "stop", "--force"], capture_output=True)
    write_json(args.out, result)


if __name__ == "__main__":
    main()
