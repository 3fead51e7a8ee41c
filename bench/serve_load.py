"""Load on `agegender serve` over loopback: requests/s, latency percentiles, answers by status code and the server's
peak memory, for one-face and group photos at 1, 4 and 16 concurrent clients (local engine; Ray Serve with 1 and 2
replicas), beside `agegender predict` on a folder of the same photos in the same run; then 64 clients against a
queue of 8 (only 200s and 503s?) and how soon the service answers fully once the load stops.

Each client sends the photos' bytes as raw bodies over one keep-alive connection, for `--seconds` per setting.
Writes bench/results/serve_load.json.
"""

import http.client
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

import cv2
import numpy as np
import psutil

from agegender import SAMPLES, read_image
from bench.report import bench_parser, write_json
from tests.service_server import server

GROUPS = Path(__file__).resolve().parent.parent / "tests" / "data"


def photo_folders(root: Path, n: int = 48) -> dict[str, Path]:
    """One-face photos (the sample portraits at 0.3-1.0 scale, some mirrored) and group photos (the two test group
    photos at 0.5-1.0 scale), `n` JPEGs each."""
    rng = np.random.default_rng(0)
    sources = {"one_face": [read_image(p) for p in sorted(SAMPLES.glob("*.jpg")) + sorted(SAMPLES.glob("*.png"))],
               "group": [read_image(p) for p in sorted(GROUPS.glob("group_*.jpg"))]}
    folders = {}
    for kind, images in sources.items():
        folder = folders[kind] = root / kind
        folder.mkdir(parents=True)
        for i in range(n):
            low = 0.3 if kind == "one_face" else 0.5
            image = cv2.resize(images[i % len(images)], None, fx=rng.uniform(low, 1.0), fy=rng.uniform(low, 1.0))
            image = image[:, ::-1] if i % 2 else image
            cv2.imwrite(str(folder / f"{kind}_{i:03d}.jpg"), cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
    return folders


def tree_rss(pid: int) -> int:
    """Resident memory of a process and its children (Ray's replicas are children of the command)."""
    try:
        process = psutil.Process(pid)
        return sum(p.memory_info().rss for p in [process, *process.children(recursive=True)])
    except psutil.Error:
        return 0


def drive(url: str, photos: list[bytes], clients: int, seconds: float, pid: int) -> dict:
    """`clients` threads posting photos in turn for `seconds`: requests/s, latencies of the 200s, codes, peak RSS."""
    host, port = url.removeprefix("http://").split(":")
    latencies, codes, peak, lock = [], Counter(), [0], threading.Lock()
    stop = time.perf_counter() + seconds

    def client(k: int) -> None:
        connection, i = http.client.HTTPConnection(host, int(port), timeout=120), k
        while time.perf_counter() < stop:
            started = time.perf_counter()
            try:
                connection.request("POST", "/v1/faces", body=photos[i % len(photos)])
                answer = connection.getresponse()
                answer.read()
                code = answer.status
            except (OSError, http.client.HTTPException):
                code, connection = "connection error", http.client.HTTPConnection(host, int(port), timeout=120)
            with lock:
                codes[code] += 1
                if code == 200:
                    latencies.append(time.perf_counter() - started)
            i += clients

    def sample() -> None:
        while time.perf_counter() < stop:
            peak[0] = max(peak[0], tree_rss(pid))
            time.sleep(0.1)

    threads = [threading.Thread(target=client, args=(k,)) for k in range(clients)] + [threading.Thread(target=sample)]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - began
    q = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else [float("nan")] * 99
    return {"clients": clients, "seconds": round(elapsed, 1), "requests": sum(codes.values()),
            "images_per_s": round(codes[200] / elapsed, 1), "p50_ms": round(q[49] * 1e3, 1),
            "p95_ms": round(q[94] * 1e3, 1), "p99_ms": round(q[98] * 1e3, 1),
            "codes": {str(k): v for k, v in sorted(codes.items(), key=str)}, "peak_rss_mb": round(peak[0] / 1e6)}


def recovery(url: str, photo: bytes, within: float = 30) -> float:
    """Seconds after the load stops until 10 requests in a row are answered 200."""
    host, port = url.removeprefix("http://").split(":")
    started, streak = time.perf_counter(), 0
    while streak < 10 and time.perf_counter() - started < within:
        connection = http.client.HTTPConnection(host, int(port), timeout=60)
        connection.request("POST", "/v1/faces", body=photo)
        answer = connection.getresponse()
        answer.read()
        streak = streak + 1 if answer.status == 200 else 0
    return round(time.perf_counter() - started, 2)


def predict(folder: Path) -> dict:
    """`agegender predict FOLDER`: images/s in its run (its summary line) and for the whole process."""
    started = time.perf_counter()
    run = subprocess.run([sys.executable, "-m", "agegender", "predict", str(folder), "--no-progress"],
                         capture_output=True, text=True, check=True)
    seconds, n = time.perf_counter() - started, len(list(folder.iterdir()))
    line = run.stderr.strip().splitlines()[-1]
    return {"images_per_s": float(re.search(r"([0-9.]+) inputs/s", line).group(1)),
            "whole_process_images_per_s": round(n / seconds, 1), "summary": line}


def main() -> None:
    p = bench_parser(__doc__, "serve_load")
    p.add_argument("--seconds", type=float, default=10, help="seconds of load per setting (default 10)")
    p.add_argument("--clients", default="1,4,16", help="concurrent clients (default 1,4,16)")
    p.add_argument("--no-ray", action="store_true", help="skip the Ray Serve settings")
    args = p.parse_args()
    levels = [int(c) for c in args.clients.split(",")]
    cores = os.cpu_count() or 1
    result: dict = {"cpu_count": cores, "seconds_per_setting": args.seconds}
    engines = {"local": []}
    if not args.no_ray:
        engines |= {"ray_1_replica": ["--engine", "ray", "--replicas", "1", "--cpus-per-replica", str(cores)],
                    "ray_2_replicas": ["--engine", "ray", "--replicas", "2", "--cpus-per-replica", str(cores / 2)]}
    with tempfile.TemporaryDirectory() as tmp:
        folders = photo_folders(Path(tmp))
        photos = {kind: [f.read_bytes() for f in sorted(folder.iterdir())] for kind, folder in folders.items()}
        result["predict"] = {kind: predict(folder) for kind, folder in folders.items()}
        print(f"agegender predict: {result['predict']}")
        for engine, extra in engines.items():
            with server(*extra, wait=300) as running:
                if engine != "local":  # until every replica is up
                    time.sleep(10)
                idle = tree_rss(running.process.pid)
                drive(running.url, photos["one_face"], 2, 2, running.process.pid)  # warm-up
                result[engine] = {"idle_rss_mb": round(idle / 1e6)}
                for kind, images in photos.items():
                    result[engine][kind] = [drive(running.url, images, c, args.seconds, running.process.pid)
                                            for c in levels]
                    for figures in result[engine][kind]:
                        print(f"{engine}, {kind}, {figures['clients']} clients: {figures}")
                replicas = [c for c in psutil.Process(running.process.pid).children(recursive=True)
                            if "ServeReplica" in " ".join(c.cmdline())]
                if replicas:
                    result[engine]["replica_rss_mb_after_load"] = [round(c.memory_info().rss / 1e6) for c in replicas]
        local, baseline = result["local"]["one_face"], result["predict"]["one_face"]["images_per_s"]
        four = next((f for f in local if f["clients"] == 4), None)
        if four:
            result["one_face_4_clients_ratio_to_predict"] = round(four["images_per_s"] / baseline, 2)
            print(f"one-face photos, 4 clients: {four['images_per_s']} images/s, "
                  f"{result['one_face_4_clients_ratio_to_predict']}x `agegender predict` ({baseline})")
        with server("--queue", "8") as running:
            drive(running.url, photos["one_face"], 2, 2, running.process.pid)
            overload = drive(running.url, photos["one_face"], 64, args.seconds, running.process.pid)
            overload["seconds_to_full_service"] = recovery(running.url, photos["one_face"][0])
            result["overload_64_clients_queue_8"] = overload
            print(f"64 clients, queue 8: {overload}")
    write_json(args.out, result)


if __name__ == "__main__":
    main()
