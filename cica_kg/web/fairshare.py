"""Fair share, as the Wikidata Query Service does it: per client address, a cap on the
requests running at once and a budget of request seconds per minute. Every web worker
process of one server shares one small table (a file in /dev/shm, else the temp dir),
guarded by an exclusive flock held for a few microseconds per request.

The budget is a leaky bucket: the seconds a client's requests took fill it, and it drains
at `budget / 60` seconds per second; a client whose bucket is full waits (429 with
Retry-After) until it has drained below the budget. A running request holds a lease (the
worker's pid and an expiry), so a worker that dies mid-request leaks nothing for long."""

from __future__ import annotations

import fcntl
import ipaddress
import math
import mmap
import os
import struct
import tempfile
import threading
import time
import zlib
from dataclasses import dataclass
from pathlib import Path

SLOTS = 4096  # clients tracked at once; a quiet client's slot is reused after IDLE_SECONDS
PROBES = 64
LEASES = 32  # the most concurrent requests a client can be granted (caps above are clamped)
IDLE_SECONDS = 120.0
_HEAD = struct.Struct("<16sddd")  # key, last touched, bucket level, level's time
_LEASE = struct.Struct("<id")  # pid, expiry (0: free)
SLOT_SIZE = 512
assert _HEAD.size + LEASES * _LEASE.size <= SLOT_SIZE


@dataclass(frozen=True)
class Refusal:
    """Why a client is refused: the limit's name (a setting), a message, seconds to wait."""

    limit: str
    message: str
    retry_after: int


def table_path(tag: str) -> Path:
    """Where one server's table lives (tmpfs when there is one)."""
    root = Path("/dev/shm") if Path("/dev/shm").is_dir() else Path(tempfile.gettempdir())
    return root / f"cica-kg-fairshare-{tag}"


def sweep_stale() -> None:
    """Remove the tables of servers that were killed before they could (the owner's pid is
    in the name)."""
    for path in table_path("*").parent.glob("cica-kg-fairshare-*"):
        try:
            pid = int(path.name.split("-")[3])
        except (IndexError, ValueError):
            continue
        if not _alive(pid):
            path.unlink(missing_ok=True)


def create_table(path: Path) -> None:
    """A fresh, zeroed table (the server's parent process, before the workers start)."""
    with open(path, "wb") as f:
        f.truncate(SLOTS * SLOT_SIZE)


def client_key(address: str) -> bytes:
    """16 bytes per address (IPv4 as IPv4-mapped IPv6); unparsable names are hashed."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return b"\xff" * 4 + zlib.crc32(address.encode()).to_bytes(4, "big") + b"\x00" * 8
    if isinstance(ip, ipaddress.IPv4Address):
        return ipaddress.IPv6Address(b"\x00" * 10 + b"\xff\xff" + ip.packed).packed
    return ip.packed


class FairShare:
    """One worker's handle on the shared table."""

    def __init__(
        self, path: Path, max_concurrent: int, seconds_per_minute: float, lease_seconds: float
    ):
        self.max_concurrent = max(1, min(max_concurrent, LEASES))
        self.budget = float(seconds_per_minute)
        self.rate = self.budget / 60.0
        self.lease_seconds = lease_seconds
        self._fd = os.open(path, os.O_RDWR)
        self._map = mmap.mmap(self._fd, SLOTS * SLOT_SIZE)
        self._lock = threading.Lock()  # flock is per open file: threads need their own lock
        self._pid = os.getpid()

    def acquire(self, address: str) -> tuple[int, int] | Refusal:
        """A lease (slot, lease index) for one request of `address`, or why not."""
        key, now = client_key(address), time.monotonic()
        with self._locked():
            slot = self._find(key, now)
            if slot < 0:  # the table is full of busy clients: serve rather than refuse all
                return (-1, -1)
            _, _, level, stamp = self._head(slot)
            level = self._drained(level, stamp, now)
            if self.budget > 0 and level >= self.budget:
                wait = math.ceil((level - self.budget) / self.rate) + 1
                return Refusal(
                    "client_query_seconds",
                    f"this client has used its {self.budget:g} seconds of query time per "
                    f"minute (client_query_seconds); try again in {wait} s",
                    wait,
                )
            free, running = -1, 0
            for i in range(LEASES):
                pid, expiry = self._lease(slot, i)
                if expiry > now and (pid == self._pid or _alive(pid)):
                    running += 1
                elif free < 0:
                    free = i
            if running >= self.max_concurrent or free < 0:
                return Refusal(
                    "client_queries",
                    f"this client already has {running} requests running, the limit "
                    f"(client_queries); wait for one to finish",
                    1,
                )
            self._write_lease(slot, free, self._pid, now + self.lease_seconds)
            self._write_head(slot, key, now, level, now)
            return (slot, free)

    def release(self, lease: tuple[int, int], address: str, seconds: float) -> None:
        """End a lease and charge the request's seconds to the client's bucket."""
        slot, index = lease
        if slot < 0:
            return
        now = time.monotonic()
        with self._locked():
            head_key, _, level, stamp = self._head(slot)
            self._write_lease(slot, index, 0, 0.0)
            if head_key == client_key(address):
                level = self._drained(level, stamp, now) + seconds
                self._write_head(slot, head_key, now, level, now)

    def close(self) -> None:
        self._map.close()
        os.close(self._fd)

    # -- the table ------------------------------------------------------------------------

    def _locked(self) -> _FileLock:
        return _FileLock(self._lock, self._fd)

    def _drained(self, level: float, stamp: float, now: float) -> float:
        return max(0.0, level - (now - stamp) * self.rate)

    def _find(self, key: bytes, now: float) -> int:
        """The slot of `key`, else a free or reusable one (initialized), else -1."""
        start = zlib.crc32(key) % SLOTS
        reusable = -1
        for probe in range(PROBES):
            slot = (start + probe) % SLOTS
            slot_key, touched, level, stamp = self._head(slot)
            if slot_key == key:
                return slot
            empty = slot_key == b"\x00" * 16
            quiet = now - touched > IDLE_SECONDS and self._drained(level, stamp, now) == 0.0
            if reusable < 0 and (empty or (quiet and not self._busy(slot, now))):
                reusable = slot
            if empty:
                break
        if reusable >= 0:
            self._map[reusable * SLOT_SIZE : (reusable + 1) * SLOT_SIZE] = bytes(SLOT_SIZE)
            self._write_head(reusable, key, now, 0.0, now)
        return reusable

    def _busy(self, slot: int, now: float) -> bool:
        return any(self._lease(slot, i)[1] > now for i in range(LEASES))

    def _head(self, slot: int) -> tuple[bytes, float, float, float]:
        return _HEAD.unpack_from(self._map, slot * SLOT_SIZE)  # type: ignore[return-value]

    def _write_head(
        self, slot: int, key: bytes, touched: float, level: float, stamp: float
    ) -> None:
        _HEAD.pack_into(self._map, slot * SLOT_SIZE, key, touched, level, stamp)

    def _lease(self, slot: int, index: int) -> tuple[int, float]:
        offset = slot * SLOT_SIZE + _HEAD.size + index * _LEASE.size
        return _LEASE.unpack_from(self._map, offset)  # type: ignore[return-value]

    def _write_lease(self, slot: int, index: int, pid: int, expiry: float) -> None:
        offset = slot * SLOT_SIZE + _HEAD.size + index * _LEASE.size
        _LEASE.pack_into(self._map, offset, pid, expiry)


class _FileLock:
    def __init__(self, lock: threading.Lock, fd: int):
        self.lock, self.fd = lock, fd

    def __enter__(self) -> None:
        self.lock.acquire()
        fcntl.flock(self.fd, fcntl.LOCK_EX)

    def __exit__(self, *exc: object) -> None:
        fcntl.flock(self.fd, fcntl.LOCK_UN)
        self.lock.release()


def _alive(pid: int) -> bool:
    """A lease of a worker that died is void (its pid may be reused; the expiry bounds that)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
