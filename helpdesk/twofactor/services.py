"""Two-factor sign-in (TOTP, RFC 6238) with one-time recovery codes.

Every change needs the person's current password (users.check_current_password, with
its per-account failure limit); codes at sign-in have their own per-account limit.
A code is accepted for the current 30-second step or one step either side (clock
drift), and only for a step later than the last one accepted, so a code seen over
someone's shoulder cannot be used again.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time

import pyotp
import segno
from flask import current_app
from markupsafe import Markup
from sqlalchemy import delete, select

from helpdesk.audit.services import record
from helpdesk.db import utcnow
from helpdesk.desk.services import get_setting, set_setting
from helpdesk.errors import InvalidInput, PermissionDenied, TooManyRequests
from helpdesk.extensions import db
from helpdesk.realtime.ratelimit import get_limiter
from helpdesk.twofactor.models import RecoveryCode, TotpSecret
from helpdesk.users.models import User
from helpdesk.users.permissions import can_manage_users
from helpdesk.users.services import check_current_password, end_sessions

STEP = 30
DRIFT = 1
RECOVERY_CODES = 10
REQUIRE_STAFF_KEY = "require_staff_2fa"
ISSUER = "Helpdesk"


def _now() -> float:
    return time.time()


def _row(user: User) -> TotpSecret | None:
    return db.session.get(TotpSecret, user.id)


def is_enabled(user: User) -> bool:
    row = _row(user)
    return row is not None and row.confirmed_at is not None


def staff_required() -> bool:
    return get_setting(REQUIRE_STAFF_KEY) == "1"


def must_enrol(user: User) -> bool:
    """Staff sent to enrolment (and nowhere else) while the desk requires 2FA for them."""
    return user.is_staff and staff_required() and not is_enabled(user)


def set_staff_required(actor: User, required: bool) -> None:
    if not actor.is_admin:
        raise PermissionDenied("Only administrators can change this setting.")
    if required != staff_required():
        set_setting(REQUIRE_STAFF_KEY, "1" if required else None)
        record("2fa.staff_required" if required else "2fa.staff_optional", actor=actor)


# ---------------------------------------------------------------- enrolment


def start_enrolment(user: User, current_password: str) -> TotpSecret:
    """A fresh secret waiting for its first code (replaces an unfinished one)."""
    check_current_password(user, current_password)
    row = _row(user)
    if row is not None and row.confirmed_at is not None:
        raise InvalidInput("Two-factor sign-in is already on.", field="current_password")
    if row is None:
        row = TotpSecret(user_id=user.id, secret="", last_step=0)
        db.session.add(row)
    row.secret = pyotp.random_base32()
    row.created_at = utcnow()
    db.session.flush()
    return row


def pending_secret(user: User) -> str | None:
    row = _row(user)
    return row.secret if row is not None and row.confirmed_at is None else None


def provisioning_uri(user: User, secret: str) -> str:
    issuer = str(current_app.config.get("TOTP_ISSUER") or ISSUER)
    return pyotp.TOTP(secret).provisioning_uri(name=user.username, issuer_name=issuer)


def qr_svg(uri: str) -> Markup:
    """The enrolment QR code drawn here as inline SVG (no outside service sees the
    secret). segno writes only rects/paths from the URI's bits, nothing from the text."""
    code = segno.make(uri, error="m")
    svg = code.svg_inline(scale=5, border=2, dark="#000", light="#fff", omitsize=False)
    return Markup(svg)  # noqa: S704  (generated markup, no user text in it)


def confirm_enrolment(user: User, code: str, *, at: float | None = None) -> list[str]:
    """Turn 2FA on with a first good code; returns the recovery codes (shown once)."""
    row = _row(user)
    if row is None or row.confirmed_at is not None:
        raise InvalidInput("Start the set-up again from your profile.", field="code")
    _check_rate(user)
    if not _accept_totp(row, code, at):
        _count_failure(user)
        raise InvalidInput("That code is not right; check the time on your phone.", field="code")
    row.confirmed_at = utcnow()
    codes = _new_recovery_codes(user)
    record("2fa.enabled", actor=user, target=user)
    db.session.flush()
    return codes


def regenerate_codes(user: User, current_password: str) -> list[str]:
    check_current_password(user, current_password)
    if not is_enabled(user):
        raise InvalidInput("Two-factor sign-in is off.", field="current_password")
    codes = _new_recovery_codes(user)
    record("2fa.codes_regenerated", actor=user, target=user)
    return codes


def disable(user: User, current_password: str) -> None:
    check_current_password(user, current_password)
    if must_enrol_after_disable(user):
        raise PermissionDenied("Your desk requires two-factor sign-in for staff.")
    _remove(user)
    record("2fa.disabled", actor=user, target=user)


def must_enrol_after_disable(user: User) -> bool:
    return user.is_staff and staff_required()


def admin_reset(actor: User, target: User) -> None:
    """An administrator clears someone's 2FA (a lost phone); they enrol again."""
    if not can_manage_users(actor):
        raise PermissionDenied("Only administrators can manage users.")
    _remove(target)
    end_sessions(target, "two_factor_reset")  # their open sessions end with it
    record("2fa.reset", actor=actor, target=target)
    db.session.flush()


def _remove(user: User) -> None:
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    db.session.execute(delete(TotpSecret).where(TotpSecret.user_id == user.id))
    db.session.flush()


# ---------------------------------------------------------------- codes


def _digits(code: str | None) -> str:
    return "".join(ch for ch in (code or "") if not ch.isspace() and ch != "-")


def _accept_totp(row: TotpSecret, code: str, at: float | None) -> bool:
    given = _digits(code)
    if len(given) != 6 or not given.isdigit():
        return False
    totp = pyotp.TOTP(row.secret)
    now_step = int((at if at is not None else _now()) // STEP)
    for step in range(now_step - DRIFT, now_step + DRIFT + 1):
        if step <= row.last_step:
            continue  # already used (or older than the last code used)
        if hmac.compare_digest(totp.at(step * STEP), given):
            row.last_step = step
            db.session.flush()
            return True
    return False


def _hash(code: str) -> str:
    return hashlib.sha256(_digits(code).lower().encode()).hexdigest()


def _new_recovery_codes(user: User) -> list[str]:
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    # 10 hex characters = 40 random bits each; single use and rate limited.
    codes = [
        f"{secrets.token_hex(5)[:5]}-{secrets.token_hex(5)[:5]}" for _ in range(RECOVERY_CODES)
    ]
    db.session.add_all(RecoveryCode(user_id=user.id, code_hash=_hash(c)) for c in codes)
    db.session.flush()
    return codes


def remaining_recovery_codes(user: User) -> int:
    return len(
        db.session.scalars(
            select(RecoveryCode.id).where(
                RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None)
            )
        ).all()
    )


def _use_recovery_code(user: User, code: str) -> bool:
    row = db.session.scalar(
        select(RecoveryCode).where(
            RecoveryCode.user_id == user.id,
            RecoveryCode.code_hash == _hash(code),
            RecoveryCode.used_at.is_(None),
        )
    )
    if row is None:
        return False
    row.used_at = utcnow()
    db.session.flush()
    return True


def _rule() -> str:
    return str(current_app.config.get("TWO_FACTOR_LIMIT") or "5 per 5 minutes")


def _check_rate(user: User) -> None:
    limiter = get_limiter()
    if not limiter.test(_rule(), "2fa", user.id):
        wait = limiter.retry_after(_rule(), "2fa", user.id)
        record("2fa.locked_out", actor=user, target=user)
        raise TooManyRequests(
            "Too many wrong codes. Try again in %(seconds)s seconds.",
            field="code",
            retry_after=wait,
            seconds=wait,
        )


def _count_failure(user: User) -> None:
    get_limiter().hit(_rule(), "2fa", user.id)
    record("2fa.failed", actor=user, target=user)


def verify_sign_in(user: User, code: str, *, at: float | None = None) -> str:
    """The second step of signing in: an authenticator code or a recovery code.
    Returns "totp" or "recovery"; raises InvalidInput or TooManyRequests."""
    row = _row(user)
    if row is None or row.confirmed_at is None:
        raise InvalidInput("Two-factor sign-in is off for this account.", field="code")
    _check_rate(user)
    if _accept_totp(row, code, at):
        return "totp"
    if len(_digits(code)) > 6 and _use_recovery_code(user, code):
        record("2fa.recovery_code_used", actor=user, target=user)
        return "recovery"
    _count_failure(user)
    raise InvalidInput("That code is not right or was already used.", field="code")
