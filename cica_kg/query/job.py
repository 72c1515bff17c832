"""What the engine is asked to run (`Job`) and what it answers (`Answer`): the types the web
layer, the CLI and the query processes share."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

from ..namespaces import BASE

TRUNCATED_HEADER = "CICA-KG-Result-Truncated"


@dataclass(frozen=True)
class Job:
    """A query to run, with everything the child process needs."""

    query: str
    format_name: str
    default_graphs: tuple[str, ...] = ()
    named_graphs: tuple[str, ...] = ()
    substitutions: tuple[tuple[str, Any], ...] = ()  # (variable name, pyoxigraph term)
    union_default_graph: bool = True
    max_rows: int = 10_000
    max_bytes: int = 50_000_000
    # The base of the graph's IRIs: the `cica:` prefix the engine pre-declares is under it
    # (set from the settings by policy.prepare; one engine has one base, so it is no part of
    # the cache key).
    base: str = BASE
    # What error messages call the query ("the canned query chairs"); no part of the key.
    label: str = ""

    def cache_key(self) -> str:
        raw = repr(
            (
                self.query,
                self.format_name,
                self.default_graphs,
                self.named_graphs,
                tuple((k, str(v)) for k, v in self.substitutions),
                self.union_default_graph,
                self.max_rows,
            )
        )
        return hashlib.sha256(raw.encode()).hexdigest()[:24]


@dataclass(frozen=True)
class Answer:
    body: bytes
    media_type: str  # Content-Type value
    form: str  # SELECT, ASK, CONSTRUCT, DESCRIBE
    rows: int
    truncated: bool
    build_id: str = ""
    etag: str = ""
    cached: bool = False
    headers: dict[str, str] = field(default_factory=dict)
