"""The corpus's large messages, built at test time instead of being checked in:
1 MB of headers, 10,000 recipients, a 25 MB attachment, MIME nested 50 deep."""

from __future__ import annotations

import base64


def _head(name: str, extra: str = "", ctype: str = 'text/plain; charset="utf-8"') -> bytes:
    return (
        f"From: Big Sender <{name}@example.org>\r\nTo: soporte@desk.example\r\n"
        f"Subject: {name}\r\nMessage-ID: <{name}@example.org>\r\nMIME-Version: 1.0\r\n"
        f"Content-Type: {ctype}\r\n{extra}"
    ).encode()


def huge_headers(size: int = 1024 * 1024) -> bytes:
    """1 MB of extra header lines (and a 100 KB subject continuation)."""
    line = "X-Filler: " + "a" * 990 + "\r\n"
    filler = line * (size // len(line))
    return _head("huge-headers", filler) + b"\r\nThe body after a megabyte of headers.\r\n"


def many_recipients(n: int = 10_000) -> bytes:
    to = ",\r\n ".join(f"person{i}@example.org" for i in range(n))
    return _head("many-recipients", f"Cc: {to}\r\n") + b"\r\nSent to ten thousand people.\r\n"


def big_attachment(mb: int = 25) -> bytes:
    data = b"%PDF-1.4\n" + b"0" * (mb * 1024 * 1024)
    encoded = base64.encodebytes(data).replace(b"\n", b"\r\n")
    return (
        _head("big-attachment", ctype='multipart/mixed; boundary="B"')
        + b"\r\n--B\r\nContent-Type: text/plain\r\n\r\nA large file attached.\r\n"
        + b'--B\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename="big.pdf"\r\n'
        + b"Content-Transfer-Encoding: base64\r\n\r\n"
        + encoded
        + b"\r\n--B--\r\n"
    )


def deep_nesting(depth: int = 50) -> bytes:
    body = b"Content-Type: text/plain\r\n\r\nText at the bottom of fifty levels.\r\n"
    for i in range(depth):
        body = (
            f'Content-Type: multipart/mixed; boundary="L{i}"\r\n\r\n--L{i}\r\n'.encode()
            + body
            + f"\r\n--L{i}--\r\n".encode()
        )
    head = (
        b"From: deep@example.org\r\nTo: soporte@desk.example\r\nSubject: deep\r\n"
        b"Message-ID: <deep-nesting@example.org>\r\nMIME-Version: 1.0\r\n"
    )
    return head + body


GENERATED = {
    "huge-headers": huge_headers,
    "many-recipients": many_recipients,
    "big-attachment": big_attachment,
    "deep-nesting": deep_nesting,
}
