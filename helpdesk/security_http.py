"""Security headers on every response (pages, errors, downloads) with a per-request CSP nonce."""

from __future__ import annotations

import secrets

from flask import Flask, Response, g

# For files served to the browser (attachments): nothing in them may run, load, submit,
# or be framed. base-uri, form-action and frame-ancestors do not fall back to
# default-src, so they are spelled out.
FILE_CSP = (
    "default-src 'none'; object-src 'none'; base-uri 'none'; form-action 'none'; "
    "frame-ancestors 'none'; sandbox"
)


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
                "connect-src 'self' ws: wss:",
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
        if app.config.get("HELPDESK_ENV") == "production":
            headers["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
        return response
