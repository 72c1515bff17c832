"""Find resources by their labels and alternative names, forgiving case, diacritics and
punctuation: `turkiye` finds Türkiye, `nur-sultan` finds Astana."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

LABELS_QUERY = """
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
SELECT ?resource ?label ?name WHERE {
  ?resource rdfs:label ?label .
  FILTER(STRSTARTS(STR(?resource), "https://w3id.org/cica-kg/id/"))
  FILTER(LANGMATCHES(LANG(?label), "en"))
  { ?resource rdfs:label ?name } UNION { ?resource skos:altLabel ?name }
}
"""

# Kinds shown first when scores tie: what people look for most.
KIND_RANK = {"state": 0, "organization": 1, "summit": 2, "ministerial": 2, "city": 3}


def normalize(text: str) -> str:
    """Lower case, no diacritics, words separated by single spaces (ı and İ as i)."""
    text = text.replace("ı", "i").replace("İ", "I")
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(re.findall(r"[a-z0-9]+", stripped.casefold()))


@dataclass(frozen=True)
class Hit:
    iri: str
    label: str
    matched: str  # the name that matched (label or alternative name)
    kind: str  # the IRI's kind segment: state, organization, summit...
    score: int


@dataclass(frozen=True)
class Entry:
    iri: str
    label: str
    name: str
    key: str  # normalize(name)


class SearchIndex:
    def __init__(self, rows: list[tuple[str, str, str]]):
        """rows: (resource IRI, English label, a name of it)."""
        self.entries = [Entry(iri, label, name, normalize(name)) for iri, label, name in rows]

    def search(self, query: str, limit: int = 50) -> list[Hit]:
        q = normalize(query)
        if not q:
            return []
        best: dict[str, Hit] = {}
        for e in self.entries:
            score = _score(q, e.key)
            if score and (e.iri not in best or score > best[e.iri].score):
                kind = e.iri.split("/id/", 1)[-1].split("/", 1)[0]
                best[e.iri] = Hit(e.iri, e.label, e.name, kind, score)
        hits = sorted(
            best.values(), key=lambda h: (-h.score, KIND_RANK.get(h.kind, 9), h.label.casefold())
        )
        return hits[:limit]


def _score(q: str, key: str) -> int:
    """Exact name > name starts with the query > a word starts with it > contains it > all
    query words occur."""
    if key == q:
        return 100
    if key.startswith(q):
        return 80
    if (" " + key).find(" " + q) >= 0:
        return 60
    if q in key.replace(" ", "") or q in key:
        return 40
    words = q.split()
    if len(words) > 1 and all(w in key for w in words):
        return 20
    return 0
