"""One error vocabulary: every exception the library raises is defined here, and says its
HTTP status and its CLI exit code. The web shell renders them (web/errors.py); the CLI's one
wrapper prints them and exits with their code (cli/common.py).

A CicaError with status 500 is a fault on our side (a broken input, catalogue or export):
the web logs it and shows no detail, as it does for any exception that is not a CicaError.
Every other status carries a message meant for the user who caused it."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .validate.problem import Problem


class CicaError(Exception):
    status = 500
    title = "Internal Server Error"
    exit_code = 1
    # True when the operation broke while under way (I/O, a busy lock, an engine that does
    # not answer) rather than being refused for what it was given: the CLI then says which
    # operation failed ("export failed: …").
    midway = False

    def __init__(self, message: str, *, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.message = message
        self.headers = headers or {}


# -- refused requests (4xx) -----------------------------------------------------------


class BadRequest(CicaError):
    status, title = 400, "Bad Request"


class QuerySyntaxError(BadRequest):
    """The parser's message, with its line:column position."""


class ServiceRefused(BadRequest):
    """A SERVICE call to an endpoint that is not on the allowlist."""


class UnknownFormatError(BadRequest):
    """A `format=` value that names none of the formats offered."""


class Forbidden(CicaError):
    status, title = 403, "Forbidden"


class NotFound(CicaError):
    status, title = 404, "Not Found"


class MethodNotAllowed(CicaError):
    status, title = 405, "Method Not Allowed"


class NotAcceptable(CicaError):
    status, title = 406, "Not Acceptable"


class NotAcceptableError(NotAcceptable):
    """No offered media type is acceptable to the client (Accept negotiation)."""


class Busy(CicaError):
    """A directory lock held by another build or export."""

    status, title = 409, "Conflict"
    midway = True


class RequestTimeout(CicaError):
    """A client did not send its whole request in time (the server's front)."""

    status, title = 408, "Request Timeout"


class PayloadTooLarge(CicaError):
    status, title = 413, "Content Too Large"


class UnsupportedMediaType(CicaError):
    status, title = 415, "Unsupported Media Type"


class TooManyRequests(CicaError):
    """A client is over its fair share (the server's front); headers say when to retry."""

    status, title = 429, "Too Many Requests"


class ResultTooLarge(CicaError):
    status, title = 422, "Result Too Large"


# -- the server or a remote service could not answer (5xx) ---------------------------


class UpstreamError(CicaError):
    """A federated (SERVICE) or remote-engine call failed."""

    status, title = 502, "Bad Gateway"


class RemoteError(UpstreamError):
    """A SPARQL endpoint over HTTP (a remote engine, the Wikidata Query Service) gave no
    usable answer: unreachable, refused, or an answer that cannot be read. `http_status` and
    `body` are the endpoint's answer when there was one."""

    midway = True

    def __init__(self, message: str, *, http_status: int | None = None, body: str = ""):
        super().__init__(message)
        self.http_status, self.body = http_status, body


class RemoteTimeout(RemoteError):
    """The endpoint did not start, or paused, its answer within the timeout."""

    status, title = 504, "Gateway Timeout"


class PartialAnswer(UpstreamError):
    """A remote engine sent part of an answer as if it were whole (HTTP 200 past its row
    cap or time limit, e.g. Virtuoso's X-SPARQL-MaxRows, X-SQL-State: S1TAT): refused."""

    midway = True


class EngineCannotAnswer(CicaError):
    """A query the remote engine would answer differently from the embedded store (a form
    or feature it evaluates its own way): refused, naming the engine and the query."""

    status, title = 501, "Not Implemented"


class Unavailable(CicaError):
    status, title = 503, "Service Unavailable"


class QueryTimeout(Unavailable):
    """The query ran past the time limit and was stopped."""


class NoBuildError(Unavailable):
    """Nothing was ever published in the store directory."""

    def __init__(self, root: Path):
        super().__init__(f"no published build in {root}; run `cica-kg build` first")


# -- faults on our side (500: logged by the web, never shown) ------------------------


class SettingsError(CicaError, ValueError):
    """A setting (a CICA_KG_* variable or a flag) that cannot be read or is not allowed.
    Exit 2, as for a usage error."""

    exit_code = 2


class LoadError(CicaError):
    """An input file that cannot be read or parsed; `file:line:column: message`."""

    def __init__(self, path: Path, line: int | None, column: int | None, message: str):
        self.path, self.line, self.column, self.reason = path, line, column, message
        where = str(path) if line is None else f"{path}:{line}:{column or 1}"
        super().__init__(f"{where}: {message}")


class ValidationError(CicaError):
    """The inputs loaded but break the shapes or the checks: the CLI lists `problems` one
    a line."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__(f"{len(problems)} validation problem(s)")


class CatalogueError(CicaError):
    """A canned query file whose header is malformed."""


class ShapeCompileError(CicaError):
    """A shapes graph that uses SHACL beyond the compiled subset, or uses it wrongly."""


class ExportError(CicaError):
    """An export that broke under way: a worker process that failed or ended, or a graph
    whose size differs from the build's record."""

    midway = True
