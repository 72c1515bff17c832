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
    # The base of the graph's IRIs: the `cica:` prefix the engine pre-declares is under it,
    # and relative IRIs in the query resolve against it (set from the settings by
    # policy.prepare; part of the cache key, as it changes the answer).
    base: str = BASE
    # The SELECT bounded to max_rows + 1 rows (lexer.limited_select), planned with the
    # policy check so the text is read once: None when not planned (execute plans it),
    # "" when it cannot be bounded. Derived from the fields above: not in the cache key.
    bounded_query: str | None = None
    cut_impossible: bool = False
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
                self.base,
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
