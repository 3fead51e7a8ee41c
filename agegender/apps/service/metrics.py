"""Prometheus metrics of one service: requests, latency, faces, errors and queue depth (its own registry)."""

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest

BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class Metrics:
    """The counters behind `GET /metrics`, in Prometheus' text format."""

    content_type = CONTENT_TYPE_LATEST

    def __init__(self):
        self.registry = CollectorRegistry()
        self.requests = Counter("agegender_requests", "HTTP requests answered", ["route", "method", "code"],
                                registry=self.registry)
        self.latency = Histogram("agegender_request_seconds", "Time to answer a request", ["route"],
                                 buckets=BUCKETS, registry=self.registry)
        self.errors = Counter("agegender_errors", "Requests answered with a 4xx or 5xx status", ["route", "code"],
                              registry=self.registry)
        self.faces = Counter("agegender_faces", "Faces found in images", registry=self.registry)
        self.images = Counter("agegender_images", "Images, pages and frames analysed", registry=self.registry)
        self.queue = Gauge("agegender_queue_depth", "Requests accepted for the model: running or waiting",
                           registry=self.registry)
        self.jobs = Gauge("agegender_video_jobs", "Video jobs kept (queued, running or finished)",
                          registry=self.registry)

    def observe(self, route: str, method: str, code: int, seconds: float) -> None:
        self.requests.labels(route, method, str(code)).inc()
        self.latency.labels(route).observe(seconds)
        if code >= 400:
            self.errors.labels(route, str(code)).inc()

    def counted(self, results) -> None:
        """Count the images and faces of results."""
        self.images.inc(len(results))
        self.faces.inc(sum(len(r.faces) for r in results))

    def text(self) -> bytes:
        return generate_latest(self.registry)
