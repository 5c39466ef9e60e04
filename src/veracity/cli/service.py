"""`veracity serve` and the `db`, `feedback` and `keys` command groups."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from veracity._extras import require
from veracity.cli._common import (
    _errors,
    _Typer,
    app,
    err,
    out,
)
from veracity.errors import InputError
from veracity.settings import Settings


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="TCP port to listen on.")] = 8000,
    workers: Annotated[
        int,
        typer.Option(
            min=1,
            max=64,
            help="Worker processes (one uses about one core; each holds the model, ~160 MB).",
        ),
    ] = 1,
) -> None:
    """Run the web service: JSON API under /v1, the web page at /, API docs at /docs.

    The database (VERACITY_DATABASE_URL) is migrated to the newest schema on startup.

    Checked before it listens: the port is free (else exit 4), the database (exit 2), the model (3).
    """
    with _errors():
        require("serve", "veracity serve")
        from veracity.serve.server import run

        run(Settings(), host=host, port=port, workers=workers)


db_app = _Typer(
    help="Manage the database of checks and feedback (VERACITY_DATABASE_URL).",
    no_args_is_help=True,
)
app.add_typer(db_app, name="db")


def _shown_url(database_url: str) -> str:
    """The database URL with any password hidden (StoreError when it is not a URL)."""
    require("serve", "this database command", modules=("sqlalchemy", "alembic"))
    from veracity.store.migrate import display_url

    return display_url(database_url)


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Create the database, or migrate it to the newest schema (safe to repeat)."""
    with _errors():
        settings = Settings()
        shown = _shown_url(settings.database_url)
        from veracity.store.migrate import HEAD, upgrade

        upgrade(settings.database_url)
    out.print(f"database {shown} is at schema revision {HEAD}", highlight=False)


def _missing_database(database_url: str) -> bool:
    """Whether ``database_url`` names a SQLite file that does not exist yet.

    Opening such a URL would create an empty file; a command that only reads asks
    this first, so it never leaves an empty database behind. (A file in a missing
    directory is not "missing": opening it fails with its own message.)
    """
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        url = make_url(database_url)
    except ArgumentError:  # the engine reports it, with what to do
        return False
    if url.get_backend_name() != "sqlite" or url.query.get("uri"):
        return False
    if url.database in (None, "", ":memory:"):
        return False
    path = Path(url.database)
    return not path.exists() and path.absolute().parent.is_dir()


def _export_feedback(path: Path) -> None:
    """Write the feedback training CSV from VERACITY_DATABASE_URL and say how many rows."""
    with _errors():
        settings = Settings()
        shown = _shown_url(settings.database_url)
        from veracity.store.migrate import current_revision, make_engine
        from veracity.store.repository import export_feedback, sessions

        if _missing_database(settings.database_url):
            raise InputError(
                f"there is no database at {shown}, so no feedback to export; point "
                "VERACITY_DATABASE_URL at the service's database (`veracity db upgrade` "
                "makes a new one)"
            )
        engine = make_engine(settings.database_url)
        try:
            if current_revision(engine) is None:
                raise InputError(
                    f"database {shown} has no veracity tables: run `veracity db upgrade`"
                )
            with sessions(engine)() as session:
                rows = export_feedback(session, path)
        finally:
            engine.dispose()
    out.print(f"wrote {rows:,} rows to {path}", highlight=False, soft_wrap=True)


ExportPath = Annotated[Path, typer.Argument(help="CSV file to write (id,title,text,label).")]


feedback_app = _Typer(
    help="Turn people's feedback on checks into training data.", no_args_is_help=True
)
app.add_typer(feedback_app, name="feedback")


@feedback_app.command("export")
def feedback_export(path: ExportPath) -> None:
    """Write checks that have feedback as a training CSV for `veracity train --with-feedback`.

    The label of each row is the corrected label, or the verdict's label when the person
    agreed (the other label when they disagreed).

    The CSV is safe to open in a spreadsheet: a text starting with =, +, -, @, tab,
    carriage return or ' gets a ' in front (OWASP CSV injection), and
    `train --with-feedback` removes it again, so the model learns the original text.
    Control characters other than tab and newlines become spaces.
    """
    _export_feedback(path)


keys_app = _Typer(
    help="Manage the API keys of the HTTP service (used when VERACITY_REQUIRE_API_KEY=true).",
    no_args_is_help=True,
)
app.add_typer(keys_app, name="keys")


@contextmanager
def _keys_session() -> Iterator[Any]:
    """A session on VERACITY_DATABASE_URL, whose schema must be current."""
    settings = Settings()
    shown = _shown_url(settings.database_url)
    from veracity.store.migrate import HEAD, current_revision, make_engine
    from veracity.store.repository import sessions

    if _missing_database(settings.database_url):
        raise InputError(
            f"there is no database at {shown} yet: run `veracity db upgrade` to make it"
        )
    engine = make_engine(settings.database_url)
    try:
        if current_revision(engine) != HEAD:
            raise InputError(
                f"database {shown} is not at the newest schema: run `veracity db upgrade`"
            )
        with sessions(engine)() as session:
            yield session
    finally:
        engine.dispose()


@keys_app.command("create")
def keys_create(
    name: Annotated[
        str, typer.Argument(help="Who or what the key is for (unique among active keys).")
    ],
) -> None:
    """Make a new API key and print it once: only its hash is stored, it cannot be shown again."""
    with _errors(), _keys_session() as session:
        from veracity.store.repository import create_api_key

        row, key = create_api_key(session, name)
    err.print(f"created key {row.name!r} ({row.prefix}…); store it now, it is not shown again:")
    out.print(key, highlight=False, soft_wrap=True)


@keys_app.command("list")
def keys_list() -> None:
    """List the API keys: name, prefix, when made and revoked (never the keys themselves)."""
    with _errors():
        database_url = Settings().database_url
        if _missing_database(database_url):
            out.print(
                f"no API keys: there is no database at {_shown_url(database_url)} yet; "
                "make it with `veracity db upgrade`, then a key with `veracity keys create NAME`",
                highlight=False,
                soft_wrap=True,
            )
            return
    with _errors(), _keys_session() as session:
        from veracity.store.repository import list_api_keys

        rows = list_api_keys(session)
    if not rows:
        out.print("no API keys; make one with `veracity keys create NAME`")
        return
    table = Table("name", "prefix", "created", "status")
    for row in rows:
        status = "active" if row.revoked_at is None else f"revoked {row.revoked_at:%Y-%m-%d %H:%M}"
        table.add_row(row.name, f"{row.prefix}…", f"{row.created_at:%Y-%m-%d %H:%M}", status)
    out.print(table)


@keys_app.command("revoke")
def keys_revoke(
    name_or_prefix: Annotated[str, typer.Argument(help="The key's name, or its prefix (vk_…).")],
) -> None:
    """Revoke an API key: requests with it get 401 from now on."""
    with _errors(), _keys_session() as session:
        from veracity.store.repository import revoke_api_key

        row = revoke_api_key(session, name_or_prefix)
        if row is None:
            raise InputError(
                f"no active key has the name or prefix {name_or_prefix!r}; see `veracity keys list`"
            )
    out.print(f"revoked key {row.name!r} ({row.prefix}…)", highlight=False)
