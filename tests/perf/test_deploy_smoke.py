"""deploy/smoke.py: two gunicorn gevent processes + two workers + Redis + nginx, checked
across each other."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.multiprocess
def test_two_processes_behind_nginx(database):
    result = subprocess.run(
        [sys.executable, str(ROOT / "deploy" / "smoke.py"), "--database-url", database.url],
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    assert "PASSED" in result.stdout
