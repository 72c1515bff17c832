"""The state-year panel in the dumps: the canned query `state-year` (queries/state-year.rq)
as CSV, run on the store the export reads or on its remote engine, so that the file holds
the same bytes as `cica-kg query state-year --format csv` on that data."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from .. import resources
from .files import PANEL_FILE, PANEL_QUERY, DumpFile, panel_format
from .sources import EngineSource, Source

# The whole panel or nothing: a cut answer fails the export (the panel grows by one row per
# state and year, some 40 a year; these limits are for a runaway answer only).
PANEL_MAX_ROWS = 1_000_000
PANEL_MAX_BYTES = 200_000_000


def write_panel(source: Source, path: Path) -> DumpFile:
    """The panel from `source`, as CSV, written to `path`.
    Raises errors.RemoteError when the engine cannot answer, errors.ExportError otherwise."""
    # The query machinery loads the settings and the build: imported here, not at a worker's
    # start (workers import this package).
    from .. import canned, errors
    from ..query import Job, RemoteEngine
    from ..query.execute import execute

    query = canned.parse(resources.queries_dir() / f"{PANEL_QUERY}.rq")
    # The panel's parameters are optional, left unbound: every year. The query has no
    # SERVICE and no FROM, so the endpoint's policy (query.policy.prepare) changes nothing.
    job = Job(
        query=query.text,
        format_name=panel_format().name,
        substitutions=tuple(sorted(canned.bind(query, {}).items())),
        max_rows=PANEL_MAX_ROWS,
        max_bytes=PANEL_MAX_BYTES,
        label=f"the canned query {PANEL_QUERY}",
    )
    try:
        if isinstance(source, EngineSource):
            engine = RemoteEngine(source.url, source.base)
            try:
                answer = engine.run("", job, source.timeout)
            finally:
                engine.close()
        else:
            answer = execute(source.store, job)
    except errors.CicaError as exc:
        failure = errors.RemoteError if isinstance(source, EngineSource) else errors.ExportError
        raise failure(f"{PANEL_FILE}: the canned query {PANEL_QUERY} failed: {exc}") from None
    if answer.truncated:
        raise errors.ExportError(f"{PANEL_FILE}: over {PANEL_MAX_ROWS} rows; not written")
    with open(path, "wb") as fh:  # synced like the dumps (pack.py) before the moves
        fh.write(answer.body)
        fh.flush()
        os.fsync(fh.fileno())
    return DumpFile(path.name, len(answer.body), hashlib.sha256(answer.body).hexdigest())
