"""TALKOOT_LOG_LEVEL read as a level, in any case, or refused naming the variable."""

from __future__ import annotations

import pytest

from contracts import logs


@pytest.mark.parametrize(
    ("text", "level"), [("debug", "DEBUG"), (" Warning ", "WARNING"), ("", "INFO")]
)
def test_a_level_is_read_in_any_case_and_info_when_unset(text, level):
    assert logs.level({logs.VARIABLE: text}) == level
    assert logs.level({}) == "INFO"


@pytest.mark.parametrize("text", ["verbose", "10", "warn"])
def test_a_level_that_is_not_one_stops_the_process_naming_the_variable(text):
    with pytest.raises(SystemExit) as stopped:
        logs.level({logs.VARIABLE: text})
    assert "TALKOOT_LOG_LEVEL" in str(stopped.value)


def test_the_lines_of_every_request_speak_from_warning_up_whatever_the_level():
    config = logs.config({logs.VARIABLE: "DEBUG"})
    assert config["root"]["level"] == "DEBUG"
    assert config["loggers"]["uvicorn"]["level"] == "DEBUG"
    assert {config["loggers"][name]["level"] for name in logs.NOISY} == {"WARNING"}
    assert logs.config({logs.VARIABLE: "error"})["loggers"]["httpx"]["level"] == "ERROR"
