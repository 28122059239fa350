"""`helpdesk worker`: the background-work consumer."""

from __future__ import annotations

import importlib
import logging

import click
from flask.cli import with_appcontext


@click.command("worker")
@click.option(
    "--workers",
    "-w",
    default=1,
    show_default=True,
    type=click.IntRange(1, 64),
    help="Worker threads (tasks run at once).",
)
@click.option(
    "--import",
    "modules",
    multiple=True,
    metavar="MODULE",
    help="Also import this module of tasks (besides jobs/registry.py's).",
)
@click.option("--parent-pid", type=int, default=None, hidden=True)
@with_appcontext
def worker(workers: int, modules: tuple[str, ...], parent_pid: int | None) -> None:
    """Run background tasks and the periodic schedule until Ctrl+C."""
    from helpdesk.extensions import current_app_object
    from helpdesk.jobs.queue import backend
    from helpdesk.jobs.worker import run_consumer

    app = current_app_object()
    if backend(app) == "immediate":
        raise click.ClickException(
            "JOBS_BACKEND=immediate runs every task inline where it is enqueued; a worker "
            "needs JOBS_BACKEND=sqlite or redis."
        )
    for module in modules:
        try:
            importlib.import_module(module)
        except ImportError as exc:
            raise click.ClickException(f"Cannot import {module}: {exc}") from None
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(message)s")
    for name in ("huey", "helpdesk"):
        logging.getLogger(name).setLevel(logging.INFO)
    click.echo(f"Helpdesk worker: {workers} thread(s) on the {backend(app)} queue (Ctrl+C to stop)")
    run_consumer(app, workers=workers, parent_pid=parent_pid)
