"""Desk settings, branding, first-start defaults and the setup checklist.

Services flush, never commit. The checklist is a list of steps other features
extend with `register_step` (mailboxes, service levels), and the first start runs
every function in `FIRST_START` once, in the desk's default language.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import current_app, url_for
from flask_babel import force_locale, pgettext
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, table
from sqlalchemy.exc import SQLAlchemyError

from helpdesk.audit.services import record as audit
from helpdesk.desk.models import DeskSetting
from helpdesk.desk.permissions import can_manage_desk
from helpdesk.errors import InvalidInput, PermissionDenied
from helpdesk.extensions import db
from helpdesk.users.models import Role, User

DEFAULT_NAME = "Helpdesk"
DEFAULT_COLOR = "#0d6efd"  # Bootstrap's own primary
NAME_MAX = 80
LOGO_MAX_BYTES = 512 * 1024
# Raster formats only: an SVG logo could carry script.
LOGO_TYPES = {b"\x89PNG\r\n\x1a\n": ("image/png", "png"), b"\xff\xd8\xff": ("image/jpeg", "jpg")}
COLOR_RE = re.compile(r"^#[0-9a-fA-F]{6}$")


# ---------------------------------------------------------------- settings


def get_setting(key: str, default: str | None = None) -> str | None:
    row = db.session.get(DeskSetting, key)
    return row.value if row is not None else default


def set_setting(key: str, value: str | None) -> None:
    row = db.session.get(DeskSetting, key)
    if value is None:
        if row is not None:
            db.session.delete(row)
    elif row is None:
        db.session.add(DeskSetting(key=key, value=value))
    else:
        row.value = value
    db.session.flush()


def public_settings() -> dict[str, str]:
    """Every setting (none is a secret): for backups and exports."""
    return {row.key: row.value for row in db.session.scalars(select(DeskSetting))}


# ---------------------------------------------------------------- branding


@dataclass(frozen=True)
class Branding:
    name: str
    color: str
    logo_file: str | None
    logo_type: str | None

    @property
    def version(self) -> str:
        """Changes whenever the look changes: the stylesheet and logo URLs carry it."""
        raw = f"{self.name}|{self.color}|{self.logo_file}".encode()
        return hashlib.sha256(raw).hexdigest()[:12]

    @property
    def customised(self) -> bool:
        return self.name != DEFAULT_NAME or self.color != DEFAULT_COLOR or bool(self.logo_file)


def branding() -> Branding:
    try:
        values = {row.key: row.value for row in db.session.scalars(select(DeskSetting))}
    except SQLAlchemyError:  # before the first migration (error pages, check-system)
        db.session.rollback()
        values = {}
    return Branding(
        name=values.get("desk_name") or DEFAULT_NAME,
        color=values.get("primary_color") or DEFAULT_COLOR,
        logo_file=values.get("logo_file"),
        logo_type=values.get("logo_type"),
    )


def _rgb(color: str) -> tuple[int, int, int]:
    return int(color[1:3], 16), int(color[3:5], 16), int(color[5:7], 16)


def contrast_with_white(color: str) -> float:
    """WCAG contrast ratio of white text on `color`."""

    def channel(c: int) -> float:
        s = c / 255
        return s / 12.92 if s <= 0.03928 else ((s + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(c) for c in _rgb(color))
    luminance = 0.2126 * r + 0.7152 * g + 0.0722 * b
    return 1.05 / (luminance + 0.05)


def _shade(color: str, factor: float) -> str:
    return "#" + "".join(f"{round(c * factor):02x}" for c in _rgb(color))


def theme_css(look: Branding) -> str:
    """Bootstrap variables for the desk colour (served as a stylesheet: the CSP allows
    no inline style). Buttons keep white text, which the colour was checked against."""
    c = look.color.lower()
    r, g, b = _rgb(c)
    hover, active = _shade(c, 0.87), _shade(c, 0.8)
    return (
        f":root,[data-bs-theme=light]{{--bs-primary:{c};--bs-primary-rgb:{r},{g},{b};"
        f"--bs-link-color:{c};--bs-link-color-rgb:{r},{g},{b};"
        f"--bs-link-hover-color:{hover};--bs-link-hover-color-rgb:{','.join(map(str, _rgb(hover)))};}}\n"
        f".btn-primary{{--bs-btn-bg:{c};--bs-btn-border-color:{c};--bs-btn-hover-bg:{hover};"
        f"--bs-btn-hover-border-color:{hover};--bs-btn-active-bg:{active};"
        f"--bs-btn-active-border-color:{active};--bs-btn-disabled-bg:{c};"
        f"--bs-btn-disabled-border-color:{c};}}\n"
        f".btn-outline-primary{{--bs-btn-color:{c};--bs-btn-border-color:{c};"
        f"--bs-btn-hover-bg:{c};--bs-btn-hover-border-color:{c};--bs-btn-active-bg:{active};"
        f"--bs-btn-active-border-color:{active};}}\n"
        f"[data-bs-theme=dark] .btn-outline-primary{{--bs-btn-color:#fff;}}\n"
    )


def logo_dir() -> Path:
    return Path(current_app.config["UPLOAD_DIR"]) / "branding"


def update_branding(
    actor: User,
    *,
    name: str,
    color: str,
    logo: bytes | None = None,
    remove_logo: bool = False,
) -> Branding:
    """Change the desk's name, colour and logo. The logo file is written now under a
    name made from its content, so a rolled-back change leaves only an unused file."""
    if not can_manage_desk(actor):
        raise PermissionDenied("Only an administrator can change the desk's settings.")
    name = " ".join((name or "").split())
    if not name:
        raise InvalidInput("The desk needs a name.", field="name")
    if len(name) > NAME_MAX:
        raise InvalidInput("The name may have at most %(n)s characters.", field="name", n=NAME_MAX)
    if not COLOR_RE.match(color or ""):
        raise InvalidInput("Write the colour as #RRGGBB, e.g. #0d6efd.", field="color")
    if contrast_with_white(color) < 4.5:
        raise InvalidInput(
            "White text on this colour is hard to read (contrast %(ratio)s:1, at least "
            "4.5:1 is needed); choose a darker colour.",
            field="color",
            ratio=f"{contrast_with_white(color):.1f}",
        )
    before = branding()
    set_setting("desk_name", name)
    set_setting("primary_color", color.lower())
    if remove_logo:
        set_setting("logo_file", None)
        set_setting("logo_type", None)
    elif logo:
        if len(logo) > LOGO_MAX_BYTES:
            raise InvalidInput(
                "The logo may be at most %(kb)s KB.", field="logo", kb=LOGO_MAX_BYTES // 1024
            )
        kind = next((v for magic, v in LOGO_TYPES.items() if logo.startswith(magic)), None)
        if kind is None:
            raise InvalidInput("The logo must be a PNG or JPEG image.", field="logo")
        content_type, ext = kind
        file_name = f"logo-{hashlib.sha256(logo).hexdigest()[:16]}.{ext}"
        logo_dir().mkdir(parents=True, exist_ok=True)
        (logo_dir() / file_name).write_bytes(logo)
        set_setting("logo_file", file_name)
        set_setting("logo_type", content_type)
    after = branding()
    audit(
        "desk.branding",
        actor=actor,
        name=[before.name, after.name],
        color=[before.color, after.color],
        logo_changed=before.logo_file != after.logo_file,
    )
    return after


def logo_path() -> tuple[Path, str] | None:
    look = branding()
    if not look.logo_file or not look.logo_type:
        return None
    path = logo_dir() / look.logo_file
    return (path, look.logo_type) if path.is_file() else None


# ---------------------------------------------------------------- first start


def default_categories() -> list[tuple[str, str]]:
    """The categories a new desk starts with, in the current language (editable later)."""
    return [
        (pgettext("category", "General"), pgettext("category", "Anything else")),
        (pgettext("category", "Hardware"), pgettext("category", "Computers, printers, phones")),
        (pgettext("category", "Software"), pgettext("category", "Programs and licences")),
        (pgettext("category", "Network"), pgettext("category", "Wi-Fi, VPN, internet access")),
        (pgettext("category", "Accounts"), pgettext("category", "Passwords and access")),
    ]


def create_default_categories() -> list[str]:
    from helpdesk.tickets import categories as tickets
    from helpdesk.tickets.models import Category

    if db.session.scalar(select(func.count()).select_from(Category)):
        return []
    names = [tickets.create_category(None, n, d).name for n, d in default_categories()]
    return [f"Created the default categories: {', '.join(names)} (edit them under Administration)."]


# What a desk gets on its very first `init-db`, in order; each takes no arguments, runs
# in the desk's default language and returns lines to print. The service-level work
# appends its 24×7 default policy here (`FIRST_START.append(create_default_policy)`).
FIRST_START: list[Callable[[], list[str]]] = [create_default_categories]


def first_start_defaults() -> list[str]:
    """Run FIRST_START once per desk (remembered in `desk_settings`)."""
    if get_setting("first_start_done"):
        return []
    lines: list[str] = []
    with force_locale(current_app.config.get("BABEL_DEFAULT_LOCALE", "es")):
        for make in FIRST_START:
            lines.extend(make())
    set_setting("first_start_done", "1")
    return lines


# ---------------------------------------------------------------- setup checklist


@dataclass(frozen=True)
class Step:
    key: str
    label: Any  # lazy strings: rendered in the reader's language
    hint: Any
    endpoint: str
    done: Callable[[], bool]


@dataclass(frozen=True)
class ChecklistItem:
    key: str
    label: str
    hint: str
    url: str
    done: bool


def _count(table_name: str, where: Any = None) -> int:
    t = table(table_name)
    query = select(func.count()).select_from(t)
    return int(db.session.scalar(query if where is None else query.where(where)) or 0)


def _has_role(role: Role) -> Callable[[], bool]:
    def check() -> bool:
        return bool(
            db.session.scalar(
                select(func.count())
                .select_from(User)
                .where(User.role == role, User.active.is_(True))
            )
        )

    return check


def _table_has_rows(name: str) -> Callable[[], bool]:
    return lambda: name in db.metadata.tables and _count(name) > 0


STEPS: list[Step] = [
    Step(
        "categories",
        _l("Review the ticket categories"),
        _l("People pick one when they file a ticket; a few defaults are ready."),
        "admin.categories",
        _table_has_rows("categories"),
    ),
    Step(
        "technicians",
        _l("Invite technicians"),
        _l("Create an account for each person who works the tickets."),
        "admin.users_list",
        _has_role(Role.TECHNICIAN),
    ),
    Step(
        "users",
        _l("Invite users"),
        _l("Create accounts for the people who ask for help."),
        "admin.users_list",
        _has_role(Role.USER),
    ),
    # Shown only where their feature's page is registered (`checklist` leaves out a
    # step whose endpoint the app does not have).
    Step(
        "mailbox",
        _l("Connect a mailbox"),
        _l("Mail sent to the support address becomes tickets."),
        "mail.index",
        _table_has_rows("mail_mailboxes"),
    ),
    Step(
        "service_levels",
        _l("Set service levels"),
        _l("Response and resolution targets per priority; a 24×7 default is in place."),
        "sla.policies",
        _table_has_rows("sla_policies"),
    ),
    Step(
        "branding",
        _l("Brand the desk"),
        _l("Its name, logo and colour, on every page."),
        "desk.branding",
        lambda: branding().customised,
    ),
]


def register_step(step: Step, *, before: str | None = None) -> None:
    """Add a feature's step (e.g. connect a mailbox, service levels) to the checklist."""
    if any(s.key == step.key for s in STEPS):
        return
    keys = [s.key for s in STEPS]
    STEPS.insert(keys.index(before) if before in keys else len(STEPS), step)


def checklist(actor: User) -> list[ChecklistItem]:
    if not can_manage_desk(actor):
        return []
    return [
        ChecklistItem(
            step.key, str(step.label), str(step.hint), url_for(step.endpoint), step.done()
        )
        for step in STEPS
        if step.endpoint in current_app.view_functions  # its feature is installed
    ]


def checklist_to_show(actor: User) -> list[ChecklistItem]:
    """The checklist while it has something left to do and was not dismissed."""
    if not can_manage_desk(actor) or get_setting("checklist_dismissed"):
        return []
    items = checklist(actor)
    return items if any(not item.done for item in items) else []


def dismiss_checklist(actor: User) -> None:
    if not can_manage_desk(actor):
        raise PermissionDenied("Only an administrator can change the desk's settings.")
    set_setting("checklist_dismissed", "1")
    audit("desk.checklist_dismissed", actor=actor)
