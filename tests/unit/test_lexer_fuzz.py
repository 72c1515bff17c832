"""The SERVICE lexer held to Oxigraph's own parser, with no network beyond loopback.

Thousands of generated queries (comments, \\u escapes, prefixed names written against
keywords, odd PREFIX spacing, BASE and relative IRIs, SERVICE SILENT, variables, strings and
comments that say SERVICE, nested groups, `<` as an operator, mixed-case keywords) run on an
in-memory pyoxigraph store whose SERVICE targets all point at two loopback recorders. Every
request Oxigraph actually sends must be to a target the lexer saw, unless the lexer refused
the query (unreadable, an update, or a target it could not resolve): what it lets through, it
reads exactly as Oxigraph does."""

from __future__ import annotations

import json
import random
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urldefrag

import pyoxigraph as ox
import pytest

from cica_kg.query.lexer import QueryInfo, inspect_query

ONE_EMPTY_ROW = json.dumps({"head": {"vars": []}, "results": {"bindings": [{}]}}).encode()
EXAMPLES = 3000


@dataclass
class Recorders:
    """Two loopback SPARQL endpoints (the target and a decoy) that record the URL of every
    request and answer one empty solution, so every SERVICE in a join is reached."""

    urls: list[str] = field(default_factory=list)
    seen: list[str] = field(default_factory=list)
    servers: list[ThreadingHTTPServer] = field(default_factory=list)

    def start(self, count: int = 2) -> None:
        seen = self.seen

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                seen.append(f"http://{self.headers['Host']}{self.path}")
                self.send_response(200)
                self.send_header("Content-Type", "application/sparql-results+json")
                self.send_header("Content-Length", str(len(ONE_EMPTY_ROW)))
                self.end_headers()
                self.wfile.write(ONE_EMPTY_ROW)

            do_GET = do_POST

            def log_message(self, *args: object) -> None:
                pass

        for _ in range(count):
            server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
            server.daemon_threads = True
            threading.Thread(target=server.serve_forever, daemon=True).start()
            self.servers.append(server)
            self.urls.append(f"http://127.0.0.1:{server.server_address[1]}")

    def stop(self) -> None:
        for server in self.servers:
            server.shutdown()
            server.server_close()


@pytest.fixture(scope="module")
def recorders() -> Iterator[Recorders]:
    rec = Recorders()
    rec.start()
    yield rec
    rec.stop()


@pytest.fixture(scope="module")
def store() -> ox.Store:
    """One triple in the default graph and one in a named graph: triple patterns and GRAPH
    ?g match, so the SERVICE calls joined with them are made."""
    s = ox.Store()
    e = "http://example.org/"
    s.add(ox.Quad(ox.NamedNode(e + "s"), ox.NamedNode(e + "p"), ox.NamedNode(e + "o")))
    s.add(ox.Quad(ox.NamedNode(e + "s"), ox.NamedNode(e + "p"), ox.Literal("1"), ox.NamedNode(e)))
    return s


def run(store: ox.Store, query: str, prefixes: dict[str, str]) -> None:
    try:
        result = store.query(query, prefixes=prefixes, use_default_graph_as_union=True)
        if isinstance(result, ox.QueryBoolean):
            bool(result)
        else:
            list(result)
    except (SyntaxError, OSError, RuntimeError, ValueError):
        pass  # a query Oxigraph refuses calls nothing, or what it called is recorded


def refused(info: QueryInfo) -> bool:
    """What the engine's policy refuses before anything runs (policy.check)."""
    return bool(info.unreadable) or info.is_update or any(not c.resolved for c in info.services)


# -- the generator --------------------------------------------------------------------
# A seeded random.Random, not hypothesis strategies: the same queries on every run, and
# thousands of them in seconds (hypothesis spent most of its time drawing).
# Hosts are placeholders: {T} is the target recorder's URL, {D} the decoy's; {t} and {d}
# their host:port.
SEPARATORS = [" ", " ", " ", "", "\n", "\t", "#c\n", " #SERVICE <{D}/comment>\n", "\r\n"]
SERVICE_WORDS = ["SERVICE", "SERVICE", "service", "Service", "sErViCe"]
SILENT_WORDS = ["", "", "SILENT", "silent", "Silent"]
NAMES = ["p", "p", "q", "", "SERVICE", "SILENT", "PREFIX", "service", "SILENTp", "SERVICEp",
         "true", "e5", "p.q", "wd", "cica", "PREFIXp", "base", "from", "a"]  # fmt: skip
PATHS = ["a", "b/", "x/y", "sparql", "a/../b", "./c", "?q=1", "#f", "%41", "SERVICE", "x/y?z#w", ""]
RELATIVE = ["a", "../a", "./b/", "", "?q", "#f", "/root", "../../up", "x/./y/../z", ".", "..",
            "c;d", "//{host}/net"]  # fmt: skip
LOCALS = ["a", "sparql", "", "SILENT", "SELECT", "a\\/b", "x.y", "%41"]
DISTRACTIONS = [
    "?s ?p ?o .",
    'BIND("SERVICE <{D}/in-string>" AS ?b1)',
    "BIND('''SERVICE <{D}/long> ' '' ''' AS ?b2)",
    'BIND("\\u0022 SERVICE <{D}/escaped-quote>" AS ?b3)',
    "FILTER(?o<?s)",
    "FILTER(?o<=?s)",
    "FILTER(?o < 'SERVICE <{D}/f>')",
    'FILTER(regex(str(?o), "SERVICE"))',
    "FILTER(?o!=<{T}/not-a-service>)",
    "?s <{D}/p#x> ?o .",
    "?s ?p (1 <{D}/#in-list>) .",
    "VALUES ?v { <{D}/v> UNDEF }",
    # `<` as an IRI or as "less than", by context; `#` and quotes inside IRIs.
    "FILTER(?o IN (<{D}/a#x>, <{D}/b>))",
    "FILTER(?o<?s&&?s>?o)",
    "BIND(IF(?o<?s, 1, 0) AS ?c)",
    "?s <{D}/p>/<{D}/q#x>* ?o .",
    "?s a (<{D}/#c> ?o) .",
    "[ <{D}/p#x> ?o ] .",
    "{ SELECT ?s (?o<?s AS ?z) WHERE { ?s ?p ?o } ORDER BY (?o<?s) }",
    "FILTER(?o = <<( <{D}/s> <{D}/p> <{D}/o#x> )>>)",
    "?s ?p <{D}/it's> .",
    "FILTER(?o<<{D}/x>)",
]
JAMMED_OBJECTS = ["?s ?p true", "?s ?p false", "?s ?p 1e5", "?s ?p 1", "?s ?p ?o.", "?s ?p ()"]
WRAPS = ["{{ {} }}", "OPTIONAL {{ {} }}", "{{ }} UNION {{ {} }}", "FILTER EXISTS {{ {} }}",
         "GRAPH ?g {{ {} }}", "{{ SELECT * WHERE {{ {} }} }}", "MINUS {{ {} }}"]  # fmt: skip
FORMS = ["SELECT * WHERE", "select *", "ASK", "SELECT (?o<?s AS ?lt) WHERE",
         "CONSTRUCT { ?s ?p ?o } WHERE", "SELECT ?s (COUNT(*) AS ?n) WHERE"]  # fmt: skip


def escaped(rng: random.Random, text: str) -> str:
    """Some letters and digits written as \\u escapes (not inside the {T} / {D} hosts)."""
    return "".join(
        part
        if part in ("{T}", "{D}", "{t}", "{d}")
        else "".join(f"\\u{ord(c):04X}" if c.isalnum() and rng.random() < 0.3 else c for c in part)
        for part in re.split(r"(\{[TDtd]\})", text)
    )


def iri_ref(rng: random.Random) -> str:
    """What goes between < and >: absolute on a recorder, or relative."""
    if rng.random() < 0.5:
        text = rng.choice(["{T}/", "{D}/", "{T}/x/", "{T}/x/y"]) + rng.choice(PATHS)
    else:
        text = rng.choice(RELATIVE).replace("{host}", rng.choice(["{t}", "{d}"]))
    return escaped(rng, text) if rng.random() < 0.2 else text


def target(rng: random.Random, declared: list[str]) -> str:
    kind = rng.choice(["iri", "iri", "pname", "pname", "var"])
    if kind == "iri":
        return "<" + iri_ref(rng) + ">"
    if kind == "var":
        return rng.choice(["?x", "$x", "?service"])
    name = rng.choice(declared) if declared and rng.random() < 0.8 else rng.choice(NAMES)
    return name + ":" + rng.choice(LOCALS)


def service_call(rng: random.Random, depth: int, declared: list[str]) -> str:
    inner = group(rng, depth + 1, declared) if depth < 2 and rng.random() < 0.25 else ""
    silent = rng.choice(SILENT_WORDS)
    sep = rng.choice
    return (
        rng.choice(SERVICE_WORDS)
        + (sep(SEPARATORS) + silent if silent else "")
        + sep(SEPARATORS)
        + target(rng, declared)
        + sep(SEPARATORS)
        + "{ "
        + inner
        + " }"
    )


def element(rng: random.Random, depth: int, declared: list[str]) -> str:
    kind = rng.randrange(10)
    if kind <= 3:
        return service_call(rng, depth, declared)
    if kind == 4:  # an object written against the SERVICE keyword
        return rng.choice(JAMMED_OBJECTS) + service_call(rng, depth, declared)
    if kind == 5 and depth < 2:
        return rng.choice(WRAPS).format(group(rng, depth + 1, declared))
    return rng.choice(DISTRACTIONS)


def group(rng: random.Random, depth: int, declared: list[str]) -> str:
    parts = (element(rng, depth, declared) for _ in range(rng.randint(1, 3)))
    return rng.choice(SEPARATORS).join(parts)


def prologue(rng: random.Random, declared: list[str]) -> str:
    """BASE and PREFIX declarations, mostly valid (an absolute BASE first, so relative IRIs
    resolve); the names declared are appended to `declared`."""
    out = []
    if rng.random() < 0.7:
        out.append(rng.choice(["BASE", "base"]) + rng.choice(SEPARATORS) + "<{T}/x/y>")
    for _ in range(rng.randint(0, 4)):
        kind = rng.choice(["base", "prefix", "prefix", "jammed"])
        iri = "<" + iri_ref(rng) + ">"
        name = rng.choice(NAMES)
        if kind == "base":
            out.append(rng.choice(["BASE", "base"]) + rng.choice(SEPARATORS) + iri)
            continue
        if kind == "prefix":
            sep = rng.choice([" ", " ", "\n", "\t", "#c\n", "#c\r"])
            out.append("PREFIX" + sep + name + ":" + rng.choice(SEPARATORS) + iri)
        else:  # PREFIXp: <…>
            out.append(rng.choice(["PREFIX", "prefix"]) + name + ":" + iri)
        declared.append(name)
    return " ".join(out)


def query(seed: int) -> str:
    rng = random.Random(seed)
    declared: list[str] = []
    head = prologue(rng, declared) + rng.choice(SEPARATORS) + rng.choice(FORMS)
    tail = " GROUP BY ?s" if "COUNT" in head else ""
    return head + " { " + group(rng, 0, declared) + " }" + tail


# -- the property ---------------------------------------------------------------------


def test_every_service_oxigraph_calls_is_seen_by_the_lexer(
    recorders: Recorders, store: ox.Store
) -> None:
    target, decoy = recorders.urls
    # Pre-declared prefixes (the engine passes the graph's) point at the recorders here.
    prefixes = {"wd": target + "/wd/", "cica": decoy + "/cica/"}
    calling = let_through = 0
    for seed in range(EXAMPLES):
        text = query(seed)
        for placeholder, value in (("{T}", target), ("{D}", decoy)):
            text = text.replace(placeholder, value).replace(placeholder.lower(), value[7:])
        recorders.seen.clear()
        run(store, text, prefixes)
        called = list(recorders.seen)
        info = inspect_query(text, prefixes)
        calling += bool(called)
        if not called or refused(info):
            continue
        let_through += 1
        seen = {urldefrag(c.target).url for c in info.services}
        missed = [url for url in called if url not in seen]
        assert not missed, (
            f"seed {seed}: Oxigraph called {missed}, the lexer saw {seen} in {text!r}"
        )
    # The generator must reach Oxigraph's SERVICE evaluation, and the lexer must let a fair
    # share of those queries through, or the property above proves nothing.
    print(f"{EXAMPLES} queries, {calling} made SERVICE calls, {let_through} let through")
    assert calling > EXAMPLES // 3, calling
    assert let_through > calling // 2, (let_through, calling)
