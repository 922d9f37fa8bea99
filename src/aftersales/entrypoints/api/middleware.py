"""Pure ASGI middleware, outermost first: access log, server errors, body limit, authentication,
idempotency.

- **Access log**: one JSON record per request (method, path without query, status, duration, request
  id, API key id); never the key, the body or the query string.
- **Server errors**: an exception that nothing else handled becomes a 500 problem response, and the
  exception stops here. Starlette's own last-resort middleware sends its response and then re-raises
  the exception, so uvicorn logs a traceback and *closes the keep-alive connection* after every 500;
  a client with a connection pool then loses the connection and any pipelined request on it.
- **Body limit**: reads the body before the app does; more than ``max_body`` bytes is 413, whether
  announced by Content-Length or streamed in chunks.
- **Authentication**: every ``/v1`` path needs ``Authorization: Bearer <key>``; a missing, unknown
  or revoked key is 401. The scope is checked per route (403) by ``deps.require_scope``.
- **Idempotency**: a write with an ``Idempotency-Key`` header runs once per (API key, idempotency
  key); retries get the stored first response (``services/operational/idempotency.py``). While the first request
  runs, a heartbeat task renews its claim, so a claim left by a killed process is taken over soon.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from anyio import to_thread

from aftersales.core.errors import AftersalesError
from aftersales.entrypoints.api.problems import error_response, problem_response
from aftersales.services.operational import api_keys, idempotency
from aftersales.services.ports import UnitOfWorkFactory

__all__ = [
    "AccessLogMiddleware",
    "AuthMiddleware",
    "BodyLimitMiddleware",
    "IdempotencyMiddleware",
    "ServerErrorMiddleware",
]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

log = logging.getLogger("aftersales.api.access")
error_log = logging.getLogger("aftersales.api")
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def _header(scope: Scope, name: bytes) -> str | None:
    for k, v in scope.get("headers", ()):
        if k == name:
            return str(v.decode("latin-1"))
    return None


def _state(scope: Scope) -> dict[str, Any]:
    state: dict[str, Any] = scope.setdefault("state", {})
    return state


class AccessLogMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        start = time.perf_counter()
        given = _header(scope, b"x-request-id")
        rid = given if given and len(given) <= 64 and given.isascii() and given.isprintable() else uuid.uuid4().hex
        _state(scope)["request_id"] = rid
        status = 500

        async def send_(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", []), (b"x-request-id", rid.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_)
        finally:
            principal = _state(scope).get("principal")
            log.info(
                "request",
                extra={
                    "method": scope["method"],
                    "path": scope["path"],
                    "status": status,
                    "duration_ms": round((time.perf_counter() - start) * 1000, 2),
                    "request_id": rid,
                    "key_id": principal.key_id if principal else None,
                },
            )


class ServerErrorMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        started = False

        async def send_(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, send_)
        except Exception as exc:
            # The type only: a message may quote input values (PII), which logs never hold.
            error_log.error("unhandled error on %s %s: %s", scope["method"], scope["path"], type(exc).__name__)
            if started:  # half a response is out: only closing the connection can tell the client
                raise
            await problem_response(500, "internal error; it was logged", instance=scope["path"])(scope, receive, send)


class BodyLimitMiddleware:
    def __init__(self, app: ASGIApp, max_body: int) -> None:
        self.app, self.max_body = app, max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in WRITE_METHODS:
            return await self.app(scope, receive, send)
        too_large = problem_response(413, f"request body exceeds {self.max_body} bytes", instance=scope["path"])
        length = _header(scope, b"content-length")
        if length is not None and length.isdigit() and int(length) > self.max_body:
            return await too_large(scope, receive, send)
        chunks, size, more = [], 0, True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body:
                return await too_large(scope, receive, send)
            chunks.append(chunk)
            more = message.get("more_body", False)
        body = b"".join(chunks)
        _state(scope)["body"] = body
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


class AuthMiddleware:
    def __init__(self, app: ASGIApp, uow: UnitOfWorkFactory, prefix: str = "/v1") -> None:
        self.app, self.uow, self.prefix = app, uow, prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(self.prefix):
            return await self.app(scope, receive, send)
        auth = _header(scope, b"authorization") or ""
        scheme, _, token = auth.partition(" ")
        presented = token.strip() if scheme.lower() == "bearer" else None
        try:
            principal = await to_thread.run_sync(api_keys.authenticate, self.uow, presented)
        except AftersalesError as exc:
            return await error_response(exc, scope["path"])(scope, receive, send)
        _state(scope)["principal"] = principal
        await self.app(scope, receive, send)


class IdempotencyMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        uow: UnitOfWorkFactory,
        wait_s: float = 30.0,
        stale_s: float = idempotency.STALE_AFTER_S,
        heartbeat_s: float = idempotency.HEARTBEAT_S,
    ) -> None:
        if not 0 < heartbeat_s < stale_s:
            raise ValueError(f"the heartbeat ({heartbeat_s} s) must be shorter than the stale age ({stale_s} s)")
        self.app, self.uow, self.wait_s, self.stale_s, self.heartbeat_s = app, uow, wait_s, stale_s, heartbeat_s

    async def _heartbeat(self, key_id: str, key: str) -> None:
        while True:
            await asyncio.sleep(self.heartbeat_s)
            try:
                await to_thread.run_sync(idempotency.renew, self.uow, key_id, key)
            except Exception as exc:  # noqa: BLE001 - a missed beat only makes the claim look older
                error_log.warning("idempotency heartbeat failed: %s", type(exc).__name__)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        key = _header(scope, b"idempotency-key") if scope["type"] == "http" else None
        principal = _state(scope).get("principal") if key is not None else None
        if key is None or principal is None or scope["method"] not in WRITE_METHODS:
            return await self.app(scope, receive, send)
        body = _state(scope).get("body", b"")
        path = scope["path"]
        print_ = idempotency.fingerprint(scope["method"], path, scope.get("query_string", b"").decode(), body)
        try:
            idempotency.check_key(key)
            stored = await to_thread.run_sync(
                lambda: idempotency.begin(
                    self.uow, principal.key_id, key, print_, wait_s=self.wait_s, stale_after_s=self.stale_s
                )
            )
        except AftersalesError as exc:
            return await error_response(exc, path)(scope, receive, send)
        if stored is not None:
            return await self._send(send, stored, replayed=True)
        status, content_type, chunks = 500, "application/json", []

        async def capture(message: Message) -> None:
            nonlocal status, content_type
            if message["type"] == "http.response.start":
                status = message["status"]
                for k, v in message.get("headers", []):
                    if k.lower() == b"content-type":
                        content_type = v.decode("latin-1")
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        beat = asyncio.ensure_future(self._heartbeat(principal.key_id, key))
        try:
            await self.app(scope, receive, capture)
        except BaseException:
            await to_thread.run_sync(idempotency.release, self.uow, principal.key_id, key)
            raise
        finally:
            beat.cancel()  # a renewal already in its thread finishes; renewing a completed claim changes nothing
        response = idempotency.StoredResponse(status, content_type, b"".join(chunks))
        if status >= 500:  # a server error is not an answer: let the retry run again
            await to_thread.run_sync(idempotency.release, self.uow, principal.key_id, key)
        else:
            await to_thread.run_sync(idempotency.complete, self.uow, principal.key_id, key, response)
        await self._send(send, response, replayed=False)

    @staticmethod
    async def _send(send: Send, response: idempotency.StoredResponse, *, replayed: bool) -> None:
        headers = [
            (b"content-type", response.content_type.encode("latin-1")),
            (b"content-length", str(len(response.body)).encode()),
        ]
        if replayed:
            headers.append((b"idempotent-replayed", b"true"))
        await send({"type": "http.response.start", "status": response.status_code, "headers": headers})
        await send({"type": "http.response.body", "body": response.body})
