"""Sign-in timing: a wrong password for a known user vs an unknown user name.

Not a test: prints medians and their ratio, measured in one run with the Flask test
client against a throw-away SQLite database (rate limiting off, so every attempt runs
the whole check). A ratio near 1.0 means the answer time does not tell whether an
account exists (users.authenticate verifies against a dummy Argon2 hash).

    .venv/bin/python bench/login_timing.py [--rounds 40]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=40)
    args = parser.parse_args()
    from helpdesk import create_app
    from helpdesk.extensions import db
    from helpdesk.users.services import create_user

    with tempfile.TemporaryDirectory() as tmp:
        app = create_app(
            {
                "TESTING": True,
                "WTF_CSRF_ENABLED": False,
                "RATELIMIT_ENABLED": False,
                "SECRET_KEY": "bench-" + "x" * 40,
                "SQLALCHEMY_DATABASE_URI": f"sqlite:///{Path(tmp) / 'bench.db'}",
                "UPLOAD_DIR": str(Path(tmp) / "uploads"),
            }
        )
        with app.app_context():
            db.create_all()
            create_user(None, username="alice", password="Correct-horse-42")
            db.session.commit()
        client = app.test_client()

        def attempt(username: str) -> float:
            started = time.perf_counter()
            response = client.post("/login", data={"username": username, "password": "wrong-pass"})
            elapsed = time.perf_counter() - started
            assert response.status_code == 401
            return elapsed

        for _ in range(3):  # warm-up
            attempt("alice")
            attempt("nobody")
        known, unknown = [], []
        for i in range(args.rounds):  # interleaved, so drift hits both alike
            known.append(attempt("alice"))
            unknown.append(attempt(f"nobody{i}"))
        k, u = statistics.median(known), statistics.median(unknown)
        print(f"rounds: {args.rounds}")
        print(f"known user, wrong password: median {k * 1000:.1f} ms")
        print(f"unknown user:               median {u * 1000:.1f} ms")
        print(f"ratio unknown/known: {u / k:.2f}")


if __name__ == "__main__":
    main()
