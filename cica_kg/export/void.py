"""The VoID statistics, counted on the sorted N-Triples dump (a worker job), and the VoID +
DCAT description of the dataset and its dumps (void.ttl)."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from itertools import compress, groupby
from operator import itemgetter
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from ..namespaces import BASE, VOCABULARIES, WD, iris
from .files import (
    GZIP_MEDIA_TYPE,
    LICENSE,
    PANEL_FILE,
    PANEL_QUERY,
    PANEL_TITLE,
    TITLES,
    VOID_FILE,
    DumpFile,
    file_format,
    panel_format,
)
from .sorting import DistinctCounter, block_size

IANA_MEDIA_TYPES = "https://www.iana.org/assignments/media-types/"
W3C_FORMATS = "http://www.w3.org/ns/formats/"
WIKIDATA_SPARQL = "https://query.wikidata.org/sparql"

SPDX = "http://spdx.org/rdf/terms#"
SD = "http://www.w3.org/ns/sparql-service-description#"


def void_prefixes(base: str = BASE) -> dict[str, str]:
    """The prefixes of void.ttl for a graph under `base`."""
    return {**iris(base).prefixes, "sd": SD, "spdx": SPDX}  # the order void.ttl has


@dataclass(frozen=True)
class VoidStats:
    """The VoID statistics, counted on the sorted statements while they are written."""

    triples: int  # distinct triples of the union graph (= lines of cica-kg.nt)
    quads: int  # quads, default graph included (= lines of cica-kg.nq)
    distinct_subjects: int
    distinct_objects: int
    classes: int  # distinct IRI classes (objects of rdf:type)
    properties: int  # distinct predicates
    class_partitions: list[tuple[str, int]]  # (class IRI, distinct instances)
    property_partitions: list[tuple[str, int]]  # (property IRI, distinct triples)
    graphs: list[tuple[str, int]]  # (named graph IRI, triples)
    wikidata_links: int  # distinct owl:sameAs triples to a Wikidata entity
    sources: list[str] = field(default_factory=list)  # every cica:Source


# ---------------------------------------------------------------------------------------
#   Statistics (a job, run by a worker process)
# ---------------------------------------------------------------------------------------

VOID_COUNTS = ("triples", "distinct_subjects", "distinct_objects", "classes", "properties",
               "wikidata_links")  # fmt: skip
RDF_TYPE = f"<{VOCABULARIES['rdf']}type>".encode()
OWL_SAME_AS = f"<{VOCABULARIES['owl']}sameAs>".encode()
WIKIDATA_OBJECT = f"<{WD}".encode()
WIKIDATA_LINK = b" " + OWL_SAME_AS + b" " + WIKIDATA_OBJECT
TRIPLE_PARTS = re.compile(rb"(\S+) (\S+) (.*)\n")  # subject, predicate, b"<o> ."


def count_triples(path: str, work: str, chunk_lines: int, base: str = BASE) -> dict[str, Any]:
    """The VoID statistics of the union graph (its IRIs under `base`), counted on cica-kg.nt
    (sorted, distinct): distinct subjects from the sorted order, distinct objects by a
    DistinctCounter, the rest in counters with one entry per class or property."""
    source_object = f"<{iris(base).cica}Source> .".encode()
    triples = subjects = wikidata_links = 0
    last_subject = b""
    predicates: Counter[bytes] = Counter()
    classes: Counter[bytes] = Counter()
    sources: list[bytes] = []
    objects = DistinctCounter(Path(work), chunk_lines)
    tail = b""
    with open(path, "rb") as fh:
        while data := fh.read(block_size(chunk_lines)):
            cut = data.rfind(b"\n") + 1  # whole lines now, the rest with the next read
            if not cut:
                tail += data
                continue
            text, tail = tail + data[:cut], data[cut:]
            # One regex pass in C over the block (1.5x faster than bytes.split per line):
            # subjects and predicates of N-Triples hold no space, the rest is b"<o> .".
            parts: list[Any] = TRIPLE_PARTS.findall(text)
            if len(parts) != text.count(b"\n"):  # never for N-Triples written by pyoxigraph
                parts = [line.split(b" ", 2) for line in text.splitlines()]
            triples += len(parts)
            runs = [s for s, _ in groupby(map(itemgetter(0), parts))]  # sorted: one run each
            subjects += len(runs) - (runs[0] == last_subject)
            last_subject = runs[-1]
            predicates.update(map(itemgetter(1), parts))
            objects.update(map(itemgetter(2), parts))
            typed = list(compress(parts, map(RDF_TYPE.__eq__, map(itemgetter(1), parts))))
            classes.update(o for _, _, o in typed if o[:1] == b"<")
            sources += [s for s, _, o in typed if o == source_object and s[:1] == b"<"]
            if WIKIDATA_LINK in text:  # rare: skip the per-line test in most blocks
                wikidata_links += sum(
                    1 for _, p, o in parts if p == OWL_SAME_AS and o.startswith(WIKIDATA_OBJECT)
                )
    if tail:
        raise ValueError(f"{path} does not end with a newline")
    iri = lambda term: term.split(b" ", 1)[0][1:-1].decode()  # noqa: E731  b"<x> ." -> x
    return {
        "triples": triples,
        "distinct_subjects": subjects,
        "distinct_objects": objects.count(),
        "classes": len(classes),
        "properties": len(predicates),
        # sorted as SPARQL's ORDER BY STR(?x) sorted them
        "class_partitions": sorted((iri(c), n) for c, n in classes.items()),
        "property_partitions": sorted((iri(p), n) for p, n in predicates.items()),
        "wikidata_links": wikidata_links,
        "sources": sorted(iri(s) for s in sources),
    }


def void_stats(counted: dict[str, Any], keys: list[str], quads: list[int]) -> VoidStats:
    """The statistics from count_triples' answer (over JSON: pairs come as lists) and the
    quads of each graph of `keys` (N-Triples form; "" the default graph)."""
    return VoidStats(
        **{key: counted[key] for key in VOID_COUNTS},
        quads=sum(quads),
        class_partitions=[(c, n) for c, n in counted["class_partitions"]],
        property_partitions=[(p, n) for p, n in counted["property_partitions"]],
        graphs=[(key[1:-1], n) for key, n in zip(keys, quads, strict=True) if key[:1] == "<"],
        sources=counted["sources"],
    )


# ---------------------------------------------------------------------------------------
#   VoID + DCAT
# ---------------------------------------------------------------------------------------


_VOCABULARIES = {**VOCABULARIES, "sd": SD, "spdx": SPDX}


def _n(prefix: str, local: str) -> ox.NamedNode:
    return ox.NamedNode(_VOCABULARIES[prefix] + local)


def _int(value: int, datatype: str = "integer") -> ox.Literal:
    return ox.Literal(str(value), datatype=_n("xsd", datatype))


def void_triples(
    build_id: str,
    built_at: str | None,
    stats: VoidStats,
    files: list[DumpFile],
    base_url: str,
    sparql_endpoint: str,
    base_iri: str = BASE,
) -> list[ox.Triple]:
    """The VoID + DCAT description of the dataset (its IRIs under `base_iri`) and its dumps
    (sorted, no blank nodes). `built_at` None (a remote engine's data: no build date known)
    states no date."""
    from ..browse.service_description import W3C_FORMAT  # it imports store: not at a worker start

    ns = iris(base_iri)
    a = _n("rdf", "type")
    ds = ox.NamedNode(ns.dataset)
    local = lambda name: ox.NamedNode(f"{ns.dataset}#{name}")  # noqa: E731
    en = lambda text: ox.Literal(text, language="en")  # noqa: E731
    t: list[ox.Triple] = [
        ox.Triple(ds, a, _n("void", "Dataset")),
        ox.Triple(ds, a, _n("dcat", "Dataset")),
        ox.Triple(ds, _n("dcterms", "title"), en("CICA-KG")),
        ox.Triple(
            ds,
            _n("dcterms", "description"),
            en(
                "The Conference on Interaction and Confidence Building Measures in Asia (CICA)"
                " as a sourced, time-aware knowledge graph."
            ),
        ),
        ox.Triple(ds, _n("dcterms", "license"), ox.NamedNode(LICENSE)),
        ox.Triple(ds, _n("dcterms", "hasVersion"), ox.Literal(build_id)),
        ox.Triple(ds, _n("owl", "versionInfo"), ox.Literal(build_id)),
        ox.Triple(ds, _n("void", "sparqlEndpoint"), ox.NamedNode(sparql_endpoint)),
        ox.Triple(ds, _n("void", "uriSpace"), ox.Literal(ns.id)),
        ox.Triple(ds, _n("void", "vocabulary"), ox.NamedNode(ns.cica)),
        ox.Triple(ds, _n("void", "triples"), _int(stats.triples)),
        ox.Triple(ds, _n("void", "distinctSubjects"), _int(stats.distinct_subjects)),
        ox.Triple(ds, _n("void", "distinctObjects"), _int(stats.distinct_objects)),
        ox.Triple(ds, _n("void", "classes"), _int(stats.classes)),
        ox.Triple(ds, _n("void", "properties"), _int(stats.properties)),
    ]
    if built_at:
        date = ox.Literal(built_at[:10], datatype=_n("xsd", "date"))
        t.append(ox.Triple(ds, _n("dcterms", "modified"), date))
    t += [ox.Triple(ds, _n("dcterms", "source"), ox.NamedNode(src)) for src in stats.sources]

    for i, (cls, entities) in enumerate(stats.class_partitions, 1):
        part = local(f"class-{i:03d}")
        t += [
            ox.Triple(ds, _n("void", "classPartition"), part),
            ox.Triple(part, _n("void", "class"), ox.NamedNode(cls)),
            ox.Triple(part, _n("void", "entities"), _int(entities)),
        ]
    for i, (prop, triples) in enumerate(stats.property_partitions, 1):
        part = local(f"property-{i:03d}")
        t += [
            ox.Triple(ds, _n("void", "propertyPartition"), part),
            ox.Triple(part, _n("void", "property"), ox.NamedNode(prop)),
            ox.Triple(part, _n("void", "triples"), _int(triples)),
        ]
    for i, (graph, triples) in enumerate(stats.graphs, 1):
        part = local(f"graph-{i:03d}")
        t += [
            ox.Triple(ds, _n("void", "subset"), part),
            ox.Triple(part, a, _n("void", "Dataset")),
            ox.Triple(part, a, _n("sd", "NamedGraph")),
            ox.Triple(part, _n("sd", "name"), ox.NamedNode(graph)),
            ox.Triple(part, _n("void", "triples"), _int(triples)),
        ]

    wikidata, linkset = local("wikidata"), local("wikidata-links")
    t += [
        ox.Triple(wikidata, a, _n("void", "Dataset")),
        ox.Triple(wikidata, _n("dcterms", "title"), en("Wikidata")),
        ox.Triple(wikidata, _n("foaf", "homepage"), ox.NamedNode("https://www.wikidata.org/")),
        ox.Triple(wikidata, _n("void", "uriSpace"), ox.Literal(WD)),
        ox.Triple(wikidata, _n("void", "sparqlEndpoint"), ox.NamedNode(WIKIDATA_SPARQL)),
        ox.Triple(ds, _n("void", "subset"), linkset),
        ox.Triple(linkset, a, _n("void", "Linkset")),
        ox.Triple(linkset, _n("void", "linkPredicate"), _n("owl", "sameAs")),
        ox.Triple(linkset, _n("void", "subjectsTarget"), ds),
        ox.Triple(linkset, _n("void", "objectsTarget"), wikidata),
        ox.Triple(linkset, _n("void", "target"), ds),
        ox.Triple(linkset, _n("void", "target"), wikidata),
        ox.Triple(linkset, _n("void", "triples"), _int(stats.wikidata_links)),
    ]

    base = base_url if base_url.endswith("/") else base_url + "/"
    for dump in files:
        fmt, compressed = file_format(dump.name)
        if fmt is None or dump.name == VOID_FILE:
            continue
        key = fmt.name + ("-gz" if compressed else "")
        dist, checksum = local(f"dump-{key}"), local(f"dump-{key}-checksum")
        url = ox.NamedNode(base + "dumps/" + dump.name)
        title = TITLES[fmt.name] + (", gzip-compressed" if compressed else "")
        t += [
            ox.Triple(ds, _n("dcat", "distribution"), dist),
            ox.Triple(ds, _n("void", "dataDump"), url),
            ox.Triple(dist, a, _n("dcat", "Distribution")),
            ox.Triple(dist, _n("dcterms", "title"), en(f"CICA-KG dump: {title}")),
            ox.Triple(dist, _n("dcterms", "license"), ox.NamedNode(LICENSE)),
            ox.Triple(
                dist, _n("dcterms", "format"), ox.NamedNode(W3C_FORMATS + W3C_FORMAT[fmt.name])
            ),
            ox.Triple(dist, _n("dcat", "downloadURL"), url),
            ox.Triple(
                dist, _n("dcat", "mediaType"), ox.NamedNode(IANA_MEDIA_TYPES + fmt.media_type)
            ),
            ox.Triple(dist, _n("dcat", "byteSize"), _int(dump.size, "nonNegativeInteger")),
            ox.Triple(dist, _n("spdx", "checksum"), checksum),
            ox.Triple(checksum, a, _n("spdx", "Checksum")),
            ox.Triple(checksum, _n("spdx", "algorithm"), _n("spdx", "checksumAlgorithm_sha256")),
            ox.Triple(
                checksum,
                _n("spdx", "checksumValue"),
                ox.Literal(dump.sha256, datatype=_n("xsd", "hexBinary")),
            ),
        ]
        if compressed:
            t.append(
                ox.Triple(
                    dist,
                    _n("dcat", "compressFormat"),
                    ox.NamedNode(IANA_MEDIA_TYPES + GZIP_MEDIA_TYPE),
                )
            )
    for dump in files:
        if dump.name == PANEL_FILE:
            t += panel_triples(ds, dump, base + "dumps/" + dump.name)
    # The dataset first, then its parts; sorted, so the output is the same every time.
    return sorted(
        set(t),
        key=lambda tr: (tr.subject != ds, str(tr.subject), str(tr.predicate), str(tr.object)),
    )


# The state-year panel: a CSV distribution in the layout of the COW IGO data, version 3.
COW_IGO_DOI = "https://doi.org/10.1177/0022343319881175"
COW_IGO_CITATION = (
    "Pevehouse, J. C., Nordstrom, T., McManus, R. W. & Jamison, A. S. (2020). Tracking "
    "organizations in the world: The Correlates of War IGO Version 3.0 datasets. Journal of "
    "Peace Research 57(3), 492-503."
)
PANEL_DESCRIPTION = (
    "The answer of the canned query state-year as CSV: one row per state of the graph and "
    "year, from CICA's founding year to the year of the data's currency, in the layout of the "
    "Correlates of War IGO data (state_year_format3). Columns: ccode (COW state number; empty "
    "for Palestine, which has none), year, state (COW abbreviation in lower case, or the ISO "
    "code), cica (the status on 31 December: 1 full member, 3 observer, 0 none, -9 the graph "
    "cannot say), iso3, label, uncertain, and first and last (the query's parameters, empty)."
)


def panel_triples(ds: ox.NamedNode, dump: DumpFile, url: str) -> list[ox.Triple]:
    """The panel's DCAT distribution: what the RDF dumps state (title, license, media type,
    size, checksum), its format and the layout it follows (dcterms:conformsTo)."""
    from ..browse.service_description import W3C_FORMAT

    a = _n("rdf", "type")
    dist = ox.NamedNode(f"{ds.value}#{PANEL_QUERY}-csv")
    checksum = ox.NamedNode(f"{dist.value}-checksum")
    layout = ox.NamedNode(f"{ds.value}#cow-igo-state-year-format3")
    fmt = panel_format()
    return [
        ox.Triple(ds, _n("dcat", "distribution"), dist),
        ox.Triple(dist, a, _n("dcat", "Distribution")),
        ox.Triple(
            dist, _n("dcterms", "title"), ox.Literal(f"CICA-KG: {PANEL_TITLE}", language="en")
        ),
        ox.Triple(dist, _n("dcterms", "description"), ox.Literal(PANEL_DESCRIPTION, language="en")),
        ox.Triple(dist, _n("dcterms", "license"), ox.NamedNode(LICENSE)),
        ox.Triple(dist, _n("dcterms", "format"), ox.NamedNode(W3C_FORMATS + W3C_FORMAT[fmt.name])),
        ox.Triple(dist, _n("dcterms", "conformsTo"), layout),
        ox.Triple(dist, _n("dcat", "downloadURL"), ox.NamedNode(url)),
        ox.Triple(dist, _n("dcat", "mediaType"), ox.NamedNode(IANA_MEDIA_TYPES + fmt.media_type)),
        ox.Triple(dist, _n("dcat", "byteSize"), _int(dump.size, "nonNegativeInteger")),
        ox.Triple(dist, _n("spdx", "checksum"), checksum),
        ox.Triple(checksum, a, _n("spdx", "Checksum")),
        ox.Triple(checksum, _n("spdx", "algorithm"), _n("spdx", "checksumAlgorithm_sha256")),
        ox.Triple(
            checksum,
            _n("spdx", "checksumValue"),
            ox.Literal(dump.sha256, datatype=_n("xsd", "hexBinary")),
        ),
        ox.Triple(layout, a, _n("dcterms", "Standard")),
        ox.Triple(
            layout,
            _n("dcterms", "title"),
            ox.Literal(
                "Correlates of War IGO data, version 3: the state-year layout (state_year_format3)",
                language="en",
            ),
        ),
        ox.Triple(layout, _n("dcterms", "bibliographicCitation"), ox.Literal(COW_IGO_CITATION)),
        ox.Triple(layout, _n("rdfs", "seeAlso"), ox.NamedNode(COW_IGO_DOI)),
    ]


def write_void(triples: list[ox.Triple], path: Path, base_iri: str = BASE) -> None:
    # The namespaces of the IRIs used (up to their last / or #): a few dozen, whatever the
    # number of triples. Every prefix IRI ends with / or #, so an IRI starts with a prefix
    # exactly when its namespace does.
    spaces = {
        term.value[: max(term.value.rfind("/"), term.value.rfind("#")) + 1]
        for tr in triples
        for term in tr
        if isinstance(term, ox.NamedNode)
    }
    used = {
        prefix: iri
        for prefix, iri in void_prefixes(base_iri).items()
        if prefix == "xsd" or any(space.startswith(iri) for space in spaces)
    }
    with open(path, "wb") as fh:
        ox.serialize(triples, output=fh, format=ox.RdfFormat.TURTLE, prefixes=used)
