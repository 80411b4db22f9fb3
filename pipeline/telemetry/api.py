"""The standing collector's small local API (JSON over HTTP) and its client.

    GET  /v1/status       clock, history span, agents, interfaces learned, counters
    POST /v1/query        {"selectors": [...], "since": t, "until": t|null} -> {"counts": [...], "seconds": s, "now": t}
    POST /v1/checks       {"change": id, "checks": [{"name", "point", "outcome", "samples", "packets", "bytes"}]}

A deploy asks for counts over time ranges in the collector's clock (`now` in every answer); queries are
stateless, so several deploys may ask at once.  The server listens on loopback by default and refuses
bodies over 1 MB and more than 256 selectors.
"""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from .errors import TelemetryError
from .history import Count, Selector

MAX_BODY = 1 << 20
MAX_SELECTORS = 256
_SELECTOR_FIELDS = set(Selector.__dataclass_fields__)


def _selector(row: Any) -> Selector:
    if not isinstance(row, dict) or not set(row) <= _SELECTOR_FIELDS or "agent" not in row:
        raise ValueError(f"a selector is an object with agent, src, dst and optionally {sorted(_SELECTOR_FIELDS)}")
    for k, v in row.items():
        if v is not None and not isinstance(v, (str, int)):
            raise ValueError(f"selector field {k} must be a string or an integer")
    return Selector(**row)


class _Handler(BaseHTTPRequestHandler):
    server: "ApiServer"

    def log_message(self, *args) -> None:  # quiet: the service logs what matters itself
        pass

    def _send(self, code: int, body: dict) -> None:
        data = json.dumps(body, separators=(",", ":")).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        if self.path == "/v1/status":
            self._send(200, self.server.collector.status())
        else:
            self._send(404, {"error": f"no {self.path}"})

    def do_POST(self) -> None:
        try:
            length = int(self.headers.get("Content-Length") or 0)
            if not 0 < length <= MAX_BODY:
                raise ValueError(f"body must be 1 byte to {MAX_BODY} bytes")
            body = json.loads(self.rfile.read(length))
            if not isinstance(body, dict):
                raise ValueError("body must be a JSON object")
            if self.path == "/v1/query":
                rows = body.get("selectors")
                if not isinstance(rows, list) or not 0 < len(rows) <= MAX_SELECTORS:
                    raise ValueError(f"selectors: a list of 1 to {MAX_SELECTORS}")
                since, until = body.get("since"), body.get("until")
                if not isinstance(since, (int, float)) or not (until is None or isinstance(until, (int, float))):
                    raise ValueError("since (and until) are collector times in seconds")
                counts, seconds = self.server.collector.query([_selector(r) for r in rows], float(since),
                                                              None if until is None else float(until))
                self._send(200, {"counts": [c.to_dict() for c in counts], "seconds": seconds,
                                 "now": self.server.collector.now()})
            elif self.path == "/v1/checks":
                self.server.collector.report(body)
                self._send(200, {"ok": True})
            else:
                self._send(404, {"error": f"no {self.path}"})
        except (ValueError, TypeError, TelemetryError) as e:
            self._send(400, {"error": str(e)})


class ApiServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], collector):
        self.collector = collector
        try:
            super().__init__(address, _Handler)
        except (OSError, OverflowError) as e:
            raise TelemetryError(f"cannot serve the API on {address[0]}:{address[1]}: {getattr(e, 'strerror', None) or e}") from None

    def start(self) -> "ApiServer":
        threading.Thread(target=self.serve_forever, name="collector-api", daemon=True).start()
        return self

    def stop(self) -> None:
        self.shutdown()
        self.server_close()


class RemoteCollector:
    """A flow source over a standing collector's API (what `Verifier` and the deploy step use)."""

    def __init__(self, url: str, timeout: float = 10.0):
        self.url = url.rstrip("/")
        self.timeout = timeout

    def _call(self, path: str, body: dict | None = None) -> dict:
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.url + path, data=data, headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as r:
                return json.loads(r.read())
        except urllib.error.HTTPError as e:
            try:
                why = json.loads(e.read()).get("error")
            except ValueError:
                why = e.reason
            raise TelemetryError(f"collector {self.url}: {why}") from None
        except (urllib.error.URLError, OSError, ValueError) as e:
            raise TelemetryError(f"collector {self.url} does not answer: {getattr(e, 'reason', e)}") from None

    def status(self) -> dict:
        return self._call("/v1/status")

    def now(self) -> float:
        return float(self.status()["now"])

    def complete(self) -> float:
        """The collector time up to which its history holds everything (behind `now` with sfacctd)."""
        s = self.status()
        return float(s.get("complete", s["now"]))

    def span(self) -> tuple[float, float] | None:
        s = self.status().get("span")
        return tuple(s) if s else None

    def query(self, selectors: list[Selector], since: float, until: float | None = None) -> tuple[list[Count], float]:
        rows = [{k: v for k, v in s.to_dict().items() if v is not None} for s in selectors]
        out = self._call("/v1/query", {"selectors": rows, "since": since, "until": until})
        return [Count(**c) for c in out["counts"]], float(out["seconds"])

    def report(self, body: dict) -> None:
        self._call("/v1/checks", body)
