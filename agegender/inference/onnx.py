"""onnxruntime sessions for every network the inference wing runs: the detectors and the age & gender model."""

import os

os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")  # before the import: no device id, no event queue on disk

import onnxruntime as ort  # noqa: E402

ort.disable_telemetry_events()


def thread_count(threads: int = 0) -> int:
    """The threads a session made with `threads` uses: that many, or (0) one per core."""
    return threads or os.cpu_count() or 1


def session(model_path, threads: int = 0, spinning: bool = False, blocked: bool = True) -> ort.InferenceSession:
    """A CPU session with full graph optimisation (with `blocked` False, all but the NCHWc blocked layout).

    `threads` 0 lets onnxruntime use one thread per physical core. Idle threads sleep instead of spinning
    unless `spinning`: on a small CPU the detector and the model take turns, and a spinning pool would take
    cycles from the other. No memory arena: an arena keeps the most any input size ever needed, so a long-running
    service would never shrink back after a large photo (without it, the same speed; tests/test_service_contract.py).
    """
    options = ort.SessionOptions()
    options.log_severity_level = 3
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.intra_op_num_threads = thread_count(threads)
    options.inter_op_num_threads = 1
    options.enable_cpu_mem_arena = False
    options.add_session_config_entry("session.intra_op.allow_spinning", "1" if spinning else "0")
    return ort.InferenceSession(str(model_path), options, providers=["CPUExecutionProvider"],
                                disabled_optimizers=[] if blocked else ["NchwcTransformer"])
