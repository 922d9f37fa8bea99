"""The unsubscribe and preference pages: public, server-rendered (Jinja2, autoescaped), no JavaScript.

* ``GET /v1/unsubscribe?token=`` shows what the link unsubscribes from and a button; it changes
  nothing (mail scanners follow links).
* ``POST /v1/unsubscribe?token=`` unsubscribes: the RFC 8058 one-click request a mailbox provider
  sends (body ``List-Unsubscribe=One-Click``, no cookies, no authentication), or the page's button.
  200 with a confirmation page; repeating it is harmless.
* ``GET /preferences?token=`` lists the customer's topics with a tick each, and "all marketing
  e-mail"; ``POST`` saves the form (``application/x-www-form-urlencoded``: ``topic`` repeated for
  each ticked topic, ``all_marketing=on``).

The signed token in the URL is the credential (``core/tokens.py``: purpose, customer, expiry), so a
forged or replayed cross-site form cannot act without it, and no session or CSRF token is needed. A
tampered, expired or wrong-purpose token gets a 400 page saying so. Responses carry
``Cache-Control: no-store``, ``Referrer-Policy: no-referrer`` (the token must not leak to other
sites) and a Content-Security-Policy that allows no script and forms only to this origin.

:class:`PublicPages` is ASGI middleware the API app installs outside its authentication, sending
exactly these paths to :func:`pages_app`; the access log still records them (never the query).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from aftersales.core.errors import AftersalesError, TokenError
from aftersales.services.operational.messaging import suppressions
from aftersales.services.operational.messaging.links import PREFERENCES_PATH, UNSUBSCRIBE_PATH, LinkSigner
from aftersales.services.ports import UnitOfWorkFactory

__all__ = ["PATHS", "PublicPages", "pages_app"]

PATHS = frozenset({UNSUBSCRIBE_PATH, PREFERENCES_PATH})
HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
}
_REASONS = {
    "expired": "This link has expired. Use the link in a more recent e-mail.",
    "wrong_purpose": "This link is not meant for this page.",
}
_INVALID = "This link is not valid. It may have been changed or cut short when it was copied."
_env = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=select_autoescape(default=True, default_for_string=True),
)


def _page(name: str, status: int = 200, **context: Any) -> HTMLResponse:
    return HTMLResponse(_env.get_template(name).render(**context), status_code=status, headers=HEADERS)


def _refused(exc: TokenError) -> HTMLResponse:
    return _page("invalid.html", 400, message=_REASONS.get(exc.reason, _INVALID))


def _topic_label(topic: str) -> str:
    return "all marketing e-mail" if topic == suppressions.ALL_TOPICS else topic.replace("_", " ").replace("-", " ")


async def _form(request: Request) -> Mapping[str, list[str]]:
    body = await request.body()
    return parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True) if body else {}


def pages_app(uow: UnitOfWorkFactory, signer: Callable[[], LinkSigner]) -> Starlette:
    """The pages on ``uow``; ``signer`` gives the link signer (called on first use, then kept)."""
    lock = threading.Lock()
    made: list[LinkSigner] = []

    def links() -> LinkSigner:
        with lock:
            if not made:
                made.append(signer())
            return made[0]

    def token_of(request: Request) -> str:
        return request.query_params.get("token", "")

    async def unsubscribe(request: Request) -> HTMLResponse:
        token, now = token_of(request), datetime.now(UTC)
        try:
            if request.method == "GET":
                customer, topic = await run_in_threadpool(
                    lambda: suppressions.unsubscribe_topic(links(), token, now=now)
                )
                prefs = links().preferences_url(customer, now)
                return _page("unsubscribe.html", topic=_topic_label(topic), token=token, preferences_url=prefs)
            await _form(request)  # RFC 8058's List-Unsubscribe=One-Click; any POST with a valid token counts
            done = await run_in_threadpool(lambda: suppressions.unsubscribe(uow, links(), token, now=now))
        except TokenError as exc:
            return _refused(exc)
        prefs = links().preferences_url(done.customer_id, now)
        return _page("unsubscribed.html", topic=_topic_label(done.topic), preferences_url=prefs)

    async def preferences(request: Request) -> HTMLResponse:
        token, now = token_of(request), datetime.now(UTC)
        saved = False
        try:
            if request.method == "POST":
                form = await _form(request)
                ticked = set(form.get("topic", []))
                wanted = form.get("all_marketing", [""])[-1] == "on"
                page = await run_in_threadpool(
                    lambda: suppressions.set_preferences(
                        uow, links(), token, subscribed=ticked, all_marketing=wanted, now=now
                    )
                )
                saved = True
            else:
                page = await run_in_threadpool(lambda: suppressions.preferences(uow, links(), token, now=now))
        except TokenError as exc:
            return _refused(exc)
        except AftersalesError:
            return _page("invalid.html", 400, message="Your preferences could not be saved. Please try again.")
        topics = [
            {"name": c.topic, "label": _topic_label(c.topic), "on": c.subscribed, "fixed": c.fixed} for c in page.topics
        ]
        return _page(
            "preferences.html",
            token=token,
            topics=topics,
            all_marketing=page.all_marketing.subscribed,
            all_fixed=page.all_marketing.fixed,
            blocked=page.blocked,
            saved=saved,
        )

    routes = [
        Route(UNSUBSCRIBE_PATH, unsubscribe, methods=["GET", "POST"]),
        Route(PREFERENCES_PATH, preferences, methods=["GET", "POST"]),
    ]
    return Starlette(routes=routes)


class PublicPages:
    """ASGI middleware: requests for :data:`PATHS` go to ``pages``, everything else to ``app``. Install
    it outside the API's authentication (these pages authenticate by their signed token)."""

    def __init__(self, app: ASGIApp, pages: ASGIApp) -> None:
        self.app, self.pages = app, pages

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] in PATHS:
            await self.pages(scope, receive, send)
            return
        await self.app(scope, receive, send)
