"""The query pool's CPU priority handling: a query that burns more than SLOW_QUERY_SECONDS of
CPU has its process re-niced while it runs; afterwards the priority is restored and the
process kept, or, where raising a priority is not allowed, the process is replaced."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator

import pytest

from cica_kg.query import Job, QueryPool
from cica_kg.query.local import SLOW_QUERY_SECONDS
from cica_kg.settings import Settings
from cica_kg.store import current_build

# ~1-3 s of CPU on the shipped data (every pair of triples); its answer is checked below
SLOW = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f FILTER(?b = ?e) }"
FAST = "SELECT ?n WHERE { VALUES ?n { 1 } }"


@pytest.fixture()
def pool() -> Iterator[QueryPool]:
    pool = QueryPool(1, 1)
    pool.start()
    yield pool
    pool.close()


def store_path(settings: Settings) -> str:
    info = current_build(settings.store)
    assert info is not None
    return str(info.store_path)


def the_process_pid(pool: QueryPool) -> int:
    """The pid of the pool's one idle process (put back after a peek)."""
    proc = pool._checkout(wait=30)
    pool._idle.put(proc)
    pid = proc.process.pid
    assert pid is not None
    return pid


def run_watching_priority(pool: QueryPool, path: str, pid: int) -> tuple[bytes, set[int]]:
    """Run SLOW while sampling the child's nice value."""
    seen: set[int] = set()
    done = threading.Event()

    def watch() -> None:
        while not done.is_set():
            try:
                seen.add(os.getpriority(os.PRIO_PROCESS, pid))
            except OSError:
                return
            time.sleep(0.02)

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        answer = pool.run(path, Job(SLOW, "json"), timeout=60)
    finally:
        done.set()
        watcher.join()
    return answer.body, seen


def expected_pairs(built_settings: Settings) -> int:
    from cica_kg.store import open_current

    store = open_current(built_settings.store).store
    per_predicate: dict[str, int] = {}
    for quad in store:
        per_predicate[quad.predicate.value] = per_predicate.get(quad.predicate.value, 0) + 1
    return sum(n * n for n in per_predicate.values())


def test_slow_query_is_reniced_then_restored_and_the_process_kept(
    pool: QueryPool, built_settings: Settings
) -> None:
    path = store_path(built_settings)
    pid = the_process_pid(pool)
    base = os.getpriority(os.PRIO_PROCESS, pid)
    body, seen = run_watching_priority(pool, path, pid)
    assert f'"value":"{expected_pairs(built_settings)}"'.encode() in body.replace(b" ", b"")
    assert 19 in seen  # it was re-niced once past SLOW_QUERY_SECONDS of CPU
    assert SLOW_QUERY_SECONDS < 1
    assert the_process_pid(pool) == pid  # kept ...
    assert os.getpriority(os.PRIO_PROCESS, pid) == base  # ... at its old priority
    assert b'"value":"1"' in pool.run(path, Job(FAST, "json"), timeout=10).body.replace(b" ", b"")


def test_without_permission_to_restore_the_process_is_replaced(
    pool: QueryPool, built_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = os.setpriority

    def unprivileged(which: int, who: int, value: int) -> None:
        if value < os.getpriority(which, who):  # raising a priority needs CAP_SYS_NICE
            raise PermissionError(1, "Operation not permitted")
        real(which, who, value)

    monkeypatch.setattr(os, "setpriority", unprivileged)
    path = store_path(built_settings)
    pid = the_process_pid(pool)
    _body, seen = run_watching_priority(pool, path, pid)
    assert 19 in seen
    deadline = time.monotonic() + 30
    while the_process_pid(pool) == pid and time.monotonic() < deadline:
        time.sleep(0.1)
    new = the_process_pid(pool)
    assert new != pid
    assert os.getpriority(os.PRIO_PROCESS, new) == os.getpriority(os.PRIO_PROCESS, 0)
