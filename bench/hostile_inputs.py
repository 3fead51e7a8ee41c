"""Hostile inputs: time and peak memory of the command line on each decompression bomb, and peak memory of the
whole awkward-file corpus as one folder (tests/hostile_corpus.py), each in a fresh process.

Writes bench/results/hostile_inputs.json.
"""

import json
import subprocess
import sys
import tempfile
from pathlib import Path

from bench.report import bench_parser, write_json
from tests.hostile_corpus import BOMBS, write_corpus

MEASURE = (
    "import json, resource, subprocess, sys, time; t = time.perf_counter(); "
    "p = subprocess.run(sys.argv[1:], capture_output=True, text=True); t = time.perf_counter() - t; "
    "print(json.dumps({'seconds': t, 'peak_rss_mb': resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, "
    "'exit_status': p.returncode, 'stderr_tail': p.stderr.strip().splitlines()[-2:]}))"
)


def measured(*args) -> dict:
    """Wall time, peak RSS and exit status of `python -m agegender ARGS` in its own process."""
    command = [sys.executable, "-c", MEASURE, sys.executable, "-m", "agegender", *map(str, args)]
    return json.loads(subprocess.run(command, capture_output=True, text=True, check=True).stdout)


def main() -> None:
    p = bench_parser(__doc__, "hostile_inputs")
    args = p.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "corpus"
        expected = write_corpus(folder)
        result = {"files": len(expected), "bombs": {}}
        baseline = measured("predict", folder / "portrait.jpg", "--no-progress")
        result["one_good_photo"] = baseline
        for name in BOMBS:
            result["bombs"][name] = measured("predict", folder / name, "--no-progress")
            b = result["bombs"][name]
            print(f"{name}: {b['seconds']:.2f} s, {b['peak_rss_mb']:.0f} MB peak, exit {b['exit_status']}: "
                  f"{b['stderr_tail'][0] if b['stderr_tail'] else ''}")
        result["folder"] = measured("predict", folder, "--no-progress", "--out", Path(tmp) / "rows.jsonl",
                                    "--annotate", Path(tmp) / "annotated")
        f = result["folder"]
        print(f"folder of {len(expected)} files: {f['seconds']:.1f} s, {f['peak_rss_mb']:.0f} MB peak, "
              f"exit {f['exit_status']}: {f['stderr_tail'][-1]}")
        print(f"one good photo for comparison: {baseline['seconds']:.2f} s, {baseline['peak_rss_mb']:.0f} MB")
    write_json(args.out, result)


if __name__ == "__main__":
    main()
