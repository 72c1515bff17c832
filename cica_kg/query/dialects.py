"""What a remote engine does differently from the embedded store, and its answers put right
or refused: terms normalised (booleans), partial answers refused, queries it would answer
differently refused before they are sent. Nothing here gives a different answer: where an
engine cannot give the embedded store's, the user is told so (errors.EngineCannotAnswer).

Virtuoso 7 (found by its `Server:` header):
- writes computed booleans as the integers 1 and 0, and stored ones as "1"/"0"^^xsd:boolean;
- answers ASK as a one-cell table when asked for SPARQL JSON;
- cuts answers at its row cap (ResultSetMaxRows) with HTTP 200 and X-SPARQL-MaxRows, and,
  given a `timeout`, answers what it has (X-SQL-State: S1TAT);
- describes resources its own way (DESCRIBE) and runs SERVICE its own way."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pyoxigraph as ox

from .. import errors
from .columns import BOOLEAN, LOST, MIXED, Shape

XSD = "http://www.w3.org/2001/XMLSchema#"
XSD_BOOLEAN = XSD + "boolean"
# The integer types an engine may write a boolean as.
_INTEGERS = {XSD + "integer", XSD + "int", XSD + "long", XSD + "short"}


@dataclass(frozen=True)
class Dialect:
    """An engine's known differences; `name` is how messages call it."""

    name: str
    booleans_as_integers: bool = False
    describe: bool = True  # DESCRIBE answered as the embedded store does
    federation: bool = True  # SERVICE answered as the embedded store does
    timeout_param: str = ""  # a form field that bounds the engine's own work (milliseconds)

    def refuse(self, form: str | None, federated: bool, shape: Shape, what: str) -> None:
        """Raise EngineCannotAnswer for a query this engine would answer differently."""
        why = ""
        if form == "DESCRIBE" and not self.describe:
            why = "it describes resources its own way; ask with a CONSTRUCT query instead"
        elif federated and not self.federation:
            why = "it runs SERVICE (federated) calls its own way"
        elif self.booleans_as_integers:
            # SELECT columns are put right term by term; a CONSTRUCT's triples cannot be
            # told apart, nor can a boolean written as text.
            bad = {LOST} if form in ("SELECT", "ASK") else {LOST, MIXED, BOOLEAN}
            lost = sorted(v for v, k in shape.kinds.items() if k in bad)
            if lost:
                why = (
                    f"it writes booleans as 1 and 0, and ?{lost[0]} "
                    + ("turns a boolean into text" if shape.kind(lost[0]) == LOST
                       else "puts a computed boolean in a triple")
                    + "; write the boolean itself, or ask with SELECT"
                )  # fmt: skip
        if why:
            raise errors.EngineCannotAnswer(f"{self.name} cannot answer {what} as the "
                                            f"embedded store does: {why}")  # fmt: skip

    def term(self, value: dict[str, Any] | None, kind: str, variable: str, what: str) -> Any:
        """A pyoxigraph term from a SPARQL JSON term of a column of `kind`."""
        if value is None:
            return None
        datatype = value.get("datatype")
        if datatype in _INTEGERS and value["value"] in ("0", "1") and self.booleans_as_integers:
            if kind == BOOLEAN:
                return ox.Literal(
                    "true" if value["value"] == "1" else "false",
                    datatype=ox.NamedNode(XSD_BOOLEAN),
                )
            if kind == MIXED:
                raise errors.EngineCannotAnswer(
                    f"{self.name} cannot answer {what} as the embedded store does: it writes "
                    f"booleans as 1 and 0, and ?{variable} holds booleans and other values, "
                    "so its 1 or 0 could be either"
                )
        return term(value)

    def check_whole(self, headers: Any, what: str, timed: bool = False) -> None:
        """Raise PartialAnswer when the engine says its answer was cut (QueryTimeout when
        it was cut at the time limit it was given: `timed`)."""
        state = headers.get("X-SQL-State", "")
        if state == "S1TAT":  # "Returning incomplete results, query interrupted by timeout"
            if timed:
                raise errors.QueryTimeout(
                    f"{what} ran past the time limit (query_timeout) on {self.name}, which "
                    "stopped it"
                )
            raise errors.PartialAnswer(
                f"{self.name} stopped {what} at the time limit and sent a partial answer "
                "(X-SQL-State: S1TAT); it is refused"
            )
        cap = headers.get("X-SPARQL-MaxRows")
        if cap:
            raise errors.PartialAnswer(
                f"{self.name} cut its answer to {what} at its row cap of {cap} rows "
                "(X-SPARQL-MaxRows; Virtuoso's ResultSetMaxRows): the answer is refused; "
                "raise ResultSetMaxRows above max_result_rows"
            )


def detect(server: str, url: str) -> Dialect:
    """The dialect of the engine whose HTTP `Server:` header is `server`."""
    if server.startswith("Virtuoso"):
        version = server.split("/", 1)[1].split()[0] if "/" in server else ""
        return Dialect(
            name=f"Virtuoso {version} at {url}".replace("  ", " "),
            booleans_as_integers=True,
            describe=False,
            federation=False,
            timeout_param="timeout",
        )
    return Dialect(name=f"the engine at {url}")


def term(value: dict[str, Any]) -> Any:
    """A pyoxigraph term from a SPARQL JSON term; a boolean in its canonical form."""
    kind = value["type"]
    if kind == "uri":
        return ox.NamedNode(value["value"])
    if kind == "bnode":
        return ox.BlankNode(value["value"])
    if "xml:lang" in value:
        return ox.Literal(value["value"], language=value["xml:lang"])
    if "datatype" in value:
        lexical, datatype = value["value"], value["datatype"]
        if datatype == XSD_BOOLEAN and lexical in ("0", "1"):
            lexical = "true" if lexical == "1" else "false"
        return ox.Literal(lexical, datatype=ox.NamedNode(datatype))
    return ox.Literal(value["value"])


def ask_value(doc: dict[str, Any]) -> bool:
    """The answer to an ASK: its `boolean`, or a table (Virtuoso): one cell, 1 for true, or
    no row for false."""
    if "boolean" in doc:
        return bool(doc["boolean"])
    rows = doc["results"]["bindings"]
    cells = [cell for row in rows for cell in row.values()]
    if len(cells) > 1:
        raise ValueError(f"an ASK answered with {len(cells)} values")
    return bool(cells) and cells[0]["value"] in ("1", "true")
