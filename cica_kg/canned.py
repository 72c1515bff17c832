"""Canned queries: `queries/<name>.rq` files with a comment header (title, description,
typed parameters, tags). Parameters become typed RDF terms bound by pyoxigraph
substitutions, never pasted into the query text. See docs/canned-queries.md."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import weakref
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from . import errors, text_table
from .errors import CatalogueError
from .namespaces import BASE, iris
from .query import Answer, Engine, Job
from .query.lexer import ABSOLUTE_IRI, inspect_query
from .sparql_files import query_text

XSD = "http://www.w3.org/2001/XMLSchema#"
PARAM_TYPES = {"date", "year", "state", "iri", "string"}
STATE_CODES = query_text(__package__ or "cica_kg", "state-codes.rq")


@dataclass(frozen=True)
class Param:
    name: str
    type: str
    default: str  # "today", "required", "optional" or a value
    example: str
    help: str

    @property
    def required(self) -> bool:
        return self.default == "required"

    def expected(self) -> str:
        return {
            "date": "a date YYYY-MM-DD",
            "year": "a year YYYY",
            "state": "the ISO 3166-1 alpha-3 code of a state in the graph, e.g. KAZ",
            "iri": "an absolute IRI",
            "string": "text",
        }[self.type]


@dataclass(frozen=True)
class CannedQuery:
    name: str
    title: str
    description: str
    params: tuple[Param, ...]
    tags: tuple[str, ...]
    text: str  # under `base`
    form: str  # SELECT, ASK, CONSTRUCT, DESCRIBE
    base: str = BASE  # the base of the graph's IRIs the text is written for

    @property
    def iri(self) -> str:
        """The query as a SPARQL example: <base>query/<name>."""
        return iris(self.base).query + self.name

    def at(self, base: str) -> CannedQuery:
        """This query for a graph under `base`: its text rebased."""
        if base == self.base:
            return self
        return dataclasses.replace(self, text=iris(base).rebase(self.text, self.base), base=base)

    @property
    def federated(self) -> bool:
        return bool(inspect_query(self.text).services)

    def param(self, name: str) -> Param | None:
        return next((p for p in self.params if p.name == name), None)


def parse(
    path: Path, strict: bool = True, text: str | None = None, base: str = BASE
) -> CannedQuery:
    """A canned query from its file (or its `text`), written under the canonical base and
    rebased to `base`; CatalogueError if its header is malformed. With strict=False (ad-hoc
    files given to the CLI) title and description may be missing."""
    text = path.read_text(encoding="utf-8") if text is None else text
    text = iris(base).rebase(text)
    fields: dict[str, list[str]] = {"title": [], "description": [], "param": [], "tags": []}
    last: str | None = None
    for line in text.splitlines():
        if not line.startswith("#"):
            break
        m = re.match(r"#\s?(title|description|param|tags):\s*(.*)$", line)
        if m:
            last = m.group(1)
            fields[last].append(m.group(2).strip())
        elif re.match(r"#\s{2,}\S", line) and last == "description":
            fields["description"][-1] += " " + line[1:].strip()
    if not strict:
        fields["title"] = fields["title"][:1] or [path.stem]
        fields["description"] = fields["description"][:1] or [""]
    if len(fields["title"]) != 1 or not fields["title"][0]:
        raise CatalogueError(f"{path}: needs exactly one '# title:' line")
    if len(fields["description"]) != 1:
        raise CatalogueError(f"{path}: needs exactly one '# description:' line")
    params = []
    for raw in fields["param"]:
        parts = [p.strip() for p in raw.split("|")]
        if len(parts) != 5 or parts[1] not in PARAM_TYPES:
            raise CatalogueError(
                f"{path}: param must be 'NAME | TYPE | DEFAULT | EXAMPLE | HELP' with TYPE one "
                f"of {', '.join(sorted(PARAM_TYPES))}: {raw!r}"
            )
        params.append(Param(*parts))
    tags = tuple(t.strip() for t in ",".join(fields["tags"]).split(",") if t.strip())
    info = inspect_query(text)
    if info.form is None or info.is_update:
        raise CatalogueError(f"{path}: not a SPARQL query")
    return CannedQuery(
        name=path.stem,
        title=fields["title"][0],
        description=fields["description"][0],
        params=tuple(params),
        tags=tags,
        text=text,
        form=info.form,
        base=base,
    )


def catalogue_files(queries_dir: Path) -> list[Path]:
    return sorted(queries_dir.glob("*.rq"))


def load_catalogue(
    queries_dir: Path, snapshot: dict[Path, bytes] | None = None, base: str = BASE
) -> dict[str, CannedQuery]:
    """Every canned query of `queries_dir` (not its checks/), by name, rebased to `base`;
    from `snapshot` (path -> bytes) when given."""
    queries = []
    for p in catalogue_files(queries_dir):
        try:
            text = snapshot[p].decode("utf-8") if snapshot is not None else None
        except UnicodeDecodeError as exc:
            raise CatalogueError(f"{p}: not UTF-8 ({exc.reason})") from None
        queries.append(parse(p, text=text, base=base))
    return {q.name: q for q in queries}


_Signature = tuple[tuple[str, int, int], ...]  # (name, mtime, size) of every file
_CACHE: dict[tuple[Path, str], tuple[_Signature, dict[str, CannedQuery]]] = {}


def cached_catalogue(queries_dir: Path, base: str = BASE) -> dict[str, CannedQuery]:
    """load_catalogue(), re-read only when a file is added, removed or changed (one stat per
    file instead of reading and lexing every query on each request)."""
    signature = tuple(
        (p.name, st.st_mtime_ns, st.st_size)
        for p in catalogue_files(queries_dir)
        for st in [p.stat()]
    )
    hit = _CACHE.get((queries_dir, base))
    if hit is None or hit[0] != signature:
        hit = (signature, load_catalogue(queries_dir, base=base))
        _CACHE[queries_dir, base] = hit
    return hit[1]


def bind(
    query: CannedQuery, raw: dict[str, str], known_states: Collection[str] | None = None
) -> dict[str, ox.NamedNode | ox.Literal]:
    """Typed RDF terms for the given parameter values (defaults applied).

    Raises errors.BadRequest naming the parameter and the expected form; `known_states`
    (ISO alpha-3 codes) lets `state` parameters be checked against the graph. States are
    IRIs under the query's base."""
    unknown = sorted(set(raw) - {p.name for p in query.params})
    if unknown:
        names = ", ".join(p.name for p in query.params) or "none"
        raise errors.BadRequest(
            f"unknown parameter {unknown[0]!r} for query {query.name!r}; parameters: {names}"
        )
    bound: dict[str, ox.NamedNode | ox.Literal] = {}
    for p in query.params:
        value = raw.get(p.name, "").strip()
        if not value:
            if p.default == "required":
                raise errors.BadRequest(
                    f"parameter {p.name!r} is required: give {p.expected()} (e.g. {p.example})"
                )
            if p.default == "optional":
                continue
            value = dt.date.today().isoformat() if p.default == "today" else p.default
        bound[p.name] = _term(p, value, known_states, query.base)
    return bound


def _term(
    p: Param, value: str, known_states: Collection[str] | None, base: str
) -> ox.NamedNode | ox.Literal:
    def bad() -> errors.BadRequest:
        return errors.BadRequest(
            f"parameter {p.name!r} must be {p.expected()} (e.g. {p.example}); got {value!r}"
        )

    if p.type == "date":
        try:
            return ox.Literal(
                dt.date.fromisoformat(value).isoformat(), datatype=ox.NamedNode(XSD + "date")
            )
        except ValueError:
            raise bad() from None
    if p.type == "year":
        if not re.fullmatch(r"-?\d{1,4}", value):
            raise bad()
        return ox.Literal(str(int(value)), datatype=ox.NamedNode(XSD + "integer"))
    if p.type == "state":
        code = value.upper()
        if not re.fullmatch(r"[A-Z]{3}", code) or (
            known_states is not None and code not in known_states
        ):
            raise bad()
        return ox.NamedNode(f"{iris(base).id}state/{code}")
    if p.type == "iri":
        if not ABSOLUTE_IRI.fullmatch(value):
            raise bad()
        return ox.NamedNode(value)
    return ox.Literal(value)


def job(engine: Engine, query: CannedQuery, raw: dict[str, str], format_name: str) -> Job:
    """The job of a canned query with the given parameter values (checked and typed), for
    the engine's base (a query loaded for another base is rebased)."""
    query = query.at(engine.settings.base_iri)
    known = None
    if any(p.type == "state" for p in query.params):
        known = state_codes(engine)
    bound = bind(query, raw, known)
    return Job(
        query=query.text,
        format_name=format_name,
        substitutions=tuple(sorted(bound.items())),
        max_rows=engine.settings.max_result_rows,
        max_bytes=engine.settings.max_result_bytes,
        label=f"the canned query {query.name}",
    )


def run(engine: Engine, query: CannedQuery, raw: dict[str, str], format_name: str) -> Answer:
    """Run a canned query with the given parameter values (checked and typed)."""
    return engine.run(job(engine, query, raw, format_name))


# Per engine, the state codes of the build it last read them from.
_STATE_CODES: weakref.WeakKeyDictionary[Engine, tuple[str, frozenset[str]]] = (
    weakref.WeakKeyDictionary()
)


def state_codes(engine: Engine) -> frozenset[str]:
    """The ISO codes of the states in the engine's current build (kept per build)."""
    build_id = engine.build().build_id
    cached = _STATE_CODES.get(engine)
    if cached is None or cached[0] != build_id:
        query = iris(engine.settings.base_iri).rebase(STATE_CODES)
        codes = frozenset(row["code"]["value"] for row in engine.select(query))
        cached = _STATE_CODES[engine] = (build_id, codes)
    return cached[1]


def examples_rdf(catalogue: dict[str, CannedQuery], endpoint: str | None = None) -> list[ox.Triple]:
    """The catalogue as SPARQL examples (the SIB sparql-examples convention): each query an
    sh:SPARQLExecutable with its text, label, comment, keywords and target endpoint (by
    default <base>sparql, under each query's base)."""
    rdf_type = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
    sh = "http://www.w3.org/ns/shacl#"
    rdfs = "http://www.w3.org/2000/01/rdf-schema#"
    schema = "https://schema.org/"
    prop = {
        "SELECT": "select",
        "ASK": "ask",
        "CONSTRUCT": "construct",
        "DESCRIBE": "describe",
    }
    kind = {
        "SELECT": "SPARQLSelectExecutable",
        "ASK": "SPARQLAskExecutable",
        "CONSTRUCT": "SPARQLConstructExecutable",
        "DESCRIBE": "SPARQLDescribeExecutable",
    }
    triples = []
    for q in catalogue.values():
        node = ox.NamedNode(q.iri)
        triples += [
            ox.Triple(node, rdf_type, ox.NamedNode(sh + "SPARQLExecutable")),
            ox.Triple(node, rdf_type, ox.NamedNode(sh + kind[q.form])),
            ox.Triple(node, ox.NamedNode(rdfs + "label"), ox.Literal(q.title, language="en")),
            ox.Triple(
                node, ox.NamedNode(rdfs + "comment"), ox.Literal(q.description, language="en")
            ),
            ox.Triple(node, ox.NamedNode(sh + prop[q.form]), ox.Literal(q.text)),
            ox.Triple(
                node, ox.NamedNode(schema + "target"), ox.NamedNode(endpoint or iris(q.base).sparql)
            ),
            ox.Triple(node, ox.NamedNode(schema + "identifier"), ox.Literal(q.name)),
        ]
        triples += [
            ox.Triple(node, ox.NamedNode(schema + "keywords"), ox.Literal(tag)) for tag in q.tags
        ]
    return triples


def compact(iri: str, prefixes: dict[str, str]) -> str:
    """prefix:local for an IRI in a known namespace (for tables meant for people)."""
    for prefix, ns in prefixes.items():
        if iri.startswith(ns) and re.fullmatch(r"[\w.\-/]*", iri[len(ns) :]):
            return f"{prefix}:{iri[len(ns) :]}"
    return iri


def table(doc: dict[str, Any], prefixes: dict[str, str], width: int = 60) -> str:
    """SPARQL JSON results as an aligned text table."""
    if "boolean" in doc:
        return "true" if doc["boolean"] else "false"
    variables: list[str] = list(doc["head"]["vars"])
    rows = []
    for binding in doc["results"]["bindings"]:
        row = []
        for v in variables:
            term = binding.get(v)
            if term is None:
                row.append("")
            elif term["type"] == "uri":
                row.append(compact(term["value"], prefixes))
            else:
                row.append(term["value"])
        rows.append([c if len(c) <= width else c[: width - 1] + "…" for c in row])
    count = f"({len(rows)} row{'s' if len(rows) != 1 else ''})"
    return text_table.render(variables, rows) + "\n" + count
