"""A client of the Wikidata Query Service (WDQS): SPARQL SELECT over HTTP POST, with retries
on 429, 5xx and network failures that honour Retry-After."""

from __future__ import annotations

import email.utils
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata

import requests

from ..namespaces import PROJECT_URL
from ..settings import Settings
from .model import Row

BACKOFF_BASE = 1.0  # seconds before the first retry when the server sends no Retry-After
MAX_RETRY_AFTER = 300.0  # a longer Retry-After is not waited for: the check gives up


class WikidataError(Exception):
    """The Wikidata Query Service gave no usable answer (after the retries)."""


def _version() -> str:
    try:
        return metadata.version("cica-kg")
    except metadata.PackageNotFoundError:
        return "1.0"


# The project URL names the software (a product token), whatever the base of the graph.
USER_AGENT = (
    f"CICA-KG/{_version()} ({PROJECT_URL}; linked-data publication of CICA) "
    f"python-requests/{requests.__version__}"
)


@dataclass
class WikidataClient:
    """POSTs SPARQL to the WDQS, retrying 429 and 5xx (and network failures) with
    exponential backoff; Retry-After, when sent, is honoured instead."""

    endpoint: str
    timeout: float = 60.0
    retries: int = 4
    backoff_base: float = BACKOFF_BASE
    sleep: Callable[[float], None] = time.sleep
    session: requests.Session = field(default_factory=requests.Session)
    requests_made: int = 0

    @classmethod
    def from_settings(cls, settings: Settings) -> WikidataClient:
        return cls(
            endpoint=settings.wikidata_endpoint,
            timeout=settings.wikidata_timeout,
            retries=max(0, settings.wikidata_retries),
            backoff_base=BACKOFF_BASE,
        )

    def select(self, query: str) -> list[Row]:
        """The bindings of a SELECT, as SPARQL JSON."""
        response = self._post(query)
        try:
            rows: list[Row] = response.json()["results"]["bindings"]
        except (ValueError, KeyError, TypeError) as exc:
            raise WikidataError(
                f"the Wikidata Query Service at {self.endpoint} sent no SPARQL JSON results "
                f"({type(exc).__name__}: {exc})"
            ) from None
        return rows

    def _post(self, query: str) -> requests.Response:
        headers = {"User-Agent": USER_AGENT, "Accept": "application/sparql-results+json"}
        problem = ""
        for attempt in range(self.retries + 1):
            self.requests_made += 1
            try:
                response = self.session.post(
                    self.endpoint, data={"query": query}, headers=headers, timeout=self.timeout
                )
            except requests.RequestException as exc:
                problem, wait = f"{type(exc).__name__}: {exc}", self._backoff(attempt)
            else:
                if response.status_code == 200:
                    return response
                if not _retryable(response.status_code):
                    raise WikidataError(
                        f"the Wikidata Query Service at {self.endpoint} refused the query: "
                        f"HTTP {response.status_code} {response.text[:300].strip()}"
                    )
                problem = f"HTTP {response.status_code}"
                asked = retry_after(response.headers.get("Retry-After"))
                wait = self._backoff(attempt) if asked is None else asked
                if wait > MAX_RETRY_AFTER:
                    raise WikidataError(
                        f"the Wikidata Query Service at {self.endpoint} asks to wait {wait:g} s "
                        f"(Retry-After, {problem}); try again later"
                    )
            if attempt < self.retries:
                self.sleep(wait)
        raise WikidataError(
            f"could not reach the Wikidata Query Service at {self.endpoint} after "
            f"{self.retries + 1} attempt(s) ({problem})"
        )

    def _backoff(self, attempt: int) -> float:
        return float(self.backoff_base * 2**attempt)


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
