"""Downloads only through here, after the ticket permission check."""

from __future__ import annotations

import unicodedata
from urllib.parse import quote

from flask import Blueprint, send_file
from flask_login import current_user, login_required

from helpdesk.attachments.models import INLINE_TYPES
from helpdesk.attachments.services import get_for_download
from helpdesk.security_http import FILE_CSP

bp = Blueprint("attachments", __name__, url_prefix="/attachments")


@bp.route("/<int:attachment_id>")
@login_required
def download(attachment_id: int):
    attachment, path = get_for_download(current_user._get_current_object(), attachment_id)
    inline = attachment.content_type in INLINE_TYPES
    response = send_file(
        path,
        mimetype=attachment.content_type,
        as_attachment=not inline,
        download_name=attachment.original_name,
        conditional=True,
        max_age=0,
    )
    response.headers["Content-Disposition"] = content_disposition(
        "inline" if inline else "attachment", attachment.original_name
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    # A file is never a document that may run script, whatever it claims to be.
    response.headers["Content-Security-Policy"] = FILE_CSP
    return response


def content_disposition(kind: str, name: str) -> str:
    """RFC 6266: an ASCII `filename` for old clients and the exact UTF-8 `filename*`.

    Werkzeug sends `filename*` only for non-ASCII names; we always send both so
    every browser saves the file under the name it was uploaded with.
    """
    fallback = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    fallback = "".join(ch if ch.isprintable() and ch not in '"\\' else "_" for ch in fallback)
    fallback = fallback.strip() or "file"
    return f"{kind}; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"
