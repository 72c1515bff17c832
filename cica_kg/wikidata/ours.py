"""Our side of the comparison: the states, organisations and cities of our graph with their
owl:sameAs links to Wikidata, and our memberships and observer statuses in CICA. The graph is
read through the Engine facade (the published store, or the remote engine if one is set)."""

from __future__ import annotations

from typing import Any

import pyoxigraph as ox

from ..namespaces import WD, Iris, iris
from ..query import Engine, InlinePool
from ..settings import Settings
from ..sparql_files import query_text
from .model import KIND_ORDER, OurRole, PartialDate, Resource, Row

# Our classes and terms by their local name in the cica: namespace (whatever its base).
KINDS = {"State": "state", "InternationalOrganization": "organization", "City": "city"}
ORG_UNIT = "http://www.w3.org/ns/org#OrganizationalUnit"  # an organisation too
PRECISIONS = {"dayPrecision": 11, "monthPrecision": 10, "yearPrecision": 9}
ROLES = {"memberRole": "member", "observerRole": "observer"}


def _query(ns: Iris, name: str) -> str:
    return ns.rebase(query_text(__package__ or "cica_kg.wikidata", name))


def _local(ns: Iris, iri: str) -> str:
    return iri.removeprefix(ns.cica)


def load_resources(engine: Engine) -> list[Resource]:
    """Every state, organisation and city, with its Wikidata QID if it has one."""
    ns = iris(engine.settings.base_iri)
    grouped: dict[str, dict[str, Any]] = {}
    for row in engine.select(_query(ns, "ours-resources.rq")):
        iri = row["resource"]["value"]
        cls = row["class"]["value"]
        kind = "organization" if cls == ORG_UNIT else KINDS[_local(ns, cls)]
        entry = grouped.setdefault(
            iri, {"kind": kind, "label": row["label"]["value"], "alts": set()}
        )
        if "alt" in row:
            entry["alts"].add(row["alt"]["value"])
        for name in ("acronym", "iso2", "iso3"):
            if name in row:
                entry[name] = row[name]["value"]
        if "same" in row:
            entry["qid"] = row["same"]["value"].removeprefix(WD)
    resources = [
        Resource(
            iri=iri,
            key=iri.removeprefix(ns.id),
            kind=e["kind"],
            label=e["label"],
            alt_labels=tuple(sorted(e["alts"])),
            acronym=e.get("acronym"),
            iso2=e.get("iso2"),
            iso3=e.get("iso3"),
            qid=e.get("qid"),
        )
        for iri, e in grouped.items()
    ]
    return sorted(resources, key=lambda r: (KIND_ORDER.index(r.kind), r.key))


def load_roles(engine: Engine) -> list[OurRole]:
    """Our full memberships and observer statuses in CICA, each with one reference URL."""
    ns = iris(engine.settings.base_iri)
    grouped: dict[str, dict[str, Any]] = {}
    cica = ox.NamedNode(ns.organization)
    for row in engine.select(_query(ns, "ours-roles.rq"), cica=cica):
        entry = grouped.setdefault(
            row["record"]["value"],
            {
                "member": row["member"]["value"],
                "role": ROLES[_local(ns, row["role"]["value"])],
                "start": _our_date(ns, row, "start"),
                "end": _our_date(ns, row, "end"),
                "urls": {},
            },
        )
        if "url" in row:
            entry["urls"][row["url"]["value"]] = row.get("sourceDate", {}).get("value")
    roles = [
        OurRole(
            iri=iri,
            key=iri.removeprefix(ns.id),
            member=e["member"],
            role=e["role"],
            start=e["start"],
            end=e["end"],
            url=reference_url(e["urls"], e["start"]),
        )
        for iri, e in grouped.items()
    ]
    return sorted(roles, key=lambda r: r.iri)


def _our_date(ns: Iris, row: Row, name: str) -> PartialDate | None:
    if name not in row:
        return None
    precision = PRECISIONS.get(_local(ns, row.get(name + "Precision", {}).get("value", "")), 11)
    return PartialDate.parse(row[name]["value"], precision)


def reference_url(urls: dict[str, str | None], start: PartialDate | None) -> str | None:
    """The source URL to cite on Wikidata: dated sources nearest the start first, then
    undated ones; Wikipedia is never cited (Wikidata does not take it as a reference)."""

    def rank(item: tuple[str, str | None]) -> tuple[int, int, str]:
        url, when = item
        if when is None or start is None:
            return (1, 0, url)
        return (0, abs(int(when[:4]) - start.year), url)

    usable = [(u, d) for u, d in urls.items() if "wikipedia.org" not in u]
    return min(usable, key=rank)[0] if usable else None


def with_engine(settings: Settings) -> Engine:
    """The remote engine if one is set, else queries in this process (a CLI tool)."""
    return Engine(settings, pool=None if settings.engine else InlinePool())
