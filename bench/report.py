"""Where the benches write their figures: bench/results/<name>.json, or the file given with --out."""

import argparse
import json
from pathlib import Path

RESULTS = Path(__file__).parent / "results"


def add_out_argument(parser: argparse.ArgumentParser, name: str) -> None:
    """The `--out` option, defaulting to bench/results/<name>.json."""
    parser.add_argument("--out", default=RESULTS / f"{name}.json", help="where to write the figures (JSON)")


def write_json(path, result: dict) -> None:
    """Write the figures as indented JSON, making the folder if needed."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=2) + "\n")
