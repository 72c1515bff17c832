"""The HTTP shell: a Flask app whose views parse requests, call the library and format
responses."""

from .app import create_app

__all__ = ["create_app"]
