"""Small Galaxy API client for the harness: readiness polling and user bootstrap (stdlib only)."""

from __future__ import annotations

import json
import logging
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)


class GalaxyApiError(RuntimeError):
    """An API call failed."""


def call(
    url: str, path: str, key: str | None = None, payload: dict[str, Any] | None = None, timeout: float = 30
) -> Any:
    """GET (or POST ``payload`` as JSON) ``url + path`` and return the decoded JSON answer."""
    data = None if payload is None else json.dumps(payload).encode()
    request = urllib.request.Request(url.rstrip("/") + path, data=data, method="GET" if data is None else "POST")
    request.add_header("Content-Type", "application/json")
    if key:
        request.add_header("x-api-key", key)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return json.loads(response.read() or b"null")
    except urllib.error.HTTPError as exc:
        detail = exc.read().decode(errors="replace")[:500]
        raise GalaxyApiError(f"{request.method} {path}: HTTP {exc.code}: {detail}") from None


def wait_until_ready(url: str, timeout: float, alive: Callable[[], bool], interval: float = 3) -> dict[str, Any]:
    """Poll ``/api/version`` until Galaxy answers; stop early when ``alive()`` turns false."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not alive():
            raise GalaxyApiError("the Galaxy process exited during start-up")
        try:
            return call(url, "/api/version", timeout=10)
        except (urllib.error.URLError, ConnectionError, TimeoutError, GalaxyApiError, json.JSONDecodeError):
            time.sleep(interval)
    raise GalaxyApiError(f"Galaxy did not answer {url}/api/version within {timeout:.0f} s")


def ensure_user(url: str, master_key: str, email: str, username: str, password: str) -> str:
    """Create the user unless it exists; return a fresh API key of that user."""
    users = call(url, f"/api/users?f_email={email}", key=master_key)
    found = [u for u in users if u.get("email") == email]
    if found:
        user_id = found[0]["id"]
    else:
        created = call(
            url, "/api/users", key=master_key, payload={"username": username, "email": email, "password": password}
        )
        user_id = created["id"]
        log.info("created Galaxy user %s", email)
    return str(call(url, f"/api/users/{user_id}/api_key", key=master_key, payload={}))
