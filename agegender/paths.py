"""Where the data, the ImageNet weights and the shipped model live."""

import os
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent
REPO = PACKAGE.parent
# A source checkout keeps the models at the top level; an installed package carries them as package data.
MODELS = REPO / "models" if (REPO / "models" / "model.json").is_file() else PACKAGE / "models"
MODEL_SPEC = MODELS / "model.json"
SAMPLES = PACKAGE / "samples"  # public-domain sample photos with known.json
SHARED = REPO.parent / "shared"
IMAGENET_WEIGHTS_NAME = "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_224_no_top.h5"


def data_root() -> Path:
    """The datasets folder: $AGEGENDER_DATA, else ../shared/data beside the repository."""
    return Path(os.environ.get("AGEGENDER_DATA") or SHARED / "data")


def imagenet_weights() -> Path:
    """The ImageNet MobileNetV2 weights used to initialise training ($AGEGENDER_WEIGHTS overrides)."""
    return Path(os.environ.get("AGEGENDER_WEIGHTS") or SHARED / "weights" / IMAGENET_WEIGHTS_NAME)


def cache_dir() -> Path:
    """Where decoded training arrays are cached ($AGEGENDER_CACHE, else ~/.cache/agegender)."""
    return Path(os.environ.get("AGEGENDER_CACHE") or Path.home() / ".cache" / "agegender")
