"""A stand-in Wikidata Query Service for the tests: answers each kind of query the Wikidata
tools send (linked items, candidates, memberships) with its fixture in
tests/fixtures/wikidata/."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from standin import Recorded, Reply

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "wikidata"
Docs = dict[str, dict[str, Any]]


def load_docs() -> Docs:
    return {
        name: json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))
        for name in ("items", "candidates", "memberships")
    }


def kind_of(query: str) -> str:
    first = query.splitlines()[0]
    for marker, kind in (("linked items", "items"), ("candidates", "candidates")):
        if marker in first:
            return kind
    assert "memberships" in first, first
    return "memberships"


class Wdqs:
    """A handler: the fixture for each kind of query, after `failures` (replies sent
    first, one per request)."""

    def __init__(
        self, docs: Docs, failures: list[Reply] | None = None, always: Reply | None = None
    ):
        self.docs, self.failures, self.always = docs, list(failures or []), always

    def __call__(self, rec: Recorded) -> Reply:
        if self.always is not None:
            return self.always
        if self.failures:
            return self.failures.pop(0)
        return Reply(body=json.dumps(self.docs[kind_of(rec.query)]).encode())
