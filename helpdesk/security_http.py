"""Security headers on every response (pages, errors, downloads) with a per-request CSP nonce."""

from __future__ import annotations

import secrets

from flask import Flask, Response, g, request
from werkzeug.serving import WSGIRequestHandler

# For files served to the browser (attachments): nothing in them may run, load, submit,
# or be framed. base-uri, form-action and frame-ancestors do not fall back to
# default-src, so they are spelled out.
FILE_CSP = (
    "default-src 'none'; object-src 'none'; base-uri 'none'; form-action 'none'; "
    "frame-ancestors 'none'; sandbox"
)


class QuietRequestHandler(WSGIRequestHandler):
    """The development server (`helpdesk run`) without its `Server: Werkzeug/… Python/…`
    header: it told every client which versions to look up exploits for."""

    def version_string(self) -> str:
        return ""

    def send_header(self, keyword: str, value: str) -> None:
        if keyword.lower() == "server" and not value:
            return
        super().send_header(keyword, value)


def csp_nonce() -> str:
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(18)
    return str(g.csp_nonce)


def register(app: Flask) -> None:
    app.jinja_env.globals["csp_nonce"] = csp_nonce

    @app.before_request
    def _fresh_nonce() -> None:
        # `g` lives as long as the app context, which an outer context (tests, CLI) can
        # stretch over several requests: every request gets its own nonce.
        g.pop("csp_nonce", None)

    @app.after_request
    def _headers(response: Response) -> Response:
        nonce = csp_nonce()
        csp = "; ".join(
            [
                "default-src 'self'",
                f"script-src 'self' 'nonce-{nonce}'",
                "style-src 'self'",
                "img-src 'self' data: blob:",
                "font-src 'self'",
                # 'self' covers the same-origin ws:/wss: socket in current browsers (CSP 3);
                # the bare schemes let script open a socket to any host.
                "connect-src 'self'",
                "object-src 'none'",
                "base-uri 'none'",
                "form-action 'self'",
                "frame-ancestors 'none'",
            ]
        )
        headers = response.headers
        headers.setdefault("Content-Security-Policy", csp)
        headers["X-Content-Type-Options"] = "nosniff"
        headers["X-Frame-Options"] = "DENY"
        headers["Referrer-Policy"] = "same-origin"
        headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=(), payment=()"
        headers["Cross-Origin-Opener-Policy"] = "same-origin"
        # Nothing the app renders may stay in a browser's or proxy's cache: pages and
        # JSON hold a signed-in person's data, and the login page a CSRF token. Static
        # files (served by nginx in production, with a long expiry) keep theirs.
        if request.endpoint != "static" and "no-store" not in headers.get("Cache-Control", ""):
            headers["Cache-Control"] = "no-store"
        if app.config.get("HELPDESK_ENV") == "production":
            headers["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
        return response
