"""One error vocabulary: every failure a user can cause carries its HTTP status and a
message meant for that user. The web shell renders them; the CLI prints them. Anything
else is a server fault (500, logged, never shown)."""

from __future__ import annotations


class CicaError(Exception):
    status = 500
    title = "Internal Server Error"

    def __init__(self, message: str, *, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.message = message
        self.headers = headers or {}


class BadRequest(CicaError):
    status, title = 400, "Bad Request"


class QuerySyntaxError(BadRequest):
    """The parser's message, with its line:column position."""


class ServiceRefused(BadRequest):
    """A SERVICE call to an endpoint that is not on the allowlist."""


class Forbidden(CicaError):
    status, title = 403, "Forbidden"


class NotFound(CicaError):
    status, title = 404, "Not Found"


class MethodNotAllowed(CicaError):
    status, title = 405, "Method Not Allowed"


class NotAcceptable(CicaError):
    status, title = 406, "Not Acceptable"


class PayloadTooLarge(CicaError):
    status, title = 413, "Content Too Large"


class UnsupportedMediaType(CicaError):
    status, title = 415, "Unsupported Media Type"


class ResultTooLarge(CicaError):
    status, title = 422, "Result Too Large"


class UpstreamError(CicaError):
    """A federated (SERVICE) or remote-engine call failed."""

    status, title = 502, "Bad Gateway"


class Unavailable(CicaError):
    status, title = 503, "Service Unavailable"


class QueryTimeout(Unavailable):
    """The query ran past the time limit and was stopped."""
