"""Turtle writing for the generator: prefixes, literals, IRIs keyed by letters, dates and
their pairs, and a writer that counts triples (for progress)."""

from __future__ import annotations

import datetime as dt
import random
import string
from pathlib import Path
from typing import TextIO

ID = "https://w3id.org/cica-kg/id/"
PREFIXES = """@prefix cica:    <https://w3id.org/cica-kg/ontology#> .
@prefix dc:      <http://purl.org/dc/elements/1.1/> .
@prefix dcterms: <http://purl.org/dc/terms/> .
@prefix org:     <http://www.w3.org/ns/org#> .
@prefix owl:     <http://www.w3.org/2002/07/owl#> .
@prefix rdfs:    <http://www.w3.org/2000/01/rdf-schema#> .
@prefix schema:  <https://schema.org/> .
@prefix skos:    <http://www.w3.org/2004/02/skos/core#> .
@prefix xsd:     <http://www.w3.org/2001/XMLSchema#> .

"""
UPPER = string.ascii_uppercase
FIRST_DAY = dt.date(1993, 1, 1)
LAST_DAY = dt.date(2025, 6, 30)  # held meetings and role changes lie before this


def parse_size(text: str) -> int:
    """10k, 1M, 2.5M, 12000 -> int."""
    text = text.strip().lower()
    mult = {"k": 1_000, "m": 1_000_000, "g": 1_000_000_000}.get(text[-1:], 1)
    return int(float(text[:-1] if mult > 1 else text) * mult)


def size_label(n: int) -> str:
    for unit, div in (("M", 1_000_000), ("k", 1_000)):
        if n >= div and n % div == 0:
            return f"{n // div}{unit}"
    return str(n)


def letters(i: int, width: int) -> str:
    out = []
    for _ in range(width):
        i, r = divmod(i, 26)
        out.append(UPPER[r])
    return "".join(reversed(out))


def org_key(i: int) -> str:
    """Organisation acronyms may only hold letters and hyphens."""
    if i < 26**3:
        return "O" + letters(i, 3)
    return "O" + letters(i, 5)


class Writer:
    """Counts triples as it writes subject blocks."""

    def __init__(self, path: Path):
        self.fh: TextIO = open(path, "w", encoding="utf-8", buffering=1 << 20)
        self.fh.write(PREFIXES)
        self.triples = 0

    def node(self, iri: str, pairs: list[tuple[str, str]]) -> None:
        body = " ;\n    ".join(f"{p} {o}" for p, o in pairs)
        self.fh.write(f"<{iri}>\n    {body} .\n\n")
        self.triples += len(pairs)

    def close(self) -> None:
        self.fh.close()


def lit(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"@en'


def date_pairs(
    prop: str, prec_prop: str, day: dt.date, rng: random.Random
) -> list[tuple[str, str]]:
    r = rng.random()
    if r < 0.75:
        value, prec = day, "cica:dayPrecision"
    elif r < 0.9:
        value, prec = day.replace(day=1), "cica:monthPrecision"
    else:
        value, prec = day.replace(month=1, day=1), "cica:yearPrecision"
    return [(prop, f'"{value.isoformat()}"^^xsd:date'), (prec_prop, prec)]


def rand_day(rng: random.Random, lo: dt.date, hi: dt.date) -> dt.date:
    span = (hi - lo).days
    return lo + dt.timedelta(days=rng.randrange(max(1, span)))
