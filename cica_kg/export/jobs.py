"""The jobs, run by the worker processes (or in the parent when jobs == 1): each graph
dumped and sorted, the N-Quads and N-Triples merged from the sorted runs, the statistics
counted and the other formats serialized. A worker reads one JSON job a line on stdin and
answers one JSON reply a line on stdout (`worker_main`); its start is kept light."""

from __future__ import annotations

import json
import signal
import sys
from itertools import groupby, islice
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from ..errors import RemoteError
from ..namespaces import BASE, iris
from .files import format_named
from .sorting import block_size, contains, merged
from .sources import Reader, StoreReader, open_reader
from .void import count_triples


def sort_graph(reader: Reader, key: str, prefix: str, chunk_lines: int) -> dict[str, Any]:
    """Dump one graph, set its lines with blank nodes aside (they are canonicalized with
    all the others), and sort the rest in chunks of `chunk_lines` into `<prefix>.<n>`
    files: the graph's sorted runs, merged by whoever reads them (no extra pass here)."""
    raw, blank = Path(prefix + ".raw"), Path(prefix + ".blank")
    reader.dump(key, raw)
    runs: list[str] = []
    lines = blanks = 0
    all_blank = key.startswith("_:")  # a graph named by a blank node: every quad has one
    any_blank = all_blank or contains(raw, b"_:")  # most graphs have none: no line test
    unique = isinstance(reader, StoreReader)  # a store holds each quad once
    with open(raw, "rb") as fh, open(blank, "wb") as aside:
        while chunk := list(islice(fh, chunk_lines)):
            lines += len(chunk)
            # b"_:" also matches inside a literal: such a line takes the (correct) slow path.
            if all_blank:
                marked = chunk
            elif any_blank:
                marked = [line for line in chunk if b"_:" in line]
            else:
                marked = []
            if marked:
                aside.writelines(marked)
                blanks += len(marked)
                if len(marked) == len(chunk):
                    continue
                chunk = [line for line in chunk if b"_:" not in line]
            chunk.sort()
            runs.append(f"{prefix}.{len(runs)}.nt")
            with open(runs[-1], "wb") as out:
                out.writelines(chunk if unique else (line for line, _ in groupby(chunk)))
    raw.unlink()
    if not blanks:
        blank.unlink()
    return {"lines": lines, "runs": runs, "blank": str(blank) if blanks else None}


def write_quads(graphs: list[tuple[str, list[str]]], out: str, block_bytes: int) -> list[int]:
    """cica-kg.nq: each graph's sorted runs merged, in graph order, each line given its
    graph; the number of quads of each graph."""
    counts = []
    with open(out, "wb") as fh:
        for key, paths in graphs:
            tail = b" " + key.encode() + b" .\n"
            count = 0
            runs = [Path(p) for p in paths]
            for block in merged(runs, runs[0].parent, block_bytes, delete=False):
                text = b"".join(block)
                # b" .\n" ends every line and only there (N-Triples escapes newlines in
                # literals), so one C replace gives each line its graph.
                fh.write(text.replace(b" .\n", tail) if key else text)
                count += len(block)
            counts.append(count)
    return counts


def write_triples(runs: list[str], out: str, work: str, chunk_lines: int) -> int:
    """cica-kg.nt: the union of every graph's sorted runs, each triple once."""
    paths = [Path(p) for p in runs]
    count = 0
    with open(out, "wb") as fh:
        for block in merged(paths, Path(work), block_size(chunk_lines), delete=False):
            fh.write(b"".join(block))
            count += len(block)
    return count


def serialize(source: str, fmt_name: str, out: str, base: str = BASE) -> None:
    """Stream a sorted N-Triples/N-Quads file into another format, with the prefixes of a
    graph under `base`. `lenient` skips IRI
    validation (2x faster parsing): the input is our own output of validated terms. Quads
    of the default graph go to the graph formats as they are (no per-quad Python)."""
    fmt = format_named(fmt_name)
    assert fmt.rdf is not None
    source_format = ox.RdfFormat.N_QUADS if source.endswith(".nq") else ox.RdfFormat.N_TRIPLES
    parsed = ox.parse(path=source, format=source_format, lenient=True)
    ox.serialize(parsed, output=out, format=fmt.rdf, prefixes=iris(base).prefixes)


def run_job(job: dict[str, Any], cache: dict[str, Any]) -> Any:
    """Run one job (a JSON object: "op" and its arguments); `cache` keeps the open readers."""
    op = job["op"]
    if op == "graph":
        reader = open_reader(job["source"], cache)
        return sort_graph(reader, job["graph"], job["prefix"], job["chunk_lines"])
    cache.clear()  # the graphs are read: let the store's caches go before the next steps
    if op == "quads":
        return write_quads(job["graphs"], job["out"], job["block_bytes"])
    if op == "triples":
        return write_triples(job["runs"], job["out"], job["work"], job["chunk_lines"])
    if op == "count":
        return count_triples(job["source"], job["work"], job["chunk_lines"], job["base"])
    if op == "serialize":
        serialize(job["source"], job["format"], job["out"], job["base"])
        return None
    raise ValueError(f"unknown export job {op!r}")


def worker_main() -> None:
    """A worker process: one JSON job a line on stdin, one JSON reply a line on stdout,
    until stdin closes."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the parent, which stops us
    cache: dict[str, Any] = {}
    for line in sys.stdin:
        reply: dict[str, Any]
        try:
            reply = {"ok": run_job(json.loads(line), cache)}
        except RemoteError as exc:  # RemoteTimeout too: the parent raises it again by name
            reply = {"error": exc.message, "kind": type(exc).__name__}
        except OSError as exc:
            reply = {"error": str(exc), "kind": "os"}
        except Exception as exc:
            reply = {"error": f"{type(exc).__name__}: {exc}", "kind": "other"}
        sys.stdout.write(json.dumps(reply) + "\n")
        sys.stdout.flush()
