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
