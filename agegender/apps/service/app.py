"""The HTTP service's application: `create_app(estimator=None, settings=...)`, a thin caller of the Estimator.

The Estimators (one per model thread) are loaded in the lifespan; errors are mapped to status codes in one
place (`errors.py`): never a catch-all 500. The interactive docs are served from the package (no CDN).
"""

import os
import sys
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.staticfiles import StaticFiles

from ... import __version__
from ...inference.decode import DEFAULT_MAX_PIXELS
from ...inference.estimator import Estimator
from .errors import STATUS, answer_error
from .guard import Guard, Keys
from .metrics import Metrics
from .routes import router
from .videos import Jobs
from .work import Workers

STATIC = Path(__file__).parent / "static"  # swagger-ui-dist 5.35.0 (Apache-2.0, static/LICENSE)


@dataclass(frozen=True)
class Settings:
    """How the service runs: the Estimator's options, keys, limits, and the model threads and queue."""

    options: dict = field(default_factory=dict)  # Estimator(**options), as `apps.options.estimator_options` gives
    api_keys: tuple[str, ...] = ()
    max_body: int = 20_000_000  # bytes of one request (20 MB)
    workers: int = os.cpu_count() or 1  # model threads, each with its own Estimator
    queue: int = 16  # requests waiting for a model thread beyond those running; more are refused with 503
    timeout: float = 30.0  # seconds one request may take
    max_files: int = 32  # files in one batch request
    video_jobs: int = 4  # video jobs kept at once (queued, running or finished)
    video_ttl: float = 900.0  # seconds a finished video job is kept

    @property
    def max_pixels(self) -> int:
        return self.options.get("max_pixels", DEFAULT_MAX_PIXELS)


class Service:
    """What the routes use: the settings, the model's workers, the video jobs and the metrics."""

    def __init__(self, settings: Settings, estimator: Estimator | None, metrics: Metrics, jobs=None):
        self.settings, self.metrics = settings, metrics
        n = max(1, settings.workers)
        if estimator is None:
            threads = max(1, (os.cpu_count() or 1) // n)
            estimators = [Estimator(**settings.options, threads=threads) for _ in range(n)]
        else:
            estimators = estimator.replicas(n) if n > 1 else [estimator]
        self.workers = Workers(estimators, settings.queue, settings.timeout)
        self.jobs = jobs if jobs is not None else Jobs(self.workers, settings.video_jobs, settings.video_ttl)
        metrics.queue.set_function(lambda: self.workers.pending)
        metrics.jobs.set_function(lambda: len(self.jobs))

    def close(self) -> None:
        self.jobs.close()
        self.workers.close()


def create_app(estimator: Estimator | None = None, settings: Settings = Settings(), jobs=None) -> FastAPI:
    """The service; `estimator` (default: one made from `settings.options` when the app starts) is shared, and
    `jobs` keeps the video jobs (default: in this process; on Ray Serve, one store shared by the replicas)."""
    metrics = Metrics()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        app.state.service = Service(settings, estimator, metrics, jobs)
        print(f"agegender serve: ready, {settings.workers} model threads, queue {settings.queue}", file=sys.stderr)
        yield
        app.state.service.close()

    app = FastAPI(
        title="agegender",
        version=__version__,
        summary="Apparent age and gender of every face in images and videos, offline.",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
    )
    app.state.metrics = metrics
    app.include_router(router)
    for kind in STATUS:
        app.add_exception_handler(kind, answer_error)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.get("/docs", include_in_schema=False)
    def docs():
        return get_swagger_ui_html(
            openapi_url=app.openapi_url,
            title="agegender API",
            swagger_js_url="/static/swagger-ui-bundle.js",
            swagger_css_url="/static/swagger-ui.css",
            swagger_favicon_url="/static/favicon-32x32.png",
            swagger_ui_parameters={"validatorUrl": None},
        )

    app.add_middleware(Guard, keys=Keys(settings.api_keys), max_body=settings.max_body, metrics=metrics)
    return app
