"""What every HTTP request passes first: the API key (but for the health checks), the size limit, the metrics.

Uploads are read whole into memory here (never to disk), up to the limit; a larger body is refused with 413
before the rest of it is read.
"""

import hashlib
import hmac
import json
import time

from starlette.routing import Match

OPEN_PATHS = ("/healthz", "/readyz")


def _digest(key: bytes) -> bytes:
    return hashlib.sha256(key).digest()


class Keys:
    """API keys, compared in constant time: every key is compared, over SHA-256 digests of equal length."""

    def __init__(self, keys):
        self._digests = [_digest(k.encode()) for k in keys]

    def __bool__(self) -> bool:
        return bool(self._digests)

    def allow(self, authorization: bytes) -> bool:
        scheme, _, token = authorization.partition(b" ")
        given = _digest(token.strip())
        matches = [hmac.compare_digest(given, digest) for digest in self._digests]
        return scheme.lower() == b"bearer" and any(matches)


async def _answer(send, code: int, detail: str, headers: list | None = None) -> None:
    body = json.dumps({"detail": detail}).encode()
    head = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()), *(headers or [])]
    await send({"type": "http.response.start", "status": code, "headers": head})
    await send({"type": "http.response.body", "body": body})


class Guard:
    """ASGI middleware: authorisation, the request size limit, and each request counted in the metrics."""

    def __init__(self, app, keys: Keys, max_body: int, metrics):
        self.app, self.keys, self.max_body, self.metrics = app, keys, max_body, metrics

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        started, status = time.perf_counter(), [500]

        async def counted_send(message):
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)

        try:
            await self._guarded(scope, receive, counted_send)
        finally:
            self.metrics.observe(self._route(scope), scope["method"], status[0], time.perf_counter() - started)

    async def _guarded(self, scope, receive, send):
        headers = dict(scope["headers"])
        if self.keys and scope["path"] not in OPEN_PATHS and not self.keys.allow(headers.get(b"authorization", b"")):
            return await _answer(send, 401, "a valid API key is needed: Authorization: Bearer KEY",
                                 [(b"www-authenticate", b"Bearer")])
        too_large = f"the request is larger than the limit of {self.max_body / 1e6:g} MB"
        declared = headers.get(b"content-length", b"0")
        if declared.isdigit() and int(declared) > self.max_body:
            return await _answer(send, 413, too_large)
        body, more = bytearray(), scope["method"] in ("POST", "PUT", "PATCH")
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body += message.get("body", b"")
            more = message.get("more_body", False)
            if len(body) > self.max_body:
                return await _answer(send, 413, too_large)
        replayed = False

        async def replay():
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": bytes(body), "more_body": False}

        await self.app(scope, replay, send)

    def _route(self, scope) -> str:
        """The route's path template (a bounded set of metric labels), or "other"."""
        route = scope.get("route")
        if route is None:
            route = next((r for r in scope["app"].routes if r.matches(scope)[0] == Match.FULL), None)
        return getattr(route, "path", "other")
