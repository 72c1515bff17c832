"""A client of the Wikidata Query Service (WDQS): the shared SPARQL client (sparql_http) with
retries on 429, 5xx and network failures that honour Retry-After. Its failures are
errors.RemoteError."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from ..settings import Settings
from ..sparql_http import Retry, SparqlHttp
from .model import Row

if TYPE_CHECKING:
    import requests

BACKOFF_BASE = 1.0  # seconds before the first retry when the server sends no Retry-After
MAX_RETRY_AFTER = 300.0  # a longer Retry-After is not waited for: the check gives up


class WikidataClient(SparqlHttp):
    """POSTs SPARQL to the WDQS, retrying 429 and 5xx (and network failures) with
    exponential backoff; Retry-After, when sent, is honoured instead."""

    def __init__(
        self,
        endpoint: str,
        timeout: float = 60.0,
        retries: int = 4,
        backoff_base: float = BACKOFF_BASE,
        sleep: Callable[[float], None] = time.sleep,
        session: requests.Session | None = None,
    ):
        super().__init__(
            endpoint,
            name=f"the Wikidata Query Service at {endpoint}",
            timeout=timeout,
            retry=Retry(retries, backoff_base, MAX_RETRY_AFTER, sleep),
            session=session,
        )
        self.endpoint = endpoint

    @classmethod
    def from_settings(cls, settings: Settings) -> WikidataClient:
        return cls(
            endpoint=settings.wikidata_endpoint,
            timeout=settings.wikidata_timeout,
            retries=max(0, settings.wikidata_retries),
            backoff_base=BACKOFF_BASE,
        )

    def select(self, query: str, *, timeout: float | None = None) -> list[Row]:
        """The bindings of a SELECT, as SPARQL JSON."""
        return super().select(query, timeout=timeout)
