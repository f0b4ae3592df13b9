from datetime import timedelta

import pytest

from services.platform.settings import Settings, duration


@pytest.mark.parametrize(
    ("text", "value"),
    [("90s", 90), ("15m", 900), ("24h", 86400), ("7d", 604800), ("1.5d", 129600), ("2", 2)],
)
def test_a_duration_is_read_with_its_unit(text, value):
    assert duration(text) == timedelta(seconds=value)


@pytest.mark.parametrize("text", ["0s", "0", "soon", "-5m", "5 weeks", ""])
def test_a_duration_that_is_not_one_stops_the_service_naming_the_setting(text):
    with pytest.raises(SystemExit) as stopped:
        duration(text, "TALKOOT_OFFER_EXPIRES_AFTER")
    assert "TALKOOT_OFFER_EXPIRES_AFTER" in str(stopped.value)


def test_a_sweep_interval_of_nothing_is_refused(monkeypatch):
    monkeypatch.setenv("TALKOOT_DATABASE_URL", "postgresql://localhost/x")
    monkeypatch.setenv("TALKOOT_NATS_URL", "nats://localhost:4222")
    monkeypatch.setenv("TALKOOT_SWEEP_SECONDS", "0")
    with pytest.raises(SystemExit) as stopped:
        Settings.from_env()
    assert "TALKOOT_SWEEP_SECONDS" in str(stopped.value)


@pytest.mark.parametrize("text", ["17000 €", "-5", "1.5", "lots"])
def test_a_tables_yearly_figure_that_is_not_whole_cents_stops_the_service(monkeypatch, text):
    monkeypatch.setenv("TALKOOT_DATABASE_URL", "postgresql://localhost/x")
    monkeypatch.setenv("TALKOOT_NATS_URL", "nats://localhost:4222")
    monkeypatch.setenv("TALKOOT_TABLES_COMMON_EXPENSES_CENTS", text)
    with pytest.raises(SystemExit) as stopped:
        Settings.from_env()
    assert "TALKOOT_TABLES_COMMON_EXPENSES_CENTS" in str(stopped.value)
    monkeypatch.setenv("TALKOOT_TABLES_COMMON_EXPENSES_CENTS", "1500000")
    assert Settings.from_env().tables_common_expenses_cents == 1_500_000


def test_the_audit_key_is_the_base64_of_a_32_byte_seed_and_nothing_else():
    import base64

    seed = bytes(range(32))
    assert Settings("", "", audit_key=base64.b64encode(seed).decode()).audit_seed() == seed
    for wrong in (None, "", "not base64!", base64.b64encode(bytes(31)).decode()):
        with pytest.raises(SystemExit) as stopped:
            Settings("", "", audit_key=wrong).audit_seed()
        assert "TALKOOT_AUDIT_KEY" in str(stopped.value)


def test_each_log_is_named_by_the_installation_and_its_service():
    assert Settings("", "").origin("requests") == "talkoot.lahti.fi/requests"
    assert Settings("", "", jurisdiction_id="hollola.fi").origin("matching") == (
        "talkoot.hollola.fi/matching"
    )
    assert Settings("", "", audit_origin="audit.example/").origin("providers") == (
        "audit.example/providers"
    )


def test_the_local_stack_makes_an_audit_seed_once_and_keeps_it(tmp_path):
    import base64

    from deploy.stack import local_secrets

    made = local_secrets(tmp_path)
    assert len(base64.b64decode(made["audit"], validate=True)) == 32
    assert local_secrets(tmp_path) == made
