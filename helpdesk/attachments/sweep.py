"""Upload storage against the attachments table: files without rows, rows without files.

Uploads are written to `UPLOAD_DIR/.staging/` and moved into place after the commit
(attachments.services.store_upload). What a crash leaves behind is:
- a staged file whose row was committed (crash between commit and move): moved into
  place;
- a staged file without a row (crash or kill before the commit): removed once older
  than `STAGING_GRACE`, so an upload still in progress is never touched;
- a file in place without a row (from before staging existed, or a restore): removed
  by `--fix` once older than the grace too;
- a row without a file: reported (nothing can bring it back; an administrator can).
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select

from helpdesk.attachments.models import Attachment
from helpdesk.attachments.services import STAGING_DIR, publish_staged, upload_root
from helpdesk.extensions import db

STAGING_GRACE = timedelta(hours=1)
_STORED_NAME = re.compile(r"[0-9a-f]{40}")
_BATCH = 1000


@dataclass
class StorageReport:
    orphan_files: list[Path] = field(default_factory=list)  # no row, old enough
    missing_files: list[tuple[int, str]] = field(default_factory=list)  # (id, name)
    published: list[str] = field(default_factory=list)  # staged + committed: moved
    removed: list[Path] = field(default_factory=list)
    orphan_bytes: int = 0


def _known(names: list[str]) -> set[str]:
    known: set[str] = set()
    for start in range(0, len(names), _BATCH):
        chunk = names[start : start + _BATCH]
        known.update(
            db.session.scalars(
                select(Attachment.stored_name).where(Attachment.stored_name.in_(chunk))
            )
        )
    return known


def _files(root: Path) -> tuple[list[Path], list[Path]]:
    staged: list[Path] = []
    placed: list[Path] = []
    staging = root / STAGING_DIR
    if staging.is_dir():
        staged = [p for p in staging.iterdir() if p.is_file() and _STORED_NAME.fullmatch(p.name)]
    for sub in root.iterdir() if root.is_dir() else []:
        if sub.is_dir() and len(sub.name) == 2 and sub.name != STAGING_DIR:
            placed.extend(
                p for p in sub.iterdir() if p.is_file() and _STORED_NAME.fullmatch(p.name)
            )
    return staged, placed


def check_storage(
    *, fix: bool = False, grace: timedelta = STAGING_GRACE, rows: bool = True
) -> StorageReport:
    """Compare the upload folder with the table; with `fix`, repair what can be.
    `rows` also reads every attachment row to find those whose file is gone."""
    root = upload_root()
    report = StorageReport()
    staged, placed = _files(root)
    known = _known([p.name for p in staged + placed])
    cutoff = time.time() - grace.total_seconds()
    for path in staged:
        if path.name in known:
            report.published.append(path.name)
            if fix:
                publish_staged(path.name)
        elif path.stat().st_mtime < cutoff:
            report.orphan_files.append(path)
    for path in placed:
        if path.name not in known and path.stat().st_mtime < cutoff:
            report.orphan_files.append(path)
    report.orphan_bytes = sum(p.stat().st_size for p in report.orphan_files if p.exists())
    if fix:
        for path in report.orphan_files:
            path.unlink(missing_ok=True)
            report.removed.append(path)
    if not rows:
        return report
    present = {p.name for p in placed} | {p.name for p in staged}
    for att_id, name in db.session.execute(
        select(Attachment.id, Attachment.stored_name).order_by(Attachment.id)
    ):
        if name not in present:
            report.missing_files.append((att_id, name))
    return report
