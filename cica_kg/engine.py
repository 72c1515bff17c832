"""Temporary: the query engine is now the package `cica_kg.query`. This keeps the old import
in wikidata.py working until that module imports from `.query`; delete it then."""

from .query import Engine, InlinePool

__all__ = ["Engine", "InlinePool"]
