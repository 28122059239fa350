"""Long commands say how far they are."""

from __future__ import annotations

import io
import re

import click

from helpdesk.demo import seed
from helpdesk.ops import progress as progress_module


def test_seed_reports_every_batch(app):
    steps: list[int] = []
    stats = seed(n_tickets=7, n_users=2, n_techs=1, progress=steps.append)
    assert sum(steps) == stats["tickets"] == 7


def test_progress_bar_shows_rate_and_time_left(monkeypatch):
    out = io.StringIO()
    out.isatty = lambda: True  # type: ignore[method-assign]  # draw as on a terminal
    monkeypatch.setattr(progress_module.sys, "stderr", out)
    clock = iter(range(0, 1000, 1))
    monkeypatch.setattr(progress_module.time, "perf_counter", lambda: float(next(clock)))
    with progress_module.progress_bar(20_000, "Tickets") as step:
        for _ in range(4):
            step(5_000)
    drawn = click.unstyle(out.getvalue())
    # One clock tick per read: 5,000 done after 2 s → 2,500/s, 15,000 left → 6 s.
    assert "25%  5,000/20,000 · 2,500/s · 0:00:06 left" in drawn, drawn
    assert "100%  20,000/20,000 · 4,000/s · 0:00:00 left" in drawn, drawn
    assert re.search(r"Tickets\s+\[#{7}-{23}\]", drawn)


def test_small_loads_draw_nothing(capsys):
    with progress_module.progress_bar(100, "Tickets") as step:
        step(100)
    assert capsys.readouterr().err == ""
