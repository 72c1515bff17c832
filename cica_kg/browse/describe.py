"""What the pages show about one resource, and its RDF description for linked-data clients."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import pyoxigraph as ox

from ..namespaces import Iris
from ..sparql_files import query_text

Rows = list[dict[str, dict[str, str]]]
Select = Callable[..., Rows]


def _query(name: str, iris: Iris) -> str:
    return iris.rebase(query_text(__package__ or "cica_kg.browse", name))


def description_query(iris: Iris) -> str:
    """The CONSTRUCT that answers RDF clients about ?resource: its statements and the roles
    it holds. Its text is part of the answer's ETag: keep the file byte-stable."""
    return _query("describe-resource.rq", iris)


RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
RDFS_LABEL = "http://www.w3.org/2000/01/rdf-schema#label"
SAME_AS = "http://www.w3.org/2002/07/owl#sameAs"


@dataclass
class Value:
    term: dict[str, str]  # a SPARQL JSON term
    label: str = ""


@dataclass
class Description:
    iri: str
    label: str = ""
    types: list[Value] = field(default_factory=list)
    properties: list[tuple[str, str, list[Value]]] = field(default_factory=list)  # p, label, values
    incoming: list[tuple[str, str, list[Value]]] = field(default_factory=list)
    sources: list[dict[str, str]] = field(default_factory=list)
    wikidata: list[str] = field(default_factory=list)
    graphs: list[str] = field(default_factory=list)

    @property
    def exists(self) -> bool:
        return bool(self.properties or self.incoming)


def _group(rows: Rows, key: str, label: str, value: str, value_label: str):  # type: ignore[no-untyped-def]
    groups: dict[str, tuple[str, list[Value]]] = {}
    for r in rows:
        p = r[key]["value"]
        entry = groups.setdefault(p, (r[label]["value"], []))
        entry[1].append(Value(r[value], r[value_label]["value"]))
    return [(p, lab, vals) for p, (lab, vals) in groups.items()]


def describe(select: Select, iri: str, iris: Iris) -> Description:
    """Everything a page about `iri` shows; `select(query, resource=term)` runs a query."""
    node = ox.NamedNode(iri)
    desc = Description(iri)
    outgoing = select(_query("describe-outgoing.rq", iris), resource=node)
    for p, label, values in _group(outgoing, "p", "pLabel", "o", "oLabel"):
        if p == RDF_TYPE:
            desc.types = values
        elif p == RDFS_LABEL:
            english = [v.term["value"] for v in values if v.term.get("xml:lang", "") == "en"]
            desc.label = (english or [values[0].term["value"]])[0]
        elif p == SAME_AS:
            desc.wikidata = [v.term["value"] for v in values]
            desc.properties.append((p, label, values))
        else:
            desc.properties.append((p, label, values))
    desc.incoming = _group(
        select(_query("describe-incoming.rq", iris), resource=node), "p", "pLabel", "s", "sLabel"
    )
    desc.sources = [
        {
            "iri": r["source"]["value"],
            "title": r["title"]["value"],
            "url": r.get("url", {}).get("value", ""),
        }
        for r in select(_query("describe-sources.rq", iris), resource=node)
    ]
    desc.graphs = [
        r["g"]["value"] for r in select(_query("describe-graphs.rq", iris), resource=node)
    ]
    return desc
