"""Where the benches write their figures: bench/results/<name>.json, or the file given with --out."""

import argparse
import json
import os
import platform
from pathlib import Path

import numpy as np

RESULTS = Path(__file__).parent / "results"


def bench_parser(description: str, name: str) -> argparse.ArgumentParser:
    """A bench's argument parser, with the `--out` option defaulting to bench/results/<name>.json."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--out", default=RESULTS / f"{name}.json", help="where to write the figures (JSON)")
    return parser


def named_out(out, bench: str, name: str) -> Path:
    """A bench's --out where given; else bench/results/<name>.json, for a bench whose file is named by what it
    measured (`bench`: the name given to `bench_parser`)."""
    return RESULTS / f"{name}.json" if out == RESULTS / f"{bench}.json" else Path(out)


def _widest(avx512, avx2) -> str:
    return "avx512" if avx512 else "avx2" if avx2 else "other"


def machine() -> dict:
    """The CPU the figures were measured on: its name, cores, and the widest vector instructions this process may use
    (AVX-512 or AVX2, as NumPy's dispatch sees the CPU: `tools/without_avx512.sh` hides AVX-512), with `vnni` where
    8-bit dot products are fast (AVX-512 VNNI or AVX-VNNI) and `cpu_isa` where the CPU itself has more."""
    info = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
    fields = {}
    for line in info.splitlines():
        key, _, value = line.partition(":")
        fields.setdefault(key.strip(), value.strip())
    flags = set(fields.get("flags", "").split())
    cpu_isa = _widest("avx512f" in flags, "avx2" in flags)
    # NumPy's dispatch table (not public API); without it, the CPU's flags
    seen = getattr(getattr(getattr(np, "_core", None), "_multiarray_umath", None), "__cpu_features__", None) or {
        "AVX512F": "avx512f" in flags,
        "AVX2": "avx2" in flags,
        "AVX512VNNI": "avx512_vnni" in flags,
    }
    isa = _widest(seen.get("AVX512F"), seen.get("AVX2"))
    found = {
        "cpu": fields.get("model name") or platform.processor(),
        "cores": os.cpu_count(),
        "isa": isa,
        "vnni": bool(seen.get("AVX512VNNI") or seen.get("AVXVNNI")),
    }
    return found | ({"cpu_isa": cpu_isa} if cpu_isa != isa else {})


def write_json(path, result: dict) -> None:
    """Write the figures, and the machine they were measured on, as indented JSON, making the folder if needed."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({**result, "machine": machine()}, indent=2) + "\n")


def utkface_sample(split: str, n: int):
    """A split's faces and a fixed random sample of n of their indices (the same on every run)."""
    from agegender.training.dataset import utkface

    faces = utkface(split)
    return faces, np.random.default_rng(0).choice(len(faces), size=min(n, len(faces)), replace=False)
