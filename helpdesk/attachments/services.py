"""Accepting, storing and serving attachments.

Types are decided by the file's content (magic bytes), never by the name the
browser sent; the name is only kept, cleaned, for the download.
"""

from __future__ import annotations

import contextlib
import hashlib
import secrets
import tempfile
import unicodedata
import zipfile
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import filetype
from flask import current_app
from sqlalchemy import select

from helpdesk.attachments.archives import MIMETYPE_MAX, open_checked, read_small_entry
from helpdesk.attachments.models import Attachment
from helpdesk.attachments.permissions import can_download
from helpdesk.db import after_commit, after_rollback
from helpdesk.errors import InvalidInput, NotFound, PayloadTooLarge, StorageUnavailable
from helpdesk.extensions import db
from helpdesk.tickets.models import Ticket
from helpdesk.tickets.permissions import can_see_internal, can_view_ticket
from helpdesk.users.models import User

# content type → extensions a file of that type may carry
ALLOWED_TYPES: dict[str, tuple[str, ...]] = {
    "image/png": ("png",),
    "image/jpeg": ("jpg", "jpeg"),
    "image/gif": ("gif",),
    "image/webp": ("webp",),
    "application/pdf": ("pdf",),
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": ("docx",),
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": ("xlsx",),
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": ("pptx",),
    "application/vnd.oasis.opendocument.text": ("odt",),
    "application/vnd.oasis.opendocument.spreadsheet": ("ods",),
    "application/vnd.oasis.opendocument.presentation": ("odp",),
    "application/msword": ("doc",),
    "application/vnd.ms-excel": ("xls",),
    "application/zip": ("zip",),
    "text/plain": ("txt", "log", "csv", "md"),
}
TEXT_EXTENSIONS = ALLOWED_TYPES["text/plain"]
MAX_NAME_LENGTH = 200
_CHUNK = 1024 * 1024


@dataclass
class Upload:
    """What a view hands over: the browser's file name and a readable stream."""

    filename: str
    stream: IO[bytes]


def upload_root() -> Path:
    return Path(current_app.config["UPLOAD_DIR"])


def clean_filename(name: str) -> str:
    """Keep a readable name for downloads, with no path, control or reserved characters."""
    name = unicodedata.normalize("NFC", name or "")
    name = name.replace("\\", "/").split("/")[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C")
    name = name.replace('"', "'").strip(" .")
    for ch in "<>:|?*":
        name = name.replace(ch, "_")
    if len(name) > MAX_NAME_LENGTH:
        stem, dot, ext = name.rpartition(".")
        ext = ext[:10] if dot else ""
        name = (stem or name)[: MAX_NAME_LENGTH - len(ext) - 1] + ("." + ext if ext else "")
    return name or "file"


def _detect_type(head: bytes, extension: str) -> str | None:
    kind = filetype.guess(head)
    if kind is not None:
        mime = kind.mime
        if mime == "application/zip" or mime == "application/x-zip-compressed":
            # filetype reports OOXML/ODF containers as zip when it cannot see inside
            for candidate in ALLOWED_TYPES:
                if extension in ALLOWED_TYPES[candidate] and candidate != "text/plain":
                    return candidate if _zip_family(candidate) else None
            return "application/zip"
        if mime == "application/x-ole-storage" or mime == "application/x-cfb":
            return {"doc": "application/msword", "xls": "application/vnd.ms-excel"}.get(extension)
        return mime if mime in ALLOWED_TYPES else None
    if extension in TEXT_EXTENSIONS and _is_plain_text(head):
        return "text/plain"
    return None


# What a ZIP-based office document must contain: a plain ZIP (say, one carrying
# a program) renamed to .docx is refused instead of being served as a document.
DOCUMENT_PARTS: dict[str, str] = {
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "word/",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "xl/",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": "ppt/",
    "application/vnd.oasis.opendocument.text": "",
    "application/vnd.oasis.opendocument.spreadsheet": "",
    "application/vnd.oasis.opendocument.presentation": "",
}


def _is_document_container(path: Path, content_type: str, name: str) -> bool:
    """Whether the ZIP at `path` is the office document it claims to be. Raises
    InvalidInput (with its own message) for an archive too big to look into."""
    try:
        with open_checked(path, name) as archive:
            names = set(archive.namelist())
            if "opendocument" in content_type:  # ODF: a `mimetype` entry names the type
                declared = read_small_entry(archive, "mimetype", MIMETYPE_MAX)
                return (
                    declared is not None
                    and declared.decode("ascii", "replace").strip() == content_type
                )
            prefix = DOCUMENT_PARTS[content_type]
            return "[Content_Types].xml" in names and any(n.startswith(prefix) for n in names)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError, zlib.error):
        return False


def _zip_family(mime: str) -> bool:
    return "openxmlformats" in mime or "opendocument" in mime or mime == "application/zip"


def _is_plain_text(head: bytes) -> bool:
    if b"\x00" in head:
        return False
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError as exc:
        # the sample may end in the middle of a multi-byte character
        if exc.start < len(head) - 4:
            return False
        text = head[: exc.start].decode("utf-8")
    lowered = text.lstrip().lower()
    # HTML or SVG behind a .txt name would still be dangerous if sniffed
    return not lowered.startswith(("<!doctype", "<html", "<svg", "<?xml", "<script"))


def _check_kind(name: str, head: bytes) -> tuple[str, str]:
    """(extension, content type) of a file from its first bytes; InvalidInput if refused."""
    extension = name.rpartition(".")[2].lower() if "." in name else ""
    if not head:
        raise InvalidInput("The file %(name)s is empty.", field="attachments", name=name)
    content_type = _detect_type(head, extension)
    if content_type is None or extension not in ALLOWED_TYPES.get(content_type, ()):
        raise InvalidInput(
            "The file %(name)s is not an allowed type (images, PDF, Office/OpenDocument "
            "documents, ZIP or plain text), or its content does not match its extension.",
            field="attachments",
            name=name,
        )
    return extension, content_type


def screen_file(filename: str, data: bytes) -> None:
    """The same rules `store_upload` applies, for a file already in memory (mail):
    raises InvalidInput/PayloadTooLarge, so a caller can drop one file and keep the rest."""
    name = clean_filename(filename)
    extension, content_type = _check_kind(name, data[:8192])
    if len(data) > int(current_app.config["MAX_UPLOAD_MB"]) * 1024 * 1024:
        raise PayloadTooLarge(
            "The file %(name)s is larger than the limit of %(mb)s MB.",
            name=name,
            mb=current_app.config["MAX_UPLOAD_MB"],
        )
    if content_type not in DOCUMENT_PARTS:
        return
    upload_root().mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=upload_root(), suffix=".check") as scratch:
        scratch.write(data)
        scratch.flush()
        if not _is_document_container(Path(scratch.name), content_type, name):
            raise InvalidInput(
                "The file %(name)s is not a valid %(ext)s document.",
                field="attachments",
                name=name,
                ext=extension.upper(),
            )


def store_upload(
    actor: User,
    ticket_id: int,
    upload: Upload,
    *,
    comment_id: int | None = None,
    internal: bool = False,
) -> Attachment:
    """Validate and store one file. The caller has already checked the ticket permission."""
    max_bytes = int(current_app.config["MAX_UPLOAD_MB"]) * 1024 * 1024
    name = clean_filename(upload.filename)
    head = upload.stream.read(8192)
    extension, content_type = _check_kind(name, head)
    stored_name = secrets.token_hex(20)
    # Written under a staging name, moved into place only once the row is committed:
    # a crash (kill -9) or a rollback leaves at most a staging file, which the sweep
    # (attachments.sweep) removes — never a file that looks stored but has no row.
    path = staging_path(stored_name)
    digest = hashlib.sha256()
    size = 0
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "xb") as out:
            chunk = head
            while chunk:
                size += len(chunk)
                if size > max_bytes:
                    raise PayloadTooLarge(
                        "The file %(name)s is larger than the limit of %(mb)s MB.",
                        name=name,
                        mb=current_app.config["MAX_UPLOAD_MB"],
                    )
                digest.update(chunk)
                out.write(chunk)
                chunk = upload.stream.read(_CHUNK)
        if content_type in DOCUMENT_PARTS and not _is_document_container(path, content_type, name):
            raise InvalidInput(
                "The file %(name)s is not a valid %(ext)s document.",
                field="attachments",
                name=name,
                ext=extension.upper(),
            )
    except OSError as exc:
        # Upload folder read-only, full, or gone: the person's text must not be lost
        # to a generic error page; the form comes back with this message.
        with contextlib.suppress(OSError):
            path.unlink(missing_ok=True)
        current_app.logger.warning("Cannot store an upload in %s: %s", upload_root(), exc)
        raise StorageUnavailable(
            "The server cannot store files right now; your text is kept. Try again "
            "later or remove the attachment.",
            field="attachments",
        ) from exc
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    after_rollback(db.session, lambda: path.unlink(missing_ok=True))
    after_commit(db.session, lambda: publish_staged(stored_name))
    attachment = Attachment(
        ticket_id=ticket_id,
        comment_id=comment_id,
        uploader_id=actor.id,
        original_name=name,
        stored_name=stored_name,
        content_type=content_type,
        size=size,
        sha256=digest.hexdigest(),
        internal=internal,
    )
    db.session.add(attachment)
    db.session.flush()
    return attachment


def check_upload_count(uploads: Iterable[Upload]) -> list[Upload]:
    files = [u for u in uploads if u.filename]
    limit = int(current_app.config["MAX_FILES_PER_UPLOAD"])
    if len(files) > limit:
        raise InvalidInput("At most %(n)s files at once.", field="attachments", n=limit)
    return files


STAGING_DIR = ".staging"


def staging_path(stored_name: str) -> Path:
    return upload_root() / STAGING_DIR / stored_name


def stored_path(stored_name: str) -> Path:
    return upload_root() / stored_name[:2] / stored_name


def publish_staged(stored_name: str) -> None:
    """Move a committed upload from staging into place (same file system: atomic)."""
    try:
        final = stored_path(stored_name)
        final.parent.mkdir(parents=True, exist_ok=True)
        staging_path(stored_name).replace(final)
    except OSError as exc:
        # The row is committed; downloads read the staged file until the sweep
        # moves it. Failing here would answer an error for stored data.
        current_app.logger.warning("Upload %s left in staging: %s", stored_name, exc)


def attachment_path(attachment: Attachment) -> Path:
    root = upload_root().resolve()
    path = stored_path(attachment.stored_name).resolve()
    if root not in path.parents:  # stored names are hex; this only guards a corrupt row
        raise NotFound("No such file.")
    if not path.is_file():
        # Committed a moment ago and not moved yet (or the move was cut short by a
        # crash, which the sweep finishes): the staged file is the same bytes.
        staged = staging_path(attachment.stored_name).resolve()
        if staged.is_file() and root in staged.parents:
            return staged
    return path


def get_for_download(actor: User, attachment_id: int) -> tuple[Attachment, Path]:
    attachment = db.session.get(Attachment, attachment_id)
    if attachment is None or not can_download(actor, attachment):
        raise NotFound("No such file.")
    path = attachment_path(attachment)
    if not path.is_file():
        raise NotFound("The file is missing from storage; ask an administrator.")
    return attachment, path


def ticket_attachments(actor: User, ticket: Ticket) -> list[Attachment]:
    """The files of `ticket` that `actor` may download (those of internal notes only
    for staff), by the same rule as `can_download`."""
    if not can_view_ticket(actor, ticket):
        raise NotFound("No such ticket.")
    query = select(Attachment).where(Attachment.ticket_id == ticket.id).order_by(Attachment.id)
    if not can_see_internal(actor):
        query = query.where(Attachment.internal.is_(False))
    return list(db.session.scalars(query))
