"""Synthetic CICA-shaped data at a target size, deterministic from a seed.

    python -m benchmarks.generate --triples 100k --seed 1 --out /tmp/data-100k [--quiet]

Writes Turtle files (one per kind, as data/ does) that `cica-kg build --data-dir OUT
--ontology-dir ontology` accepts: every node has an IRI, one English label and a source,
every date its precision, roles do not overlap, observer statuses that became memberships
end on the membership's start and point to it, chairmanships of one organisation follow each
other, wikidata links and ISO codes are unique. Turtle writing: turtle.py.

Shape: CICA itself has up to 676 states (two-letter codes run out there) as members,
observers, former observers and chairs, plus observer organisations and a small CBM
catalogue with coordinations; the bulk of a large dataset is many other international
organisations, each with its own members, observers (states and organisations) and chairs,
all citing a pool of sources. So queries about CICA touch a roughly constant share while
the store grows, as they would in a graph of many organisations."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import time
from pathlib import Path

from cica_kg.progress import SILENT, Progress, Stage

from .turtle import (
    FIRST_DAY,
    ID,
    LAST_DAY,
    UPPER,
    Writer,
    date_pairs,
    lit,
    org_key,
    parse_size,
    rand_day,
)


class Generator:
    def __init__(self, target: int, seed: int, out: Path, stage: Stage | None = None):
        self.target, self.rng, self.out = target, random.Random(seed), out
        self.stage = stage  # progress: the triples written, of the target
        out.mkdir(parents=True, exist_ok=True)
        for old in out.glob("*.ttl"):
            old.unlink()
        names = [
            "sources",
            "states",
            "organizations",
            "places",
            "memberships",
            "observers",
            "chairs",
            "summits",
            "ministerials",
            "documents",
            "cbm-catalogue",
        ]
        self.w = {n: Writer(out / f"{n}.ttl") for n in names}
        self.counts: dict[str, int] = {}

    @property
    def triples(self) -> int:
        return sum(w.triples for w in self.w.values())

    def sources_of(self, k: int | None = None) -> str:
        k = k or self.rng.choice((1, 1, 2, 2, 3))
        picks = {self.rng.randrange(self.n_sources) for _ in range(k)}
        return " , ".join(f"<{ID}source/src-{i}>" for i in sorted(picks))

    def count(self, kind: str, n: int = 1) -> None:
        self.counts[kind] = self.counts.get(kind, 0) + n

    def report(self) -> None:
        if self.stage is not None:
            organisations = self.counts.get("organization", 0)
            self.stage.update({"triples": self.triples, "organisations": organisations})

    # -- fixed parts -----------------------------------------------------------------

    def write_sources(self) -> None:
        w = self.w["sources"]
        for i in range(self.n_sources):
            day = rand_day(self.rng, FIRST_DAY, LAST_DAY)
            pairs = [
                ("a", "cica:Source"),
                ("rdfs:label", lit(f"Synthetic source {i} ({day.year})")),
                ("dcterms:title", lit(f"Report number {i} on regional organisations")),
                ("schema:url", f"<https://example.org/source/{i}>"),
                ("dc:publisher", f'"Publisher {i % 97}"'),
            ]
            pairs += date_pairs("dcterms:date", "cica:datePrecision", day, self.rng)
            w.node(f"{ID}source/src-{i}", pairs)
        self.count("source", self.n_sources)

    def write_states(self) -> None:
        w, cities = self.w["states"], self.w["places"]
        codes2 = [a + b for a in UPPER for b in UPPER]
        self.rng.shuffle(codes2)
        self.states: list[str] = []
        self.cities: list[str] = []
        for i in range(self.n_states):
            code2 = codes2[i]
            code3 = code2 + UPPER[i % 26]
            iri = f"{ID}state/{code3}"
            pairs = [
                ("a", "cica:State"),
                ("rdfs:label", lit(f"State {code3}")),
                ("cica:iso3166Alpha2", f'"{code2}"'),
                ("cica:iso3166Alpha3", f'"{code3}"'),
                ("owl:sameAs", f"<http://www.wikidata.org/entity/Q{1000 + i}>"),
                ("cica:sameAsSource", self.sources_of(1)),  # a link names its source
                ("dcterms:source", self.sources_of()),
            ]
            if i % 3 == 0:
                pairs.append(("skos:altLabel", lit(f"Republic of {code3}")))
            w.node(iri, pairs)
            self.states.append(iri)
            city = f"{ID}city/capital-of-{code3.lower()}"
            cities.node(
                city,
                [
                    ("a", "cica:City"),
                    ("rdfs:label", lit(f"Capital of {code3}")),
                    ("owl:sameAs", f"<http://www.wikidata.org/entity/Q{5_000_000 + i}>"),
                    ("cica:sameAsSource", self.sources_of(1)),  # a link names its source
                    ("schema:containedInPlace", f"<{iri}>"),
                    ("dcterms:source", self.sources_of(1)),
                ],
            )
            self.cities.append(city)
        self.count("state", self.n_states)
        self.count("city", self.n_states)

    def write_org(self, i: int, key: str, label: str) -> str:
        iri = f"{ID}organization/{key}"
        self.w["organizations"].node(
            iri,
            [
                ("a", "cica:InternationalOrganization"),
                ("rdfs:label", lit(label)),
                ("cica:acronym", f'"{key}"'),
                ("owl:sameAs", f"<http://www.wikidata.org/entity/Q{2_000_000 + i}>"),
                ("cica:sameAsSource", self.sources_of(1)),  # a link names its source
                ("dcterms:source", self.sources_of()),
            ],
        )
        self.count("organization")
        return iri

    def write_meetings(self) -> None:
        """Summits and ministerial meetings of CICA, each adopting a document; the last
        summit is planned."""
        self.summits: list[tuple[str, dt.date]] = []
        self.ministerials: list[tuple[str, dt.date]] = []
        for kind, n, out in (
            ("summit", self.n_summits, self.summits),
            ("ministerial", self.n_summits, self.ministerials),
        ):
            days = sorted(rand_day(self.rng, dt.date(1999, 1, 1), LAST_DAY) for _ in range(n))
            for k, day in enumerate(days, start=1):
                planned = kind == "summit" and k == n
                if planned:
                    day = dt.date(2027, 10, 1)
                iri = f"{ID}{kind}/{k}"
                host = self.rng.randrange(self.n_states)
                end = day + dt.timedelta(days=self.rng.choice((0, 1, 2)))
                doc = f"{ID}document/{kind}-{k}-declaration-{day.year}"
                pairs = [
                    ("a", "cica:Summit" if kind == "summit" else "cica:MinisterialMeeting"),
                    ("rdfs:label", lit(f"{kind.title()} number {k}")),
                    ("cica:ordinal", str(k)),
                    ("cica:meetingType", "cica:regularMeeting"),
                    ("cica:eventStatus", "cica:planned" if planned else "cica:held"),
                    ("schema:startDate", f'"{day.isoformat()}"^^xsd:date'),
                    ("cica:startPrecision", "cica:dayPrecision"),
                    ("schema:endDate", f'"{end.isoformat()}"^^xsd:date'),
                    ("cica:endPrecision", "cica:dayPrecision"),
                    ("schema:location", f"<{self.cities[host]}>"),
                    ("cica:host", f"<{self.states[host]}>"),
                    ("dcterms:source", self.sources_of()),
                ]
                if not planned:
                    pairs += [
                        ("cica:adopted", f"<{doc}>"),
                        ("cica:outcome", lit(f"Outcome of {kind} {k}")),
                    ]
                    self.w["documents"].node(
                        doc,
                        [
                            ("a", "cica:Document"),
                            ("rdfs:label", lit(f"Declaration of {kind} {k}")),
                            ("dcterms:date", f'"{day.isoformat()}"^^xsd:date'),
                            ("cica:datePrecision", "cica:dayPrecision"),
                            ("cica:adoptedAt", f"<{iri}>"),
                            ("dcterms:source", self.sources_of(1)),
                        ],
                    )
                    self.count("document")
                    out.append((iri, day))
                self.w["summits" if kind == "summit" else "ministerials"].node(iri, pairs)
                self.count(kind)

    def write_catalogue(self, cica: str) -> None:
        w = self.w["cbm-catalogue"]
        scheme = f"{ID}scheme/cbm-catalogue"
        w.node(
            scheme,
            [
                ("a", "skos:ConceptScheme"),
                ("rdfs:label", lit("CBM Catalogue")),
                ("dcterms:source", self.sources_of(1)),
            ],
        )
        for d in range(5):
            dim = f"{ID}dimension/dimension-{d}"
            w.node(
                dim,
                [
                    ("a", "cica:Dimension"),
                    ("rdfs:label", lit(f"Dimension {d}")),
                    ("skos:inScheme", f"<{scheme}>"),
                    ("dcterms:source", self.sources_of(1)),
                ],
            )
            for a in range(4):
                area = f"{ID}priority-area/area-{d}-{a}"
                w.node(
                    area,
                    [
                        ("a", "cica:PriorityArea"),
                        ("rdfs:label", lit(f"Priority area {d}.{a}")),
                        ("skos:inScheme", f"<{scheme}>"),
                        ("skos:broader", f"<{dim}>"),
                        ("dcterms:source", self.sources_of(1)),
                    ],
                )
                for role in ("coordinator", "co-coordinator"):
                    state = self.cica_members[self.rng.randrange(len(self.cica_members))]
                    code = state.rsplit("/", 1)[1]
                    day = rand_day(self.rng, dt.date(2015, 1, 1), LAST_DAY)
                    pairs = [
                        ("a", "cica:Membership"),
                        ("rdfs:label", lit(f"{code}: {role} of area {d}.{a}")),
                        ("org:member", f"<{state}>"),
                        ("org:organization", f"<{cica}>"),
                        (
                            "org:role",
                            "cica:coordinatorRole"
                            if role == "coordinator"
                            else "cica:coCoordinatorRole",
                        ),
                        ("cica:priorityArea", f"<{area}>"),
                        ("dcterms:source", self.sources_of(1)),
                    ]
                    pairs += date_pairs("cica:reportedOn", "cica:reportedPrecision", day, self.rng)
                    w.node(f"{ID}coordination/area-{d}-{a}-{code}-{role}-{day.year}", pairs)
                    self.count("coordination")

    # -- roles -----------------------------------------------------------------------

    def role(
        self,
        file: str,
        iri: str,
        label: str,
        member: str,
        org: str,
        role: str,
        start: dt.date,
        end: dt.date | None,
        extra: list[tuple[str, str]] | None = None,
    ) -> None:
        pairs = [
            ("a", "cica:Membership"),
            ("rdfs:label", lit(label)),
            ("org:member", f"<{member}>"),
            ("org:organization", f"<{org}>"),
            ("org:role", role),
            ("schema:startDate", f'"{start.isoformat()}"^^xsd:date'),
            ("cica:startPrecision", "cica:dayPrecision"),
        ]
        if end is not None:
            pairs += [
                ("schema:endDate", f'"{end.isoformat()}"^^xsd:date'),
                ("cica:endPrecision", "cica:dayPrecision"),
            ]
        if self.rng.random() < 0.1:
            pairs += [
                ("cica:uncertain", "true"),
                ("skos:note", lit("The start is the first attestation; it may be earlier.")),
            ]
        pairs += extra or []
        pairs.append(("dcterms:source", self.sources_of()))
        self.w[file].node(iri, pairs)

    def holder_history(
        self, org: str, okey: str, holder: str, hkey: str, lo: dt.date, meetings: bool
    ) -> bool:
        """Observer -> member, member only, or observer only (maybe ended): never
        overlapping. Returns True when the holder is a full member at the end."""
        rng = self.rng
        r = rng.random()
        t0 = rand_day(rng, lo, LAST_DAY - dt.timedelta(days=400))
        began = []
        if meetings and self.summits and rng.random() < 0.5:
            began = [("cica:beganAt", f"<{rng.choice(self.summits)[0]}>")]
        mem_iri = f"{ID}membership/{okey}-{hkey}"
        if r < 0.3:  # observer, then member
            t1 = rand_day(rng, t0 + dt.timedelta(days=30), LAST_DAY)
            self.role(
                "observers",
                f"{ID}observer-status/{okey}-{hkey}-{t0.year}",
                f"{hkey}: observer of {okey} ({t0.year}-{t1.year})",
                holder,
                org,
                "cica:observerRole",
                t0,
                t1,
                [("cica:succeededBy", f"<{mem_iri}>")],
            )
            self.role(
                "memberships",
                mem_iri,
                f"{hkey}: full member of {okey}",
                holder,
                org,
                "cica:memberRole",
                t1,
                None,
                began,
            )
            self.count("observer-status")
            self.count("membership")
            return True
        if r < 0.75:  # member (rarely ended)
            end = None
            if rng.random() < 0.1:
                end = rand_day(rng, t0 + dt.timedelta(days=30), LAST_DAY)
            self.role(
                "memberships",
                mem_iri,
                f"{hkey}: full member of {okey}",
                holder,
                org,
                "cica:memberRole",
                t0,
                end,
                began,
            )
            self.count("membership")
            return end is None
        # observer only, sometimes ended; sometimes a second observer status later
        end = rand_day(rng, t0 + dt.timedelta(days=30), LAST_DAY) if rng.random() < 0.4 else None
        self.role(
            "observers",
            f"{ID}observer-status/{okey}-{hkey}-{t0.year}",
            f"{hkey}: observer of {okey} (since {t0.year})",
            holder,
            org,
            "cica:observerRole",
            t0,
            end,
        )
        self.count("observer-status")
        if end is not None and end < LAST_DAY - dt.timedelta(days=60) and rng.random() < 0.3:
            t2 = rand_day(rng, end + dt.timedelta(days=1), LAST_DAY)
            self.role(
                "observers",
                f"{ID}observer-status/{okey}-{hkey}-{t2.year}-again",
                f"{hkey}: observer of {okey} again (since {t2.year})",
                holder,
                org,
                "cica:observerRole",
                t2,
                None,
            )
            self.count("observer-status")
        return False

    def chairs(self, org: str, okey: str, candidates: list[str], n: int, meetings: bool) -> None:
        rng = self.rng
        days = sorted({rand_day(rng, dt.date(1999, 1, 1), LAST_DAY) for _ in range(n + 1)})
        terms = list(zip(days[:-1], days[1:], strict=True)) + [(days[-1], None)]
        iris = []
        for start, _end in terms:
            state = rng.choice(candidates)
            iris.append(f"{ID}chairmanship/{okey}-{state.rsplit('/', 1)[1]}-{start.isoformat()}")
        for k, (start, end) in enumerate(terms):
            state = iris[k].split("/chairmanship/")[1].split("-")[-4]
            extra = []
            if k + 1 < len(terms):
                extra.append(("cica:succeededBy", f"<{iris[k + 1]}>"))
            if meetings and self.summits:
                extra.append(("cica:beganAt", f"<{rng.choice(self.summits)[0]}>"))
            self.role(
                "chairs",
                iris[k],
                f"{state}: chair of {okey} ({start.year})",
                f"{ID}state/{state}",
                org,
                "cica:chairRole",
                start,
                end,
                extra,
            )
            self.count("chairmanship")

    # -- the whole -------------------------------------------------------------------

    def run(self) -> dict[str, object]:
        t = self.target
        self.n_sources = max(40, t // 70)
        self.n_states = max(30, min(676, t // 700))
        self.n_summits = max(7, min(300, t // 20_000))
        self.write_sources()
        self.write_states()
        self.write_meetings()
        self.report()
        cica = self.write_org(
            0, "CICA", "Conference on Interaction and Confidence Building Measures in Asia"
        )
        # CICA: every state has a history; organisations observe.
        self.cica_members = []
        for s in self.states:
            code = s.rsplit("/", 1)[1]
            if self.rng.random() < 0.85:
                if self.holder_history(cica, "CICA", s, code, dt.date(1999, 9, 14), True):
                    self.cica_members.append(s)
        if not self.cica_members:
            self.cica_members = self.states[:1]
        self.chairs(cica, "CICA", self.states, max(6, min(40, self.n_states // 10)), True)
        self.write_catalogue(cica)
        self.report()
        orgs: list[tuple[str, str]] = []  # other organisations until the target is reached
        i = 1
        while self.triples < t:
            key = org_key(i)
            iri = self.write_org(i, key, f"Organisation {key}")
            orgs.append((iri, key))
            n_members = self.rng.randint(8, 50)
            holders = self.rng.sample(self.states, min(n_members, len(self.states)))
            for h in holders:
                if self.triples >= t:
                    break
                self.holder_history(iri, key, h, h.rsplit("/", 1)[1], FIRST_DAY, False)
            # some organisations observe others (and CICA)
            if len(orgs) > 1 and self.rng.random() < 0.5:
                other_iri, other_key = orgs[self.rng.randrange(len(orgs) - 1)]
                self.holder_history(iri, key, other_iri, other_key, FIRST_DAY, False)
            if len(orgs) <= 60 and self.rng.random() < 0.5:
                self.holder_history(cica, "CICA", iri, key, dt.date(1999, 9, 14), False)
            if self.triples < t:
                self.chairs(iri, key, holders or self.states, self.rng.randint(2, 12), False)
            i += 1
            self.report()
        for w in self.w.values():
            w.close()
        return {
            "target_triples": t,
            "triples": self.triples,
            "files": {n: w.triples for n, w in self.w.items()},
            "entities": dict(sorted(self.counts.items())),
        }


def generate(
    target: int, out: Path, seed: int = 1, progress: Progress = SILENT
) -> dict[str, object]:
    """Write the data (`progress`: the triples written, of the target, and the time left)."""
    started = time.perf_counter()
    totals: dict[str, float | None] = {"triples": target}
    with progress.stage("generate", "triples", "organisations", totals=totals) as stage:
        meta = Generator(target, seed, out, stage).run()
        stage.update(totals={"triples": None})  # the last organisation may overshoot a bit
    meta["seed"] = seed
    meta["seconds"] = round(time.perf_counter() - started, 2)
    meta["bytes"] = sum(p.stat().st_size for p in out.glob("*.ttl"))
    (out / "generated.json").write_text(json.dumps(meta, indent=1) + "\n")
    return meta


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--triples", required=True, help="target size: 10k, 100k, 1M, 10M")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--quiet", action="store_true", help="no progress on stderr")
    a = ap.parse_args()
    with Progress(quiet=a.quiet) as progress:
        meta = generate(parse_size(a.triples), a.out, a.seed, progress)
    print(json.dumps(meta, indent=1))


if __name__ == "__main__":
    main()
