"""The package's shape: three wings, import rules, one place that builds results, one file per detector."""

import ast
import subprocess
import sys
from pathlib import Path

from agegender import DETECTORS, read_image
from agegender.inference.detect import Detections
from agegender.inference.detect.base import Detector
from agegender.paths import PACKAGE, REPO
from tests.conftest import HOPPER

WINGS = ("inference", "training", "apps")


def imports(path: Path) -> set[str]:
    """Absolute module names a file imports (relative imports resolved against its package)."""
    package = ".".join(path.relative_to(REPO).with_suffix("").parts[:-1])
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
            module = f"{base}.{node.module}" if node.level and node.module else (node.module or base)
            names.add(module)
            names |= {f"{module}.{alias.name}" for alias in node.names}
    return names


def modules(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*.py") if "__pycache__" not in p.parts)


def test_inference_imports_neither_training_apps_nor_tensorflow():
    for path in modules(PACKAGE / "inference"):
        bad = {n for n in imports(path) if n.split(".")[0] in ("tensorflow", "keras", "tf2onnx")}
        bad |= {n for n in imports(path) if n.startswith(("agegender.training", "agegender.apps"))}
        assert not bad, f"{path.relative_to(REPO)} imports {sorted(bad)}"


def test_tensorflow_is_not_loaded_to_analyze():
    code = (
        "import sys, agegender; faces = agegender.Estimator().analyze(sys.argv[1]); "
        "print(len(faces), sorted(m for m in sys.modules if m.split('.')[0] in ('tensorflow', 'keras')))"
    )
    run = subprocess.run([sys.executable, "-c", code, str(HOPPER)], capture_output=True, text=True, check=True)
    assert run.stdout.split() == ["1", "[]"], run.stdout


def test_pages_use_only_the_public_api_and_the_apps_wing():
    for path in [REPO / "streamlit_app.py", *modules(REPO / "pages")]:
        ours = {n for n in imports(path) if n.startswith("agegender")}
        allowed = {n for n in ours if n == "agegender" or n.startswith("agegender.apps")}
        assert ours == allowed, f"{path.name} imports {sorted(ours - allowed)}"


def test_results_are_built_in_one_place():
    for path in modules(PACKAGE) + modules(REPO / "pages"):
        if path.name == "results.py":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", "")) in (
                "ImageResult",
                "Face",
            ):
                raise AssertionError(f"{path.relative_to(REPO)}:{node.lineno} builds a result itself")


def test_no_module_over_250_lines():
    long = {str(p.relative_to(REPO)): n for p in modules(PACKAGE) if (n := len(p.read_text().splitlines())) > 250}
    assert not long, long


def test_the_wings_are_folders():
    assert all((PACKAGE / wing / "__init__.py").is_file() for wing in WINGS)
    top = {p.stem for p in PACKAGE.glob("*.py")}
    assert top == {"__init__", "__main__", "paths"}, top


def test_a_new_detector_is_one_class_with_its_template(estimator):
    """A Detector subclass with a name registers itself; its chip template aligns its faces."""
    found = estimator.detector.detect(read_image(HOPPER))

    class Replay(Detector):
        name = "replay-test"
        default_threshold = 0.5
        chip_template = DETECTORS["retinaface"].chip_template

        def __init__(self, score_threshold=None, max_side=None, threads=0):
            self.score_threshold, self.max_side = score_threshold, max_side

        def detect(self, image):
            return Detections(found.boxes, found.scores, found.landmarks, self.name)

    try:
        assert DETECTORS["replay-test"] is Replay
        faces = estimator.with_options(detector="replay-test").analyze(HOPPER)
        reference = estimator.analyze(HOPPER)  # the detector whose faces were replayed
        assert len(faces) == 1 and abs(faces[0].age - reference[0].age) < 0.05
    finally:
        del DETECTORS["replay-test"]


def test_the_service_uses_only_the_public_api():
    """The HTTP service is a thin caller: what it takes from the inference wing is what `agegender` exports."""
    import agegender

    for path in modules(PACKAGE / "apps" / "service"):
        names = [n for n in imports(path) if n.startswith("agegender.inference.") and n.count(".") == 3]
        taken = {n.rsplit(".", 1)[1] for n in names}
        assert taken <= set(agegender.__all__), f"{path.name} takes {sorted(taken - set(agegender.__all__))}"
