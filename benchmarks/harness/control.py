"""The one control-plane call the harness makes itself: where an index is served (stdlib HTTP)."""

from __future__ import annotations

import urllib.error
import urllib.request
from typing import Any

import orjson

from benchmarks.harness.spec import API_KEY

__all__ = ["describe_index_host"]


def _call(method: str, url: str, body: Any = None, *, api_key: str = API_KEY) -> Any:
    data = None if body is None else orjson.dumps(body)
    headers = {"Api-Key": api_key, "Content-Type": "application/json", "X-Pinecone-Api-Version": "2025-04"}
    request = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            raw = response.read()
    except urllib.error.HTTPError as exc:
        raise RuntimeError(f"{method} {url} → {exc.code}: {exc.read()[:300]!r}") from None
    return orjson.loads(raw) if raw.strip() else None


def describe_index_host(control_url: str, name: str, *, api_key: str = API_KEY) -> str:
    host = str(_call("GET", control_url.rstrip("/") + f"/indexes/{name}", api_key=api_key)["host"])
    return host if "://" in host else "http://" + host
