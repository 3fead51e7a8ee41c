"""Where the benches write their figures: bench/results/<name>.json, or the file given with --out."""

import argparse
import json
from pathlib import Path

import numpy as np

RESULTS = Path(__file__).parent / "results"


def bench_parser(description: str, name: str) -> argparse.ArgumentParser:
    """A bench's argument parser, with the `--out` option defaulting to bench/results/<name>.json."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--out", default=RESULTS / f"{name}.json", help="where to write the figures (JSON)")
    return parser


def write_json(path, result: dict) -> None:
    """Write the figures as indented JSON, making the folder if needed."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=2) + "\n")


def utkface_sample(split: str, n: int):
    """A split's faces and a fixed random sample of n of their indices (the same on every run)."""
    from agegender.training.dataset import utkface

    faces = utkface(split)
    return faces, np.random.default_rng(0).choice(len(faces), size=min(n, len(faces)), replace=False)
