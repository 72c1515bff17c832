"""A throwaway Virtuoso 7 (Debian's `virtuoso-opensource-7-bin`) for tests: its own
virtuoso.ini and database in a temp dir, on free 127.0.0.1 ports, loaded with N-Quads
through the bulk loader, and stopped (and its directory removed) on exit.

    with running() as v:
        v.load(Path("cica-kg.nq"))
        requests.post(v.sparql_url, data={"query": "ASK {}"})
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import requests

SERVER = "virtuoso-t"
ISQL = "isql-vt"  # Debian's name: a plain `isql` may be unixODBC's, another program
PASSWORD = "dba"  # a fresh database's own; the server listens on loopback only
START_SECONDS = 120

INI = """\
[Database]
DatabaseFile = {dir}/virtuoso.db
ErrorLogFile = {dir}/virtuoso.log
LockFile = {dir}/virtuoso.lck
TransactionFile = {dir}/virtuoso.trx
xa_persistent_file = {dir}/virtuoso.pxa
ErrorLogLevel = 7
FileExtend = 200
Striping = 0
TempStorage = TempDatabase

[TempDatabase]
DatabaseFile = {dir}/virtuoso-temp.db
TransactionFile = {dir}/virtuoso-temp.trx
Striping = 0

[Parameters]
ServerPort = 127.0.0.1:{sql_port}
DisableUnixSocket = 1
ServerThreads = 10
CheckpointInterval = 0
NumberOfBuffers = 20000
MaxDirtyBuffers = 15000
DirsAllowed = {dir}

[HTTPServer]
ServerPort = 127.0.0.1:{http_port}
ServerRoot = {dir}
ServerThreads = 4
MaxClientConnections = 8
EnabledDavVSP = 0

[SPARQL]
; No caps: past ResultSetMaxRows (10,000 by default) Virtuoso truncates answers, and past
; MaxQueryExecutionTime it returns partial ones (HTTP 200, X-SQL-State: S1TAT); the tests'
; clients set their own time limits.
ResultSetMaxRows = 100000000
MaxSortedTopRows = 100000000
MaxQueryCostEstimationTime = 0
MaxQueryExecutionTime = 0
"""


def binaries() -> tuple[str, str] | None:
    """(virtuoso-t, isql) paths, or None where Virtuoso is not installed."""
    server, isql = shutil.which(SERVER), shutil.which(ISQL)
    return (server, isql) if server and isql else None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class VirtuosoError(RuntimeError):
    pass


@dataclass
class Virtuoso:
    directory: Path
    sql_port: int
    http_port: int
    isql_path: str
    process: subprocess.Popen[bytes]
    timings: dict[str, float] = field(default_factory=dict)  # seconds: start, load

    @property
    def sparql_url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}/sparql"

    def log(self) -> str:
        path = self.directory / "virtuoso.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def isql(self, script: str, timeout: float = 600) -> str:
        """Run SQL statements (each ending in `;`); raise on any error Virtuoso reports."""
        done = subprocess.run(
            [self.isql_path, f"127.0.0.1:{self.sql_port}", "dba", PASSWORD],
            input=script + "\nexit;\n",
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        out = done.stdout + done.stderr
        if done.returncode != 0 or "*** Error" in out:
            raise VirtuosoError(f"isql failed ({done.returncode}):\n{out}")
        return out

    def load(self, *files: Path, graph: str = "urn:x-cica-kg:default") -> None:
        """Bulk-load RDF files (.nq keeps each quad's graph; triples go to `graph`) and
        checkpoint. The files are copied into the server's directory (DirsAllowed)."""
        started = time.monotonic()
        inbox = Path(tempfile.mkdtemp(prefix="load-", dir=self.directory))
        for path in files:
            shutil.copy(path, inbox / path.name)
        out = self.isql(
            f"ld_dir('{inbox}', '*', '{graph}');\n"
            "rdf_loader_run();\n"
            "checkpoint;\n"
            # isql does not echo its input, so the marker shows only on a failed file
            "SELECT 'LOAD' || 'FAILED', ll_file, ll_error FROM DB.DBA.load_list "
            f"WHERE ll_file LIKE '{inbox}/%' AND (ll_error IS NOT NULL OR ll_state <> 2);\n"
        )
        shutil.rmtree(inbox)
        if "LOADFAILED" in out:
            raise VirtuosoError(f"the bulk loader failed:\n{out}")
        self.timings["load"] = self.timings.get("load", 0.0) + time.monotonic() - started

    def stop(self) -> None:
        """SIGTERM (Virtuoso shuts down), SIGKILL after 30 s: the database is thrown away."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@contextlib.contextmanager
def running(keep: bool = False, ini: dict[str, str] | None = None) -> Iterator[Virtuoso]:
    """A Virtuoso with an empty database; stopped and removed on exit (`keep`: the
    directory stays, for a look at virtuoso.log). `ini`: settings that replace
    those above (e.g. {"ResultSetMaxRows": "10"} caps answers)."""
    found = binaries()
    if found is None:
        raise VirtuosoError("virtuoso-t and isql-vt are not installed")
    directory = Path(tempfile.mkdtemp(prefix="virtuoso-"))
    sql_port, http_port = _free_port(), _free_port()
    config = directory / "virtuoso.ini"
    text = INI.format(dir=directory, sql_port=sql_port, http_port=http_port)
    for key, value in (ini or {}).items():
        text = re.sub(rf"(?m)^{key} = .*$", f"{key} = {value}", text)
    config.write_text(text)
    started = time.monotonic()
    process = subprocess.Popen(
        [found[0], "+foreground", "+configfile", str(config)],
        cwd=directory,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # a Ctrl-C on the tests goes to pytest, which stops it
        preexec_fn=_die_with_parent,
    )
    server = Virtuoso(directory, sql_port, http_port, found[1], process)
    try:
        _wait(server, started)
        server.timings["start"] = time.monotonic() - started
        yield server
    finally:
        server.stop()
        if not keep:
            shutil.rmtree(directory, ignore_errors=True)


def _die_with_parent() -> None:
    """SIGTERM to the server when the process that started it dies (even by SIGKILL)."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def _wait(server: Virtuoso, started: float) -> None:
    """Until the SPARQL endpoint answers ASK {} (the HTTP listener comes up last)."""
    while time.monotonic() - started < START_SECONDS:
        if server.process.poll() is not None:
            raise VirtuosoError(f"virtuoso-t exited ({server.process.returncode}):\n{server.log()}")
        try:
            r = requests.get(server.sparql_url, params={"query": "ASK {}"}, timeout=5)
            if r.status_code == 200:
                return
        except requests.ConnectionError:
            pass
        time.sleep(0.2)
    raise VirtuosoError(f"Virtuoso did not answer within {START_SECONDS} s:\n{server.log()}")


def required() -> bool:
    """In CI a missing Virtuoso is a failure, not a skip (.ci/run installs it)."""
    return os.environ.get("CI", "").lower() == "true"
