"""Helpers every CLI command module shares."""

from __future__ import annotations

import json
from typing import Any

import click

from newsflow.app import App
from newsflow.errors import NewsflowError


class NewsflowGroup(click.Group):
    """Turns NewsflowError into a one-line message and its exit code; no traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except NewsflowError as e:
            click.echo(f"Error: {e}", err=True)
            ctx.exit(e.exit_code)


class LazyApp:
    def __init__(self, config_path: str | None) -> None:
        self.config_path = config_path
        self._app: App | None = None

    def get(self) -> App:
        if self._app is None:
            self._app = App.from_config(self.config_path)
        return self._app

    def close(self) -> None:
        if self._app is not None:
            self._app.close()


def get_app(ctx: click.Context) -> App:
    lazy: LazyApp = ctx.find_root().obj
    return lazy.get()


pass_ctx = click.pass_context


def echo_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, sort_keys=False, default=str, ensure_ascii=False))
