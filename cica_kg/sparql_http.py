"""One SPARQL 1.1 Protocol client over HTTP, used by the remote engine, the remote export
and the Wikidata client: a requests session, one User-Agent, a timeout, retries on request
(429, 5xx and network failures, honouring Retry-After up to a bound), and one error type,
errors.RemoteError (502; RemoteTimeout, 504).

Without retries a failure is reported as it happened ("did not answer within 5 s",
"cannot be reached", "answered HTTP 500"); with retries, the last one after the count of
attempts, and a refusal (4xx) at once, since asking again cannot help."""

from __future__ import annotations

import email.utils
import functools
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from . import __version__
from .errors import RemoteError, RemoteTimeout
from .namespaces import PROJECT_URL

if TYPE_CHECKING:
    import requests

# Who runs the client: the Wikidata Query Service's User-Agent policy asks for a contact
# address. The project's home, not the graph's base IRI (a setting).
SPARQL_JSON = "application/sparql-results+json"
KEPT_BODY = 2000  # characters of an error answer kept on the RemoteError


@functools.cache
def user_agent() -> str:
    import requests

    return (
        f"CICA-KG/{__version__} ({PROJECT_URL}; linked-data publication of CICA) "
        f"python-requests/{requests.__version__}"
    )


def new_session() -> requests.Session:
    # requests is imported only when a remote endpoint is used: the CLI, the web workers and
    # the query processes start without it.
    import requests

    return requests.Session()


@dataclass(frozen=True)
class Retry:
    """Up to `retries` more attempts after a 429, a 5xx or a network failure, waiting what
    Retry-After asks (giving up at once when that is over `max_wait` seconds), else
    backoff_base * 2**attempt."""

    retries: int = 4
    backoff_base: float = 1.0
    max_wait: float = 300.0
    sleep: Callable[[float], None] = time.sleep

    def backoff(self, attempt: int) -> float:
        return float(self.backoff_base * 2**attempt)


class SparqlHttp:
    """POSTs queries to one endpoint. `name` is how error messages call it ("the query
    engine", "the engine at <url>"); `timeout_setting` is what a timeout message names as
    the limit; `retry` None means one attempt."""

    def __init__(
        self,
        url: str,
        *,
        name: str = "",
        timeout: float = 60.0,
        timeout_setting: str = "timeout",
        retry: Retry | None = None,
        session: requests.Session | None = None,
    ):
        self.url = url
        self.name = name or f"the engine at {url}"
        self.timeout, self.timeout_setting, self.retry = timeout, timeout_setting, retry
        self.session = session if session is not None else new_session()
        self.requests_made = 0

    def close(self) -> None:
        self.session.close()

    def __enter__(self) -> SparqlHttp:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def select(self, query: str, *, timeout: float | None = None) -> list[dict[str, Any]]:
        """The bindings of a SELECT, as SPARQL JSON."""
        response = self.post(query, SPARQL_JSON, timeout=timeout)
        try:
            rows: list[dict[str, Any]] = response.json()["results"]["bindings"]
        except (ValueError, KeyError, TypeError) as exc:
            raise RemoteError(f"{self.name} sent an answer that cannot be read: {exc}") from None
        return rows

    def post(
        self,
        query: str,
        accept: str,
        *,
        timeout: float | None = None,
        stream: bool = False,
        fields: dict[str, Any] | None = None,
        **params: Any,
    ) -> requests.Response:
        """The endpoint's 200 answer to `query` (SPARQL 1.1 Protocol, POST of a form);
        `params` are more form fields (default-graph-uri…), as is `fields` (for names that
        are arguments here, such as Virtuoso's `timeout`). `timeout` bounds the wait for the
        answer to start and every pause within it: a long answer that keeps coming is not cut."""
        import requests

        send: Callable[[], requests.Response] = functools.partial(
            self.session.post,
            self.url,
            data={"query": query, **params, **(fields or {})},
            headers={"Accept": accept, "User-Agent": user_agent()},
            timeout=self.timeout if timeout is None else timeout,
            stream=stream,
        )
        if self.retry is not None:
            return self._retried(send, self.retry)
        self.requests_made += 1
        try:
            response = send()
        except requests.Timeout:
            limit = self.timeout if timeout is None else timeout
            raise RemoteTimeout(
                f"{self.name} did not answer within {limit:g} s ({self.timeout_setting})"
            ) from None
        except requests.RequestException as exc:
            raise RemoteError(f"{self.name} cannot be reached: {exc}") from None
        if response.status_code != 200:
            body = _body(response)
            raise RemoteError(
                f"{self.name} answered HTTP {response.status_code}: {body[:500]}",
                http_status=response.status_code,
                body=body,
            )
        return response

    def _retried(self, send: Callable[[], requests.Response], retry: Retry) -> requests.Response:
        import requests

        problem = ""
        for attempt in range(retry.retries + 1):
            self.requests_made += 1
            try:
                response = send()
            except requests.RequestException as exc:
                problem, wait = f"{type(exc).__name__}: {exc}", retry.backoff(attempt)
            else:
                if response.status_code == 200:
                    return response
                status = response.status_code
                if not _retryable(status):
                    body = _body(response)
                    raise RemoteError(
                        f"{self.name} refused the query: HTTP {status} {body[:300].strip()}",
                        http_status=status,
                        body=body,
                    )
                problem = f"HTTP {status}"
                asked = retry_after(response.headers.get("Retry-After"))
                wait = retry.backoff(attempt) if asked is None else asked
                if wait > retry.max_wait:
                    raise RemoteError(
                        f"{self.name} asks to wait {wait:g} s (Retry-After, {problem}); "
                        "try again later",
                        http_status=status,
                    )
            if attempt < retry.retries:
                retry.sleep(wait)
        raise RemoteError(
            f"could not reach {self.name} after {retry.retries + 1} attempt(s) ({problem})"
        )


def _body(response: requests.Response) -> str:
    """The start of an error answer; the connection is let go (it may be a stream)."""
    text = response.text[:KEPT_BODY]
    response.close()
    return text


def _retryable(status: int) -> bool:
    return status == 429 or 500 <= status <= 599


def retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())
