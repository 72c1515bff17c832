"""The dump catalogue: the files an export writes, their names, formats and titles, and the
SHA256SUMS that indexes them. The web layer (/dumps/, /void) reads the dumps through this."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from .. import formats

DUMP_STEM = "cica-kg"
VOID_FILE = "void.ttl"
SUMS_FILE = "SHA256SUMS"
GZIP_SUFFIX = ".gz"
GZIP_MEDIA_TYPE = "application/gzip"
LICENSE = "https://creativecommons.org/licenses/by/4.0/"

# The state-year panel: the canned query `state-year` as CSV (not RDF), after the RDF dumps.
PANEL_QUERY = "state-year"
PANEL_FILE = f"{DUMP_STEM}-{PANEL_QUERY}.csv"
PANEL_TITLE = "State-year membership panel (CSV, COW IGO layout)"


def format_named(name: str) -> formats.Format:
    return next(f for f in formats.GRAPH_FORMATS + formats.DATASET_FORMATS if f.name == name)


# The dumps, in the order of SHA256SUMS and of the /dumps/ listing.
DUMP_FORMATS: tuple[formats.Format, ...] = tuple(
    format_named(name) for name in ("ttl", "nt", "nq", "trig", "jsonld", "rdfxml")
)

TITLES = {
    "ttl": "Turtle",
    "nt": "N-Triples",
    "nq": "N-Quads (named graphs kept)",
    "trig": "TriG (named graphs kept)",
    "jsonld": "JSON-LD",
    "rdfxml": "RDF/XML",
}


@dataclass(frozen=True)
class DumpFile:
    name: str
    size: int
    sha256: str


def dump_name(fmt: formats.Format) -> str:
    return f"{DUMP_STEM}.{fmt.extension}"


def file_names() -> list[str]:
    """Every file SHA256SUMS lists, in its order."""
    names = []
    for fmt in DUMP_FORMATS:
        names += [dump_name(fmt), dump_name(fmt) + GZIP_SUFFIX]
    return names + [PANEL_FILE, VOID_FILE]


def panel_format() -> formats.Format:
    return next(f for f in formats.RESULT_FORMATS if f.name == "csv")


def file_format(name: str) -> tuple[formats.Format | None, bool]:
    """(the RDF format of a file we write, whether it is gzip-compressed) by its name; None
    for the panel (PANEL_FILE, see panel_format) and names we do not write."""
    compressed = name.endswith(GZIP_SUFFIX)
    base = name[: -len(GZIP_SUFFIX)] if compressed else name
    if base == VOID_FILE:
        return format_named("ttl"), compressed
    for fmt in DUMP_FORMATS:
        if base == dump_name(fmt):
            return fmt, compressed
    return None, compressed


def read_checksums(out_dir: Path) -> dict[str, str]:
    """{file name: SHA-256 hex} from out_dir/SHA256SUMS, in file order; {} if missing."""
    try:
        text = (out_dir / SUMS_FILE).read_text(encoding="utf-8")
    except (FileNotFoundError, NotADirectoryError):
        return {}
    sums: dict[str, str] = {}
    for line in text.splitlines():
        digest, sep, name = line.partition("  ")
        name = name.lstrip("*")  # sha256sum's binary-mode marker
        if sep and len(digest) == 64 and name not in ("", ".", "..") and "/" not in name:
            sums[name] = digest
    return sums


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
