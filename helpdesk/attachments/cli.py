"""`helpdesk attachments-check [--fix]`: upload files against attachment rows."""

from __future__ import annotations

import click
from flask.cli import with_appcontext


@click.command("attachments-check")
@click.option("--fix", is_flag=True, help="Remove files without rows; finish staged uploads.")
@with_appcontext
def attachments_check(fix: bool) -> None:
    """List files without rows and rows without files (exit 1 if any remain)."""
    from helpdesk.attachments.sweep import STAGING_GRACE, check_storage
    from helpdesk.transaction import unit_of_work

    with unit_of_work():
        report = check_storage(fix=fix)
    hours = STAGING_GRACE.total_seconds() / 3600
    for path in report.orphan_files:
        verb = "removed" if fix else "no row"
        click.echo(f"file without a row ({verb}): {path}")
    for att_id, name in report.missing_files:
        click.echo(f"row without a file: attachment {att_id} ({name})")
    for name in report.published:
        verb = "moved into place" if fix else "committed but still staged"
        click.echo(f"staged upload {verb}: {name}")
    click.echo(
        f"{len(report.orphan_files)} files without rows ({report.orphan_bytes} bytes), "
        f"{len(report.missing_files)} rows without files, "
        f"{len(report.published)} staged uploads; files younger than {hours:g} h are left alone."
    )
    remaining = report.missing_files or (not fix and (report.orphan_files or report.published))
    if remaining:
        if not fix and (report.orphan_files or report.published):
            click.echo("Run `helpdesk attachments-check --fix` to repair the files.")
        raise SystemExit(1)
