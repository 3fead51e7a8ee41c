"""What a batch job reads: the files given, and the images and videos found in the folders given."""

from dataclasses import dataclass
from pathlib import Path

from ..inference.video import VIDEO_EXTENSIONS

IMAGE_EXTENSIONS = {".jpg", ".jpeg", ".png", ".webp", ".bmp", ".tif", ".tiff", ".gif", ".jfif", ".ppm", ".pgm", ".pbm",
                    ".pnm", ".ico", ".avif", ".heic", ".heif"}


@dataclass
class Input:
    """A file to process, and its path relative to the folder it was found in (names its annotated copy)."""

    path: Path
    relative: Path

    @property
    def is_video(self) -> bool:
        return self.path.suffix.lower() in VIDEO_EXTENSIONS


def expand_inputs(inputs) -> tuple[list[Input], list[Path]]:
    """(inputs, other files): files as given (whatever their type: each gets a status), and folders searched
    recursively for images and videos by extension; the folders' other files are returned to be reported.
    A file given twice (or also inside a folder given) is an input once."""
    found, others = [], []
    kinds = IMAGE_EXTENSIONS | VIDEO_EXTENSIONS
    for item in map(Path, inputs):
        if item.is_dir():
            files = sorted(p for p in item.rglob("*") if p.is_file())
            found += [Input(p, p.relative_to(item)) for p in files if p.suffix.lower() in kinds]
            others += [p for p in files if p.suffix.lower() not in kinds]
        else:
            found.append(Input(item, Path(item.name)))
    unique, seen = [], set()
    for item in found:
        if item.path.resolve() not in seen:
            seen.add(item.path.resolve())
            unique.append(item)
    return unique, others
