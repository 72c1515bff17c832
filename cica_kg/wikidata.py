"""Wikidata tooling: our owl:sameAs links, a client of the Wikidata Query Service (WDQS),
the comparison of our data with Wikidata's, and QuickStatements for what Wikidata lacks.

A check sends at most three batched queries to Wikidata: the linked items (one VALUES over
all of them), candidate items for our resources without a link (by English label or alias),
and the P463 "member of" statements that point at CICA's item (found by its English label
unless its QID is known). Our own graph is read through the Engine facade."""

from __future__ import annotations

import email.utils
import json
import re
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from typing import Any

import pyoxigraph as ox
import requests

from .engine import Engine, InlinePool
from .namespaces import CICA, ID, WD
from .settings import Settings

Row = dict[str, dict[str, str]]

BACKOFF_BASE = 1.0  # seconds before the first retry when the server sends no Retry-After
MAX_RETRY_AFTER = 300.0  # a longer Retry-After is not waited for: the check gives up
CICA_IRI = ID + "organization/CICA"
CICA_LABELS = (
    "Conference on Interaction and Confidence-Building Measures in Asia",
    "Conference on Interaction and Confidence Building Measures in Asia",
)
STATE_CLASSES = ("Q6256", "Q3624078")  # country, sovereign state
ORGANIZATION_CLASS = "Q43229"  # organization
SETTLEMENT_CLASS = "Q486972"  # human settlement
KIND_ORDER = ("state", "organization", "city")
KINDS = {
    CICA + "State": "state",
    CICA + "InternationalOrganization": "organization",
    "http://www.w3.org/ns/org#OrganizationalUnit": "organization",
    CICA + "City": "city",
}
PRECISIONS = {CICA + "dayPrecision": 11, CICA + "monthPrecision": 10, CICA + "yearPrecision": 9}
ROLES = {CICA + "memberRole": "member", CICA + "observerRole": "observer"}
STATUS_ORDER = ("difference", "missing", "info", "agree")
QID = re.compile(r"^Q[1-9][0-9]*$")

PREFIX_LINES = """\
PREFIX wd: <http://www.wikidata.org/entity/>
PREFIX wdt: <http://www.wikidata.org/prop/direct/>
PREFIX p: <http://www.wikidata.org/prop/>
PREFIX ps: <http://www.wikidata.org/prop/statement/>
PREFIX pq: <http://www.wikidata.org/prop/qualifier/>
PREFIX pqv: <http://www.wikidata.org/prop/qualifier/value/>
PREFIX wikibase: <http://wikiba.se/ontology#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
PREFIX owl: <http://www.w3.org/2002/07/owl#>
PREFIX schema: <http://schema.org/>
"""

OUR_PREFIXES = """\
PREFIX cica: <https://w3id.org/cica-kg/ontology#>
PREFIX dcterms: <http://purl.org/dc/terms/>
PREFIX org: <http://www.w3.org/ns/org#>
PREFIX owl: <http://www.w3.org/2002/07/owl#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX schema: <https://schema.org/>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
"""

RESOURCES_QUERY = (
    OUR_PREFIXES
    + """
SELECT ?resource ?class ?label ?alt ?acronym ?iso2 ?iso3 ?same WHERE {
  VALUES ?class { cica:State cica:InternationalOrganization org:OrganizationalUnit cica:City }
  ?resource a ?class ; rdfs:label ?label .
  FILTER(LANGMATCHES(LANG(?label), "en"))
  OPTIONAL { ?resource skos:altLabel ?alt FILTER(LANGMATCHES(LANG(?alt), "en")) }
  OPTIONAL { ?resource cica:acronym ?acronym }
  OPTIONAL { ?resource cica:iso3166Alpha2 ?iso2 }
  OPTIONAL { ?resource cica:iso3166Alpha3 ?iso3 }
  OPTIONAL {
    ?resource owl:sameAs ?same
    FILTER(STRSTARTS(STR(?same), "http://www.wikidata.org/entity/Q"))
  }
}
"""
)

ROLES_QUERY = (
    OUR_PREFIXES
    + """
SELECT ?cica ?record ?member ?role ?start ?startPrecision ?end ?endPrecision ?url ?sourceDate
WHERE {
  VALUES ?role { cica:memberRole cica:observerRole }
  ?record a cica:Membership ; org:organization ?cica ; org:member ?member ; org:role ?role .
  OPTIONAL { ?record schema:startDate ?start ; cica:startPrecision ?startPrecision }
  OPTIONAL { ?record schema:endDate ?end ; cica:endPrecision ?endPrecision }
  OPTIONAL {
    ?record dcterms:source ?source .
    ?source schema:url ?url .
    OPTIONAL { ?source dcterms:date ?sourceDate }
  }
}
"""
)


class WikidataError(Exception):
    """The Wikidata Query Service gave no usable answer (after the retries)."""


# ---------------------------------------------------------------------------------------
#   Values
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True, order=True)
class PartialDate:
    """A date at Wikidata's precision: 9 year, 10 month, 11 day (coarser ones are rare)."""

    year: int
    month: int
    day: int
    precision: int

    @classmethod
    def parse(cls, text: str, precision: int) -> PartialDate:
        """From "1999-09-14", "1999-09-14T00:00:00Z" or "+1999-09-14T00:00:00Z"."""
        year, month, day = text.lstrip("+").split("T")[0].split("-")[:3]
        return cls(int(year), int(month), int(day), min(precision, 11))

    def __str__(self) -> str:
        if self.precision >= 11:
            return f"{self.year:04d}-{self.month:02d}-{self.day:02d}"
        if self.precision == 10:
            return f"{self.year:04d}-{self.month:02d}"
        if self.precision == 9:
            return f"{self.year:04d}"
        return f"{self.year:04d} (precision {self.precision})"

    def quickstatements(self) -> str:
        """The time value of a QuickStatements v1 command, e.g. +2001-00-00T00:00:00Z/9."""
        if self.precision >= 11:
            return f"+{self.year:04d}-{self.month:02d}-{self.day:02d}T00:00:00Z/11"
        if self.precision == 10:
            return f"+{self.year:04d}-{self.month:02d}-00T00:00:00Z/10"
        return f"+{self.year:04d}-00-00T00:00:00Z/9"

    def agrees(self, other: PartialDate) -> bool:
        """Equal at the coarser of the two precisions (years at least)."""
        precision = min(self.precision, other.precision)
        if precision >= 11:
            return (self.year, self.month, self.day) == (other.year, other.month, other.day)
        if precision == 10:
            return (self.year, self.month) == (other.year, other.month)
        unit = 10 ** max(0, 9 - precision)
        return self.year // unit == other.year // unit


@dataclass(frozen=True)
class Resource:
    """A state, organisation or city of our graph, with its Wikidata QID if linked."""

    iri: str
    kind: str
    label: str
    alt_labels: tuple[str, ...] = ()
    acronym: str | None = None
    iso2: str | None = None
    iso3: str | None = None
    qid: str | None = None

    @property
    def key(self) -> str:
        return self.iri.removeprefix(ID)


@dataclass(frozen=True)
class OurRole:
    """One of our full memberships or observer statuses in CICA."""

    iri: str
    member: str
    role: str  # "member" | "observer"
    start: PartialDate | None
    end: PartialDate | None
    url: str | None  # the reference URL for Wikidata (S854)

    @property
    def key(self) -> str:
        return self.iri.removeprefix(ID)


@dataclass(frozen=True)
class WikidataRole:
    """A P463 "member of" statement on Wikidata that points at CICA's item."""

    statement: str
    member_qid: str
    member_label: str
    roles: tuple[str, ...]  # P2868 "subject has role" values (QIDs)
    start: PartialDate | None
    end: PartialDate | None

    def kind(self, observer_qid: str | None) -> str:
        """member (no role), observer (the observer role; any role if its QID is unknown)."""
        if not self.roles:
            return "member"
        if observer_qid is None or observer_qid in self.roles:
            return "observer"
        return "other"

    def describe(self) -> str:
        role = f"P2868 {', '.join(self.roles)}, " if self.roles else ""
        return f"{role}{_span(self.start, self.end) or 'no dates'}"


@dataclass(frozen=True)
class Finding:
    status: str  # agree | difference | missing | info
    subject: str  # our resource or record, relative to …/id/
    item: str  # the Wikidata QID concerned ("" if none)
    check: str
    ours: str = ""
    theirs: str = ""
    note: str = ""


@dataclass(frozen=True)
class Candidate:
    qid: str
    label: str
    description: str
    matched: str  # the name that matched
    via: str  # "label" | "alias"


@dataclass(frozen=True)
class Addition:
    """A membership or observer status (or its dates) that Wikidata lacks."""

    subject: str
    member_qid: str
    member_label: str
    role: str  # "member" | "observer"
    start: PartialDate | None
    end: PartialDate | None
    url: str | None
    new_statement: bool  # False: qualifiers for Wikidata's existing statement
    existing: int  # Wikidata's P463 statements to CICA on the member's item


@dataclass(frozen=True)
class CicaItem:
    qid: str
    label: str
    found_by: str  # "option" | "link" | "label"
    others: tuple[str, ...] = ()  # other items that also carry one of CICA's labels


@dataclass
class Report:
    endpoint: str
    cica: CicaItem | None
    findings: list[Finding]
    candidates: dict[str, list[Candidate]]  # our unlinked resource key -> candidates
    additions: list[Addition]
    requests: int

    def count(self, status: str) -> int:
        return sum(1 for f in self.findings if f.status == status)

    @property
    def exit_code(self) -> int:
        return 1 if self.count("difference") or self.count("missing") else 0


# ---------------------------------------------------------------------------------------
#   The client
# ---------------------------------------------------------------------------------------


def _version() -> str:
    try:
        return metadata.version("cica-kg")
    except metadata.PackageNotFoundError:
        return "1.0"


USER_AGENT = (
    f"CICA-KG/{_version()} (https://w3id.org/cica-kg; linked-data publication of CICA) "
    f"python-requests/{requests.__version__}"
)


@dataclass
class WikidataClient:
    """POSTs SPARQL to the WDQS, retrying 429 and 5xx (and network failures) with
    exponential backoff; Retry-After, when sent, is honoured instead."""

    endpoint: str
    timeout: float = 60.0
    retries: int = 4
    backoff_base: float = BACKOFF_BASE
    sleep: Callable[[float], None] = time.sleep
    session: requests.Session = field(default_factory=requests.Session)
    requests_made: int = 0

    @classmethod
    def from_settings(cls, settings: Settings) -> WikidataClient:
        return cls(
            endpoint=settings.wikidata_endpoint,
            timeout=settings.wikidata_timeout,
            retries=max(0, settings.wikidata_retries),
            backoff_base=BACKOFF_BASE,
        )

    def select(self, query: str) -> list[Row]:
        """The bindings of a SELECT, as SPARQL JSON."""
        response = self._post(query)
        try:
            rows: list[Row] = response.json()["results"]["bindings"]
        except (ValueError, KeyError, TypeError) as exc:
            raise WikidataError(
                f"the Wikidata Query Service at {self.endpoint} sent no SPARQL JSON results "
                f"({type(exc).__name__}: {exc})"
            ) from None
        return rows

    def _post(self, query: str) -> requests.Response:
        headers = {"User-Agent": USER_AGENT, "Accept": "application/sparql-results+json"}
        problem = ""
        for attempt in range(self.retries + 1):
            self.requests_made += 1
            try:
                response = self.session.post(
                    self.endpoint, data={"query": query}, headers=headers, timeout=self.timeout
                )
            except requests.RequestException as exc:
                problem, wait = f"{type(exc).__name__}: {exc}", self._backoff(attempt)
            else:
                if response.status_code == 200:
                    return response
                if not _retryable(response.status_code):
                    raise WikidataError(
                        f"the Wikidata Query Service at {self.endpoint} refused the query: "
                        f"HTTP {response.status_code} {response.text[:300].strip()}"
                    )
                problem = f"HTTP {response.status_code}"
                asked = retry_after(response.headers.get("Retry-After"))
                wait = self._backoff(attempt) if asked is None else asked
                if wait > MAX_RETRY_AFTER:
                    raise WikidataError(
                        f"the Wikidata Query Service at {self.endpoint} asks to wait {wait:g} s "
                        f"(Retry-After, {problem}); try again later"
                    )
            if attempt < self.retries:
                self.sleep(wait)
        raise WikidataError(
            f"could not reach the Wikidata Query Service at {self.endpoint} after "
            f"{self.retries + 1} attempt(s) ({problem})"
        )

    def _backoff(self, attempt: int) -> float:
        return float(self.backoff_base * 2**attempt)


def _retryable(status: int) -> bool:
    return status == 429 or 500 <= status <= 599


def retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


# ---------------------------------------------------------------------------------------
#   Our graph
# ---------------------------------------------------------------------------------------


def load_resources(engine: Engine) -> list[Resource]:
    """Every state, organisation and city, with its Wikidata QID if it has one."""
    grouped: dict[str, dict[str, Any]] = {}
    for row in engine.select(RESOURCES_QUERY):
        iri = row["resource"]["value"]
        entry = grouped.setdefault(
            iri,
            {"kind": KINDS[row["class"]["value"]], "label": row["label"]["value"], "alts": set()},
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
    grouped: dict[str, dict[str, Any]] = {}
    for row in engine.select(ROLES_QUERY, cica=ox.NamedNode(CICA_IRI)):
        entry = grouped.setdefault(
            row["record"]["value"],
            {
                "member": row["member"]["value"],
                "role": ROLES[row["role"]["value"]],
                "start": _our_date(row, "start"),
                "end": _our_date(row, "end"),
                "urls": {},
            },
        )
        if "url" in row:
            entry["urls"][row["url"]["value"]] = row.get("sourceDate", {}).get("value")
    roles = [
        OurRole(
            iri=iri,
            member=e["member"],
            role=e["role"],
            start=e["start"],
            end=e["end"],
            url=reference_url(e["urls"], e["start"]),
        )
        for iri, e in grouped.items()
    ]
    return sorted(roles, key=lambda r: r.iri)


def _our_date(row: Row, name: str) -> PartialDate | None:
    if name not in row:
        return None
    precision = PRECISIONS.get(row.get(name + "Precision", {}).get("value", ""), 11)
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
    return Engine(settings, pool=None if settings.engine else InlinePool())


def links(settings: Settings) -> list[Resource]:
    """Every state, organisation and city with its Wikidata link (or none)."""
    engine = with_engine(settings)
    try:
        return load_resources(engine)
    finally:
        engine.close()


# ---------------------------------------------------------------------------------------
#   Queries to Wikidata
# ---------------------------------------------------------------------------------------


def sparql_string(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"@en'


def items_query(qids: Sequence[str]) -> str:
    """One query for all linked items: English label and aliases, ISO codes, types."""
    values = " ".join(f"wd:{q}" for q in qids)
    states = " ".join(f"wd:{q}" for q in STATE_CLASSES)
    return f"""# CICA-KG wikidata check: linked items
{PREFIX_LINES}
SELECT ?item (SAMPLE(?l) AS ?label) (GROUP_CONCAT(DISTINCT ?a; separator="|") AS ?aliases)
       (GROUP_CONCAT(DISTINCT ?c2; separator="|") AS ?iso2)
       (GROUP_CONCAT(DISTINCT ?c3; separator="|") AS ?iso3)
       (SAMPLE(?s) AS ?isState) (SAMPLE(?o) AS ?isOrganization)
       (SAMPLE(?h) AS ?isSettlement) (SAMPLE(?r) AS ?redirect)
WHERE {{
  VALUES ?item {{ {values} }}
  OPTIONAL {{ ?item rdfs:label ?l FILTER(LANG(?l) = "en") }}
  OPTIONAL {{ ?item skos:altLabel ?a FILTER(LANG(?a) = "en") }}
  OPTIONAL {{ ?item wdt:P297 ?c2 }}
  OPTIONAL {{ ?item wdt:P298 ?c3 }}
  OPTIONAL {{ ?item owl:sameAs ?r }}
  BIND(EXISTS {{ VALUES ?stateClass {{ {states} }} ?item wdt:P31 ?stateClass }} AS ?s)
  BIND(EXISTS {{ ?item wdt:P31/wdt:P279* wd:{ORGANIZATION_CLASS} }} AS ?o)
  BIND(EXISTS {{ ?item wdt:P31/wdt:P279* wd:{SETTLEMENT_CLASS} }} AS ?h)
}}
GROUP BY ?item
ORDER BY ?item
"""


def candidates_query(names: Iterable[str]) -> str:
    """Items whose English label or alias is exactly one of `names`."""
    values = " ".join(sparql_string(n) for n in sorted(set(names)))
    return f"""# CICA-KG wikidata check: candidates for unlinked resources
{PREFIX_LINES}
SELECT DISTINCT ?name ?item ?via ?itemLabel ?itemDescription WHERE {{
  VALUES ?name {{ {values} }}
  {{ ?item rdfs:label ?name . BIND("label" AS ?via) }}
  UNION
  {{ ?item skos:altLabel ?name . BIND("alias" AS ?via) }}
  FILTER(STRSTARTS(STR(?item), "http://www.wikidata.org/entity/Q"))
  OPTIONAL {{ ?item rdfs:label ?itemLabel FILTER(LANG(?itemLabel) = "en") }}
  OPTIONAL {{ ?item schema:description ?itemDescription FILTER(LANG(?itemDescription) = "en") }}
}}
ORDER BY ?name ?item
LIMIT 1000
"""


def membership_query(cica_qid: str | None) -> str:
    """P463 statements to CICA's item (found by its English label or alias unless known),
    with P2868 roles and P580/P582 qualifiers at their precision."""
    if cica_qid:
        find = f"VALUES ?cica {{ wd:{cica_qid} }}"
    else:
        names = " ".join(sparql_string(n) for n in CICA_LABELS)
        find = (
            f"VALUES ?cicaName {{ {names} }}\n"
            "  { ?cica rdfs:label ?cicaName } UNION { ?cica skos:altLabel ?cicaName }"
        )
    return f"""# CICA-KG wikidata check: memberships in CICA
{PREFIX_LINES}
SELECT DISTINCT ?cica ?cicaLabel ?member ?memberLabel ?statement ?role
       ?start ?startPrecision ?end ?endPrecision WHERE {{
  {find}
  OPTIONAL {{ ?cica rdfs:label ?cicaLabel FILTER(LANG(?cicaLabel) = "en") }}
  OPTIONAL {{
    ?member p:P463 ?statement .
    ?statement ps:P463 ?cica ; wikibase:rank ?rank .
    FILTER(?rank != wikibase:DeprecatedRank)
    OPTIONAL {{ ?member rdfs:label ?memberLabel FILTER(LANG(?memberLabel) = "en") }}
    OPTIONAL {{ ?statement pq:P2868 ?role }}
    OPTIONAL {{
      ?statement pqv:P580 ?startValue .
      ?startValue wikibase:timeValue ?start ; wikibase:timePrecision ?startPrecision .
    }}
    OPTIONAL {{
      ?statement pqv:P582 ?endValue .
      ?endValue wikibase:timeValue ?end ; wikibase:timePrecision ?endPrecision .
    }}
  }}
}}
ORDER BY ?cica ?member ?statement
"""


def _value(row: Row, name: str) -> str:
    return row.get(name, {}).get("value", "")


def _qid(iri: str) -> str:
    return iri.removeprefix(WD)


def _split(text: str) -> set[str]:
    return {part for part in text.split("|") if part}


def _true(row: Row, name: str) -> bool:
    return _value(row, name).lower() in ("true", "1")


# ---------------------------------------------------------------------------------------
#   Comparison: items
# ---------------------------------------------------------------------------------------


def compare_items(linked: Sequence[Resource], rows: Sequence[Row]) -> list[Finding]:
    by_qid = {_qid(_value(row, "item")): row for row in rows}
    findings: list[Finding] = []
    for resource in linked:
        assert resource.qid is not None
        row = by_qid.get(resource.qid, {})
        redirect = _value(row, "redirect")
        if redirect:
            findings.append(
                Finding(
                    "difference",
                    resource.key,
                    resource.qid,
                    "item",
                    resource.qid,
                    f"redirect to {_qid(redirect)}",
                    "the item was merged; link to the target instead",
                )
            )
            continue
        findings.append(_type_finding(resource, row))
        if resource.kind == "state":
            findings.append(_code_finding(resource, row, "iso2", "P297 ISO alpha-2"))
            findings.append(_code_finding(resource, row, "iso3", "P298 ISO alpha-3"))
        findings.append(
            label_finding(resource, _value(row, "label"), _split(_value(row, "aliases")))
        )
    return findings


def _type_finding(resource: Resource, row: Row) -> Finding:
    assert resource.qid is not None
    subject, qid = resource.key, resource.qid
    if resource.kind == "state":
        check = "P31 state (Q6256/Q3624078)"
        if _true(row, "isState"):
            return Finding("agree", subject, qid, check, "state", "yes")
        if _value(row, "iso2") or _value(row, "iso3"):
            return Finding(
                "info", subject, qid, check, "state", "no", "not so typed, but has ISO codes"
            )
        return Finding("difference", subject, qid, check, "state", "no", "not a state?")
    if resource.kind == "organization":
        check = f"P31/P279* organization ({ORGANIZATION_CLASS})"
        if _true(row, "isOrganization"):
            return Finding("agree", subject, qid, check, "organisation", "yes")
        return Finding("info", subject, qid, check, "organisation", "no", "could not confirm")
    check = f"P31/P279* settlement ({SETTLEMENT_CLASS})"
    if _true(row, "isSettlement"):
        return Finding("agree", subject, qid, check, "city", "yes")
    return Finding("info", subject, qid, check, "city", "no", "could not confirm")


def _code_finding(resource: Resource, row: Row, name: str, check: str) -> Finding:
    assert resource.qid is not None
    ours = getattr(resource, name) or ""
    theirs = _split(_value(row, name))
    shown = ", ".join(sorted(theirs))
    if not theirs:
        return Finding("missing", resource.key, resource.qid, check, ours, "", "no value")
    if ours in theirs:
        note = "Wikidata has other values too" if len(theirs) > 1 else ""
        return Finding("agree", resource.key, resource.qid, check, ours, shown, note)
    return Finding("difference", resource.key, resource.qid, check, ours, shown)


def label_finding(resource: Resource, label: str, aliases: set[str]) -> Finding:
    """English label: informational only (agree, or info with the nature of the difference)."""
    assert resource.qid is not None
    check = "label (en)"
    if label == resource.label:
        return Finding("agree", resource.key, resource.qid, check, resource.label, label)
    if not label:
        note = "no English label on Wikidata"
    elif label in resource.alt_labels:
        note = "Wikidata's label is one of our altLabels"
    elif resource.label in aliases:
        note = "our label is one of Wikidata's aliases"
    else:
        note = "labels differ"
    return Finding("info", resource.key, resource.qid, check, resource.label, label, note)


# ---------------------------------------------------------------------------------------
#   Comparison: candidates for unlinked resources
# ---------------------------------------------------------------------------------------


def candidate_names(resource: Resource) -> list[str]:
    """English label and altLabels, without the bare acronym (too ambiguous to search)."""
    names = [resource.label, *resource.alt_labels]
    return [n for n in names if n != resource.acronym]


def match_candidates(
    unlinked: Sequence[Resource], rows: Sequence[Row]
) -> dict[str, list[Candidate]]:
    by_name: dict[str, list[Candidate]] = {}
    for row in rows:
        name = _value(row, "name")
        candidate = Candidate(
            qid=_qid(_value(row, "item")),
            label=_value(row, "itemLabel"),
            description=_value(row, "itemDescription"),
            matched=name,
            via=_value(row, "via") or "label",
        )
        by_name.setdefault(name, []).append(candidate)
    result: dict[str, list[Candidate]] = {}
    for resource in unlinked:
        seen: dict[str, Candidate] = {}
        for name in candidate_names(resource):
            for candidate in by_name.get(name, []):
                if candidate.qid not in seen or candidate.via == "label":
                    seen.setdefault(candidate.qid, candidate)
        ranked = sorted(seen.values(), key=lambda c: (c.via != "label", int(c.qid[1:])))
        result[resource.key] = ranked
    return result


# ---------------------------------------------------------------------------------------
#   Comparison: memberships in CICA
# ---------------------------------------------------------------------------------------


def parse_memberships(
    rows: Sequence[Row], known: str | None, found_by: str
) -> tuple[CicaItem | None, list[WikidataRole]]:
    """CICA's item (the known one, else the labelled item with most P463 statements) and
    the statements that point at it."""
    labels: dict[str, str] = {}
    statements: dict[str, dict[str, dict[str, Any]]] = {}
    for row in rows:
        cica = _qid(_value(row, "cica"))
        labels.setdefault(cica, _value(row, "cicaLabel"))
        statements.setdefault(cica, {})
        if "statement" not in row:
            continue
        entry = statements[cica].setdefault(
            _value(row, "statement"),
            {
                "member": _qid(_value(row, "member")),
                "label": _value(row, "memberLabel"),
                "roles": set(),
                "start": _wd_date(row, "start"),
                "end": _wd_date(row, "end"),
            },
        )
        if "role" in row:
            entry["roles"].add(_qid(_value(row, "role")))
    if not statements:
        return None, []
    cica = known or min(statements, key=lambda q: (-len(statements[q]), int(q[1:])))
    item = CicaItem(
        qid=cica,
        label=labels.get(cica, ""),
        found_by=found_by,
        others=tuple(sorted(q for q in statements if q != cica)),
    )
    roles = [
        WikidataRole(
            statement=iri,
            member_qid=e["member"],
            member_label=e["label"],
            roles=tuple(sorted(e["roles"])),
            start=e["start"],
            end=e["end"],
        )
        for iri, e in sorted(statements.get(cica, {}).items())
    ]
    return item, roles


def _wd_date(row: Row, name: str) -> PartialDate | None:
    if name not in row:
        return None
    precision = int(_value(row, name + "Precision") or 11)
    return PartialDate.parse(_value(row, name), precision)


def _span(start: PartialDate | None, end: PartialDate | None) -> str:
    if start and end:
        return f"{start} to {end}"
    if start:
        return f"since {start}"
    if end:
        return f"until {end}"
    return ""


def compare_memberships(
    resources: Sequence[Resource],
    ours: Sequence[OurRole],
    theirs: Sequence[WikidataRole],
    observer_qid: str | None,
) -> tuple[list[Finding], list[Addition]]:
    """Our records against Wikidata's statements, member by member."""
    by_iri = {r.iri: r for r in resources}
    by_member: dict[str, list[WikidataRole]] = {}
    for statement in theirs:
        by_member.setdefault(statement.member_qid, []).append(statement)
    findings: list[Finding] = []
    additions: list[Addition] = []
    order = {r.iri: i for i, r in enumerate(resources)}
    records = sorted(
        ours, key=lambda r: (order.get(r.member, 0), r.role != "member", r.start or _NO_DATE)
    )
    unmatched = {s.statement: s for s in theirs}
    for record in records:
        member = by_iri.get(record.member)
        if member is None or member.qid is None:
            key = member.key if member else record.member
            findings.append(
                Finding(
                    "info",
                    record.key,
                    "",
                    _statement_check(record.role),
                    _describe(record),
                    "",
                    f"not compared: {key} unlinked",
                )
            )
            continue
        existing = by_member.get(member.qid, [])
        match = _match(record, [s for s in existing if s.statement in unmatched], observer_qid)
        if match is None:
            findings.append(
                Finding(
                    "missing",
                    record.key,
                    member.qid,
                    _statement_check(record.role),
                    _describe(record),
                    "",
                    "no such statement on Wikidata",
                )
            )
            additions.append(_addition(record, member, None, None, True, len(existing)))
            continue
        del unmatched[match.statement]
        lenient = observer_qid is None and record.role == "observer"
        found, addition = _compare_dates(record, member, match, len(existing), lenient)
        findings += found
        if addition is not None:
            additions.append(addition)
    by_qid = {r.qid: r for r in resources if r.qid}
    for statement in unmatched.values():
        ours_member = by_qid.get(statement.member_qid)
        findings.append(
            Finding(
                "difference",
                ours_member.key if ours_member else statement.member_label or "(not ours)",
                statement.member_qid,
                "P463 CICA",
                "",
                statement.describe(),
                "on Wikidata, not in our data",
            )
        )
    return findings, additions


_NO_DATE = PartialDate(0, 0, 0, 9)


def _statement_check(role: str) -> str:
    return f"P463 CICA {role}"


def _describe(record: OurRole) -> str:
    return _span(record.start, record.end) or "no dates"


def _match(
    record: OurRole, statements: Sequence[WikidataRole], observer_qid: str | None
) -> WikidataRole | None:
    same_kind = [s for s in statements if s.kind(observer_qid) == record.role]
    for statement in same_kind:
        if record.start and statement.start and record.start.agrees(statement.start):
            return statement
    return same_kind[0] if same_kind else None


def _compare_dates(
    record: OurRole, member: Resource, statement: WikidataRole, existing: int, lenient: bool
) -> tuple[list[Finding], Addition | None]:
    assert member.qid is not None
    note = "any P2868 role taken as observer" if lenient else ""
    findings = [
        Finding(
            "agree",
            record.key,
            member.qid,
            _statement_check(record.role),
            _describe(record),
            statement.describe(),
            note,
        )
    ]
    lacking: dict[str, PartialDate] = {}
    for name, check in (("start", "P580 start time"), ("end", "P582 end time")):
        mine: PartialDate | None = getattr(record, name)
        theirs: PartialDate | None = getattr(statement, name)
        if mine is None and theirs is None:
            continue
        if mine is None:
            findings.append(
                Finding("difference", record.key, member.qid, check, "", str(theirs), "not ours")
            )
        elif theirs is None:
            findings.append(
                Finding("missing", record.key, member.qid, check, str(mine), "", "no qualifier")
            )
            lacking[name] = mine
        elif mine.agrees(theirs):
            findings.append(Finding("agree", record.key, member.qid, check, str(mine), str(theirs)))
        else:
            findings.append(
                Finding("difference", record.key, member.qid, check, str(mine), str(theirs))
            )
    if not lacking:
        return findings, None
    addition = _addition(record, member, lacking.get("start"), lacking.get("end"), False, existing)
    return findings, addition


def _addition(
    record: OurRole,
    member: Resource,
    start: PartialDate | None,
    end: PartialDate | None,
    new_statement: bool,
    existing: int,
) -> Addition:
    assert member.qid is not None
    return Addition(
        subject=record.key,
        member_qid=member.qid,
        member_label=member.label,
        role=record.role,
        start=record.start if new_statement else start,
        end=record.end if new_statement else end,
        url=record.url,
        new_statement=new_statement,
        existing=existing,
    )


# ---------------------------------------------------------------------------------------
#   The check
# ---------------------------------------------------------------------------------------


def check(
    settings: Settings,
    *,
    cica_qid: str | None = None,
    observer_qid: str | None = None,
    client: WikidataClient | None = None,
) -> Report:
    """Compare our links, codes, labels and CICA memberships with Wikidata's."""
    for given in (cica_qid, observer_qid):
        if given is not None and not QID.match(given):
            raise ValueError(f"{given!r} is not a Wikidata item ID (Q followed by digits)")
    engine = with_engine(settings)
    try:
        resources, roles = load_resources(engine), load_roles(engine)
    finally:
        engine.close()
    if client is not None:
        return compare(resources, roles, client, cica_qid=cica_qid, observer_qid=observer_qid)
    client = WikidataClient.from_settings(settings)
    try:
        return compare(resources, roles, client, cica_qid=cica_qid, observer_qid=observer_qid)
    finally:
        client.session.close()


def compare(
    resources: Sequence[Resource],
    roles: Sequence[OurRole],
    client: WikidataClient,
    *,
    cica_qid: str | None = None,
    observer_qid: str | None = None,
) -> Report:
    linked = [r for r in resources if r.qid]
    unlinked = [r for r in resources if not r.qid]
    findings: list[Finding] = []
    if linked:
        rows = client.select(items_query(sorted({r.qid for r in linked if r.qid}, key=_qnum)))
        findings += compare_items(linked, rows)
    names = [n for r in unlinked for n in candidate_names(r)]
    candidate_rows = client.select(candidates_query(names)) if names else []
    candidates = match_candidates(unlinked, candidate_rows)
    link = next((r.qid for r in resources if r.iri == CICA_IRI and r.qid), None)
    known = cica_qid or link
    found_by = "option" if cica_qid else "link" if link else "label"
    cica, statements = parse_memberships(client.select(membership_query(known)), known, found_by)
    additions: list[Addition] = []
    if cica is None:
        findings.append(
            Finding(
                "missing",
                "organization/CICA",
                known or "",
                "CICA's item",
                CICA_LABELS[1],
                "",
                "no Wikidata item found"
                + (" with that QID" if known else " with that English label or alias")
                + "; memberships not compared",
            )
        )
    else:
        member_findings, additions = compare_memberships(resources, roles, statements, observer_qid)
        findings += member_findings
    return Report(client.endpoint, cica, findings, candidates, additions, client.requests_made)


def _qnum(qid: str) -> int:
    return int(qid[1:])


# ---------------------------------------------------------------------------------------
#   QuickStatements
# ---------------------------------------------------------------------------------------


def quickstatements(report: Report, observer_qid: str | None = None) -> tuple[list[str], int]:
    """QuickStatements v1 lines for what Wikidata lacks, and the exit code (2 when CICA's
    item is unknown). Lines starting with # are notes for the reader, not commands."""
    if report.cica is None:
        return [
            "# CICA's Wikidata item is unknown (no item has its English label or alias); "
            "give --cica-qid Q… to write QuickStatements"
        ], 2
    cica = report.cica.qid
    lines = [f"# QuickStatements v1: P463 (member of) {cica} statements that Wikidata lacks"]
    if not report.additions:
        return lines + ["# nothing to add: Wikidata has every membership and date we have"], 0
    new_items: set[str] = set()
    for addition in report.additions:
        command = qs_command(addition, cica, observer_qid)
        reason = _blocked(addition, observer_qid, new_items)
        if reason:
            lines.append(f"# not emitted ({reason}): {command}")
            continue
        if addition.new_statement:
            new_items.add(addition.member_qid)
        lines.append(command)
    return lines, 0


def qs_command(addition: Addition, cica: str, observer_qid: str | None) -> str:
    parts = [addition.member_qid, "P463", cica]
    if addition.new_statement and addition.role == "observer":
        parts += ["P2868", observer_qid or "<observer>"]
    if addition.start:
        parts += ["P580", addition.start.quickstatements()]
    if addition.end:
        parts += ["P582", addition.end.quickstatements()]
    if addition.url:
        parts += ["S854", '"' + addition.url.replace('"', "%22") + '"']
    return "\t".join(parts)


def _blocked(
    addition: Addition,
    observer_qid: str | None,
    new_items: set[str],
) -> str:
    """Why a command must be added by hand instead ("" if it can go to QuickStatements).
    QuickStatements v1 adds qualifiers to an existing statement with the same value instead
    of creating a second one, so an item gets at most one new P463 statement to CICA."""
    qid = addition.member_qid
    if addition.new_statement and addition.role == "observer" and observer_qid is None:
        return 'no verified QID for the role "observer" as P2868 value; give --observer-qid'
    if addition.new_statement and qid in new_items:
        return (
            f"{qid} gets a P463 statement to CICA above; QuickStatements v1 would merge "
            "into it: add by hand"
        )
    if addition.new_statement and addition.existing:
        return (
            f"{qid} already has a P463 statement to CICA; QuickStatements v1 would merge "
            "into it: add by hand"
        )
    if not addition.new_statement and addition.existing != 1:
        return f"{qid} has several P463 statements to CICA: add the qualifiers by hand"
    return ""


# ---------------------------------------------------------------------------------------
#   Rendering
# ---------------------------------------------------------------------------------------


def table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    widths = [max([len(h)] + [len(r[i]) for r in rows]) for i, h in enumerate(headers)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True))]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
    return "\n".join(line.rstrip() for line in lines)


def links_json(resources: Sequence[Resource]) -> str:
    items = [
        {
            "resource": r.iri,
            "kind": r.kind,
            "label": r.label,
            "wikidata": WD + r.qid if r.qid else None,
            "qid": r.qid,
            "status": "linked" if r.qid else "missing",
        }
        for r in resources
    ]
    linked = sum(1 for r in resources if r.qid)
    doc = {"linked": linked, "missing": len(resources) - linked, "resources": items}
    return json.dumps(doc, indent=2, ensure_ascii=False)


def links_table(resources: Sequence[Resource]) -> str:
    rows = [[r.kind, r.key, r.label, r.qid or "missing"] for r in resources]
    linked = sum(1 for r in resources if r.qid)
    summary = f"{linked} linked, {len(resources) - linked} missing"
    return table(["KIND", "RESOURCE", "LABEL", "WIKIDATA"], rows) + "\n" + summary


def report_json(report: Report) -> str:
    doc = {
        "endpoint": report.endpoint,
        "cica_item": None
        if report.cica is None
        else {
            "qid": report.cica.qid,
            "label": report.cica.label,
            "found_by": report.cica.found_by,
            "others": list(report.cica.others),
        },
        "summary": {status: report.count(status) for status in STATUS_ORDER},
        "exit_code": report.exit_code,
        "requests": report.requests,
        "findings": [f.__dict__ for f in _sorted(report.findings)],
        "candidates": {
            key: [c.__dict__ for c in found] for key, found in report.candidates.items()
        },
        "missing_statements": [
            {
                **a.__dict__,
                "start": str(a.start) if a.start else None,
                "end": str(a.end) if a.end else None,
            }
            for a in report.additions
        ],
    }
    return json.dumps(doc, indent=2, ensure_ascii=False)


def _sorted(findings: Sequence[Finding]) -> list[Finding]:
    return sorted(findings, key=lambda f: STATUS_ORDER.index(f.status))


def report_table(report: Report) -> str:
    lines = [f"Wikidata check against {report.endpoint}"]
    if report.cica is None:
        lines.append("CICA item: not found on Wikidata (memberships not compared)")
    else:
        how = {"option": "given by --cica-qid", "link": "our owl:sameAs", "label": "English label"}
        lines.append(
            f'CICA item: {report.cica.qid} "{report.cica.label}" ({how[report.cica.found_by]})'
        )
        if report.cica.others:
            lines.append(f"  other items with CICA's label: {', '.join(report.cica.others)}")
    lines.append("")
    rows = [
        [f.status, f.subject, f.item, f.check, f.ours, f.theirs, f.note]
        for f in _sorted(report.findings)
    ]
    headers = ["STATUS", "SUBJECT", "ITEM", "CHECK", "OURS", "WIKIDATA", "NOTE"]
    lines += [table(headers, rows), ""]
    lines.append("Candidates for resources without a Wikidata link:")
    for key, found in report.candidates.items():
        if not found:
            lines.append(f"  {key}: none found")
        for c in found:
            text = f'{c.qid} "{c.label}"' + (f" ({c.description})" if c.description else "")
            lines.append(f'  {key}: {text}, {c.via} "{c.matched}"')
    lines.append("")
    counts = ", ".join(f"{report.count(s)} {s}" for s in STATUS_ORDER)
    lines.append(f"{counts}; {report.requests} request(s) to Wikidata")
    return "\n".join(lines)
