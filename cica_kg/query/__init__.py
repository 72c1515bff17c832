"""The one query facade: every SPARQL query (from the endpoint, canned queries, pages, the
CLI) goes through `Engine.run`, which applies the limits and the SERVICE policy (policy.py),
answers from the cache when it can (cache.py), and runs the query where it can be stopped:
in a query process on the published build (local.py), or on a remote engine (remote.py)."""

from __future__ import annotations

import dataclasses
import json
import os
import threading
import time
from typing import Any

from .. import errors, logs, metrics
from ..settings import Settings
from ..store import CURRENT, BuildInfo, current_build
from . import policy
from .cache import ResultCache
from .job import TRUNCATED_HEADER, Answer, Job
from .lexer import QueryInfo
from .local import InlinePool, QueryPool
from .remote import RemoteEngine

__all__ = [
    "TRUNCATED_HEADER",
    "Answer",
    "Engine",
    "InlinePool",
    "Job",
    "QueryInfo",
    "QueryPool",
    "RemoteEngine",
]


class Engine:
    """Limits, SERVICE policy, caching; runs queries on the published build."""

    def __init__(
        self, settings: Settings, pool: QueryPool | InlinePool | RemoteEngine | None = None
    ):
        self.settings = settings
        if pool is None:
            pool = (
                RemoteEngine(settings.engine, settings.base_iri)
                if settings.engine
                else QueryPool(settings.query_workers, settings.threads)
            )
        self.pool = pool
        self._remote_checked = 0.0
        self.cache = ResultCache(settings.cache_entries)
        self._build_lock = threading.Lock()
        self._build_target: str | None = None
        self._build: BuildInfo | None = None

    # -- the published build ----------------------------------------------------------

    def build(self) -> BuildInfo:
        """The current build, re-read when the `current` link changes (for a remote engine:
        its graph sizes, re-read every cache_max_age seconds)."""
        if isinstance(self.pool, RemoteEngine):
            return self._remote_build(self.pool)
        try:
            target = os.readlink(self.settings.store / CURRENT)
        except OSError:
            target = None
        with self._build_lock:
            if self._build is None or target != self._build_target:
                info = current_build(self.settings.store)
                if info is None:
                    raise errors.Unavailable("no published build; run `cica-kg build`")
                self._build, self._build_target = info, target
            return self._build

    def _remote_build(self, remote: RemoteEngine) -> BuildInfo:
        with self._build_lock:
            fresh = time.monotonic() - self._remote_checked < self.settings.cache_max_age
            if self._build is not None and fresh:
                return self._build
            self._build = remote.build_info(self.settings.query_timeout)
            self._remote_checked = time.monotonic()
            return self._build

    # -- checks ---------------------------------------------------------------------------

    def inspect(self, query: str) -> QueryInfo:
        """Check a query against the limits and policy before anything runs."""
        return policy.check(self.settings, query)

    def etag(self, job: Job, info: QueryInfo) -> str:
        """The ETag the answer will carry; empty for federated queries, whose answers
        depend on the remote side and are neither cached nor validated."""
        if info.services:
            return ""
        return f'"{self.build().build_id}-{policy.prepare(self.settings, job, info).cache_key()}"'

    # -- running --------------------------------------------------------------------------

    def run(self, job: Job, info: QueryInfo | None = None) -> Answer:
        """Answer a job from the cache or by running it, within the time limit."""
        info = info or self.inspect(job.query)
        job = policy.prepare(self.settings, job, info)
        build = self.build()
        key = f"{build.build_id}:{job.cache_key()}"
        etag = "" if info.services else f'"{build.build_id}-{job.cache_key()}"'
        cached = self.cache.get(key)
        metrics.cache_lookup(cached is not None)
        logs.note_query(job.query, cached is not None)
        if cached is not None:
            return dataclasses.replace(cached, cached=True)
        timeout = self.settings.query_timeout
        if info.services:
            timeout = min(timeout, self.settings.service_timeout)
        answer = self.pool.run(str(build.store_path), job, timeout)
        answer = dataclasses.replace(answer, build_id=build.build_id, etag=etag)
        if not info.services:  # federated answers depend on the remote side
            self.cache.put(key, answer)
        return answer

    def select(self, query: str, **bindings: Any) -> list[dict[str, dict[str, str]]]:
        """Rows of a trusted SELECT (pages, canned queries) as SPARQL JSON bindings, with
        `bindings` substituted as pyoxigraph terms."""
        job = Job(
            query=query,
            format_name="json",
            substitutions=tuple(sorted(bindings.items())),
            max_rows=self.settings.max_result_rows,
            max_bytes=self.settings.max_result_bytes,
        )
        rows: list[dict[str, dict[str, str]]] = json.loads(self.run(job).body)["results"][
            "bindings"
        ]
        return rows

    def close(self) -> None:
        self.pool.close()
