"""Ticket categories: the list, and the administrators' changes to it."""

from __future__ import annotations

from sqlalchemy import select

from helpdesk.db import name_taken
from helpdesk.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from helpdesk.extensions import db
from helpdesk.tickets import permissions as perm
from helpdesk.tickets.models import Category, Ticket
from helpdesk.users.models import User


def _require_category_admin(actor: User) -> None:
    if not perm.can_manage_categories(actor):
        raise PermissionDenied("Only administrators can manage categories.")


def _clean_category_name(name: str) -> str:
    name = " ".join((name or "").split())
    if not name:
        raise InvalidInput("A name is required.", field="name")
    if len(name) > 80:
        raise InvalidInput("At most 80 characters.", field="name")
    return name


def _check_category_name_free(name: str, exclude_id: int | None = None) -> None:
    if name_taken(db.session, Category, name, exclude_id):
        raise Conflict("A category named %(name)s already exists.", field="name", name=name)


def list_categories(*, active_only: bool = True) -> list[Category]:
    query = select(Category).order_by(Category.name)
    if active_only:
        query = query.where(Category.active.is_(True))
    return list(db.session.scalars(query))


def get_category(category_id: int) -> Category:
    category = db.session.get(Category, category_id)
    if category is None:
        raise NotFound("No such category.")
    return category


def create_category(actor: User | None, name: str, description: str = "") -> Category:
    if actor is not None:
        _require_category_admin(actor)
    name = _clean_category_name(name)
    _check_category_name_free(name)
    category = Category(name=name, description=(description or "").strip()[:255], active=True)
    db.session.add(category)
    db.session.flush()
    return category


def update_category(
    actor: User,
    category: Category,
    *,
    name: str | None = None,
    description: str | None = None,
    active: bool | None = None,
) -> Category:
    _require_category_admin(actor)
    if name is not None:
        name = _clean_category_name(name)
        _check_category_name_free(name, exclude_id=category.id)
        category.name = name
    if description is not None:
        category.description = description.strip()[:255]
    if active is not None:
        category.active = active
    db.session.flush()
    return category


def delete_category(actor: User, category: Category) -> None:
    _require_category_admin(actor)
    in_use = db.session.scalar(select(Ticket.id).where(Ticket.category_id == category.id).limit(1))
    if in_use is not None:
        raise Conflict("This category is used by tickets; deactivate it instead of deleting it.")
    db.session.delete(category)
    db.session.flush()
