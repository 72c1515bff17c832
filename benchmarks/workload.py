"""The three request mixes, and how each is sent to each target.

A request is abstract (a canned query with parameters, or a query text); a target turns it
into HTTP:

    cica-kg/queries  GET /queries/<name>.json?date=…     (canned route, typed parameters)
    cica-kg/sparql   GET /sparql?query=<text>             (parameters substituted in text)
    oxigraph         GET /query?query=<text>              (oxigraph serve-read-only)
    rdflib           GET /sparql?query=<text>             (rdflib-endpoint)
    virtuoso         GET /sparql?query=<text>             (Virtuoso 7, raw)
    cica-kg-virtuoso/queries  the canned route of `cica-kg serve --engine <Virtuoso>`

Parameters are written into the text with cica_kg.query.lexer.substitute (what the library
does for remote engines); prefixes the library pre-declares are prepended when a query does
not declare them (the canned queries declare theirs, so nothing is added for them).

Mixes:
  canned    members / observers / chair with a random date per request, state-profile
            with a random state (the canned queries that take parameters)
  heavy     the parameterless canned analytical queries plus whole-graph aggregations,
            each request made unique by a comment so that no cache answers it
  repeated  a fixed set of 8 canned requests sent again and again; clients keep the ETag
            of each URL and send If-None-Match (cica-kg answers 304; the peers have no
            ETags and answer in full)."""

from __future__ import annotations

import datetime as dt
import random
import re
import urllib.parse
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox

from cica_kg import canned
from cica_kg.namespaces import PREFIXES, iris
from cica_kg.query.lexer import substitute

XSD_DATE = "http://www.w3.org/2001/XMLSchema#date"
ACCEPT = "application/sparql-results+json"

HEAVY_QUERIES: dict[str, str] = {
    "roles-by-organisation-count": """
SELECT ?role (COUNT(?m) AS ?memberships) (COUNT(DISTINCT ?org) AS ?organisations)
WHERE { ?m a cica:Membership ; org:role ?role ; org:organization ?org }
GROUP BY ?role ORDER BY DESC(?memberships)""",
    "top-organisations-current-members": """
SELECT ?org ?label (COUNT(DISTINCT ?member) AS ?members)
WHERE {
  ?m org:role cica:memberRole ; org:organization ?org ; org:member ?member .
  FILTER NOT EXISTS { ?m schema:endDate ?end }
  ?org rdfs:label ?label .
}
GROUP BY ?org ?label ORDER BY DESC(?members) ?org LIMIT 20""",
    "top-sources": """
SELECT ?source ?title (COUNT(?fact) AS ?facts)
WHERE { ?fact dcterms:source ?source . ?source dcterms:title ?title }
GROUP BY ?source ?title ORDER BY DESC(?facts) ?source LIMIT 20""",
    "observer-to-member-by-year": """
SELECT ?year (COUNT(*) AS ?transitions)
WHERE {
  ?o org:role cica:observerRole ; cica:succeededBy ?m .
  ?m org:role cica:memberRole ; schema:startDate ?d .
  BIND(YEAR(?d) AS ?year)
}
GROUP BY ?year ORDER BY ?year""",
    "states-in-many-organisations-2010": """
SELECT ?state ?label (COUNT(DISTINCT ?org) AS ?organisations)
WHERE {
  ?m org:role cica:memberRole ; org:member ?state ; org:organization ?org ;
     schema:startDate ?s .
  OPTIONAL { ?m schema:endDate ?e }
  FILTER(?s <= "2010-01-01"^^xsd:date && (!BOUND(?e) || "2010-01-01"^^xsd:date < ?e))
  ?state a cica:State ; rdfs:label ?label .
}
GROUP BY ?state ?label ORDER BY DESC(?organisations) ?state LIMIT 25""",
    "mean-membership-years-by-role": """
SELECT ?role (AVG(YEAR(?e) - YEAR(?s)) AS ?years) (COUNT(*) AS ?ended)
WHERE { ?m org:role ?role ; schema:startDate ?s ; schema:endDate ?e }
GROUP BY ?role ORDER BY ?role""",
}
HEAVY_CANNED = [
    "membership-history",
    "member-count-by-year",
    "observer-to-member",
    "chairs",
    "summits",
    "cbm-catalogue",
]
CANNED_PARAM = ["members", "observers", "chair", "state-profile"]
REPEATED = [
    ("members", {"date": "2015-06-01"}),
    ("members", {"date": "2022-12-31"}),
    ("observers", {"date": "2015-06-01"}),
    ("observers", {"date": "2022-12-31"}),
    ("chair", {"date": "2016-01-01"}),
    ("chair", {"date": "2024-06-01"}),
    ("chairs", {}),
    ("summits", {}),
]


@dataclass(frozen=True)
class Request:
    label: str  # query name, for per-query statistics
    canned: str | None  # canned query name
    params: tuple[tuple[str, str], ...]  # canned parameters (raw strings)
    text: str  # the query text with parameters substituted (for /sparql targets)


_NOISE = re.compile(r'<[^<>"{}|^`\\\s]*>|"(?:[^"\\\n]|\\.)*"|\'(?:[^\'\\\n]|\\.)*\'|#[^\n]*')
_PNAME = re.compile(r"(?<![\w?$:.-])([A-Za-z][\w.-]*)?:(?=[\w(])")


def declared_prefixes(text: str) -> set[str]:
    return set(re.findall(r"(?i)\bPREFIX\s+([A-Za-z][\w.-]*)?:", _NOISE.sub(" ", text)))


def with_needed_prefixes(text: str) -> str:
    """Prepend PREFIX lines for pre-declared prefixes the text uses but does not declare
    (IRIs, strings and comments are blanked out first)."""
    declared = declared_prefixes(text)
    used = set(_PNAME.findall(_NOISE.sub(" ", text)))
    missing = sorted((used - declared) & set(PREFIXES))
    head = "".join(f"PREFIX {p}: <{PREFIXES[p]}>\n" for p in missing)
    return head + text


def term_text(p: canned.Param, value: str) -> str:
    if p.type == "date":
        return str(ox.Literal(value, datatype=ox.NamedNode(XSD_DATE)))
    if p.type == "state":
        return str(ox.NamedNode(f"{iris().id}state/{value}"))
    raise ValueError(p.type)


class Workload:
    def __init__(self, queries_dir: Path, states: list[str], seed: int = 7):
        self.catalogue = canned.load_catalogue(queries_dir)
        self.states = sorted(states)
        self.rng = random.Random(seed)
        self.seq = 0

    def canned_request(self, name: str, params: dict[str, str], nonce: bool = False) -> Request:
        q = self.catalogue[name]
        bindings = {}
        for p in q.params:
            if p.name in params:
                bindings[p.name] = term_text(p, params[p.name])
        text = with_needed_prefixes(substitute(q.text, bindings))
        if nonce:
            self.seq += 1
            text = f"# request {self.seq}\n" + text
        return Request(name, name, tuple(sorted(params.items())), text)

    def random_date(self) -> str:
        lo = dt.date(1999, 1, 1)
        return (lo + dt.timedelta(days=self.rng.randrange(27 * 365))).isoformat()

    def next_canned(self) -> Request:
        name = self.rng.choice(CANNED_PARAM)
        if name == "state-profile":
            return self.canned_request(name, {"state": self.rng.choice(self.states)})
        return self.canned_request(name, {"date": self.random_date()})

    def next_heavy(self) -> Request:
        names = HEAVY_CANNED + list(HEAVY_QUERIES)
        name = self.rng.choice(names)
        if name in HEAVY_QUERIES:
            self.seq += 1
            text = f"# request {self.seq}\n" + with_needed_prefixes(HEAVY_QUERIES[name])
            return Request(name, None, (), text)
        return self.canned_request(name, {}, nonce=True)

    def repeated(self) -> list[Request]:
        return [self.canned_request(n, p) for n, p in REPEATED]

    def heavy_all(self) -> list[Request]:
        out = [self.canned_request(n, {}) for n in HEAVY_CANNED]
        out += [Request(n, None, (), with_needed_prefixes(t)) for n, t in HEAVY_QUERIES.items()]
        return out


def http_target(target: str, query_path: str, req: Request) -> tuple[str, dict[str, str]]:
    """(path with query string, headers) for one request on one target."""
    if target.endswith("/queries"):  # cica-kg/queries, cica-kg-virtuoso/queries
        if req.canned is None:
            raise ValueError("not a canned request")
        qs = urllib.parse.urlencode(req.params)
        return f"/queries/{req.canned}.json" + (f"?{qs}" if qs else ""), {}
    qs = urllib.parse.urlencode({"query": req.text})
    return f"{query_path}?{qs}", {"Accept": ACCEPT}
