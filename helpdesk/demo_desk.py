"""`helpdesk demo`: a lived-in desk in its own SQLite database under instance/demo/.

The demo's database, uploads, exports and job queue live in their own folder and the
command sets them in the environment before it builds its app, so neither `.env` nor
`make run`'s database is read or written. On top of `helpdesk.demo.seed` (tickets with
comments over two years) it adds chat history and notifications, and one account per
role with the demo password.
"""

from __future__ import annotations

import os
import random
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, insert, select, update

from helpdesk.db import utcnow
from helpdesk.demo import DEMO_PASSWORD, seed
from helpdesk.extensions import db

ACCOUNTS = (("admin", "admin"), ("technician", "tech00001"), ("user", "user00001"))

CHAT = [
    ("Hola, ¿podéis mirar por qué no me llega el correo?", "Claro, lo miro ahora mismo."),
    ("Hi, the printer on the 2nd floor is jammed again.", "On my way, give me ten minutes."),
    ("¿Hay alguna novedad con mi portátil?", "Llega mañana; te aviso en cuanto esté."),
    ("Could you reset my VPN token?", "Done. Try to sign in again and tell me."),
    ("La impresora vuelve a fallar 😅", "Ya está cambiado el tóner; prueba ahora."),
    ("Thanks for the quick fix yesterday!", "You're welcome 🙂"),
]


def demo_environment(folder: Path) -> dict[str, str]:
    """Settings that point every store of the app into `folder` (and away from Redis
    and whatever `.env` names: an empty value beats the file)."""
    folder = folder.resolve()
    return {
        "HELPDESK_INSTANCE_DIR": str(folder),
        "DATABASE_URL": "sqlite:///" + (folder / "helpdesk.db").as_posix(),
        "UPLOAD_DIR": str(folder / "uploads"),
        "EXPORT_DIR": str(folder / "exports"),
        "JOBS_BACKEND": "sqlite",
        "JOBS_SQLITE_PATH": str(folder / "jobs.db"),
        "REDIS_URL": "",
        "ADMIN_PASSWORD": "",
        "HELPDESK_ENV": "development",
    }


def use_demo_environment(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    os.environ.update(demo_environment(folder))
    os.environ.pop("SECRET_KEY", None)  # the demo keeps its own under its folder


def is_built() -> bool:
    from helpdesk.tickets.models import Ticket

    return bool(db.session.scalar(select(func.count()).select_from(Ticket)))


def build(n_tickets: int, progress: Any = None) -> dict[str, int]:
    """Fill an empty, migrated database. The caller commits."""
    from helpdesk.desk.services import first_start_defaults
    from helpdesk.users import services as users

    if users.find_by_username("admin") is None:
        users.create_user(
            None,
            username="admin",
            password=DEMO_PASSWORD,
            role="admin",
            full_name="Administración Demo",
            check_policy=False,  # a demo password, printed at every start
        )
    first_start_defaults()
    stats = seed(
        n_tickets=n_tickets,
        n_users=max(20, n_tickets // 60),
        n_techs=max(4, min(12, n_tickets // 500)),
        comments_per_ticket=3,
        random_seed=2026,
        progress=progress,
    )
    rng = random.Random(7)
    stats["messages"] = _chat_history(rng)
    stats["notifications"] = _notifications(rng)
    db.session.commit()
    return stats


def _ids(prefix: str) -> list[int]:
    from helpdesk.users.models import User

    return list(db.session.scalars(select(User.id).where(User.username.like(prefix + "%"))))


def _chat_history(rng: random.Random) -> int:
    """Conversations between users and technicians spread over two years."""
    from helpdesk.chat.models import Conversation, Message

    techs, people = _ids("tech"), _ids("user")
    admin = _ids("admin")
    now = utcnow()
    pairs = {(people[0], techs[0]), (people[0], admin[0]), (techs[0], admin[0])}
    while len(pairs) < min(40, len(people) * len(techs)):
        pairs.add((rng.choice(people), rng.choice(techs)))
    count = 0
    for a, b in sorted(pairs):
        low, high = sorted((a, b))
        started = now - timedelta(days=rng.uniform(1, 720))
        conv = Conversation(low_user_id=low, high_user_id=high, created_at=started)
        db.session.add(conv)
        db.session.flush()
        at = started
        rows = []
        for _ in range(rng.randint(1, 4)):
            question, answer = rng.choice(CHAT)
            for sender, body in ((a, question), (b, answer)):
                at = min(now, at + timedelta(minutes=rng.randint(1, 600)))
                rows.append(
                    dict(conversation_id=conv.id, sender_id=sender, body=body, created_at=at)
                )
        db.session.execute(insert(Message), rows)
        last = int(
            db.session.scalar(
                select(func.max(Message.id)).where(Message.conversation_id == conv.id)
            )
            or 0
        )
        # Everything read but the newest message of a few conversations.
        unread = rng.random() < 0.25
        db.session.execute(
            update(Conversation)
            .where(Conversation.id == conv.id)
            .values(
                last_message_id=last,
                last_message_at=at,
                low_last_read_id=last - 1 if unread and rows[-1]["sender_id"] != low else last,
                high_last_read_id=last - 1 if unread and rows[-1]["sender_id"] != high else last,
            )
        )
        count += len(rows)
    return count


def _notifications(rng: random.Random) -> int:
    """A bell with history for each demo account: read ones and a few new."""
    from helpdesk.notifications.models import Notification, NotificationKind
    from helpdesk.tickets.models import Ticket

    now = utcnow()
    rows = []
    for role, username in ACCOUNTS:
        user_id = _ids(username)[0]
        column = {"admin": Ticket.requester_id, "technician": Ticket.assignee_id}.get(
            role, Ticket.requester_id
        )
        query = select(Ticket.id, Ticket.number, Ticket.requester_id, Ticket.assignee_id)
        if role != "admin":
            query = query.where(column == user_id)
        tickets = db.session.execute(query.order_by(Ticket.id.desc()).limit(40)).all()
        kinds = {
            "admin": [NotificationKind.TICKET_ACTIVITY, NotificationKind.CHAT_MESSAGE],
            "technician": [NotificationKind.TICKET_ASSIGNED, NotificationKind.TICKET_ACTIVITY],
            "user": [NotificationKind.TICKET_COMMENT, NotificationKind.TICKET_STATUS],
        }[role]
        for i, ticket in enumerate(tickets):
            created = now - timedelta(hours=i * rng.uniform(3, 40))
            other = ticket.assignee_id if ticket.requester_id == user_id else ticket.requester_id
            rows.append(
                dict(
                    user_id=user_id,
                    kind=rng.choice(kinds),
                    actor_id=other if other != user_id else None,
                    ticket_id=ticket.id,
                    detail=ticket.number,
                    created_at=created,
                    read_at=None if i < 4 else created + timedelta(minutes=rng.randint(1, 300)),
                )
            )
    if rows:
        db.session.execute(insert(Notification), rows)
    return len(rows)
