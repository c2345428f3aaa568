"""``newsflow users``: editor accounts (admin, editor, viewer)."""

from __future__ import annotations

import sys

import click

from newsflow import accounts
from newsflow.cli.common import NewsflowGroup, echo_json, get_app
from newsflow.store import users as user_store


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        line = sys.stdin.readline()
        return line.rstrip("\r\n")
    return str(click.prompt("Password", hide_input=True, confirmation_prompt=True))


@click.group("users", cls=NewsflowGroup)
def users_group() -> None:
    """Manage who can log in to the review UI.

    Example: newsflow users add ada --role admin
    """


@users_group.command("add")
@click.argument("username")
@click.option("--role", type=click.Choice(accounts.ROLES), default="editor", show_default=True,
              help="admin: everything, incl. overriding blocking checks; editor: review; "
                   "viewer: read only.")
@click.option("--email", default=None, help="Address for digests and notifications.")
@click.option("--password-stdin", is_flag=True,
              help="Read the password from the first line of standard input.")
@click.pass_context
def users_add(ctx: click.Context, username: str, role: str, email: str | None,
              password_stdin: bool) -> None:
    """Create an account; the password is prompted for (never echoed).

    Example: echo "$PW" | newsflow users add erin --role editor --password-stdin
    """
    app = get_app(ctx)
    user = accounts.add_user(app.store, username, _read_password(password_stdin), role, email)
    click.echo(f"Added {user.role} {user.username}.")


@users_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def users_list(ctx: click.Context, as_json: bool) -> None:
    """List accounts with their role and last login.

    Example: newsflow users list --json
    """
    rows = user_store.list_users(get_app(ctx).store)
    if as_json:
        echo_json([{"username": u.username, "role": u.role, "email": u.email,
                    "disabled": u.disabled, "last_login_at": u.last_login_at} for u in rows])
        return
    for u in rows:
        state = "disabled" if u.disabled else "active"
        last = u.last_login_at.strftime("%Y-%m-%d %H:%M") if u.last_login_at else "never"
        click.echo(f"{u.username:20} {u.role:8} {state:9} last login {last}")


@users_group.command("disable")
@click.argument("username")
@click.option("--enable", is_flag=True, help="Enable the account again instead.")
@click.pass_context
def users_disable(ctx: click.Context, username: str, enable: bool) -> None:
    """Stop an account from logging in (its sessions end at their next request).

    Example: newsflow users disable erin
    """
    accounts.set_disabled(get_app(ctx).store, username, not enable)
    click.echo(f"{'Enabled' if enable else 'Disabled'} {username}.")


@users_group.command("set-password")
@click.argument("username")
@click.option("--password-stdin", is_flag=True,
              help="Read the password from the first line of standard input.")
@click.pass_context
def users_set_password(ctx: click.Context, username: str, password_stdin: bool) -> None:
    """Set a new password (prompted for, never echoed).

    Example: newsflow users set-password erin
    """
    accounts.set_password(get_app(ctx).store, username, _read_password(password_stdin))
    click.echo(f"Password changed for {username}.")
