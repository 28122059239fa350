"""Map domain and HTTP errors to pages (HTML) or JSON, with the transaction rolled back."""

from __future__ import annotations

import contextlib
import math
import time

from flask import Flask, Response, current_app, g, jsonify, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from helpdesk.errors import HelpdeskError, TooManyRequests
from helpdesk.extensions import db
from helpdesk.outage import database_unavailable


def wants_json() -> bool:
    if request.is_json or request.headers.get("X-Requested-With") == "XMLHttpRequest":
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return (
        best == "application/json"
        and request.accept_mimetypes[best] > request.accept_mimetypes["text/html"]
    )


def _titles() -> dict[int, str]:
    return {
        400: _("Bad request"),
        401: _("Please sign in"),
        403: _("Not allowed"),
        404: _("Not found"),
        405: _("Method not allowed"),
        409: _("Conflict"),
        413: _("File too large"),
        429: _("Too many attempts"),
        500: _("Something went wrong"),
    }


def rollback_quietly() -> None:
    """Roll back before any error page: a session left in a failed transaction
    ("Can't reconnect until invalid transaction is rolled back") fails every later
    query, the error page's own included. With the database gone even the rollback
    may fail; the session is then thrown away."""
    try:
        db.session.rollback()
    except Exception:  # noqa: BLE001 - nothing more can be done about the session
        g.database_down = True
        with contextlib.suppress(Exception):
            db.session.remove()


def error_response(status: int, message: str):
    rollback_quietly()
    if wants_json():
        return jsonify(error=status, message=message), status
    title = _titles().get(status, _("Error"))
    if not g.get("database_down"):
        try:
            page = render_template("errors/error.html", status=status, title=title, message=message)
            return page, status
        except Exception as exc:  # noqa: BLE001 - the page needs the database; use the plain one
            rollback_quietly()
            g.database_down = True
            current_app.logger.warning("Error page fell back to the plain one: %r", exc)
    return plain_page(status=status, title=title, message=message), status


def plain_page(**context: object) -> str:
    """errors/plain.html rendered without Flask's context processors: Flask-Login's
    loads the signed-in person, i.e. queries the database this page must not need."""
    return current_app.jinja_env.get_template("errors/plain.html").render(**context)


def unavailable_response(exc: BaseException):
    """503 + Retry-After and a page made without the database (its own template)."""
    g.database_down = True
    rollback_quietly()
    retry = int(current_app.config.get("RETRY_AFTER_SECONDS") or 5)
    current_app.logger.warning(
        "Database unavailable (%s %s): %s", request.method, request.path, _one_line(exc)
    )
    message = _(
        "The help desk is briefly unavailable. Nothing you sent was lost: if you were "
        "saving something, check it in a moment and try again."
    )
    body: Response | str
    if wants_json():
        body, status = jsonify(error=503, message=message), 503
    else:
        title = _("Briefly unavailable")
        body = plain_page(status=503, title=title, message=message)
        status = 503
    response = current_app.make_response((body, status))
    response.headers["Retry-After"] = str(retry)
    return response


def _one_line(exc: BaseException) -> str:
    text = f"{type(exc).__name__}: {getattr(exc, 'orig', None) or exc}"
    return " ".join(text.split())[:300]


def register(app: Flask) -> None:
    @app.errorhandler(HelpdeskError)
    def _domain(exc: HelpdeskError):
        body, code = error_response(
            exc.status_code, exc.message or _titles().get(exc.status_code, "")
        )
        response = app.make_response((body, code))
        if isinstance(exc, TooManyRequests):
            response.headers["Retry-After"] = str(exc.retry_after)
        return response

    @app.errorhandler(CSRFError)
    def _csrf(exc: CSRFError):
        return error_response(
            400, _("The form expired or was sent from elsewhere. Reload the page and try again.")
        )

    @app.errorhandler(RequestEntityTooLarge)
    def _too_large(exc: RequestEntityTooLarge):
        return error_response(
            413,
            _(
                "The upload is too large: each file may be at most %(mb)s MB.",
                mb=app.config["MAX_UPLOAD_MB"],
            ),
        )

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException):
        status = exc.code or 500
        if status == 429:
            return _too_many(exc)
        messages = {
            403: _("You do not have permission to see this page."),
            404: _("The page you asked for does not exist or is not visible to you."),
            405: _("This address does not accept that method."),
        }
        return error_response(status, messages.get(status, exc.description or ""))

    def _too_many(exc: HTTPException):
        """429 with Retry-After (seconds) and a message that says how long to wait."""
        from helpdesk.extensions import limiter

        current = limiter.current_limit
        wait = 60
        if current is not None:
            wait = max(1, math.ceil(current.reset_at - time.time()))
        if request.endpoint == "auth.login":
            message = _(
                "Too many sign-in attempts. For your security, signing in is paused: "
                "try again in %(seconds)s seconds.",
                seconds=wait,
            )
        else:
            message = _("Too many requests. Try again in %(seconds)s seconds.", seconds=wait)
        body, code = error_response(429, message)
        response = app.make_response((body, code))
        response.headers["Retry-After"] = str(wait)
        return response

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        if database_unavailable(exc):
            return unavailable_response(exc)
        app.logger.exception("Unhandled error")
        return error_response(500, _("An unexpected error happened; it has been logged."))
