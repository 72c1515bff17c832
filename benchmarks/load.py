"""Closed-loop HTTP load: N clients, each with its own keep-alive connection, sending
requests back to back for a fixed time; latencies of completed requests.

Two clients: wrk (Debian's package; C, one connection per thread, requests pre-generated
and cycled by benchmarks/wrk.lua), the default where installed, as it leaves the two
shared cores to the servers; and Python threads in the harness process (`--client python`,
GIL-bound: at 16 clients it takes about a core). Both on 127.0.0.1, in a process of their
own or the harness's, never a server's."""

from __future__ import annotations

import http.client
import json
import shutil
import statistics
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from .workload import Request, http_target


@dataclass
class CellResult:
    requests: int = 0
    errors: int = 0
    not_modified: int = 0
    bytes: int = 0
    latencies: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    error_samples: list[str] = field(default_factory=list)
    seconds: float = 0.0

    percentiles_ms: dict[str, float] | None = None  # from wrk, which keeps no raw latencies

    def summary(self) -> dict[str, object]:
        if self.percentiles_ms is not None:
            return {
                "requests": self.requests,
                "errors": self.errors,
                "not_modified": self.not_modified,
                "seconds": round(self.seconds, 3),
                "throughput_rps": round(self.requests / self.seconds, 2) if self.seconds else 0.0,
                **self.percentiles_ms,
                "mb_received": round(self.bytes / 1e6, 3),
                "error_samples": self.error_samples[:3],
                "client": "wrk",
            }
        lat = sorted(self.latencies)

        def pct(q: float) -> float | None:
            if not lat:
                return None
            return round(lat[min(len(lat) - 1, int(q * len(lat)))] * 1000, 2)

        return {
            "requests": self.requests,
            "errors": self.errors,
            "not_modified": self.not_modified,
            "seconds": round(self.seconds, 3),
            "throughput_rps": round(self.requests / self.seconds, 2) if self.seconds else 0.0,
            "p50_ms": pct(0.50),
            "p99_ms": pct(0.99),
            "mean_ms": round(statistics.fmean(lat) * 1000, 2) if lat else None,
            "max_ms": round(lat[-1] * 1000, 2) if lat else None,
            "mb_received": round(self.bytes / 1e6, 3),
            "statuses": {str(k): v for k, v in sorted(self.statuses.items())},
            "error_samples": self.error_samples[:3],
            "client": "python",
        }


def run_cell(
    base: str,
    target: str,
    query_path: str,
    next_request: Callable[[], Request],
    clients: int,
    duration: float,
    request_timeout: float,
    conditional: bool = False,
) -> CellResult:
    """`clients` threads for `duration` seconds; a request still running at the end is
    waited for (up to request_timeout) and counted."""
    host = urlsplit(base)
    lock = threading.Lock()
    result = CellResult()
    etags: dict[str, str] = {}
    stop_at = time.perf_counter() + duration
    started = time.perf_counter()

    def worker() -> None:
        conn = http.client.HTTPConnection(host.hostname, host.port, timeout=request_timeout)
        local_lat: list[float] = []
        n = err = nm = nbytes = 0
        statuses: dict[int, int] = {}
        samples: list[str] = []
        while time.perf_counter() < stop_at:
            with lock:
                req = next_request()
            path, headers = http_target(target, query_path, req)
            if conditional and path in etags:
                headers = {**headers, "If-None-Match": etags[path]}
            t0 = time.perf_counter()
            try:
                conn.request("GET", path, headers=headers)
                resp = conn.getresponse()
                body = resp.read()
                dt = time.perf_counter() - t0
            except Exception as exc:  # noqa: BLE001 (timeouts, resets: an error, reconnect)
                err += 1
                if len(samples) < 3:
                    samples.append(f"{type(exc).__name__}: {exc}"[:200])
                conn.close()
                conn = http.client.HTTPConnection(host.hostname, host.port, timeout=request_timeout)
                continue
            statuses[resp.status] = statuses.get(resp.status, 0) + 1
            if resp.status == 304:
                nm += 1
            elif resp.status != 200:
                err += 1
                if len(samples) < 3:
                    samples.append(f"HTTP {resp.status}: {body[:200]!r}")
                continue
            if conditional and resp.status == 200:
                tag = resp.getheader("ETag")
                if tag:
                    with lock:
                        etags[path] = tag
            n += 1
            nbytes += len(body)
            local_lat.append(dt)
            if resp.getheader("Connection", "").lower() == "close":
                conn.close()
                conn = http.client.HTTPConnection(host.hostname, host.port, timeout=request_timeout)
        conn.close()
        with lock:
            result.requests += n
            result.errors += err
            result.not_modified += nm
            result.bytes += nbytes
            result.latencies += local_lat
            result.error_samples += samples
            for k, v in statuses.items():
                result.statuses[k] = result.statuses.get(k, 0) + v

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(duration + request_timeout + 5)
    result.seconds = time.perf_counter() - started
    return result


WRK_SCRIPT = Path(__file__).resolve().parent / "wrk.lua"
WRK_REQUESTS_PER_SECOND = 2000  # pre-generated per cell (cycled): more than any target serves


def wrk_available() -> bool:
    return shutil.which("wrk") is not None


def run_cell_wrk(
    base: str,
    target: str,
    query_path: str,
    next_request: Callable[[], Request],
    clients: int,
    duration: float,
    request_timeout: float,
    conditional: bool = False,
) -> CellResult:
    """The same cell with wrk: `clients` threads with one connection each. Requests still
    running at the end are not counted (wrk stops at the deadline)."""
    with tempfile.TemporaryDirectory() as tmp:
        lines = []
        for _ in range(max(clients, round(duration * WRK_REQUESTS_PER_SECOND))):
            path, headers = http_target(target, query_path, next_request())
            lines.append("\t".join([path, *(f"{k}: {v}" for k, v in headers.items())]))
        reqs = Path(tmp) / "requests.txt"
        reqs.write_text("\n".join(lines) + "\n")
        cmd = [
            "wrk",
            f"-t{clients}",
            f"-c{clients}",
            f"-d{max(1, round(duration))}s",
            f"--timeout={max(1, round(request_timeout))}s",
            "-s",
            str(WRK_SCRIPT),
            base,
            "--",
            str(reqs),
            "conditional" if conditional else "plain",
            str(clients),
        ]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=duration + 60)
    doc = next(
        (json.loads(x) for x in reversed(proc.stdout.splitlines()) if x.startswith("{")), None
    )
    if doc is None:
        raise RuntimeError(f"wrk failed ({proc.returncode}): {proc.stderr[-500:]}")
    result = CellResult(
        requests=doc["ok"] + doc["not_modified"],
        errors=doc["failed"] + doc["socket_errors"] + doc["timeouts"],
        not_modified=doc["not_modified"],
        bytes=doc["bytes"],
        seconds=doc["duration_us"] / 1e6,
    )
    result.percentiles_ms = {
        "p50_ms": round(doc["p50_us"] / 1000, 2),
        "p99_ms": round(doc["p99_us"] / 1000, 2),
        "mean_ms": round(doc["mean_us"] / 1000, 2),
        "max_ms": round(doc["max_us"] / 1000, 2),
    }
    if doc["samples"]:
        result.error_samples = [x for x in doc["samples"].split(" | ") if x][:3]
    if doc["socket_errors"] or doc["timeouts"]:
        result.error_samples.append(
            f"wrk: {doc['socket_errors']} socket errors, {doc['timeouts']} timeouts"
        )
    return result
