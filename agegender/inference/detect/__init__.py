"""Face detectors: every module in this package that defines a `Detector` subclass with a name registers it."""

import importlib
import pkgutil

from .base import DETECTORS, Detections, Detector

for _module in pkgutil.iter_modules(__path__):
    importlib.import_module(f"{__name__}.{_module.name}")

DEFAULT_DETECTOR = "auto"


def get_detector(name: str = DEFAULT_DETECTOR, **options) -> Detector:
    """A detector from the registry by name; options go to its constructor."""
    if name not in DETECTORS:
        raise ValueError(f"unknown detector {name!r}; known: {', '.join(DETECTORS)}")
    return DETECTORS[name](**options)


__all__ = ["DEFAULT_DETECTOR", "DETECTORS", "Detections", "Detector", "get_detector"]
