"""Fake map services in a thread: an OSRM route server and a Nominatim geocoder.

OSRM (http://project-osrm.org/docs/v5.24.0/api/#route-service): `GET
/route/v1/driving/{lon},{lat};{lon},{lat}?overview=false` answers `{"code": "Ok",
"routes": [{"duration": s, "distance": m}]}` — here the straight line × 1.5 at 30 km/h, so a
test can tell a routed figure from the estimate. Like the real server it refuses a
malformed coordinate list (400 `InvalidUrl`) and a latitude outside ±90 (400
`InvalidValue`). Nominatim (https://nominatim.org/release-docs/latest/api/Search/):
`GET /search?q=…&format=json` answers a JSON list of `{lat, lon, display_name}` (strings,
as Nominatim sends them), refuses a request without a User-Agent (403, as its usage policy
does) and knows only the addresses a test gives it. `fail()` makes every call a 503.
"""

from __future__ import annotations

import json
import math
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

_ROUTE = re.compile(r"^/route/v1/driving/(-?[\d.]+),(-?[\d.]+);(-?[\d.]+),(-?[\d.]+)$")


def _km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371.0088 * math.asin(math.sqrt(h))


@dataclass
class FakeMaps:
    """The fake's state: known addresses, calls received, and whether it fails."""

    addresses: dict[str, tuple[float, float]] = field(default_factory=dict)
    calls: list[str] = field(default_factory=list)
    failing: bool = False
    url: str = ""

    def fail(self, on: bool = True) -> None:
        """Answer every call with 503 (or stop doing so)."""
        self.failing = on


def _handler(state: FakeMaps) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: Any) -> None:
            pass

        def _send(self, status: int, body: Any) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:  # noqa: N802 (http.server's name)
            parts = urlsplit(self.path)
            state.calls.append(self.path)
            if state.failing:
                self._send(503, {"code": "Unavailable"})
                return
            if parts.path.startswith("/route/"):
                self._route(parts.path)
            elif parts.path == "/search":
                self._search(parse_qs(parts.query))
            else:
                self._send(404, {"code": "InvalidUrl", "message": "URL string malformed"})

        def _route(self, path: str) -> None:
            match = _ROUTE.match(path)
            if not match:
                self._send(400, {"code": "InvalidUrl", "message": "URL string malformed"})
                return
            lon1, lat1, lon2, lat2 = map(float, match.groups())
            if abs(lat1) > 90 or abs(lat2) > 90:
                self._send(400, {"code": "InvalidValue", "message": "Invalid coordinate"})
                return
            metres = _km(lat1, lon1, lat2, lon2) * 1.5 * 1000
            routes = [{"duration": metres / 1000 / 30 * 3600, "distance": metres}]
            self._send(200, {"code": "Ok", "routes": routes, "waypoints": []})

        def _search(self, query: dict[str, list[str]]) -> None:
            if not self.headers.get("User-Agent"):
                self._send(403, {"error": "Access blocked: no User-Agent"})
                return
            if query.get("format") != ["json"] or "q" not in query:
                self._send(400, {"error": "Parameter 'format' must be json"})
                return
            text = query["q"][0]
            if text not in state.addresses:
                self._send(200, [])
                return
            lat, lon = state.addresses[text]
            self._send(200, [{"lat": str(lat), "lon": str(lon), "display_name": text}])

    return Handler


@contextmanager
def fake_maps() -> Iterator[FakeMaps]:
    """Run the fake on a free local port; `state.url` is its base URL."""
    state = FakeMaps()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
