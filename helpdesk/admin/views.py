"""Administration: people and categories. Every service re-checks the admin role."""

from __future__ import annotations

from functools import wraps

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from helpdesk.admin.forms import CategoryForm, ResetPasswordForm, UserCreateForm, UserEditForm
from helpdesk.errors import HelpdeskError
from helpdesk.tickets import services as tickets
from helpdesk.tickets.forms import EmptyForm
from helpdesk.users import services as users
from helpdesk.web import current_actor as _actor
from helpdesk.web import flash_error, form_error

bp = Blueprint("admin", __name__, url_prefix="/admin")


def admin_required(view):
    @wraps(view)
    @login_required
    def wrapper(*args, **kwargs):
        if not current_user.is_admin:
            abort(403)
        return view(*args, **kwargs)

    return wrapper


@bp.route("/")
@admin_required
def index():
    return redirect(url_for("admin.users_list"))


@bp.route("/users")
@admin_required
def users_list():
    people = users.list_users(
        _actor(), q=request.args.get("q", ""), role=request.args.get("role", "")
    )
    return render_template("admin/users.html", people=people, action_form=EmptyForm())


@bp.route("/users/new", methods=["GET", "POST"])
@admin_required
def user_new():
    form = UserCreateForm()
    if form.validate_on_submit():
        try:
            user = users.create_user(
                _actor(),
                username=form.username.data,
                password=form.password.data,
                role=form.role.data,
                full_name=form.full_name.data or "",
                email=form.email.data,
                must_change_password=True,
            )
        except HelpdeskError as exc:
            form_error(form, exc)
        else:
            flash(_("User %(name)s created.", name=user.username), "success")
            return redirect(url_for("admin.users_list"))
    return render_template("admin/user_form.html", form=form, user=None), (
        400 if form.errors else 200
    )


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@admin_required
def user_edit(user_id: int):
    user = users.get_user(user_id)
    form = UserEditForm(obj=user if request.method == "GET" else None)
    if request.method == "GET":
        form.role.data = user.role.value
    reset_form = ResetPasswordForm(prefix="reset")
    if form.validate_on_submit():
        try:
            users.update_user(
                _actor(),
                user,
                full_name=form.full_name.data or "",
                email=form.email.data or "",
                role=form.role.data,
            )
        except HelpdeskError as exc:
            form_error(form, exc)
        else:
            flash(_("Changes saved."), "success")
            return redirect(url_for("admin.user_edit", user_id=user_id))
    return render_template(
        "admin/user_form.html",
        form=form,
        user=user,
        reset_form=reset_form,
        action_form=EmptyForm(),
    ), (400 if form.errors else 200)


@bp.route("/users/<int:user_id>/password", methods=["POST"])
@admin_required
def user_reset_password(user_id: int):
    user = users.get_user(user_id)
    form = ResetPasswordForm(prefix="reset")
    if form.validate_on_submit():
        try:
            users.reset_password(_actor(), user, form.password.data)
        except HelpdeskError as exc:
            flash_error(exc)
        else:
            flash(
                _("Password reset; %(name)s must change it at next sign-in.", name=user.username),
                "success",
            )
    else:
        flash(_("Type the new temporary password."), "danger")
    return redirect(url_for("admin.user_edit", user_id=user_id))


@bp.route("/users/<int:user_id>/sessions")
@admin_required
def user_sessions(user_id: int):
    from flask import current_app

    from helpdesk.auth import services as auth

    user = users.get_user(user_id)
    rows = auth.active_sessions(
        _actor(), user, lifetime_hours=int(current_app.config["SESSION_ABSOLUTE_HOURS"])
    )
    return render_template("admin/user_sessions.html", user=user, rows=rows, form=EmptyForm())


@bp.route("/users/<int:user_id>/sessions/end", methods=["POST"])
@admin_required
def user_sessions_end(user_id: int):
    from helpdesk.auth import services as auth

    user = users.get_user(user_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    ended = auth.sign_out_everywhere(_actor(), user)
    flash(
        _("%(name)s was signed out everywhere (%(n)s sessions).", name=user.display_name, n=ended),
        "success",
    )
    # Signing oneself out everywhere lands on the sign-in page through the same redirect.
    return redirect(url_for("admin.user_sessions", user_id=user_id))


@bp.route("/users/<int:user_id>/active", methods=["POST"])
@admin_required
def user_set_active(user_id: int):
    user = users.get_user(user_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    active = request.form.get("active") == "1"
    users.set_active(_actor(), user, active)
    flash(_("User activated.") if active else _("User deactivated."), "success")
    return redirect(request.referrer or url_for("admin.users_list"))


@bp.route("/categories", methods=["GET", "POST"])
@admin_required
def categories():
    form = CategoryForm()
    if form.validate_on_submit():
        try:
            tickets.create_category(_actor(), form.name.data, form.description.data or "")
        except HelpdeskError as exc:
            form_error(form, exc)
        else:
            flash(_("Category created."), "success")
            return redirect(url_for("admin.categories"))
    return render_template(
        "admin/categories.html",
        form=form,
        categories=tickets.list_categories(active_only=False),
        action_form=EmptyForm(),
    ), (400 if form.errors else 200)


@bp.route("/categories/<int:category_id>", methods=["GET", "POST"])
@admin_required
def category_edit(category_id: int):
    category = tickets.get_category(category_id)
    form = CategoryForm(obj=category)
    if form.validate_on_submit():
        try:
            tickets.update_category(
                _actor(),
                category,
                name=form.name.data,
                description=form.description.data or "",
                active=bool(form.active.data),
            )
        except HelpdeskError as exc:
            form_error(form, exc)
        else:
            flash(_("Category saved."), "success")
            return redirect(url_for("admin.categories"))
    return render_template("admin/category_form.html", form=form, category=category), (
        400 if form.errors else 200
    )


@bp.route("/categories/<int:category_id>/delete", methods=["POST"])
@admin_required
def category_delete(category_id: int):
    category = tickets.get_category(category_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        tickets.delete_category(_actor(), category)
    except HelpdeskError as exc:
        flash_error(exc)
        return redirect(url_for("admin.categories")), 303
    flash(_("Category deleted."), "success")
    return redirect(url_for("admin.categories"))
