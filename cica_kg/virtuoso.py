"""Loading the dumps into a Virtuoso 7 (`cica-kg load-virtuoso`), for `cica-kg serve --engine`.

Through Virtuoso's own SQL client (isql-vt, Debian's virtuoso-opensource-7-bin): the
project's graphs already there are cleared (a graph dropped from the data does not linger),
then `cica-kg.nq` is bulk-loaded (ld_dir, rdf_loader_run) into the graphs it names, and a
checkpoint makes the load durable. Virtuoso reads the file itself: its directory must be
in the server's DirsAllowed. Queries during the load see the graphs partly loaded: load a
second server and switch to it where that matters."""

from __future__ import annotations

import re
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from .errors import BadRequest, RemoteError
from .namespaces import iris

DUMP = "cica-kg.nq"
ISQL_NAMES = ("isql-vt", "isql-v")  # Debian's and upstream's names (`isql` may be unixODBC's)
_MARK = "CICAKG"  # isql does not echo its input: only rows printed under this mark count


@dataclass(frozen=True)
class LoadResult:
    path: Path
    cleared: list[str]  # the project's graphs there before, cleared
    graphs: int  # the project's graphs after the load
    triples: int
    seconds: float


def find_isql(given: str | None = None) -> str:
    for name in [given] if given else ISQL_NAMES:
        found = shutil.which(name) if name else None
        if found:
            return found
    raise BadRequest(
        f"{given or ' or '.join(ISQL_NAMES)} not found: install virtuoso-opensource-7-bin "
        "(`make virtuoso`) or give --isql"
    )


def load(
    dumps: Path,
    server: str = "127.0.0.1:1111",
    user: str = "dba",
    password: str = "dba",
    isql: str | None = None,
    base: str | None = None,
    timeout: float = 3600,
) -> LoadResult:
    """Replace the project's graphs in the Virtuoso at `server` (its SQL port) with those of
    `dumps`/cica-kg.nq. Raises BadRequest when the file or isql is missing, RemoteError when
    Virtuoso refuses or the loader fails."""
    started = time.monotonic()
    path = (dumps / DUMP).resolve()
    if not path.is_file():
        raise BadRequest(f"{path} does not exist: run `cica-kg export` first")
    client = _Isql(find_isql(isql), server, user, password, timeout)
    prefix = iris(base).graph if base else iris().graph
    listed = f"SPARQL SELECT DISTINCT ('{_MARK}' AS ?m) ?g WHERE {{ GRAPH ?g {{ ?s ?p ?o }} "
    listed += f'FILTER(STRSTARTS(STR(?g), "{prefix}")) }};'
    before = sorted(row[1] for row in client.rows(listed))
    script = [f"SPARQL CLEAR GRAPH <{g}>;" for g in before]
    quoted = str(path.parent).replace("'", "''")
    script += [
        f"DELETE FROM DB.DBA.load_list WHERE ll_file = '{quoted}/{DUMP}';",
        f"ld_dir('{quoted}', '{DUMP}', 'urn:x-cica-kg:unnamed');",
        "rdf_loader_run();",
        "checkpoint;",
        f"SELECT '{_MARK}', ll_file, ll_error FROM DB.DBA.load_list "
        f"WHERE ll_file = '{quoted}/{DUMP}' AND (ll_error IS NOT NULL OR ll_state <> 2);",
    ]
    failed = client.rows("\n".join(script))
    if failed:
        raise RemoteError(f"Virtuoso's bulk loader failed on {path}: {' '.join(failed[0][2:])}")
    counted = client.rows(
        f"SPARQL SELECT ('{_MARK}' AS ?m) (COUNT(DISTINCT ?g) AS ?graphs) (COUNT(*) AS ?n) "
        f'WHERE {{ GRAPH ?g {{ ?s ?p ?o }} FILTER(STRSTARTS(STR(?g), "{prefix}")) }};'
    )
    graphs, triples = (int(counted[0][1]), int(counted[0][2])) if counted else (0, 0)
    return LoadResult(path, before, graphs, triples, time.monotonic() - started)


class _Isql:
    def __init__(self, binary: str, server: str, user: str, password: str, timeout: float):
        self.args = [binary, server, user, password]
        self.server, self.timeout = server, timeout

    def rows(self, script: str) -> list[list[str]]:
        """The rows printed under the mark by `script`; RemoteError on any SQL error."""
        try:
            done = subprocess.run(
                self.args,
                input=script + "\nexit;\n",
                capture_output=True,
                text=True,
                timeout=self.timeout,
            )
        except subprocess.TimeoutExpired:
            raise RemoteError(
                f"Virtuoso at {self.server} did not finish within {self.timeout:g} s"
            ) from None
        out = done.stdout + done.stderr
        if done.returncode != 0 or "*** Error" in out:
            error = next((ln for ln in out.splitlines() if "*** Error" in ln), out.strip())
            raise RemoteError(f"Virtuoso at {self.server} (isql) refused: {error[:500]}")
        return [
            re.split(r"\s+", line.strip()) for line in out.splitlines() if line.startswith(_MARK)
        ]
