"""Child process for test_upload_crash: create a ticket with a 4 MB PNG, then die by
SIGKILL at the moment named on the command line (before or after the commit)."""

from __future__ import annotations

import io
import os
import signal
import sys

from PIL import Image

from helpdesk import create_app
from helpdesk.attachments.services import Upload
from helpdesk.db import after_commit
from helpdesk.extensions import db
from helpdesk.tickets import services
from helpdesk.users.models import User


def big_png() -> bytes:
    buf = io.BytesIO()
    Image.frombytes("RGB", (1200, 1200), os.urandom(1200 * 1200 * 3)).save(buf, "PNG")
    return buf.getvalue()


def main() -> None:
    moment, url, upload_dir, user_id, category_id = sys.argv[1:6]
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "k" * 40,
            "SQLALCHEMY_DATABASE_URI": url,
            "UPLOAD_DIR": upload_dir,
            "MAX_UPLOAD_MB": 10,
            "REDIS_URL": None,
            "JOBS_BACKEND": "immediate",
        }
    )
    with app.app_context():
        actor = db.session.get(User, int(user_id))
        if moment == "after-commit":
            # Registered before store_upload's own hook, so it runs first: the row is
            # committed and the file not yet moved into place.
            after_commit(db.session, lambda: os.kill(os.getpid(), signal.SIGKILL))
        ticket = services.create_ticket(
            actor,
            title="Crash with a picture",
            description="kill -9 while storing",
            category_id=int(category_id),
            uploads=[Upload("screen.png", io.BytesIO(big_png()))],
        )
        db.session.flush()
        print(ticket.id, flush=True)
        if moment == "before-commit":
            os.kill(os.getpid(), signal.SIGKILL)
        db.session.commit()


if __name__ == "__main__":
    main()
