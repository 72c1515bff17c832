"""/dumps/: the RDF dumps written by `cica-kg export`, and /void: their VoID description.

Only the files SHA256SUMS names (and SHA256SUMS itself) are served, so no request can
reach anything else in the directory, whatever its path."""

from __future__ import annotations

import functools
import hashlib
from pathlib import Path
from typing import Any

import pyoxigraph as ox
from flask import Blueprint, Response, render_template, request, send_file, url_for

from .. import errors, formats
from ..export.files import (
    GZIP_MEDIA_TYPE,
    LICENSE,
    PANEL_FILE,
    PANEL_TITLE,
    SUMS_FILE,
    TITLES,
    VOID_FILE,
    file_format,
    panel_format,
    read_checksums,
)
from ..export.void import void_prefixes
from ..namespaces import VOCABULARIES
from .context import get_settings
from .responses import cache_headers, choose_format, json_response, matches, not_modified

blueprint = Blueprint("dumps", __name__)

NO_DUMPS = "no dumps exported yet; run cica-kg export"
SUMS_TYPE = "text/plain; charset=utf-8"
OWL_VERSION = ox.NamedNode(VOCABULARIES["owl"] + "versionInfo")
MODIFIED = ox.NamedNode(VOCABULARIES["dcterms"] + "modified")


def dumps_dir() -> Path:
    return get_settings().dumps_path


def _describe(name: str) -> tuple[str, str, bool]:
    """(Content-Type, format label, compressed) of a served file."""
    if name == SUMS_FILE:
        return SUMS_TYPE, "SHA-256 checksums", False
    if name == PANEL_FILE:
        return panel_format().content_type, PANEL_TITLE, False
    fmt, compressed = file_format(name)
    if name.startswith(VOID_FILE):
        label = "VoID + DCAT (Turtle)"
    else:
        label = TITLES.get(fmt.name, fmt.name) if fmt else "file"
    if compressed:
        return GZIP_MEDIA_TYPE, f"{label}, gzip", True
    return (fmt.content_type if fmt else "application/octet-stream"), label, False


def _human(size: int) -> str:
    value = float(size)
    for unit in ("bytes", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{size} bytes" if unit == "bytes" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} bytes"  # pragma: no cover


def listing(directory: Path) -> list[dict[str, Any]]:
    """The files SHA256SUMS lists that exist, in its order, with size and checksum."""
    files = []
    for name, digest in read_checksums(directory).items():
        try:
            size = (directory / name).stat().st_size
        except OSError:
            continue
        content_type, label, compressed = _describe(name)
        files.append(
            {
                "name": name,
                "url": url_for("dumps.download", filename=name, _external=True),
                "size": size,
                "size_human": _human(size),
                "sha256": digest,
                "media_type": content_type.split(";")[0],
                "format": label,
                "compressed": compressed,
            }
        )
    return files


@functools.lru_cache(maxsize=4)
def _build_of(path: str, mtime_ns: int, size: int) -> tuple[str | None, str | None]:
    """(build id, build date) stated in void.ttl; cached per file version."""
    version = modified = None
    try:
        for quad in ox.parse(path=path, format=ox.RdfFormat.TURTLE):
            if quad.predicate == OWL_VERSION:
                version = quad.object.value
            elif quad.predicate == MODIFIED:
                modified = quad.object.value
    except (OSError, SyntaxError):
        return None, None
    return version, modified


def exported_build(directory: Path) -> tuple[str | None, str | None]:
    path = directory / VOID_FILE
    try:
        stat = path.stat()
    except OSError:
        return None, None
    return _build_of(str(path), stat.st_mtime_ns, stat.st_size)


@blueprint.route("/dumps/")
@blueprint.route("/dumps/index.json", endpoint="index_json")
def index() -> Response | str:
    directory = dumps_dir()
    files = listing(directory)
    build_id, modified = exported_build(directory)
    has_sums = (directory / SUMS_FILE).is_file()
    if request.path.endswith(".json"):
        body = {
            "build_id": build_id,
            "modified": modified,
            "license": LICENSE,
            "void": url_for("dumps.void", _external=True),
            "checksums": (
                url_for("dumps.download", filename=SUMS_FILE, _external=True) if has_sums else None
            ),
            "files": [{k: v for k, v in f.items() if k != "size_human"} for f in files],
        }
        if not files:
            body["message"] = NO_DUMPS
        return json_response(body)
    return render_template(
        "dumps.html",
        files=files,
        build_id=build_id,
        modified=modified,
        license=LICENSE,
        has_sums=has_sums,
        sums_file=SUMS_FILE,
        panel_file=PANEL_FILE,
        no_dumps=NO_DUMPS,
    )


def _etag_of(directory: Path, name: str) -> str | None:
    """The SHA-256 of a served file (from SHA256SUMS; SHA256SUMS's own computed), or None
    when the name is not one we serve."""
    if name == SUMS_FILE:
        try:
            return hashlib.sha256((directory / SUMS_FILE).read_bytes()).hexdigest()
        except OSError:
            return None
    return read_checksums(directory).get(name)


@blueprint.route("/dumps/<path:filename>")
def download(filename: str) -> Response:
    directory = dumps_dir()
    digest = _etag_of(directory, filename)
    path = directory / filename
    if digest is None or "/" in filename or not path.is_file():
        raise errors.NotFound(f"there is no dump named {filename!r}; see /dumps/")
    content_type, _, compressed = _describe(filename)
    response = send_file(
        path,
        mimetype=content_type.split(";")[0],
        as_attachment=compressed,
        download_name=filename,
        etag=digest,
        conditional=True,
        max_age=get_settings().cache_max_age,
    )
    response.headers["Content-Type"] = content_type
    return response


@blueprint.route("/void")
def void() -> Response:
    """void.ttl: Turtle by default, or any RDF graph format by Accept or `format=`."""
    directory = dumps_dir()
    path = directory / VOID_FILE
    digest = read_checksums(directory).get(VOID_FILE)
    if digest is None or not path.is_file():
        raise errors.NotFound(NO_DUMPS)
    fmt = choose_format(None, request.args.get("format"), list(formats.GRAPH_FORMATS))
    etag = f'"{digest}-{fmt.name}"'
    if matches(etag):
        return not_modified(etag)
    if fmt.name == "ttl":
        body = path.read_bytes()
    else:
        assert fmt.rdf is not None
        triples = [q.triple for q in ox.parse(path=str(path), format=ox.RdfFormat.TURTLE)]
        body = (
            ox.serialize(triples, format=fmt.rdf, prefixes=void_prefixes(get_settings().base_iri))
            or b""
        )
    return cache_headers(Response(body, content_type=fmt.content_type), etag)
