"""The HTTP boundary: one transaction per request, committed once, here and nowhere else.

Every view function of the app is wrapped by `transactional` when the app is built
(`register`), so no view commits or rolls back itself:

- the view returns a response with a status below 400 → commit (after-commit
  effects — socket emits, e-mails, enqueued tasks — run then);
- the view raises (a `HelpdeskError` becomes its 4xx page in `errors_http`, anything
  else a 500) → roll back, and the flash messages the view added are dropped, so a
  "Ticket created" never shows for a ticket that was not stored;
- the view answers an error itself — a form shown again with the service's message
  (`form_error`), a flash and a redirect (`flash_error`): those roll back at once
  (`abandon`) and the request ends without a commit; any other answer of status 400
  and above also ends in a roll back, unless the view asked to keep what it wrote
  (`keep_on_error`: the audit row of a refused sign-in).

A view therefore takes everything its response needs (ids, numbers, the redirect)
before it returns and never reads the database after the commit. Work outside a
view (CLI, tasks, mail ingest, hooks that run before a view) uses
`helpdesk.transaction.unit_of_work`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from flask import Flask, current_app, flash, g, session

from helpdesk.errors import HelpdeskError
from helpdesk.extensions import db

_ABANDON = "_boundary_abandon"
_KEEP = "_boundary_keep"
_FLASHES = "_flashes"


def abandon() -> None:
    """The view answers a failure itself: roll back what the request changed, now.

    At once rather than at the end, because the page shown next (the form again, the
    ticket with its timeline) must show what is stored, not the half-made change; the
    request then ends without a commit.
    """
    db.session.rollback()
    setattr(g, _ABANDON, True)


def keep_on_error() -> None:
    """Commit even though the answer is an error status (a record of the refusal)."""
    setattr(g, _KEEP, True)


def form_error(form: Any, exc: HelpdeskError, *, keep: bool = False) -> None:
    """Show the service's message on its field (or as a flash); the boundary rolls back,
    unless `keep`: the failed check wrote only its own record (an audit row, a count)."""
    if keep:
        keep_on_error()
    else:
        abandon()
    field = getattr(form, exc.field, None) if exc.field else None
    if field is not None:
        field.errors = [*field.errors, exc.message]
    else:
        flash(exc.message, "danger")


def flash_error(exc: HelpdeskError, category: str = "danger") -> None:
    """Show the service's message on the next page; the boundary rolls back."""
    abandon()
    flash(exc.message, category)


def _drop_flashes_since(count: int) -> None:
    flashes = session.get(_FLASHES)
    if flashes is not None and len(flashes) > count:
        session[_FLASHES] = flashes[:count]


def transactional(view: Callable[..., Any]) -> Callable[..., Any]:
    """Run `view` as one unit of work (see the module docstring)."""
    if getattr(view, "_transactional", False):
        return view

    @functools.wraps(view)
    def run(*args: Any, **kwargs: Any) -> Any:
        g.pop(_ABANDON, None)
        g.pop(_KEEP, None)
        flashed = len(session.get(_FLASHES, ()))
        try:
            response = current_app.make_response(view(*args, **kwargs))
            failed = g.pop(_ABANDON, False) or (
                response.status_code >= 400 and not g.pop(_KEEP, False)
            )
            if failed:
                db.session.rollback()
            else:
                db.session.commit()
        except BaseException:
            db.session.rollback()
            _drop_flashes_since(flashed)
            raise
        return response

    run._transactional = True  # type: ignore[attr-defined]
    return run


def register(app: Flask) -> None:
    """Wrap every view function registered so far (call after the blueprints)."""
    for endpoint, view in list(app.view_functions.items()):
        if endpoint != "static":
            app.view_functions[endpoint] = transactional(view)
