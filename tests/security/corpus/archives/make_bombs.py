"""Build the archive bombs of the upload corpus (run from the repository root:
`python tests/security/corpus/archives/make_bombs.py`); the small ones are checked in
beside this script, the large ones are built by the tests into a temporary folder.

Every file is a real ZIP that an unguarded reader inflates: nothing is forged except
where a name says so.
"""

from __future__ import annotations

import sys
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ODT = "application/vnd.oasis.opendocument.text"
CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>'
)
MB = 1024 * 1024


def _entry(name: str, method: int = zipfile.ZIP_DEFLATED) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0))
    info.compress_type = method
    return info


def _stream(
    archive: zipfile.ZipFile,
    name: str,
    size: int,
    lead: bytes = b"",
    fill: bytes = b" ",
    method: int = zipfile.ZIP_DEFLATED,
) -> None:
    """One entry of `size` bytes written in pieces (never all of it in memory)."""
    info = _entry(name, method)
    piece = fill * MB
    with archive.open(info, "w", force_zip64=size > 2**31) as out:
        out.write(lead)
        left = size - len(lead)
        while left > 0:
            out.write(piece[: min(left, MB)])
            left -= MB


def odt_mimetype_bomb(path: Path, size: int = 8 * MB) -> Path:
    """An .odt whose `mimetype` names the right type, then `size` bytes of spaces (under the
    ratio rule's floor): a reader that strips what it read accepts it after inflating it."""
    with zipfile.ZipFile(path, "w") as archive:
        _stream(archive, "mimetype", size, ODT.encode())
        archive.writestr(_entry("content.xml"), "<office:document-content/>")
    return path


def odt_bzip2_bomb(path: Path, size: int = 100 * MB) -> Path:
    """The same with bzip2: a few hundred bytes that inflate to 100 MB in one read."""
    with zipfile.ZipFile(path, "w") as archive:
        _stream(archive, "mimetype", size, ODT.encode(), method=zipfile.ZIP_BZIP2)
        archive.writestr(_entry("content.xml"), "<office:document-content/>")
    return path


def docx_bomb(path: Path, size: int = 50 * MB) -> Path:
    """A .docx with the right parts and a 50 MB document body of zeros (~50 KB packed)."""
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(_entry("[Content_Types].xml"), CONTENT_TYPES)
        _stream(archive, "word/document.xml", size, fill=b"\x00")
    return path


def docx_overlap_bomb(path: Path, copies: int = 400, size: int = MB) -> Path:
    """Many directory entries naming one deflated body (the overlapping-file bomb): a tiny
    file whose entries add up to copies x size. The copies are forged central-directory
    records; the body itself is real."""
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(_entry("[Content_Types].xml"), CONTENT_TYPES)
        _stream(archive, "word/document.xml", size, fill=b"\x00")
        body = archive.getinfo("word/document.xml")
        for i in range(copies):
            twin = zipfile.ZipInfo(f"word/media/copy{i:04d}.xml", date_time=body.date_time)
            for attr in ("compress_type", "CRC", "compress_size", "file_size", "header_offset"):
                setattr(twin, attr, getattr(body, attr))
            archive.filelist.append(twin)
            archive.NameToInfo[twin.filename] = twin
    return path


def docx_many_entries(path: Path, count: int = 6000) -> Path:
    """A .docx with `count` empty parts: the directory alone is the attack."""
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(_entry("[Content_Types].xml"), CONTENT_TYPES)
        for i in range(count):
            archive.writestr(_entry(f"word/p{i}"), b"")
    return path


SMALL = {
    "odt-mimetype-bomb.odt": odt_mimetype_bomb,
    "odt-bzip2-bomb.odt": odt_bzip2_bomb,
    "docx-50mb-bomb.docx": docx_bomb,
    "docx-overlap-bomb.docx": docx_overlap_bomb,
}
LARGE = {"docx-many-entries.docx": docx_many_entries}


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else HERE
    for name, build in {**SMALL, **LARGE}.items():
        if target == HERE and name in LARGE:
            continue
        build(target / name)
        print(name, (target / name).stat().st_size)
