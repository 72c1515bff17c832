"""What the views share for the request being served: the app's settings, engine and IRIs.
Views import this module, never app.py (which imports the views)."""

from __future__ import annotations

from flask import current_app

from ..namespaces import Iris, iris
from ..query import Engine
from ..settings import Settings


def get_settings() -> Settings:
    settings: Settings = current_app.config["CICA_SETTINGS"]
    return settings


def get_engine() -> Engine:
    engine: Engine = current_app.config["CICA_ENGINE"]
    return engine


def get_iris() -> Iris:
    """The graph's IRIs under the configured base (the `base_iri` setting)."""
    return iris(get_settings().base_iri)
