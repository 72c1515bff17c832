"""The values of the Wikidata tools: our resources and roles, Wikidata's statements, the
findings of a check and the additions QuickStatements would make."""

from __future__ import annotations

import re
from dataclasses import dataclass

Row = dict[str, dict[str, str]]  # one SPARQL JSON binding

CICA_KEY = "organization/CICA"  # CICA's own resource, by its key
CICA_LABELS = (
    "Conference on Interaction and Confidence-Building Measures in Asia",
    "Conference on Interaction and Confidence Building Measures in Asia",
)
KIND_ORDER = ("state", "organization", "city")
STATUS_ORDER = ("difference", "missing", "info", "agree")
QID = re.compile(r"^Q[1-9][0-9]*$")


# ---------------------------------------------------------------------------------------
#   Dates
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


def span(start: PartialDate | None, end: PartialDate | None) -> str:
    """A period as text: "A to B", "since A", "until B", or "" without dates."""
    if start and end:
        return f"{start} to {end}"
    if start:
        return f"since {start}"
    if end:
        return f"until {end}"
    return ""


# ---------------------------------------------------------------------------------------
#   Ours, theirs, and the report
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Resource:
    """A state, organisation or city of our graph, with its Wikidata QID if linked."""

    iri: str
    key: str  # the IRI without the id/ namespace, e.g. state/KAZ
    kind: str
    label: str
    alt_labels: tuple[str, ...] = ()
    acronym: str | None = None
    iso2: str | None = None
    iso3: str | None = None
    qid: str | None = None


@dataclass(frozen=True)
class OurRole:
    """One of our full memberships or observer statuses in CICA."""

    iri: str
    key: str  # the IRI without the id/ namespace
    member: str
    role: str  # "member" | "observer"
    start: PartialDate | None
    end: PartialDate | None
    url: str | None  # the reference URL for Wikidata (S854)


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
        return f"{role}{span(self.start, self.end) or 'no dates'}"


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
