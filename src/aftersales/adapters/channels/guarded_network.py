"""The webhook channel's network: every connection checked and pinned, every attempt under one deadline.

httpcore opens connections through a *network backend*; :class:`GuardedBackend` is that backend.

* **Checked on the resolved address.** ``connect_tcp`` resolves the host itself (``getaddrinfo``, the
  very resolver the socket would use, so ``127.1``, ``2130706433`` and ``0x7f000001`` mean what the OS
  makes of them), keeps the addresses the ``DestinationPolicy``
  allows, and connects to one of *those* addresses. Nothing resolves the name a second time between
  check and connect, which is what DNS rebinding exploits. When no address is allowed it raises
  :class:`DestinationRefused` before any packet leaves, and the caller records a neutral reason.
* **One deadline per attempt.** httpx and httpcore time each operation (connect, each read, each
  write) separately, so a receiver that sends a byte every few seconds never trips a 10 s timeout and
  holds an attempt as long as it likes. :func:`deadline` sets the instant by which the whole attempt
  must be over (a context variable, so each sending thread has its own); name resolution waits at most
  until then, and every read and write on a connection made here gets ``min(its timeout, time left)``
  and fails with a timeout once no time is left, whichever request the (pooled) connection serves.
"""

from __future__ import annotations

import contextlib
import ipaddress
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextvars import ContextVar
from typing import Any

import httpcore

from aftersales.services.operational.webhook_destinations import DestinationPolicy

__all__ = ["DestinationRefused", "GuardedBackend", "Resolver", "deadline", "system_resolver"]

Resolver = Callable[[str, int], list[str]]
"""``(host, port) -> addresses`` in the resolver's order (IP literals in any form included)."""

_DEADLINE: ContextVar[float | None] = ContextVar("webhook_deadline", default=None)


class DestinationRefused(Exception):
    """No address of the destination is allowed: nothing was sent."""


@contextlib.contextmanager
def deadline(seconds: float) -> Iterator[None]:
    """Everything the network does inside this block must be over ``seconds`` from now."""
    token = _DEADLINE.set(time.monotonic() + seconds)
    try:
        yield
    finally:
        _DEADLINE.reset(token)


def _clamp(timeout: float | None, expired: type[Exception]) -> float | None:
    """``timeout`` cut to the time left before the deadline; ``expired`` when none is left."""
    end = _DEADLINE.get()
    if end is None:
        return timeout
    left = end - time.monotonic()
    if left <= 0:
        raise expired("the attempt's deadline passed")
    return left if timeout is None else min(timeout, left)


def system_resolver(host: str, port: int) -> list[str]:
    """Every address ``getaddrinfo`` gives for ``host`` (TCP), in its order, without duplicates."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def _resolve_within(resolve: Resolver, host: str, port: int, timeout: float | None) -> list[str]:
    """``resolve(host, port)`` in a helper thread, waited for at most ``timeout`` seconds:
    ``getaddrinfo`` takes no timeout, and a slow DNS server must not outlast the attempt's deadline."""
    result: dict[str, Any] = {}

    def run() -> None:
        try:
            result["addresses"] = resolve(host, port)
        except Exception as exc:  # noqa: BLE001 - handed to the waiting thread
            result["error"] = exc

    worker = threading.Thread(target=run, name="webhook-resolve", daemon=True)
    worker.start()
    worker.join(timeout)
    if worker.is_alive():
        raise httpcore.ConnectTimeout(f"resolving {host} took too long")
    if "error" in result:
        raise httpcore.ConnectError(f"cannot resolve {host}: {result['error']}") from result["error"]
    addresses: list[str] = result["addresses"]
    return addresses


class DeadlineStream(httpcore.NetworkStream):
    """A connection whose reads and writes end by the current attempt's deadline."""

    def __init__(self, inner: httpcore.NetworkStream) -> None:
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, _clamp(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, _clamp(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self, ssl_context: ssl.SSLContext, server_hostname: str | None = None, timeout: float | None = None
    ) -> httpcore.NetworkStream:
        # server_hostname is the URL's name: certificates are checked against it, not the pinned address.
        tls = self._inner.start_tls(ssl_context, server_hostname, _clamp(timeout, httpcore.ConnectTimeout))
        return DeadlineStream(tls)

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class GuardedBackend(httpcore.NetworkBackend):
    """httpcore's synchronous backend, connecting only to addresses ``policy`` allows (see the module)."""

    def __init__(self, policy: DestinationPolicy, resolve: Resolver = system_resolver) -> None:
        self._policy, self._resolve = policy, resolve
        self._inner = httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        addresses = _resolve_within(self._resolve, host, port, _clamp(timeout, httpcore.ConnectTimeout))
        allowed = [a for a in addresses if self._policy.address_allowed(host, ipaddress.ip_address(a.split("%")[0]))]
        if not allowed:
            raise DestinationRefused(host)
        error: Exception | None = None
        for address in allowed:  # like socket.create_connection: the next address when one fails
            try:
                stream = self._inner.connect_tcp(
                    address,
                    port,
                    _clamp(timeout, httpcore.ConnectTimeout),
                    local_address=local_address,
                    socket_options=socket_options,
                )
            except httpcore.ConnectError as exc:
                error = exc
                continue
            return DeadlineStream(stream)
        assert error is not None
        raise error

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.NetworkStream:
        raise DestinationRefused(path)  # webhooks go over TCP only

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)
