"""Realistic demo data, written with bulk Core inserts so a million tickets is practical.

Ids are assigned here (continuing after the current maximum) so tickets, comments
and events can be linked without a round trip per row; PostgreSQL's sequences are
moved past them at the end.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable
from datetime import timedelta
from typing import Any, cast

from sqlalchemy import Table, func, insert, select, text, update

from helpdesk.db import utcnow
from helpdesk.extensions import db
from helpdesk.security.passwords import hash_password
from helpdesk.security.sanitize import render_markdown
from helpdesk.tickets.models import (
    Category,
    Comment,
    EventKind,
    Priority,
    Status,
    Ticket,
    TicketEvent,
    TicketSequence,
)
from helpdesk.users.models import Role, User

DEMO_PASSWORD = "demo-password-1"  # noqa: S105  printed in the README; demo data only
BATCH = 5000

CATEGORIES = [
    ("Hardware", "Equipos, impresoras, periféricos"),
    ("Software", "Aplicaciones y licencias"),
    ("Red / Network", "Wi-Fi, VPN, cableado"),
    ("Cuentas / Accounts", "Contraseñas, accesos, permisos"),
    ("Correo / E-mail", "Buzones y listas"),
    ("Telefonía", "Extensiones y móviles"),
    ("Facturación / Billing", "Pagos y facturas"),
    ("Otros / Other", "Lo que no encaja en otra categoría"),
]
SUBJECTS = [
    "La impresora de la planta {n} no imprime",
    "No puedo acceder a la VPN desde casa",
    "Outlook se cierra al abrir un adjunto",
    "Solicitud de portátil nuevo para {name}",
    "El Wi-Fi de la sala {n} se corta cada hora",
    "Password reset for account {name}",
    "Licencia de Office caducada",
    "Teléfono de la extensión {n} sin tono",
    "Error 500 en la intranet al guardar",
    "Monitor parpadea en el puesto {n}",
    "Cannot sync calendar on mobile",
    "Acceso a la carpeta compartida de Contabilidad",
    "La factura {n} aparece duplicada",
    "Actualización de Windows bloqueada",
    "Ratón y teclado inalámbricos no responden",
]
BODIES = [
    "Desde esta mañana **no funciona**. He probado a reiniciar y sigue igual.\n\n- Equipo: {n}\n- Planta: 2",
    "Adjunto captura del error. ¿Podéis revisarlo? Es _urgente_ para la reunión de las 10.",
    "It started after yesterday's update. Steps:\n\n1. Open the app\n2. Click *Save*\n3. Error",
    "Necesito acceso antes del viernes. Mi responsable es {name}.",
    "El problema ocurre solo en la red de invitados; en la red interna va bien.",
]
REPLIES = [
    "Hola, lo estamos revisando. ¿Puedes indicarnos el número de inventario?",
    "Thanks, we have reproduced it and a fix is on the way.",
    "He reiniciado el servicio; prueba ahora y confirma, por favor.",
    "Se ha pedido la pieza al proveedor; llegará en 2-3 días.",
    "Nota interna: revisar garantía antes de cambiar el equipo.",
]
FIRST = [
    "Ana",
    "Luis",
    "María",
    "José",
    "Lucía",
    "Carlos",
    "Elena",
    "Javier",
    "Sofía",
    "Miguel",
    "Laura",
    "David",
    "Paula",
    "Pablo",
    "Marta",
    "Jorge",
    "Núria",
    "Íñigo",
    "Chloe",
    "John",
]
LAST = [
    "García",
    "Martínez",
    "López",
    "Sánchez",
    "Pérez",
    "Gómez",
    "Fernández",
    "Ruiz",
    "Díaz",
    "Moreno",
    "Muñoz",
    "Álvarez",
    "Romero",
    "Navarro",
    "Torres",
    "Peña",
    "Smith",
    "Núñez",
]


def _next_id(model: Any) -> int:
    return int(db.session.scalar(select(func.coalesce(func.max(model.id), 0))) or 0) + 1


def _table(model: Any) -> Table:
    """The model's table (typed as a plain FromClause on the declarative class)."""
    return cast(Table, model.__table__)


def _insert(model: Any, rows: list[dict[str, Any]]) -> None:
    for start in range(0, len(rows), BATCH):
        db.session.execute(insert(model), rows[start : start + BATCH])


def _fix_sequences(*models: Any) -> None:
    if db.engine.dialect.name != "postgresql":
        return
    for model in models:
        table = model.__tablename__
        db.session.execute(
            text(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT COALESCE(MAX(id), 1) FROM {table}))"
            )
        )


def _analyze() -> None:
    """Fresh planner statistics after a bulk load, so lists pick their indexes at once."""
    dialect = db.engine.dialect.name
    if dialect in ("mysql", "mariadb"):
        db.session.execute(text("ANALYZE TABLE tickets, comments, ticket_events, users"))
    else:
        db.session.execute(text("ANALYZE"))
    db.session.commit()
    if dialect == "postgresql":
        # The triggers updated the few summary rows once per ticket: millions of
        # dead row versions that autovacuum would clear only later; until then
        # every dashboard read wades through them.  tickets: a freshly loaded table
        # has no visibility map, so index-only scans (the overdue card's day
        # counts) would visit the table until autovacuum's first pass.
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE ticket_counts, ticket_days, tickets")


def _people(rng: random.Random, role: Role, count: int, prefix: str, pw_hash: str) -> list[int]:
    existing = set(
        db.session.scalars(select(User.username).where(User.username.like(prefix + "%")))
    )
    rows = []
    next_id = _next_id(User)
    ids = []
    for i in range(1, count + 1):
        username = f"{prefix}{i:05d}"
        if username in existing:
            continue
        name = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
        rows.append(
            dict(
                id=next_id,
                username=username,
                email=f"{username}@example.test",
                full_name=name,
                role=role,
                password_hash=pw_hash,
                active=True,
                must_change_password=False,
                session_version=1,
                created_at=utcnow(),
            )
        )
        ids.append(next_id)
        next_id += 1
    _insert(User, rows)
    ids += list(db.session.scalars(select(User.id).where(User.username.in_(existing))))
    return ids


def seed(
    *,
    n_tickets: int,
    n_users: int | None = None,
    n_techs: int | None = None,
    comments_per_ticket: int = 2,
    random_seed: int = 42,
    progress: Callable[[int], None] | None = None,
) -> dict[str, int]:
    """Insert the demo desk; `progress(n)` is called with each batch of n tickets stored."""
    rng = random.Random(random_seed)
    n_users = n_users or max(5, min(5000, n_tickets // 200 or 5))
    n_techs = n_techs or max(2, min(50, n_tickets // 20000 or 2))
    pw_hash = hash_password(DEMO_PASSWORD)  # one hash for every demo account

    for name, description in CATEGORIES:
        if db.session.scalar(select(Category.id).where(Category.name == name)) is None:
            db.session.add(Category(name=name, description=description, active=True))
    db.session.flush()
    category_ids = list(db.session.scalars(select(Category.id).where(Category.active.is_(True))))

    tech_ids = _people(rng, Role.TECHNICIAN, n_techs, "tech", pw_hash)
    user_ids = _people(rng, Role.USER, n_users, "user", pw_hash)
    db.session.flush()

    bodies = [(b, render_markdown(b)) for b in BODIES]
    replies = [(r, render_markdown(r)) for r in REPLIES]
    now = utcnow()
    span = timedelta(days=730)

    # created_at values first (sorted, so ids follow time), then numbers per year
    created = sorted(now - span * rng.random() ** 1.3 for _ in range(n_tickets))
    per_year = Counter(c.year for c in created)
    year_base: dict[int, int] = {}
    for year, count in per_year.items():
        row = db.session.get(TicketSequence, year)
        if row is None:
            row = TicketSequence(year=year, last_value=0)
            db.session.add(row)
            db.session.flush()
        year_base[year] = row.last_value
        db.session.execute(
            update(TicketSequence)
            .where(TicketSequence.year == year)
            .values(last_value=TicketSequence.last_value + count)
        )

    ticket_id = _next_id(Ticket)
    comment_id = _next_id(Comment)
    event_id = _next_id(TicketEvent)
    statuses = list(Status)
    status_weights = [25, 20, 10, 20, 25]
    priorities = list(Priority)
    prio_weights = [30, 45, 18, 7]
    counters = dict(year_base)
    totals = {"tickets": 0, "comments": 0}

    for start in range(0, n_tickets, BATCH):
        tickets, comments, events = [], [], []
        for created_at in created[start : start + BATCH]:
            counters[created_at.year] += 1
            number = f"TKT-{created_at.year}-{counters[created_at.year]:06d}"
            status = rng.choices(statuses, status_weights)[0]
            assignee = (
                None if status == Status.OPEN and rng.random() < 0.7 else rng.choice(tech_ids)
            )
            requester = rng.choice(user_ids)
            subs = {"n": rng.randint(1, 400), "name": rng.choice(FIRST)}
            body, body_html = rng.choice(bodies)
            updated_at = min(now, created_at + timedelta(hours=rng.randint(1, 240)))
            done = status in (Status.RESOLVED, Status.CLOSED)
            tickets.append(
                dict(
                    id=ticket_id,
                    number=number,
                    title=rng.choice(SUBJECTS).format(**subs),
                    description=body.format(**subs),
                    description_html=body_html.format(**subs),
                    status=status.value,
                    priority=rng.choices(priorities, prio_weights)[0],
                    category_id=rng.choice(category_ids),
                    requester_id=requester,
                    assignee_id=assignee,
                    created_at=created_at,
                    updated_at=updated_at,
                    first_response_at=created_at + timedelta(minutes=rng.randint(5, 600))
                    if assignee
                    else None,
                    resolved_at=updated_at if done else None,
                    closed_at=updated_at if status == Status.CLOSED else None,
                )
            )
            events.append(
                dict(
                    id=event_id,
                    ticket_id=ticket_id,
                    actor_id=requester,
                    kind=EventKind.CREATED.value,
                    new_value=number,
                    comment_id=None,
                    internal=False,
                    created_at=created_at,
                )
            )
            event_id += 1
            for c in range(comments_per_ticket if assignee else 0):
                internal = c == comments_per_ticket - 1 and rng.random() < 0.2
                text_, html = rng.choice(replies)
                at = created_at + (updated_at - created_at) * (c + 1) / (comments_per_ticket + 1)
                author = assignee if c % 2 == 0 or internal else requester
                comments.append(
                    dict(
                        id=comment_id,
                        ticket_id=ticket_id,
                        author_id=author,
                        body=text_,
                        body_html=html,
                        internal=internal,
                        created_at=at,
                    )
                )
                events.append(
                    dict(
                        id=event_id,
                        ticket_id=ticket_id,
                        actor_id=author,
                        kind=(EventKind.NOTE if internal else EventKind.COMMENT).value,
                        comment_id=comment_id,
                        new_value=None,
                        internal=internal,
                        created_at=at,
                    )
                )
                comment_id += 1
                event_id += 1
            ticket_id += 1
        db.session.execute(insert(_table(Ticket)), tickets)
        if comments:
            db.session.execute(insert(_table(Comment)), comments)
        db.session.execute(insert(_table(TicketEvent)), events)
        db.session.commit()
        totals["tickets"] += len(tickets)
        totals["comments"] += len(comments)
        if progress is not None:
            progress(len(tickets))
    _fix_sequences(User, Ticket, Comment, TicketEvent)
    db.session.commit()
    _analyze()
    return {**totals, "users": len(user_ids), "technicians": len(tech_ids)}
