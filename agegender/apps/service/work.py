"""The model's work: one Estimator per thread of a pool sized to the cores, behind a bounded queue.

A request waits for a free Estimator only while fewer than `workers + queue` are accepted; past that it is
refused at once (`Full`, answered 503 with Retry-After), so the service recovers as soon as load drops.
"""

import asyncio
import ctypes
import ctypes.util
import queue
import threading
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

_LIBC = ctypes.CDLL(ctypes.util.find_library("c") or None)
# glibc keeps what threads freed in their heaps; trimming after each request gives it back to the system.
_trim = getattr(_LIBC, "malloc_trim", None)


class Full(Exception):
    """The work queue is full: try again shortly."""


class TimedOut(Exception):
    """The work took longer than the per-request timeout."""


class Workers:
    """A thread pool with one Estimator per thread, accepting at most `queue` requests beyond those running."""

    def __init__(self, estimators: list, waiting: int, timeout: float):
        self.estimators, self.timeout = estimators, timeout
        self.capacity = len(estimators) + waiting
        self.pending = 0  # accepted and not finished: running or waiting
        self._lock = threading.Lock()
        self._free: queue.SimpleQueue = queue.SimpleQueue()
        for estimator in estimators:
            self._free.put(estimator)
        self._variants: dict[tuple, object] = {}
        self.pool = ThreadPoolExecutor(len(estimators), thread_name_prefix="agegender-model")

    async def run(self, fn, *args, options: dict | None = None):
        """`fn(estimator, *args)` on a free Estimator with these `options` (see `variant`); Full or TimedOut."""
        with self._lock:
            if self.pending >= self.capacity:
                raise Full(f"the service is busy ({self.pending} requests accepted); try again shortly")
            self.pending += 1
        job = self.pool.submit(self._call, fn, args, options or {})
        job.add_done_callback(self._done)
        try:
            return await asyncio.wait_for(asyncio.shield(asyncio.wrap_future(job)), self.timeout)
        except TimeoutError:
            job.cancel()  # a job still waiting is dropped; a running one finishes and frees its place then
            raise TimedOut(f"the analysis took longer than {self.timeout:g} s") from None

    def _done(self, _job) -> None:
        with self._lock:
            self.pending -= 1

    def _call(self, fn, args, options: dict):
        try:
            with self.borrow() as estimator:
                return fn(self.variant(estimator, **options), *args)
        finally:
            if _trim:
                _trim(0)

    @contextmanager
    def borrow(self):
        """A free Estimator for a while (waits for one): a video job holds one for its whole length."""
        estimator = self._free.get()
        try:
            yield estimator
        finally:
            self._free.put(estimator)

    def variant(self, estimator, detector=None, **options):
        """The Estimator with other options; another detector is loaded once per Estimator and kept."""
        if detector and detector != estimator.detector.name:
            key = (id(estimator), detector)
            if key not in self._variants:
                self._variants[key] = estimator.with_options(detector=detector)
            estimator = self._variants[key]
        options = {k: v for k, v in options.items() if v is not None}
        return estimator.with_options(**options) if options else estimator

    def close(self) -> None:
        self.pool.shutdown(wait=False, cancel_futures=True)
