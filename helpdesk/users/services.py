"""Creating, editing and (de)activating people; authentication."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select

from helpdesk.audit.services import record
from helpdesk.db import once_committed, utcnow
from helpdesk.errors import Conflict, InvalidInput, NotFound, PermissionDenied, TooManyRequests
from helpdesk.extensions import db
from helpdesk.security.passwords import (
    check_password_policy,
    hash_password,
    needs_rehash,
    verify_password,
)
from helpdesk.signals import user_sessions_revoked
from helpdesk.users.models import Role, User
from helpdesk.users.names import normalize_username, valid_username
from helpdesk.users.permissions import can_manage_users

EMAIL_RE = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,189}\.[^@\s]{2,}$")


def _clean_username(username: str) -> str:
    username = normalize_username(username)
    if not valid_username(username):
        raise InvalidInput(
            "User names have 3 to 64 letters, digits or . _ @ - characters.", field="username"
        )
    return username


def _clean_email(email: str | None) -> str | None:
    email = (email or "").strip() or None
    if email is not None and (len(email) > 254 or not EMAIL_RE.match(email)):
        raise InvalidInput("That is not a valid e-mail address.", field="email")
    return email


def _free_email(email: str | None, user: User | None = None) -> str | None:
    """The cleaned address, refused when someone other than `user` already has it."""
    cleaned = _clean_email(email)
    if cleaned:
        query = select(User.id).where(func.lower(User.email) == cleaned.lower())
        if user is not None:
            query = query.where(User.id != user.id)
        if db.session.scalar(query):
            raise Conflict("That e-mail address is already in use.", field="email")
    return cleaned


def _clean_full_name(full_name: str | None) -> str:
    full_name = " ".join((full_name or "").split())
    if len(full_name) > 120:
        raise InvalidInput("The name may have at most 120 characters.", field="full_name")
    return full_name


def _require_admin(actor: User | None) -> None:
    if actor is not None and not can_manage_users(actor):
        raise PermissionDenied("Only administrators can manage users.")


def end_sessions(user: User, reason: str | None) -> None:
    """Every login session of `user` ends (the session id carries session_version).

    With a `reason`, the open sockets are told once the change is stored: this
    process closes them at once, the others at their next check.
    """
    user.session_version += 1
    if reason is not None:
        once_committed(db.session, lambda: user_sessions_revoked.send(user, reason=reason))


def get_user(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound("No such user.")
    return user


def find_by_username(username: str) -> User | None:
    """The account this spelling names, if any: normalised first, refused unless it fits
    the pattern (no query at all then), then compared exactly."""
    name = normalize_username(username)
    if not valid_username(name):
        return None
    return db.session.scalar(select(User).where(User.username == name))


def create_user(
    actor: User | None,
    *,
    username: str,
    password: str,
    role: Role | str = Role.USER,
    full_name: str = "",
    email: str | None = None,
    must_change_password: bool = False,
    check_policy: bool = True,
) -> User:
    """Create a person. `actor` None means the command line (trusted)."""
    _require_admin(actor)
    typed, username = username.strip(), _clean_username(username)
    try:
        role = Role(role)
    except ValueError:
        raise InvalidInput("Role must be admin, technician or user.", field="role") from None
    email = _clean_email(email)
    if check_policy:
        check_password_policy(password, admin=role == Role.ADMIN, username=username, email=email)
    if find_by_username(username) is not None:
        raise Conflict("The user name %(name)s is already taken.", field="username", name=typed)
    email = _free_email(email)
    user = User(
        username=username,
        email=email,
        full_name=_clean_full_name(full_name),
        role=role,
        password_hash=hash_password(password),
        must_change_password=must_change_password,
        active=True,
        session_version=1,
    )
    db.session.add(user)
    db.session.flush()
    record("user.created", actor=actor, target=user, role=role.value)
    return user


def update_user(
    actor: User,
    user: User,
    *,
    full_name: str | None = None,
    email: str | None = None,
    role: Role | str | None = None,
) -> User:
    _require_admin(actor)
    if full_name is not None:
        user.full_name = _clean_full_name(full_name)
    if email is not None:
        user.email = _free_email(email, user)
    if role is not None:
        try:
            new_role = Role(role)
        except ValueError:
            raise InvalidInput("Role must be admin, technician or user.", field="role") from None
        if new_role != user.role:
            if user.id == actor.id:
                raise InvalidInput("You cannot change your own role.", field="role")
            record(
                "user.role_changed",
                actor=actor,
                target=user,
                old=user.role.value,
                new=new_role.value,
            )
            user.role = new_role
            end_sessions(user, "role_changed")
    db.session.flush()
    return user


LOCALES = ("es", "en")
THEMES = ("light", "dark")
_UNSET: Any = object()


def update_profile(
    actor: User,
    user: User,
    *,
    full_name: str | None = None,
    email: str | None = None,
    locale: str | None = _UNSET,
    theme: str | None = _UNSET,
) -> User:
    """A person edits their own name, e-mail and preferences (admins may edit anyone's).

    `locale`/`theme` None (or "") means "follow the browser"; leaving them out
    keeps the saved value, so the navbar toggle can save just the theme.
    """
    if actor.id != user.id and not can_manage_users(actor):
        raise PermissionDenied("You can only change your own profile.")
    if full_name is not None:
        user.full_name = _clean_full_name(full_name)
    if email is not None:
        cleaned = _free_email(email, user)
        if cleaned != user.email:
            record("user.email_changed", actor=actor, target=user)
        user.email = cleaned
    if locale is not _UNSET:
        if locale and locale not in LOCALES:
            raise InvalidInput("Language must be Spanish or English.", field="locale")
        user.locale = locale or None
    if theme is not _UNSET:
        if theme and theme not in THEMES:
            raise InvalidInput("Theme must be light or dark.", field="theme")
        user.theme = theme or None
    db.session.flush()
    return user


def set_active(actor: User, user: User, active: bool) -> User:
    _require_admin(actor)
    if user.id == actor.id and not active:
        raise InvalidInput("You cannot deactivate yourself.")
    if user.active != active:
        user.active = active
        end_sessions(user, None if active else "deactivated")
        record("user.activated" if active else "user.deactivated", actor=actor, target=user)
    db.session.flush()
    return user


def reset_password(actor: User | None, user: User, new_password: str) -> User:
    """Admin (or CLI) sets a temporary password the user must change at next login."""
    _require_admin(actor)
    check_password_policy(
        new_password, admin=user.is_admin, username=user.username, email=user.email
    )
    user.password_hash = hash_password(new_password)
    user.must_change_password = True
    end_sessions(user, "password_reset")
    record("user.password_reset", actor=actor, target=user)
    db.session.flush()
    return user


def check_current_password(user: User, password: str, *, field: str = "current_password") -> None:
    """Every place that asks a signed-in person for their password again goes through
    here: wrong answers count per account (PASSWORD_CHECK_LIMIT), and past the limit
    even the right one is refused until the window frees up, so a stolen session
    cannot guess its way to the password."""
    from flask import current_app

    from helpdesk.realtime.ratelimit import get_limiter

    rule = str(current_app.config.get("PASSWORD_CHECK_LIMIT") or "5 per 15 minutes")
    limiter = get_limiter()
    if not limiter.test(rule, "password-check", user.id):
        record("auth.password_check_locked", actor=user, target=user)
        raise TooManyRequests(
            "Too many wrong passwords. Try again in %(seconds)s seconds.",
            field=field,
            retry_after=(wait := limiter.retry_after(rule, "password-check", user.id)),
            seconds=wait,
        )
    if not verify_password(user.password_hash, password or ""):
        limiter.hit(rule, "password-check", user.id)
        record("auth.password_check_failed", actor=user, target=user)
        raise InvalidInput("The current password is not right.", field=field)


def change_password(user: User, current_password: str, new_password: str) -> User:
    check_current_password(user, current_password)
    if current_password == new_password:
        raise InvalidInput(
            "Choose a password different from the current one.", field="new_password"
        )
    try:
        check_password_policy(
            new_password, admin=user.is_admin, username=user.username, email=user.email
        )
    except InvalidInput as exc:
        raise exc.on_field("new_password") from None
    user.password_hash = hash_password(new_password)
    user.must_change_password = False
    # The person stays signed in here (the view logs the new session id in), so no
    # socket is told to close.
    end_sessions(user, None)
    record("user.password_changed", actor=user, target=user)
    db.session.flush()
    return user


@dataclass
class LoginResult:
    user: User | None
    reason: str  # "ok", "bad_credentials", "inactive"


def authenticate(username: str, password: str, *, ip: str | None = None) -> LoginResult:
    """Check credentials with the same work whether or not the user exists."""
    user = find_by_username(username) if username else None
    ok = verify_password(user.password_hash if user else None, password)
    if user is None or not ok:
        record("auth.login_failed", actor=user, ip=ip, username=(username or "")[:64])
        return LoginResult(None, "bad_credentials")
    if not user.active:
        record("auth.login_failed", actor=user, ip=ip, username=user.username, reason="inactive")
        return LoginResult(None, "bad_credentials")
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.last_login_at = utcnow()
    record("auth.login", actor=user, ip=ip)
    db.session.flush()
    return LoginResult(user, "ok")


def list_users(actor: User, *, q: str = "", role: str = "") -> list[User]:
    _require_admin(actor)
    query = select(User).order_by(User.username)
    if q:
        like = f"%{q.strip().lower()}%"
        query = query.where(
            func.lower(User.username).like(like) | func.lower(User.full_name).like(like)
        )
    if role:
        if role not in {r.value for r in Role}:
            raise InvalidInput(
                "role must be one of: %(allowed)s.",
                field="role",
                allowed=", ".join(r.value for r in Role),
            )
        query = query.where(User.role == Role(role))
    return list(db.session.scalars(query.limit(500)))


def technicians() -> list[User]:
    return list(
        db.session.scalars(
            select(User)
            .where(User.role.in_([Role.TECHNICIAN, Role.ADMIN]), User.active.is_(True))
            .order_by(User.full_name, User.username)
        )
    )
