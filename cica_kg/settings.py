"""One settings object: every field has a default and a help text, and can be overridden by a
`CICA_KG_<NAME>` environment variable or (for the commands that take it) a CLI flag."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from . import namespaces, resources
from .errors import SettingsError

SHACL_ENGINES = ("auto", "pyshacl", "sparql")
LOG_FORMATS = ("plain", "json")


def _default_store() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "cica-kg" / "store"


def _setting(
    default: Any = dataclasses.MISSING,
    *,
    help: str,
    factory: Any = None,
    shown: str = "",
    choices: tuple[str, ...] = (),
) -> Any:
    """A field with its help text; `shown` is how the docs write a computed default;
    `choices`, when given, are the only values accepted."""
    metadata = {"help": help, "shown": shown, "choices": choices}
    if factory is not None:
        return field(default_factory=factory, metadata=metadata)
    return field(default=default, metadata=metadata)


@dataclass(frozen=True)
class Settings:
    store: Path = _setting(
        factory=_default_store,
        shown="$XDG_DATA_HOME/cica-kg/store (~/.local/share/cica-kg/store)",
        help="Directory of the published store (builds/ and the `current` link live inside).",
    )
    data_dir: Path = _setting(
        factory=resources.data_dir,
        shown="the bundled data/",
        help="Directory of the data Turtle files (data/*.ttl).",
    )
    ontology_dir: Path = _setting(
        factory=resources.ontology_dir,
        shown="the bundled ontology/",
        help="Directory of the ontology and SHACL shapes (ontology/*.ttl).",
    )
    queries_dir: Path = _setting(
        factory=resources.queries_dir,
        shown="the bundled queries/",
        help="Directory of the canned queries (queries/*.rq) and checks (queries/checks/).",
    )
    host: str = _setting("127.0.0.1", help="Address the HTTP server listens on.")
    port: int = _setting(8000, help="Port the HTTP server listens on.")
    workers: int = _setting(
        2, help="Web worker processes (each runs its own pool of query processes)."
    )
    threads: int = _setting(8, help="Request threads per web worker.")
    header_timeout: float = _setting(
        10.0, help="Seconds a client has to send a request's line and headers (HTTP 408 beyond)."
    )
    body_timeout: float = _setting(
        30.0, help="Seconds a client has to send a request's body (HTTP 408 beyond)."
    )
    max_connections_per_client: int = _setting(
        32, help="Connections one client address may hold open per web worker (429 beyond)."
    )
    client_queries: int = _setting(
        4, help="Requests one client may have running at once (HTTP 429 beyond; at most 32)."
    )
    client_query_seconds: float = _setting(
        60.0,
        help="Seconds of request time one client may use per minute (HTTP 429 with "
        "Retry-After beyond; 0: no budget).",
    )
    trusted_proxies: tuple[str, ...] = _setting(
        (),
        help="Proxies (addresses or networks, comma-separated) whose X-Forwarded-For names the "
        "client; none by default.",
    )
    fair_share_exempt: tuple[str, ...] = _setting(
        ("127.0.0.1", "::1"),
        help="Client addresses not held to the per-client limits (this machine's own tools).",
    )
    query_workers: int = _setting(
        2,
        help="Query processes started per web worker (more start on demand, up to `threads`); "
        "each opens the store read-only; a query over the time limit has its process killed.",
    )
    query_timeout: float = _setting(
        10.0, help="Seconds a SPARQL query may run before it is stopped (HTTP 503)."
    )
    service_timeout: float = _setting(
        5.0,
        help="Seconds a query that calls SERVICE may run in all (federated calls included).",
    )
    service_allowlist: tuple[str, ...] = _setting(
        ("https://query.wikidata.org/sparql",),
        help="SERVICE endpoints a query may call (exact IRIs, comma-separated); none else.",
    )
    max_query_length: int = _setting(
        20_000, help="Longest accepted query text, in characters (HTTP 413 beyond)."
    )
    max_request_bytes: int = _setting(
        1_000_000, help="Largest accepted request body, in bytes (HTTP 413 beyond)."
    )
    max_result_rows: int = _setting(
        10_000,
        help="Rows (or triples) returned at most; a longer result is cut and says so in the "
        "`CICA-KG-Result-Truncated` header.",
    )
    max_result_bytes: int = _setting(
        50_000_000, help="Largest serialized result, in bytes (HTTP 422 beyond)."
    )
    cache_entries: int = _setting(
        1024, help="Query results kept in each worker's in-process cache (0 disables it)."
    )
    cache_max_age: int = _setting(
        300, help="Seconds clients and proxies may reuse a response (Cache-Control max-age)."
    )
    base_iri: str = _setting(
        namespaces.BASE,
        help="Base of the graph's IRIs, ending in /: the data and shapes must be written under "
        "it (the shipped queries and checks are rebased to it); /id/… and /ontology on this "
        "server answer for them.",
    )
    public_url: str = _setting(
        "",
        help="Public URL of this server, written into the VoID of exported dumps (download "
        "URLs, SPARQL endpoint); empty: the graph's base IRI.",
    )
    engine: str = _setting(
        "",
        help="URL of a remote SPARQL 1.1 endpoint to query instead of the embedded store "
        "(empty: embedded).",
    )
    wikidata_endpoint: str = _setting(
        "https://query.wikidata.org/sparql",
        help="Wikidata Query Service endpoint: used by `cica-kg wikidata check`, and SERVICE "
        "calls to https://query.wikidata.org/sparql go there (set it to a mirror).",
    )
    wikidata_timeout: float = _setting(
        60.0, help="Seconds to wait for one Wikidata Query Service response."
    )
    wikidata_retries: int = _setting(
        4, help="Retries on HTTP 429 and 5xx from Wikidata, with backoff (Retry-After honoured)."
    )
    dumps_dir: Path | None = _setting(
        None, shown="<store>/dumps", help="Directory of the RDF dumps served at /dumps/."
    )
    shacl: str = _setting(
        "auto",
        choices=SHACL_ENGINES,
        help="SHACL validator: `pyshacl` (the reference implementation), `sparql` (the shapes "
        "compiled to SPARQL and run by Oxigraph, for millions of triples) or `auto` (pyshacl "
        "up to 200000 triples, sparql above).",
    )
    keep_builds: int = _setting(
        3, help="Complete builds kept in <store>/builds (the current one included)."
    )
    log_format: str = _setting(
        "plain",
        choices=LOG_FORMATS,
        help="Access and event logs: `plain` lines, or `json`, one object a line (time, "
        "client, method, path, status, duration, bytes, query_hash, cache_hit, limit_hit).",
    )
    metrics_allow: tuple[str, ...] = _setting(
        (),
        help="Addresses or networks (CIDR, comma-separated) that may read /metrics besides "
        "127.0.0.1 and ::1; everyone else gets 403.",
    )

    def __post_init__(self) -> None:
        # Paths given as strings (from code or tests) become Path objects.
        for f in fields(self):
            value = getattr(self, f.name)
            if "Path" in str(f.type) and isinstance(value, str):
                object.__setattr__(self, f.name, Path(value))
            choices = f.metadata["choices"]
            if choices and value not in choices:
                raise SettingsError(
                    f"CICA_KG_{f.name.upper()}={value!r}: use one of {', '.join(choices)}"
                )
        # The graph's IRIs are the base plus a path (id/…, ontology): no "/" would glue them.
        if not self.base_iri.endswith("/"):
            raise ValueError(f"CICA_KG_BASE_IRI={self.base_iri!r}: must end with /")

    def replace(self, **changes: Any) -> Settings:
        """A copy with `changes` applied (None values are ignored, as unset CLI flags)."""
        return dataclasses.replace(self, **{k: v for k, v in changes.items() if v is not None})

    @property
    def dumps_path(self) -> Path:
        return self.dumps_dir if self.dumps_dir is not None else self.store / "dumps"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Defaults, then `CICA_KG_*` variables, then `overrides` (e.g. CLI flags)."""
        environ = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for f in fields(cls):
            raw = environ.get("CICA_KG_" + f.name.upper())
            if raw is not None:
                values[f.name] = _parse(f.name, str(f.type), raw)
        return cls(**values).replace(**overrides)


def _parse(name: str, type_name: str, raw: str) -> Any:
    try:
        if type_name == "int":
            return int(raw)
        if type_name == "float":
            return float(raw)
        if type_name.startswith("tuple"):
            return tuple(part.strip() for part in raw.split(",") if part.strip())
        if "Path" in type_name:
            return Path(raw) if raw else None
        return raw
    except ValueError as exc:
        raise SettingsError(f"CICA_KG_{name.upper()}={raw!r}: {exc}") from None


def documented() -> list[tuple[str, str, str]]:
    """(environment variable, default, help) for every setting, for the docs and --help."""
    rows = []
    for f in fields(Settings):
        if f.metadata["shown"]:
            default = f.metadata["shown"]
        elif isinstance(f.default, tuple):
            default = ",".join(f.default)
        else:
            default = str(f.default)
        rows.append(("CICA_KG_" + f.name.upper(), default, f.metadata["help"]))
    return rows
