"""Progress for long commands: a bar with rate and time left on stderr."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import click


@contextmanager
def progress_bar(
    total: int, label: str, *, minimum: int = 10_000
) -> Iterator[Callable[[int], None]]:
    """Yields `step(n)`: n more items done. Below `minimum` items the work ends before a
    bar would say anything, so nothing is drawn. Off a terminal click prints the label
    once and the finished line."""
    if total < minimum:
        yield lambda n: None
        return
    started = time.perf_counter()
    done = 0

    def rate(_item: Any) -> str:
        elapsed = time.perf_counter() - started
        if elapsed <= 0 or not done:
            return ""
        per_second = done / elapsed
        left = int((total - done) / per_second)
        return (
            f"{done:,}/{total:,} · {per_second:,.0f}/s · "
            f"{left // 3600}:{left // 60 % 60:02d}:{left % 60:02d} left"
        )

    # click's own ETA averages its wall-clock between updates and stays blank for
    # batches this large; the rate and time left come from the item text instead.
    with click.progressbar(
        length=total,
        label=label,
        show_eta=False,
        show_percent=True,
        item_show_func=rate,
        file=sys.stderr,
        width=30,
    ) as bar:

        def step(n: int) -> None:
            nonlocal done
            done += n
            bar.update(n, done)

        yield step
