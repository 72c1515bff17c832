"""A canned query's rows straight from a store, for tests that check answers without a
server: parameters bound as pyoxigraph substitutions and, as a remote engine gets them,
substituted into the text (both must agree)."""

from __future__ import annotations

import pyoxigraph as ox

from cica_kg import canned, resources
from cica_kg.namespaces import PREFIXES
from cica_kg.query.lexer import substitute

CATALOGUE = canned.load_catalogue(resources.queries_dir())
Rows = list[dict[str, str]]


def rows_of(result: ox.QuerySolutions) -> Rows:
    names = [v.value for v in result.variables]
    return [
        {n: t.value for n, t in zip(names, row, strict=True) if t is not None} for row in result
    ]


def ask(store: ox.Store, name: str, **params: str) -> Rows:
    """A canned query's rows, with its parameters bound as pyoxigraph substitutions and,
    as a remote engine gets them, substituted into the text: both must agree."""
    query = CATALOGUE[name]
    bound = canned.bind(query, params)
    options = {"prefixes": PREFIXES, "use_default_graph_as_union": True}
    by_term = rows_of(
        store.query(
            query.text, substitutions={ox.Variable(k): v for k, v in bound.items()}, **options
        )
    )
    as_text = substitute(query.text, {k: str(v) for k, v in bound.items()})
    assert rows_of(store.query(as_text, **options)) == by_term, "text substitution disagrees"
    return by_term


def local(iri: str) -> str:
    return iri.rsplit("/", 1)[-1]
