"""Scale-out on Ray Data: the command line's batch job over a Ray cluster, with exactly its rows.

Files are read with Ray's `read_binary_files` (local paths as the command line expands them, or folders, globs
and object-store URIs that pyarrow's filesystems understand), and analysed in batches by a pool of actors that
each hold one Estimator (model and detector loaded once per actor). Images of a batch share one model call;
each video goes whole to one actor, which analyses it in frame batches with one tracker, so track ids are per
video, and joins its tracks into people. A bad file becomes its error row, never a failed job. Rows are written
as Parquet (default) or JSON lines, with the command line's schema; people (`--per-person`) as its CSV.
"""

import json
import logging
import os
import sys
import time
from pathlib import Path
from typing import Literal, get_args, get_origin

import pyarrow as pa

from .batch import VideoJob, combined_status, counted
from .inputs import Input
from .options import estimator_options
from .raycluster import shutdown_started_here, start_here
from .schema import ROW_TYPES, optional

os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")  # Ray's usage statistics stay off, as everything here
_ARROW = {str: pa.string(), int: pa.int64(), float: pa.float64()}


def arrow_type(kind) -> pa.DataType:
    """The Arrow type of a row field's type: str, int, float, and tuples or lists of them."""
    kind, _ = optional(kind)
    if kind in _ARROW:
        return _ARROW[kind]
    if get_origin(kind) is Literal:
        return pa.string()
    return pa.list_(arrow_type(get_args(kind)[0]))


SCHEMA = pa.schema([(key, arrow_type(kind)) for key, kind in ROW_TYPES.items()])
PEOPLE = "people"  # carries a video's people (JSON) on its first row from the actors, dropped from the rows


def _with_people(rows: list[dict], persons: list) -> list[dict]:
    if rows:
        rows[0][PEOPLE] = json.dumps([person.to_dict() for person in persons])
    return rows


class Analyzer:
    """The actor: one Estimator, called on batches of (path, bytes) rows; returns their result rows."""

    def __init__(self, options: dict, names: dict, every: int, max_frames: int | None, threads: int,
                 same_person: float):
        from ..inference.estimator import Estimator

        self.estimator = Estimator(**options, threads=threads)
        self.names, self.every, self.max_frames, self.same_person = names, every, max_frames, same_person

    def __call__(self, batch: pa.Table) -> pa.Table:
        rows, images = [], []
        for path, data in zip(batch["path"].to_pylist(), batch["bytes"].to_pylist(), strict=True):
            name = self.names.get(path, path)
            if Input(Path(name), Path(name)).is_video:
                job = VideoJob(self.estimator, data, name, self.every, self.max_frames, same_person=self.same_person)
                rows += _with_people([row for result in job.results() for row in result.rows()], job.persons)
            else:
                images.append((name, data))
        if images:
            names, datas = zip(*images, strict=True)
            rows += [row for r in self.estimator.analyze_batch(list(datas), sources=list(names)) for row in r.rows()]
        return pa.Table.from_pylist(rows, schema=SCHEMA.append(pa.field(PEOPLE, pa.string())))


def _resolved(path: str) -> str:
    return str(Path(path).resolve())


def run_ray(inputs: list[Input], args) -> int:
    """`predict --engine ray`: the job on a Ray cluster (local, sized to this machine, unless --address)."""
    import ray

    fmt = args.format or "parquet"
    if not args.out or fmt == "csv":
        print("error: --engine ray writes a folder of Parquet or JSON-lines files: give it with --out DIR "
              "(--format parquet or jsonl)", file=sys.stderr)
        return 2
    started_here = not ray.is_initialized() and not args.address
    cpus = os.cpu_count() or 1
    quiet = {"log_to_driver": False, "logging_level": logging.WARNING}
    if args.address:
        ray.init(address=args.address, **quiet)
    elif started_here:
        daemons = start_here(num_cpus=cpus, include_dashboard=False, **quiet)
    logging.getLogger("ray.data").setLevel(logging.WARNING)
    try:
        actors, cpus_per_actor, threads = _pool(args, int(ray.cluster_resources().get("CPU", cpus)), started_here)
        names = {_resolved(str(i.path)): str(i.path) for i in inputs}
        started = time.perf_counter()
        # Read tasks of a few dozen files: each Ray task has an overhead that small ones do not repay.
        blocks = max(4 * actors, min(len(inputs) // 32, 16 * actors))
        data = ray.data.read_binary_files([str(i.path) for i in inputs], include_paths=True, override_num_blocks=blocks)
        rows = data.map_batches(
            Analyzer,
            fn_constructor_kwargs={
                "options": estimator_options(args),
                "names": names,
                "every": args.every,
                "max_frames": args.max_frames,
                "threads": threads,
                "same_person": args.same_person,
            },
            batch_size=16,
            batch_format="pyarrow",
            compute=ray.data.ActorPoolStrategy(size=actors),
            num_cpus=cpus_per_actor,
            num_gpus=args.gpus_per_actor or None,
        )
        if args.per_person:
            rows = rows.materialize()  # analysed once, for the rows and the people
        face_rows = rows.drop_columns([PEOPLE])
        if fmt == "parquet":
            face_rows.write_parquet(args.out)
        else:
            face_rows.write_json(args.out)
        if args.per_person:
            _write_people(args.per_person, rows)
        seconds = time.perf_counter() - started
        print(summary_line(read_rows(args.out), len(inputs), seconds), file=sys.stderr)
    finally:
        if started_here:
            shutdown_started_here(daemons)
    return 0


def _write_people(path: str, rows) -> None:
    from .rows import write_people

    found = [json.loads(text) for batch in rows.select_columns([PEOPLE]).iter_batches(batch_format="pyarrow")
             for text in batch[PEOPLE].to_pylist() if text]
    with open(path, "w", newline="", encoding="utf-8") as fh:
        write_people(fh, [person for persons in found for person in persons])


def _pool(args, total_cpus: int, local: bool) -> tuple[int, float, int]:
    """(actors, CPUs each asks for, threads each runs its networks on).

    On a local cluster sized to this machine: one actor per core, each one-thread, asking for half a CPU so that
    the readers keep CPUs too (an actor pool that takes every CPU never gets its inputs, ray issue #44687). On an
    existing cluster: `--cpus-per-actor` (default 1) each, as many actors as fit beside the readers.
    """
    if local:
        actors = args.actors or total_cpus
        return actors, args.cpus_per_actor or total_cpus / (2 * actors), max(1, total_cpus // actors)
    cpus_per_actor = args.cpus_per_actor or 1.0
    actors = args.actors or max(1, int((total_cpus - 0.5) // cpus_per_actor))
    return actors, cpus_per_actor, max(1, round(cpus_per_actor))


def read_rows(folder) -> list[dict]:
    """The rows a Ray job wrote to a folder (Parquet or JSON lines), read with the rows' schema: JSON files do not
    carry their types, and one whose every frame is null would otherwise set the type for all."""
    import pyarrow.dataset as ds
    from pyarrow import json as pa_json

    folder = Path(folder)
    if any(folder.glob("*.parquet")):
        fmt = "parquet"
    else:
        fmt = ds.JsonFileFormat(parse_options=pa_json.ParseOptions(explicit_schema=SCHEMA))
    return ds.dataset(folder, format=fmt, schema=SCHEMA).to_table().to_pylist()


def summary_line(rows: list[dict], inputs: int, seconds: float) -> str:
    """The command line's summary, from the rows: each input's status from its rows."""
    by_file: dict[str, list[dict]] = {}
    for row in rows:
        by_file.setdefault(row["file"], []).append(row)
    statuses = [combined_status([r["status"] for r in file_rows]) for file_rows in by_file.values()]
    faces = sum(row["status"] == "ok" for row in rows)
    counts = {s: statuses.count(s) for s in ("ok", "no_face", "error")}
    errors = counted(counts["error"], "error")
    return (
        f"{counted(inputs, 'input')}: {counts['ok']} ok, {counts['no_face']} no face, {errors}; "
        f"{counted(faces, 'face')}; {inputs / max(seconds, 1e-9):.1f} inputs/s (Ray Data)"
    )


__all__ = ["Analyzer", "read_rows", "run_ray", "summary_line"]
