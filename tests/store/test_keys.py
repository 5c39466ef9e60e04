"""API keys in the store: only hashes are kept; create, find, list, revoke.

On SQLite and PostgreSQL (``database_url``), except the test that reads the SQLite file.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import inspect
from sqlalchemy.orm import Session

from veracity.errors import InputError
from veracity.store.migrate import make_engine, upgrade
from veracity.store.repository import (
    KEY_PREFIX,
    create_api_key,
    find_api_key,
    hash_api_key,
    list_api_keys,
    revoke_api_key,
    sessions,
)


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "keys.db"
    upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture
def session(database_url: str) -> Iterator[Session]:
    upgrade(database_url)
    engine = make_engine(database_url)
    with sessions(engine)() as s:
        yield s
    engine.dispose()


def test_migration_makes_the_api_keys_table(session: Session) -> None:
    columns = {c["name"] for c in inspect(session.get_bind()).get_columns("api_keys")}
    assert columns == {"id", "name", "prefix", "key_sha256", "created_at", "revoked_at"}


def test_the_database_never_holds_the_raw_key(db: Path) -> None:
    engine = make_engine(f"sqlite:///{db}")
    session = sessions(engine)()
    row, key = create_api_key(session, "alice")
    assert key.startswith(KEY_PREFIX) and len(key) > 40
    assert row.key_sha256 == hash_api_key(key) != key
    assert key.startswith(row.prefix) and len(row.prefix) == 10
    session.close()
    engine.dispose()
    raw = b"".join(p.read_bytes() for p in db.parent.glob("keys.db*"))
    assert key.encode() not in raw and key[10:].encode() not in raw
    assert row.prefix.encode() in raw


def test_keys_are_random_and_found_only_while_active(session: Session) -> None:
    a, key_a = create_api_key(session, "alice")
    _, key_b = create_api_key(session, "bob")
    assert key_a != key_b
    found = find_api_key(session, key_a)
    assert found is not None and found.name == "alice"
    assert find_api_key(session, key_a + "x") is None
    assert find_api_key(session, "") is None
    assert revoke_api_key(session, "alice") is a
    assert a.revoked_at is not None and not a.active
    assert find_api_key(session, key_a) is None
    assert find_api_key(session, key_b) is not None


def test_revoke_by_prefix_name_or_whole_key(session: Session) -> None:
    a, _ = create_api_key(session, "alice")
    b, key_b = create_api_key(session, "bob")
    c, _ = create_api_key(session, "carol")
    assert revoke_api_key(session, a.prefix) is a
    assert revoke_api_key(session, key_b) is b
    assert revoke_api_key(session, c.prefix[:7]) is c
    assert revoke_api_key(session, "alice") is None  # already revoked
    assert revoke_api_key(session, "nobody") is None


def test_ambiguous_prefix_is_refused(session: Session) -> None:
    for name in ("alice", "bob"):
        create_api_key(session, name)
    for row in list_api_keys(session):
        row.prefix = "vk_same123"  # random keys rarely share a prefix: force it
    session.commit()
    with pytest.raises(InputError, match="several active keys"):
        revoke_api_key(session, "vk_same")
    assert len(list_api_keys(session, include_revoked=False)) == 2


def test_names_are_unique_among_active_keys(session: Session) -> None:
    create_api_key(session, "alice")
    with pytest.raises(InputError, match="already an active key"):
        create_api_key(session, "alice")
    revoke_api_key(session, "alice")
    create_api_key(session, "alice")  # a replacement after revoking is fine
    assert [k.name for k in list_api_keys(session)] == ["alice", "alice"]
    assert len(list_api_keys(session, include_revoked=False)) == 1
    for bad in ("", "   ", "x" * 101, "vk_looks_like_a_key"):
        with pytest.raises(InputError):
            create_api_key(session, bad)


def test_cli_keys_round_trip(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from veracity.cli import app

    runner = CliRunner()
    db = tmp_path / "cli.db"
    monkeypatch.setenv("VERACITY_DATABASE_URL", f"sqlite:///{db}")
    result = runner.invoke(app, ["keys", "list"])  # no database yet: none is made
    assert result.exit_code == 0 and "veracity db upgrade" in result.output
    assert not db.exists()
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    assert "no API keys" in runner.invoke(app, ["keys", "list"]).output

    created = runner.invoke(app, ["keys", "create", "ci-bot"])
    assert created.exit_code == 0, created.output
    key = created.stdout.strip().splitlines()[-1]
    assert key.startswith(KEY_PREFIX)
    assert key.encode() not in b"".join(p.read_bytes() for p in tmp_path.glob("cli.db*"))
    again = runner.invoke(app, ["keys", "create", "ci-bot"])
    assert again.exit_code == 2 and "already an active key" in again.output

    listed = runner.invoke(app, ["keys", "list"])
    assert listed.exit_code == 0 and "ci-bot" in listed.output and "active" in listed.output
    assert key[:10] in listed.output and key not in listed.output

    revoked = runner.invoke(app, ["keys", "revoke", key[:10]])
    assert revoked.exit_code == 0 and "revoked key 'ci-bot'" in revoked.output
    assert "revoked 20" in runner.invoke(app, ["keys", "list"]).output
    missing = runner.invoke(app, ["keys", "revoke", "ci-bot"])
    assert missing.exit_code == 2 and "no active key" in missing.output
