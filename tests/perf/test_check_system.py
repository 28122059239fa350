"""`helpdesk check-system` fails on SQLite with several server processes."""

from __future__ import annotations

from helpdesk.cli import check_system


def _run(app, monkeypatch, **env: str):  # type: ignore[no-untyped-def]
    for key in ("WEB_CONCURRENCY", "HELPDESK_PROCESSES"):
        monkeypatch.delenv(key, raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return app.test_cli_runner().invoke(check_system)


def test_sqlite_with_several_processes_is_reported(app, monkeypatch):
    sqlite = app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite")
    line = "database suits the number of server processes"
    one = _run(app, monkeypatch, HELPDESK_PROCESSES="1")
    assert f"OK   {line}" in one.output
    for env in ({"HELPDESK_PROCESSES": "2"}, {"WEB_CONCURRENCY": "4"}):
        several = _run(app, monkeypatch, **env)
        if sqlite:
            assert f"FAIL {line}" in several.output
            assert "PostgreSQL" in several.output
            assert several.exit_code != 0
        else:
            assert f"OK   {line}" in several.output
