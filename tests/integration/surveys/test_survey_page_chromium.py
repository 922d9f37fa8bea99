"""The response page in headless Chromium over loopback (SQLite and PostgreSQL): the e-mail's "8" link
opened, a follow-up chosen by keyboard-free clicks and the comment typed, the form sent; the page works
without JavaScript of its own (the browser is driven through the DevTools protocol)."""

from __future__ import annotations

import asyncio
import json
import shutil
import socket
import subprocess
import tempfile
import time
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from aftersales.core.surveys.parse import parse_survey
from aftersales.services.operational.surveys import definitions, sends

from .conftest import NPS_DOC, Site

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(CHROMIUM is None, reason="no Chromium on this machine"),
]


class _Page:
    """The smallest DevTools-protocol client: commands by id, page load events awaited."""

    def __init__(self, ws: Any) -> None:
        self.ws, self.next_id, self.loads = ws, 0, 0

    async def call(self, method: str, **params: Any) -> dict[str, Any]:
        self.next_id += 1
        await self.ws.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:
            message = json.loads(await self.ws.recv())
            if message.get("method") == "Page.loadEventFired":
                self.loads += 1
            if message.get("id") == self.next_id:
                assert "error" not in message, message
                return message.get("result", {})

    async def loaded(self, count: int) -> None:
        while self.loads < count:
            message = json.loads(await asyncio.wait_for(self.ws.recv(), 30))
            if message.get("method") == "Page.loadEventFired":
                self.loads += 1

    async def evaluate(self, expression: str) -> Any:
        return (await self.call("Runtime.evaluate", expression=expression, returnByValue=True))["result"].get("value")


async def _drive(ws_url: str, url: str) -> tuple[str, str]:
    import websockets

    async with websockets.connect(ws_url, max_size=None) as ws:
        page = _Page(ws)
        await page.call("Page.enable")
        await page.call("Page.navigate", url=url)
        await page.loaded(1)
        first = await page.evaluate("document.body.innerText")
        await page.evaluate(
            "document.querySelector('input[name=dim_shipping][value=\"9\"]').click();"
            "document.querySelector('#comment').value = 'Quick and friendly';"
            "document.querySelector('button[type=submit]').click(); true"
        )
        await page.loaded(2)
        return first, await page.evaluate("document.body.innerText")


def test_a_browser_answers_the_survey(site: Site) -> None:
    now = datetime.now(UTC)
    definitions.apply(site.store.uow, parse_survey(NPS_DOC), now=now)
    opened = sends.open_send(site.store.uow, "post-delivery-nps", "c1", key="k", now=now)
    assert opened.send is not None
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    profile = tempfile.mkdtemp()
    assert CHROMIUM is not None
    browser = subprocess.Popen(
        [CHROMIUM, "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
         f"--remote-debugging-port={port}", f"--user-data-dir={profile}", "about:blank"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                targets = httpx.get(f"http://127.0.0.1:{port}/json/list", timeout=2).json()
                ws_url = next(t["webSocketDebuggerUrl"] for t in targets if t.get("type") == "page")
                break
            except (httpx.HTTPError, StopIteration, ValueError):
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.3)
        first, last = asyncio.run(_drive(ws_url, site.store.links.score_url(opened.send, 8)))
    finally:
        browser.terminate()
        browser.wait(20)
        shutil.rmtree(profile, ignore_errors=True)
    assert "Thank you, your answer is saved" in first and "How was the delivery?" in first
    assert "Thank you!" in last
    rows = sorted((r["dimension"], r["score"], r["comment"]) for r in site.store.rows("survey_responses"))
    assert rows == [("overall", 8, "Quick and friendly"), ("shipping", 9, None)]
