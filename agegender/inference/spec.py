"""The model spec, typed: which networks a model runs (files, hashes, licences) and how their outputs combine.

`models/model.json` is a `ModelSpec`: a version, the networks by name (each its own JSON, a `NetworkSpec`) and
the combiner's fitted parameters for each way of serving (`combined`: every network; `live`: all but the face
descriptor; `ours`: our network alone).
A network's JSON alone (what `agegender train` writes) is also a model: our network alone with the combiner
settings training fitted. This is the only place the specs are parsed; a missing field fails here, at load.
"""

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

from .combiner import Combiner

SERVINGS = ("combined", "live", "ours")
OURS = "agegender"  # the name of our own network in a model spec


@dataclass(frozen=True)
class NetworkSpec:
    """One network: which `Network` class serves it (`kind`), its files by role with their SHA-256, its licence,
    and its own settings (the whole JSON, read by that class)."""

    kind: str
    path: Path
    version: str
    files: MappingProxyType
    sha256: MappingProxyType
    licence: str
    settings: MappingProxyType = field(repr=False)

    def file(self, role: str) -> Path:
        return self.path.parent / self.files[role]

    def stale_files(self) -> list[str]:
        """Files whose SHA-256 differs from the one recorded (empty when all match)."""
        return [name for role, name in self.files.items() if sha256(self.file(role)) != self.sha256[role]]

    @classmethod
    def load(cls, path) -> "NetworkSpec":
        path = Path(path)
        raw = json.loads(path.read_text())
        if "kind" not in raw:  # what `agegender train` writes: our network, its ONNX export
            if "onnx_file" not in raw:
                raise FileNotFoundError(f"{path}: no ONNX export recorded; run `agegender export --model-dir "
                                        f"{path.parent}`")
            files, hashes, licence = {"onnx": raw["onnx_file"]}, {"onnx": raw["onnx_sha256"]}, raw.get("licence", "")
            raw = {**raw, "kind": OURS}
        else:
            files, hashes, licence = raw["files"], raw["sha256"], raw["licence"]
        return cls(raw["kind"], path, str(raw["version"]), MappingProxyType(dict(files)),
                   MappingProxyType(dict(hashes)), licence, MappingProxyType(raw))


@dataclass(frozen=True)
class ModelSpec:
    """A served model: its version, its networks by name and the combiner parameters for each serving."""

    path: Path
    version: str
    networks: MappingProxyType
    combiners: MappingProxyType
    interval_level: float
    flip: frozenset  # the networks whose faces are averaged with their mirror images ("flip_tta": true, or names)

    def serving(self, name: str) -> tuple[dict[str, NetworkSpec], dict]:
        """The networks (those the combiner stacks and those its gate reads) and the combiner parameters of one
        serving (`combined` or `ours`)."""
        if name not in self.combiners:
            raise ValueError(f"{self.path.name} has no serving {name!r}; it has {', '.join(self.combiners)}")
        params = self.combiners[name]
        return {n: self.networks[n] for n in Combiner(params).reads}, params

    @classmethod
    def load(cls, path) -> "ModelSpec":
        path = Path(path)
        raw = json.loads(path.read_text())
        if "networks" not in raw:  # one network's own spec: our network alone, as training finalized it
            net = NetworkSpec.load(path)
            ours = {"networks": [OURS], "age_offset": raw.get("age_offset", 0.0),
                    "temperature": raw.get("age_temperature", 1.0), "gender_band": raw.get("gender_band", {})}
            return cls(path, net.version, MappingProxyType({OURS: net}), MappingProxyType({"ours": ours}),
                       float(raw.get("interval_level", 0.9)), flipped({OURS}, raw.get("flip_tta", True)))
        networks = {name: NetworkSpec.load(path.parent / file) for name, file in raw["networks"].items()}
        return cls(path, str(raw["version"]), MappingProxyType(networks), MappingProxyType(raw["combiners"]),
                   float(raw["interval_level"]), flipped(networks, raw["flip_tta"]))


def flipped(networks, flip) -> frozenset:
    """The networks that see mirror images too: all of them (True), none (False) or those named."""
    if isinstance(flip, bool):
        return frozenset(networks) if flip else frozenset()
    unknown = set(flip) - set(networks)
    if unknown:
        raise ValueError(f"flip_tta names networks the model does not have: {', '.join(sorted(unknown))}")
    return frozenset(flip)


def sha256(path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
