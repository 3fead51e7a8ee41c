"""agegender: offline apparent age and gender estimation for every face in photos and video.

The public API is what this module exports; the package has three wings: `inference` (what runs a model),
`training` (datasets, training, export, evaluation) and `apps` (command line, batch and scale-out runners,
dashboard glue).
"""

import os

__version__ = "0.2.7"
# Before onnxruntime is first imported: otherwise it writes a device id and a telemetry queue under
# ~/.cache/Microsoft/DeveloperTools at import time (inference/onnx.py also turns its telemetry events off).
os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")

from .inference.decode import (  # noqa: E402
    DEFAULT_MAX_PIXELS,
    ImageError,
    ImageTooLarge,
    Picture,
    UnsupportedImage,
    read_image,
)
from .inference.detect import DETECTORS, Detections  # noqa: E402
from .inference.estimator import Estimator, analyze  # noqa: E402
from .inference.groups import DISPLAY_GROUPS, age_group  # noqa: E402
from .inference.people import Person, people  # noqa: E402
from .inference.render import annotate  # noqa: E402
from .inference.results import STATUSES, Face, ImageResult  # noqa: E402
from .inference.tracking import SAME_PERSON, FaceTracker  # noqa: E402
from .inference.video import (  # noqa: E402
    VIDEO_EXTENSIONS,
    VideoAnalyzer,
    VideoError,
    VideoWriter,
    analyze_video,
    read_frames,
    video_info,
)
from .paths import SAMPLES  # noqa: E402

__all__ = [
    "DEFAULT_MAX_PIXELS",
    "DETECTORS",
    "DISPLAY_GROUPS",
    "SAME_PERSON",
    "SAMPLES",
    "STATUSES",
    "VIDEO_EXTENSIONS",
    "Detections",
    "Estimator",
    "Face",
    "FaceTracker",
    "ImageError",
    "ImageResult",
    "ImageTooLarge",
    "Person",
    "Picture",
    "UnsupportedImage",
    "VideoAnalyzer",
    "VideoError",
    "VideoWriter",
    "__version__",
    "age_group",
    "analyze",
    "analyze_video",
    "annotate",
    "people",
    "read_frames",
    "read_image",
    "video_info",
]
