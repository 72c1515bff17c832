"""Processes: run a command and measure its wall time and peak memory; start the three
servers; read the memory of a process tree from /proc."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
PEERS_VENV = Path(os.environ.get("CICA_BENCH_PEERS_VENV", REPO / "benchmarks" / ".venv-peers"))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Measured:
    seconds: float
    peak_rss_mb: float  # ru_maxrss of the child (the largest process it waited for)
    returncode: int
    stdout: str = ""
    stderr: str = ""


def measure(
    cmd: list[str], timeout: float | None = None, env: dict[str, str] | None = None
) -> Measured:
    """Run `cmd`, return wall time and its peak RSS (os.wait4 rusage of that child)."""
    started = time.perf_counter()
    proc = subprocess.Popen(
        cmd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **(env or {})},
        start_new_session=True,
    )
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        return Measured(time.perf_counter() - started, float("nan"), -9, out, err + "\nTIMEOUT")
    seconds = time.perf_counter() - started
    # communicate() reaped the child; its rusage is in RUSAGE_CHILDREN only in aggregate,
    # so child scripts print their own peak where it matters. Fall back to that aggregate.
    peak = _peak_from_output(out)
    return Measured(seconds, peak, proc.returncode, out, err)


def measure_wait4(
    cmd: list[str], timeout: float | None = None, env: dict[str, str] | None = None
) -> Measured:
    """Like measure(), with the exact peak RSS of that child from os.wait4; `env` is added to
    this process's environment."""
    started = time.perf_counter()
    log_out = open(os.devnull, "w")  # noqa: SIM115
    proc = subprocess.Popen(
        cmd,
        stdout=subprocess.PIPE,
        stderr=log_out,
        text=True,
        start_new_session=True,
        env={**os.environ, **(env or {})},
    )
    deadline = None if timeout is None else started + timeout
    out_chunks: list[str] = []
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        if deadline and time.perf_counter() > deadline:
            os.killpg(proc.pid, signal.SIGKILL)
            pid, status, usage = os.wait4(proc.pid, 0)
            break
        time.sleep(0.05)
    seconds = time.perf_counter() - started
    if proc.stdout:
        out_chunks.append(proc.stdout.read())
    proc.returncode = os.waitstatus_to_exitcode(status)
    log_out.close()
    return Measured(seconds, usage.ru_maxrss / 1024, proc.returncode, "".join(out_chunks))


def _peak_from_output(out: str) -> float:
    for line in reversed(out.splitlines()):
        if line.startswith("{"):
            try:
                return float(json.loads(line).get("peak_rss_mb", "nan"))
            except (ValueError, AttributeError):
                return float("nan")
    return float("nan")


def du_mb(path: Path) -> float:
    total = 0
    for p in Path(path).rglob("*"):
        if p.is_file() and not p.is_symlink():
            total += p.stat().st_size
    return total / 1e6


# ---------------------------------------------------------------------------------------
#   /proc
# ---------------------------------------------------------------------------------------


def _children(pid: int) -> list[int]:
    out = []
    try:
        for tid in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{tid}/children") as fh:
                out += [int(x) for x in fh.read().split()]
    except OSError:
        pass
    return out


def tree(pid: int) -> list[int]:
    pids, todo = [], [pid]
    while todo:
        p = todo.pop()
        pids.append(p)
        todo += _children(p)
    return pids


def status_kb(pid: int, key: str) -> int:
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def pss_kb(pid: int) -> int:
    """Proportional set size: shared pages divided among the processes sharing them."""
    try:
        with open(f"/proc/{pid}/smaps_rollup") as fh:
            for line in fh:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def cmdline(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as fh:
            return fh.read().replace(b"\0", b" ").decode(errors="replace")[:120]
    except OSError:
        return ""


def tree_memory(pid: int) -> dict[str, object]:
    procs = [
        {
            "pid": p,
            "rss_mb": status_kb(p, "VmRSS") / 1024,
            "hwm_mb": status_kb(p, "VmHWM") / 1024,
            "pss_mb": pss_kb(p) / 1024,
            "cmd": cmdline(p),
        }
        for p in tree(pid)
    ]
    return {
        "rss_mb": round(sum(float(p["rss_mb"]) for p in procs), 1),  # type: ignore[arg-type]
        "hwm_sum_mb": round(sum(float(p["hwm_mb"]) for p in procs), 1),  # type: ignore[arg-type]
        "pss_mb": round(sum(float(p["pss_mb"]) for p in procs), 1),  # type: ignore[arg-type]
        "processes": procs,
    }


# ---------------------------------------------------------------------------------------
#   Servers
# ---------------------------------------------------------------------------------------


@dataclass
class Server:
    name: str
    base: str
    proc: subprocess.Popen[bytes]
    query_path: str  # path of the SPARQL endpoint
    started_at: float
    ready_seconds: float = float("nan")
    log: Path | None = None
    extra: dict[str, object] = field(default_factory=dict)

    def stop(self) -> None:
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGINT)
                self.proc.wait(timeout=15)
            except (subprocess.TimeoutExpired, ProcessLookupError):
                try:
                    os.killpg(self.proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                self.proc.wait()


def _spawn(cmd: list[str], log: Path, env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    fh = open(log, "wb")  # noqa: SIM115
    return subprocess.Popen(
        cmd,
        stdout=fh,
        stderr=subprocess.STDOUT,
        env={**os.environ, **(env or {})},
        start_new_session=True,
    )


PROBE = "SELECT (COUNT(*) AS ?n) WHERE { ?s a <https://w3id.org/cica-kg/ontology#State> }"


def probe(base: str, path: str, timeout: float = 5.0) -> str | None:
    """The count of states from the endpoint, or None if it does not answer yet."""
    url = base + path + "?" + urllib.parse.urlencode({"query": PROBE})
    req = urllib.request.Request(url, headers={"Accept": "application/sparql-results+json"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            doc = json.loads(resp.read())
            return str(doc["results"]["bindings"][0]["n"]["value"])
    except Exception:  # noqa: BLE001
        return None


def wait_ready(server: Server, expect: str | None, limit: float) -> None:
    deadline = time.perf_counter() + limit
    while time.perf_counter() < deadline:
        if server.proc.poll() is not None:
            raise RuntimeError(f"{server.name} exited: see {server.log}")
        got = probe(
            server.base, server.query_path, timeout=max(1.0, deadline - time.perf_counter())
        )
        if got is not None and (expect is None or got == expect):
            server.ready_seconds = time.perf_counter() - server.started_at
            return
        time.sleep(0.02)
    raise RuntimeError(f"{server.name} not ready after {limit} s: see {server.log}")


def start_cica(
    store: Path,
    data_dir: Path,
    ontology_dir: Path,
    logdir: Path,
    *,
    workers: int,
    threads: int,
    via_cli: bool = False,
    expect: str | None = None,
    limit: float = 600,
    env: dict[str, str] | None = None,
) -> Server:
    """`cica-kg serve` (via_cli) or the same uvicorn app started without the CLI's
    build-before-serve step (benchmarks.serve_cica)."""
    port = free_port()
    common = [
        "--store",
        str(store),
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--threads",
        str(threads),
    ]
    if via_cli:
        cmd = [
            str(VENV_BIN / "cica-kg"),
            "serve",
            "--data-dir",
            str(data_dir),
            "--ontology-dir",
            str(ontology_dir),
            *common,
        ]
    else:
        cmd = [sys.executable, "-m", "benchmarks.serve_cica", *common]
    log = logdir / f"cica-{'cli' if via_cli else 'app'}-{port}.log"
    started = time.perf_counter()
    s = Server(
        "cica-kg", f"http://127.0.0.1:{port}", _spawn(cmd, log, env), "/sparql", started, log=log
    )
    wait_ready(s, expect, limit)
    return s


def start_oxigraph(
    store_dir: Path, logdir: Path, expect: str | None = None, limit: float = 120
) -> Server:
    port = free_port()
    cmd = [
        str(VENV_BIN / "oxigraph"),
        "serve-read-only",
        "--location",
        str(store_dir),
        "--bind",
        f"127.0.0.1:{port}",
        "--union-default-graph",
    ]
    log = logdir / f"oxigraph-{port}.log"
    started = time.perf_counter()
    s = Server("oxigraph", f"http://127.0.0.1:{port}", _spawn(cmd, log), "/query", started, log=log)
    wait_ready(s, expect, limit)
    return s


def peers_available() -> bool:
    return (PEERS_VENV / "bin" / "rdflib-endpoint").exists()


def start_rdflib(
    files: list[Path], logdir: Path, expect: str | None = None, limit: float = 1800
) -> Server:
    port = free_port()
    cmd = [
        str(PEERS_VENV / "bin" / "rdflib-endpoint"),
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        *map(str, files),
    ]
    log = logdir / f"rdflib-{port}.log"
    started = time.perf_counter()
    s = Server(
        "rdflib-endpoint", f"http://127.0.0.1:{port}", _spawn(cmd, log), "/", started, log=log
    )
    wait_ready(s, expect, limit)
    return s
