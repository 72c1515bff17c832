"""Find resources by their labels and alternative names, forgiving case, diacritics and
punctuation: `turkiye` finds Türkiye, `nur-sultan` finds Astana."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from ..namespaces import Iris
from ..sparql_files import query_text


def labels_query(iris: Iris) -> str:
    """The (resource, English label, name) rows the index is built from."""
    return iris.rebase(query_text(__package__ or "cica_kg.browse", "search-labels.rq"))


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
    def __init__(self, rows: list[tuple[str, str, str]], id_base: str):
        """rows: (resource IRI, English label, a name of it); `id_base` (Iris.id) precedes
        the kind segment of the IRIs."""
        self.id_base = id_base
        self.entries = [Entry(iri, label, name, normalize(name)) for iri, label, name in rows]

    def search(self, query: str, limit: int = 50) -> list[Hit]:
        q = normalize(query)
        if not q:
            return []
        best: dict[str, Hit] = {}
        for e in self.entries:
            score = _score(q, e.key)
            if score and (e.iri not in best or score > best[e.iri].score):
                kind = e.iri.removeprefix(self.id_base).split("/", 1)[0]
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
