"""Looking inside ZIP-based uploads (OOXML, ODF) without letting them inflate.

A ZIP entry's declared size is not bounded by the upload size: a few hundred bytes of
bzip2 inflate to 100 MB, and one deflated `mimetype` entry of an .odt to 400 MB. So
nothing here reads an entry whole. The central directory is judged before any entry is
opened (entry count, total declared size, compression method), and the one entry we do
read (ODF's `mimetype`) is read only up to the few bytes a content type can have.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from pathlib import Path

from helpdesk.errors import InvalidInput

# Office formats use only these two; bzip2 and LZMA are inflated by the zipfile module
# without an output bound (ZipExtFile reads a whole compressed chunk at a time), so an
# entry using them is refused before it is opened.
SAFE_METHODS = frozenset({zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED})
MAX_ENTRIES = 5000
MAX_UNPACKED_BYTES = 100 * 1024 * 1024
# Office XML packs 5-20 to 1; deflate cannot pass ~1030 to 1. Past BIG a ratio beyond
# MAX_RATIO is a bomb (its only use is to flood whoever opens it), not a document.
MAX_RATIO = 100
BIG = 10 * 1024 * 1024
# The longest ODF content type is under 80 characters.
MIMETYPE_MAX = 128


@dataclass(frozen=True)
class ArchiveLimits:
    max_entries: int = MAX_ENTRIES
    max_unpacked_bytes: int = MAX_UNPACKED_BYTES
    max_ratio: int = MAX_RATIO


def _declared_entry_count(path: Path) -> int | None:
    # The end-of-central-directory record (zip64 aware) says how many entries follow, so
    # a directory of a million empty names is refused before zipfile builds a million
    # ZipInfo objects. zipfile keeps the reader private but has had it since Python 2
    # (so the type stubs do not declare it: the two ignores below).
    with open(path, "rb") as handle:
        record = zipfile._EndRecData(handle)  # type: ignore[attr-defined]
    if record is None:
        return None
    return int(record[zipfile._ECD_ENTRIES_TOTAL])  # type: ignore[attr-defined]


def open_checked(path: Path, name: str, limits: ArchiveLimits | None = None) -> zipfile.ZipFile:
    """Open `path` as a ZIP after checking its directory. Raises InvalidInput (with a
    message for the person who uploaded `name`) when it has too many entries, would unpack
    too large, or uses an unsafe method; zipfile.BadZipFile when it is no ZIP."""
    limits = limits or ArchiveLimits()
    count = _declared_entry_count(path)
    if count is None:
        raise zipfile.BadZipFile("no end of central directory")
    if count > limits.max_entries:
        raise InvalidInput(
            "The file %(name)s holds too many parts (%(n)s; at most %(max)s).",
            field="attachments",
            name=name,
            n=count,
            max=limits.max_entries,
        )
    archive = zipfile.ZipFile(path)
    try:
        entries = archive.infolist()
        total = 0
        for info in entries:
            if info.compress_type not in SAFE_METHODS:
                raise InvalidInput(
                    "The file %(name)s uses a compression method that documents do not use.",
                    field="attachments",
                    name=name,
                )
            total += info.file_size
        packed = max(1, path.stat().st_size)
        bomb = total > BIG and total > packed * limits.max_ratio
        if len(entries) > limits.max_entries or total > limits.max_unpacked_bytes or bomb:
            raise InvalidInput(
                "The file %(name)s would unpack to %(mb)s MB; it looks like a compression "
                "bomb, not a document.",
                field="attachments",
                name=name,
                mb=max(1, total // (1024 * 1024)),
            )
    except BaseException:
        archive.close()
        raise
    return archive


def read_small_entry(archive: zipfile.ZipFile, entry: str, max_bytes: int) -> bytes | None:
    """The entry's bytes if it declares at most `max_bytes`, else None; never reads more
    than `max_bytes + 1` even if the declared size lies."""
    try:
        info = archive.getinfo(entry)
    except KeyError:
        return None
    encrypted = info.flag_bits & 0x1
    if encrypted or info.file_size > max_bytes or info.compress_type not in SAFE_METHODS:
        return None
    with archive.open(info) as handle:
        data = handle.read(max_bytes + 1)
    return data if len(data) <= max_bytes else None
