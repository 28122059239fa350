"""Reading one RFC 5322 message into what the desk needs, whatever shape it is in.

Pure functions (no database): headers decoded (RFC 2047 words, raw 8-bit in
any charset), the readable text (text/plain, else HTML turned into text through
nh3, else a calendar invitation's summary), quoted history and signatures cut
off, files and inline `cid:` images, and what a delivery report says about the
message it returns.  Address headers are read from their raw value: parsing
10,000 recipients through the structured header classes takes minutes.
"""

from __future__ import annotations

import codecs
import contextlib
import hashlib
import html as htmllib
import re
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.header import decode_header, make_header
from email.message import Message
from email.utils import getaddresses, parseaddr

import nh3

MAX_TEXT = 19000  # below the tickets' 20,000-character limit, room for a note
MAX_PARTS = 500  # a message with more parts than this is read up to here
_ID_RE = re.compile(r"<([^<>\s]{1,990})>")
_TICKET_RE = re.compile(r"\[(TKT-\d{4}-\d{6,})\]", re.IGNORECASE)
_NOT_BASE64 = re.compile(r"[^A-Za-z0-9+/=\s]")
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


@dataclass
class MailFile:
    name: str
    data: bytes
    content_type: str
    inline: bool = False


@dataclass
class Report:
    """What a delivery status notification says about one of our messages."""

    original_ids: list[str] = field(default_factory=list)
    status: str = ""
    diagnostic: str = ""


@dataclass
class ParsedMail:
    message_id: str
    key: str
    sender: str  # lower-cased address, "" when there is none
    sender_name: str
    subject: str
    text: str  # the new part, history and signature cut off
    full_text: str
    headers: dict[str, list[str]]  # lower-cased name → raw values
    in_reply_to: list[str] = field(default_factory=list)
    references: list[str] = field(default_factory=list)
    recipients: list[str] = field(default_factory=list)  # To, Cc, Delivered-To… addresses
    files: list[MailFile] = field(default_factory=list)
    report: Report | None = None
    winmail: bool = False

    def header(self, name: str) -> str:
        values = self.headers.get(name.lower())
        return values[0] if values else ""

    @property
    def ticket_numbers(self) -> list[str]:
        return [m.upper() for m in _TICKET_RE.findall(self.subject)]


# ---------------------------------------------------------------- decoding


def decode_bytes(data: bytes, charset: str | None) -> str:
    """Bytes to text under a label that may be wrong, unknown or missing.

    A label of us-ascii/latin-1 on bytes that are valid UTF-8 is taken as UTF-8
    (the commonest mislabel); bytes that are not valid in their label fall back
    to UTF-8, then Windows-1252 (which also reads ISO-8859-1/15 well enough).
    """
    label = (charset or "").strip().strip('"').lower()
    try:
        codec = codecs.lookup(label).name if label else ""
    except LookupError:
        codec = ""
    if codec in ("ascii", "latin-1", "iso8859-1", "cp1252", ""):
        try:
            return _clean_text(data.decode("utf-8"))
        except UnicodeDecodeError:
            pass
    if codec:
        try:
            return _clean_text(data.decode(codec))
        except (UnicodeDecodeError, LookupError):
            pass
    try:
        return _clean_text(data.decode("utf-8"))
    except UnicodeDecodeError:
        return _clean_text(data.decode("cp1252", errors="replace"))


def _clean_text(text: str) -> str:
    return _CONTROL_RE.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))


def decode_header_value(raw: str) -> str:
    """A raw header value (folded, maybe 8-bit, maybe RFC 2047) as one line of text."""
    value = re.sub(r"\r?\n[ \t]+", " ", raw or "").strip()
    if any("\udc80" <= ch <= "\udcff" for ch in value):  # raw 8-bit bytes
        value = decode_bytes(value.encode("utf-8", "surrogateescape"), None)
    if "=?" in value:
        try:
            value = str(make_header(decode_header(value)))
        except Exception:  # noqa: BLE001  (HeaderParseError, LookupError, …)
            # a header we cannot decode as a whole: each word on its own, as sent if not
            with contextlib.suppress(Exception):
                value = "".join(
                    decode_bytes(chunk, cs) if isinstance(chunk, bytes) else chunk
                    for chunk, cs in decode_header(value)
                )
    return " ".join(_clean_text(value).split())


def normalise_id(raw: str) -> str:
    found = _ID_RE.findall(raw or "")
    value = found[0] if found else (raw or "").strip().strip("<>")
    return value.strip()[:990]


def id_key(message_id: str) -> str:
    return hashlib.sha256(message_id.encode("utf-8", "surrogateescape")).hexdigest()


# ---------------------------------------------------------------- text


_QUOTE_HEADERS = [
    re.compile(r"^\s*On .{0,300}wrote:\s*$", re.IGNORECASE),
    re.compile(r"^\s*El .{0,300}escribi[óo]:\s*$", re.IGNORECASE),
    re.compile(
        r"^\s*-{2,}\s*(Original Message|Mensaje original|Forwarded message|Mensaje reenviado)\s*-{2,}\s*$",
        re.IGNORECASE,
    ),  # fmt: skip
    re.compile(r"^\s*_{20,}\s*$"),  # Outlook's rule above its header block
    re.compile(r"^\s*\*?(From|De):\*?\s.+$", re.IGNORECASE),  # Outlook header block start
]
_SIGNATURES = [
    re.compile(r"^-- ?$"),
    re.compile(r"^(Sent from my|Enviado desde mi)\b.*$", re.IGNORECASE),
    re.compile(r"^(Get Outlook for|Obtener Outlook para)\b.*$", re.IGNORECASE),
]


def strip_quoted(text: str) -> str:
    """The new part of a reply: no `>` history, no "On … wrote:", no signature.

    An Outlook "From:" line only counts when a "Sent:/Enviado:" or "To:/Para:"
    line follows within three lines (else a body that starts "From: …" would
    be lost).  When nothing would be left the whole text is kept.
    """
    lines = text.split("\n")
    out: list[str] = []
    for i, line in enumerate(lines):
        stripped = line.strip()
        if any(p.match(line) for p in _QUOTE_HEADERS[:4]):
            break
        if _QUOTE_HEADERS[4].match(line):
            following = " ".join(lines[i + 1 : i + 4])
            if re.search(r"(Sent|Enviado|To|Para|Date|Fecha):", following, re.IGNORECASE):
                break
        if any(p.match(stripped) for p in _SIGNATURES):
            break
        if stripped.startswith(">"):
            continue
        out.append(line)
    result = "\n".join(out).strip()
    return result if result else text.strip()


def html_to_text(html: str) -> str:
    """Safe text from HTML: nh3 drops every tag (scripts and styles with their
    content), remote images are never fetched, links keep their words only."""
    html = re.sub(r"(?i)<br\s*/?>", "\n", html)
    html = re.sub(r"(?i)</(p|div|li|tr|h[1-6]|blockquote|table|pre)\s*>", "\n", html)
    html = re.sub(r"(?i)<li\b[^>]*>", "\n- ", html)
    cleaned = nh3.clean(
        html, tags=set(), clean_content_tags={"script", "style", "title", "head", "template"}
    )
    text = htmllib.unescape(cleaned)
    lines = [" ".join(line.split()) for line in text.split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def calendar_to_text(data: str) -> str:
    """The lines a person needs from an invitation (the .ics itself is not a file
    the upload rules accept)."""
    unfolded = re.sub(r"\r?\n[ \t]", "", data)
    wanted = {"SUMMARY", "DTSTART", "DTEND", "LOCATION", "ORGANIZER", "DESCRIPTION"}
    lines = []
    for line in unfolded.splitlines():
        name, _sep, value = line.partition(":")
        base = name.split(";")[0].upper()
        if base in wanted and value:
            lines.append(f"{base.title()}: {value.replace(chr(92) + 'n', chr(10))}")
    return "\n".join(lines)


# ---------------------------------------------------------------- parts


def _part_bytes(part: Message) -> bytes:
    raw = part.get_payload()
    cte = str(part.get("content-transfer-encoding", "")).strip().lower()
    if isinstance(raw, str) and cte == "base64" and _NOT_BASE64.search(raw):
        return raw.encode("utf-8", "surrogateescape")  # labelled base64, plainly is not
    try:
        payload = part.get_payload(decode=True)
    except Exception:  # noqa: BLE001  broken transfer encoding: take it as it came
        payload = None
    if payload is None:
        raw = part.get_payload()
        payload = raw.encode("utf-8", "surrogateescape") if isinstance(raw, str) else b""
    return payload if isinstance(payload, bytes) else b""


def _filename(part: Message) -> str:
    try:
        name = part.get_filename() or ""
    except Exception:  # noqa: BLE001
        name = ""
    if not name:
        try:
            name = part.get_param("name", header="content-type") or ""  # type: ignore[assignment]
        except Exception:  # noqa: BLE001
            name = ""
    if isinstance(name, tuple):  # RFC 2231 left undecoded
        name = decode_bytes(name[2].encode("latin-1", "replace"), name[0])
    return decode_header_value(str(name)) if name else ""


def _iter_leaves(message: Message) -> list[tuple[Message, bool]]:
    """Every leaf part (flag: inside a message/rfc822), walking without recursion."""
    leaves: list[tuple[Message, bool]] = []
    stack: list[tuple[Message, bool]] = [(message, False)]
    while stack and len(leaves) < MAX_PARTS:
        part, nested = stack.pop()
        if part.is_multipart() and part.get_content_type() != "message/delivery-status":
            children = part.get_payload()
            inner = nested or part.get_content_type() == "message/rfc822"
            if isinstance(children, list):
                stack.extend((c, inner) for c in reversed(children) if isinstance(c, Message))
            continue
        leaves.append((part, nested))
    return leaves


_EXT = {"image/png": "png", "image/jpeg": "jpg", "image/gif": "gif", "image/webp": "webp"}


def _headers_of(message: Message) -> dict[str, list[str]]:
    headers: dict[str, list[str]] = {}
    for name, value in message.raw_items():
        headers.setdefault(str(name).lower(), []).append(str(value))
    return headers


def _addresses(values: list[str]) -> list[str]:
    joined = [decode_header_value(v) for v in values]
    return [addr.lower() for _name, addr in getaddresses(joined) if "@" in addr]


def parse(raw: bytes) -> ParsedMail:
    message = message_from_bytes(raw, policy=policy.default)
    headers = _headers_of(message)

    def first(name: str) -> str:
        values = headers.get(name)
        return values[0] if values else ""

    message_id = normalise_id(first("message-id"))
    key = id_key(message_id) if message_id else hashlib.sha256(raw).hexdigest()
    name, address = parseaddr(decode_header_value(first("from")))
    if "@" not in address:
        name, address = parseaddr(decode_header_value(first("sender") or first("return-path")))
    recipients = _addresses(
        [
            v
            for h in ("to", "cc", "delivered-to", "x-original-to", "envelope-to")
            for v in headers.get(h, [])
        ]  # fmt: skip
    )
    plain: list[str] = []
    html: list[str] = []
    calendar: list[str] = []
    files: list[MailFile] = []
    report: Report | None = None
    winmail = False
    if message.get_content_type() == "multipart/report":
        report = Report()
    for part, nested in _iter_leaves(message):
        ctype = part.get_content_type()
        if report is not None and nested:
            report.original_ids += [
                normalise_id(v) for v in _headers_of(part).get("message-id", [])
            ]
        if ctype == "message/delivery-status":
            report = report or Report()
            blocks = part.get_payload()  # parsed as header blocks, one per recipient
            status_text = (
                "\n".join(
                    f"{k}: {v}" for b in blocks if isinstance(b, Message) for k, v in b.raw_items()
                )
                if isinstance(blocks, list)
                else decode_bytes(_part_bytes(part), "utf-8")
            )
            status = re.search(r"(?im)^Status:\s*(\S+)", status_text)
            diag = re.search(r"(?im)^Diagnostic-Code:\s*(.+)$", status_text)
            report.status = status.group(1) if status else report.status
            report.diagnostic = diag.group(1).strip()[:400] if diag else report.diagnostic
            continue
        if ctype == "text/rfc822-headers" and report is not None:
            text = decode_bytes(_part_bytes(part), "utf-8")
            report.original_ids += [
                normalise_id(m) for m in re.findall(r"(?im)^Message-ID:\s*(\S+)", text)
            ]
            continue
        if nested:
            continue  # a forwarded or returned message: kept in the original .eml
        filename = _filename(part)
        disposition = (part.get_content_disposition() or "").lower()
        data = _part_bytes(part)
        if ctype == "application/ms-tnef" or filename.lower() == "winmail.dat":
            winmail = True  # Outlook's TNEF: no upload type fits; kept in the .eml
            continue
        if not filename and disposition != "attachment":
            charset = part.get_content_charset()
            if ctype == "text/plain" or ctype.startswith("multipart/"):
                # (a multipart without usable boundaries arrives as one text leaf)
                plain.append(decode_bytes(data, charset))
                continue
            if ctype == "text/html":
                html.append(decode_bytes(data, charset))
                continue
            if ctype == "text/calendar":
                calendar.append(calendar_to_text(decode_bytes(data, charset)))
                continue
        if not data:
            continue
        cid = "content-id" in part
        if not filename:
            filename = f"inline-{len(files) + 1}.{_EXT.get(ctype, 'bin')}"
        files.append(MailFile(filename, data, ctype, inline=cid or disposition == "inline"))
    if plain and any(p.strip() for p in plain):
        full = "\n\n".join(p for p in plain if p.strip())
    elif html:
        full = "\n\n".join(html_to_text(h) for h in html)
    else:
        full = ""
    if calendar:
        full = (full + "\n\n" + "\n\n".join(calendar)).strip()
    full = full.strip()
    return ParsedMail(
        message_id=message_id,
        key=key,
        sender=address.strip().lower() if "@" in address else "",
        sender_name=name.strip(),
        subject=decode_header_value(first("subject")),
        text=strip_quoted(full) if full else "",
        full_text=full,
        headers=headers,
        in_reply_to=[normalise_id(m) for m in _ID_RE.findall(first("in-reply-to"))],
        references=[
            normalise_id(m) for m in _ID_RE.findall(" ".join(headers.get("references", [])))
        ],  # fmt: skip
        recipients=recipients,
        files=files,
        report=report,
        winmail=winmail,
    )
