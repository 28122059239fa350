"""Imported into a worker (`--import tests.jobs.slow_export`) by the fault tests: an
export job, once it has counted its rows, waits there (heartbeat still beating) so
the test can kill the worker mid-export at a known point."""

from __future__ import annotations

import time

from helpdesk.reports import jobs

_original = jobs._progress


def _held(engine, job_id, **values):  # type: ignore[no-untyped-def]
    _original(engine, job_id, **values)
    if "rows_total" in values:
        time.sleep(600)  # until the test kills this worker


jobs._progress = _held
