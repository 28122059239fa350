"""The export runner process: `python -m helpdesk.reports.export_job JOB_ID`.

Started by `reports.jobs.launch` for each job, with the web app's settings in its
environment. It loads the app, runs that one job (see `jobs.run_job`) and exits;
errors end up in the job's row and, with the traceback, on stderr (the server's
log).
"""

from __future__ import annotations

import logging
import signal
import sys
from types import FrameType


def _stop(signum: int, frame: FrameType | None) -> None:
    # SIGTERM (a service stopping) becomes SystemExit, so run_job marks the job failed
    # and removes its partial file instead of leaving it "running" until it goes stale.
    raise SystemExit(128 + signum)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m helpdesk.reports.export_job JOB_ID", file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s export_job %(message)s")
    logging.getLogger("helpdesk").setLevel(logging.INFO)  # ours, not every library's
    signal.signal(signal.SIGTERM, _stop)

    from helpdesk import create_app
    from helpdesk.extensions import db
    from helpdesk.reports import jobs

    jobs.lower_priority()
    app = create_app()
    with app.app_context():
        try:
            jobs.run_job(args[0])
        finally:
            db.session.remove()
            db.engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
