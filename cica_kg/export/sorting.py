"""External sorting of N-Triples lines: sorted runs on disk, merged by blocks, and a
count of distinct values in bounded memory. Lines are bytes, each ending with b" .\\n"
(or b"\\n" for the distinct counter); nothing here knows about RDF."""

from __future__ import annotations

import tempfile
from bisect import bisect_right
from collections.abc import Iterable, Iterator
from itertools import chain, groupby
from pathlib import Path
from typing import Any

BLOCK_BYTES = 1 << 20  # read size of a sorted run during a merge
MERGE_BYTES = 32 << 20  # read buffers of one merge in all: more runs, smaller reads
MAX_MERGE = 64  # sorted runs merged at once (open files)


def file_blocks(path: Path, block_bytes: int = BLOCK_BYTES) -> Iterator[list[bytes]]:
    with open(path, "rb") as fh:
        while block := fh.readlines(block_bytes):
            yield block


def merge_blocks(runs: Iterable[Iterator[list[bytes]]]) -> Iterator[list[bytes]]:
    """Sorted blocks of the lines of sorted runs (each without duplicates), every line once.

    A k-way merge by blocks rather than by line, so that the per-line work is done in C:
    each round takes, from every run, the lines up to the smallest of the runs' current
    last lines (nothing later in any run can be smaller), and sorts them together
    (Timsort merges sorted pieces in linear time)."""
    heads: list[list[Any]] = []  # [block, start, run]
    for run in runs:
        block = next((b for b in run if b), None)
        if block is not None:
            heads.append([block, 0, run])
    if len(heads) == 1:  # one run: already sorted and distinct
        block, _, run = heads[0]
        yield block
        yield from (b for b in run if b)
        return
    while heads:
        bound = min(head[0][-1] for head in heads)
        pieces = []
        for head in heads:
            block, start, run = head
            end = bisect_right(block, bound, start)
            if end > start:
                pieces.append(block if (start, end) == (0, len(block)) else block[start:end])
            if end == len(block):
                head[0], head[1] = next((b for b in run if b), None), 0
            else:
                head[1] = end
        heads = [head for head in heads if head[0] is not None]
        if len(pieces) == 1:
            yield pieces[0]
        else:
            ordered = sorted(chain.from_iterable(pieces))
            yield [line for line, _ in groupby(ordered)]


def merged(paths: list[Path], work: Path, block_bytes: int, delete: bool) -> Iterator[list[bytes]]:
    """The merge of sorted run files, by groups of MAX_MERGE files (open files are
    limited); the inputs are deleted when `delete`, the intermediate files always. The
    read size shrinks as runs add up, so a merge holds at most ~MERGE_BYTES of input."""
    paths = list(paths)
    fan_in = max(1, min(len(paths), MAX_MERGE))
    block_bytes = min(block_bytes, max(1 << 16, MERGE_BYTES // fan_in))
    owned: list[Path] = list(paths) if delete else []
    while len(paths) > MAX_MERGE:
        group, paths = paths[:MAX_MERGE], paths[MAX_MERGE:]
        fd, name = tempfile.mkstemp(dir=work, prefix="merge-", suffix=".nt")
        with open(fd, "wb") as out:
            for block in merge_blocks(file_blocks(p, block_bytes) for p in group):
                out.writelines(block)
        for p in group:
            if p in owned:
                p.unlink()
        paths.append(Path(name))
        owned.append(Path(name))
    try:
        yield from merge_blocks(file_blocks(p, block_bytes) for p in paths)
    finally:
        for p in owned:
            p.unlink(missing_ok=True)


def block_size(chunk_lines: int) -> int:
    """The read size of merges for runs of `chunk_lines` lines."""
    # Small chunks (the tests' 97 lines) read small blocks, so merges run many rounds.
    return max(4096, min(BLOCK_BYTES, chunk_lines * 128))


def contains(path: Path, needle: bytes) -> bool:
    """Whether a file contains `needle` (read by blocks: no memory held)."""
    edge = len(needle) - 1
    previous = b""
    with open(path, "rb") as fh:
        while block := fh.read(BLOCK_BYTES):
            if needle in block or needle in previous[len(previous) - edge :] + block[:edge]:
                return True
            previous = block
    return False


class DistinctCounter:
    """How many distinct byte strings (without newline) were added, in bounded memory: a
    set of at most `limit` of them, spilled sorted to a file (one a line) when full; the
    files are merged at the end."""

    def __init__(self, work: Path, limit: int):
        self.work, self.limit = work, max(limit, 1)
        self.seen: set[bytes] = set()
        self.runs: list[Path] = []

    def update(self, lines: Iterable[bytes]) -> None:
        self.seen.update(lines)
        if len(self.seen) >= self.limit:
            self._spill()

    def _spill(self) -> None:
        if not self.seen:
            return
        fd, name = tempfile.mkstemp(dir=self.work, prefix="distinct-", suffix=".nt")
        with open(fd, "wb") as out:
            out.writelines(item + b"\n" for item in sorted(self.seen))
        self.runs.append(Path(name))
        self.seen = set()

    def count(self) -> int:
        if not self.runs:
            return len(self.seen)
        self._spill()
        runs, self.runs = self.runs, []
        size = block_size(self.limit)
        return sum(len(block) for block in merged(runs, self.work, size, delete=True))
