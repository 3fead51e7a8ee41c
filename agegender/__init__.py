"""agegender: offline apparent age and gender estimation for every face in photos and video."""

__version__ = "0.1.0"

from .estimator import Estimator, analyze  # noqa: E402
from .imageio import ImageError  # noqa: E402
from .results import Face, ImageResult  # noqa: E402

__all__ = ["Estimator", "Face", "ImageError", "ImageResult", "analyze", "__version__"]
