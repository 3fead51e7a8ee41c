"""Errors mapped to status codes in one place: too large 413, unsupported 415, unreadable 422, full 503."""

from fastapi import Request
from fastapi.responses import JSONResponse

from ...inference.decode import ImageError, ImageTooLarge, UnsupportedImage
from ...inference.video import VideoError
from .work import Full, TimedOut

STATUS = {ImageTooLarge: 413, UnsupportedImage: 415, ImageError: 422, VideoError: 422, Full: 503, TimedOut: 503}
RETRY_AFTER = "1"  # seconds, with every 503


def status_of(exc: Exception) -> int:
    return next(STATUS[kind] for kind in type(exc).__mro__ if kind in STATUS)


def answer_error(_request: Request, exc: Exception) -> JSONResponse:
    """The exception handler for every type in STATUS: its code, and the error's message."""
    code = status_of(exc)
    headers = {"Retry-After": RETRY_AFTER} if code == 503 else None
    return JSONResponse({"detail": str(exc)}, status_code=code, headers=headers)


ERROR_RESPONSES = {
    code: {"model": None, "description": text}
    for code, text in {
        400: "a malformed multipart form",
        401: "no valid API key (when the service has keys)",
        413: "the request, or an image's declared size, is over the limit",
        415: "not a supported image format",
        422: "an unreadable (empty, corrupt, truncated) input, or invalid parameters",
        503: "the service is busy or the analysis timed out: retry after the Retry-After header's seconds",
    }.items()
}
