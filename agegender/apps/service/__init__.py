"""The HTTP service (`agegender serve`): FastAPI on uvicorn, or on Ray Serve, a thin caller of the Estimator."""

from .app import Settings, create_app

__all__ = ["Settings", "create_app"]
