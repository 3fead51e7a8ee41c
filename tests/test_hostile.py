"""Hostile input: a corpus of 40+ awkward files through the command line; every file accounted for, no traceback."""

import json
from pathlib import Path

from tests.conftest import run_cli
from tests.hostile_corpus import BOMBS, write_corpus


def test_every_awkward_file_gets_a_clear_record(tmp_path):
    expected = write_corpus(tmp_path / "corpus")
    assert len(expected) >= 40
    explicit = run_cli("predict", *(tmp_path / "corpus" / n for n in ("notes.txt", "drawing.svg", "document.pdf")))
    assert explicit.returncode == 1 and explicit.stderr.count("error: ") == 3 and "SVG" in explicit.stderr
    out, annotated = tmp_path / "rows.jsonl", tmp_path / "annotated"
    run = run_cli("predict", tmp_path / "corpus", "--out", out, "--annotate", annotated, "--no-progress",
                  "--every", "4")
    assert run.returncode == 0, run.stderr[-3000:]
    assert "Traceback" not in run.stderr and "moov atom" not in run.stderr
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    others = {"notes.txt", "drawing.svg", "document.pdf"}
    assert f"not read: {len(others)} files in the folders are not images or videos" in run.stderr
    assert all(name in run.stderr for name in others)
    expected = {name: status for name, status in expected.items() if name not in others}
    statuses: dict[str, set] = {}
    for row in rows:
        statuses.setdefault(Path(row["file"]).name, set()).add(row["status"])
    assert set(statuses) == set(expected), set(expected) ^ set(statuses)
    for name, status in expected.items():
        assert (status in statuses[name]) and (status != "error" or statuses[name] == {"error"}), (name, statuses[name])
    errors = {Path(r["file"]).name: r["error"] for r in rows if r["status"] == "error"}
    for name, (width, height) in BOMBS.items():
        assert errors[name].endswith(f"image too large: {width} x {height} = {width * height / 1e6:.3g} Mpx "
                                     "(limit 100 Mpx)"), errors[name]
    assert all(message and "\n" not in message for message in errors.values())
    pages = sorted(r["frame"] for r in rows if Path(r["file"]).name == "pages.tif")
    assert pages == [0, 1, 2]
    ok, no_face, error = (sum(s == k for s in expected.values()) for k in ("ok", "no_face", "error"))
    assert f"{len(expected)} inputs: {ok} ok, {no_face} no face, {error} errors" in run.stderr
    names = {p.name for p in annotated.rglob("*.annotated.*")}
    assert {"portrait.jpg.annotated.jpg", "portrait.png.annotated.jpg", "portrait.webp.annotated.jpg",
            "portrait.bmp.annotated.jpg", "pages.tif.page3.annotated.jpg", "clip.mp4.annotated.mp4"} <= names
