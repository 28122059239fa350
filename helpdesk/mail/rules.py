"""Pure rules for inbound mail: what is noise, and the per-ticket reply token."""

from __future__ import annotations

import hashlib
import hmac
import re

from flask import current_app

from helpdesk.mail.parser import ParsedMail

_TOKEN_RE = re.compile(r"\+t\.(\d{1,12})-([0-9a-f]{12})@")
_DAEMONS = ("mailer-daemon", "postmaster", "mail-daemon", "mailerdaemon")


def noise_reason(mail: ParsedMail, own_addresses: set[str], *, ignore_lists: bool) -> str | None:
    """Why this message must make no ticket and get no answer, or None.

    Anything automatic (RFC 3834 Auto-Submitted, Precedence, the vendors'
    auto-reply headers), mailing lists (by setting), daemons and our own
    addresses: answering any of them is how two robots start a mail loop.
    """
    auto = mail.header("auto-submitted").strip().lower()
    if auto and auto.split(";")[0].strip() != "no":
        return f"Auto-Submitted: {auto[:60]}"
    precedence = mail.header("precedence").strip().lower()
    if precedence in ("bulk", "junk", "list", "auto_reply"):
        return f"Precedence: {precedence}"
    for name in ("x-autoreply", "x-autorespond", "x-auto-response-suppress"):
        if name in mail.headers:
            return f"{name} header"
    if "x-helpdesk-loop" in mail.headers:
        return "automatic mail from a help desk"
    if ignore_lists and ("list-id" in mail.headers or "list-unsubscribe" in mail.headers):
        return "mailing list (List-Id)"
    local = mail.sender.partition("@")[0]
    if local in _DAEMONS or local.startswith("mailer-daemon"):
        return "sent by a mail daemon"
    if mail.sender and (mail.sender in own_addresses or _TOKEN_RE.search(mail.sender)):
        return "sent from one of our own addresses"
    return None


def _signature(ticket_id: int) -> str:
    secret = str(current_app.config["SECRET_KEY"]).encode("utf-8")
    return hmac.new(secret, f"mail-reply:{ticket_id}".encode(), hashlib.sha256).hexdigest()[:12]


def reply_address(desk_address: str, ticket_id: int) -> str:
    """`soporte+t.<id>-<signature>@empresa.com`: a reply reaches the ticket even
    when the client drops every header; the signature makes it unguessable."""
    local, _at, domain = desk_address.partition("@")
    return f"{local}+t.{ticket_id}-{_signature(ticket_id)}@{domain}"


def tokens_in(addresses: list[str]) -> list[int]:
    found: list[int] = []
    for address in addresses:
        for ticket_id, signature in _TOKEN_RE.findall(address):
            if hmac.compare_digest(signature, _signature(int(ticket_id))):
                found.append(int(ticket_id))
    return found
