"""Staff accounts: scrypt hashes, the `staff add` and `audit` commands."""

import io

import pytest

from bot import audit, cli, staff_accounts
from bot.store import get_store


def test_a_hash_is_salted_per_user_and_checks_only_its_password():
    one, two = (staff_accounts.hash_password("a long password") for _ in range(2))
    assert one != two and one.startswith("scrypt$16384$8$1$")
    assert staff_accounts.check_password("a long password", one)
    assert not staff_accounts.check_password("a long passwore", one)
    assert not staff_accounts.check_password("x", "md5$nonsense")


def test_staff_add_reads_the_password_from_stdin_and_refuses_a_repeat(monkeypatch, capsys):
    monkeypatch.setattr("sys.stdin", io.StringIO("a long enough password\n"))
    assert cli.main(["staff", "add", "ana", "--role", "nurse"]) == 0
    row = get_store().db.execute("select role, password_hash from staff_users").fetchone()
    assert row[0] == "nurse" and "a long enough" not in row[1]
    assert staff_accounts.check_password("a long enough password", row[1])
    monkeypatch.setattr("sys.stdin", io.StringIO("a long enough password\n"))
    assert cli.main(["staff", "add", "ana", "--role", "admin"]) == 1
    assert "already" in capsys.readouterr().err


@pytest.mark.parametrize(("role", "password"), [("nurse", "short"), ("doctor", "long enough pw")])
def test_a_short_password_or_unknown_role_is_refused(role, password):
    with pytest.raises(staff_accounts.AccountError):
        staff_accounts.add_user(get_store(), "bo", role, password)


def test_audit_prints_every_row(monkeypatch, capsys):
    monkeypatch.setattr("sys.stdin", io.StringIO("a long enough password\n"))
    cli.main(["staff", "add", "ana", "--role", "admin"])
    capsys.readouterr()
    assert cli.main(["audit"]) == 0
    out = capsys.readouterr().out
    assert "account created" in out and "ana (admin)" in out and "1 row(s)" in out


def test_the_escalations_commands_are_audited_too(capsys):
    store = get_store()
    store.record(
        sender="rest:p",
        channel="rest",
        tier="urgent",
        symptoms=["fever"],
        message="hot",
        event_key="k",
        source="action",
        notifiers=(),
    )
    assert cli.main(["escalations", "show", "1"]) == 0
    assert cli.main(["escalations", "ack", "1"]) == 0
    capsys.readouterr()
    rows = [(r["action"], r["escalation_id"]) for r in audit.rows(store)]
    assert rows == [("viewed alert", 1), ("acknowledged", 1)]
    assert audit.rows(store)[0]["actor"].startswith("cli:")
