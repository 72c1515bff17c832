"""The queries sent to the Wikidata Query Service, as .rq templates beside this module.

Each template has one place, VALUES_MARK inside a VALUES clause, where the data block goes:
string literals escaped by sparql_string, or wd: items. Nothing else is formatted into the
text, so the template files are exactly what WDQS receives, apart from that block."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from ..sparql_files import query_text
from .model import CICA_LABELS

VALUES_MARK = "%%VALUES%%"


def sparql_string(text: str) -> str:
    """An English SPARQL string literal, escaped for a quoted "…" string."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"@en'


def _item(qid: str) -> str:
    return f"wd:{qid}"


def _filled(name: str, terms: Iterable[str]) -> str:
    template = query_text(__package__ or "cica_kg.wikidata", name)
    before, mark, after = template.partition(VALUES_MARK)
    assert mark and VALUES_MARK not in after, f"{name}: needs exactly one {VALUES_MARK}"
    return before + " ".join(terms) + after


def items_query(qids: Sequence[str]) -> str:
    """One query for all linked items: English label and aliases, ISO codes, types."""
    return _filled("wdqs-items.rq", (_item(q) for q in qids))


def candidates_query(names: Iterable[str]) -> str:
    """Items whose English label or alias is exactly one of `names`."""
    return _filled("wdqs-candidates.rq", (sparql_string(n) for n in sorted(set(names))))


def membership_query(cica_qid: str | None) -> str:
    """P463 statements to CICA's item (found by its English label or alias unless known),
    with P2868 roles and P580/P582 qualifiers at their precision."""
    if cica_qid:
        return _filled("wdqs-memberships-by-qid.rq", [_item(cica_qid)])
    return _filled("wdqs-memberships-by-label.rq", (sparql_string(n) for n in CICA_LABELS))
