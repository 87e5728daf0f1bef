from __future__ import annotations

import pytest

from mockserver.clock import ClockState, iso, local_to_epoch, parse_duration
from mockserver.config import Config, ConfigError, parse_instant


@pytest.mark.parametrize(
    ("instant", "paris"),
    [
        ("2025-06-07T13:30:00Z", "2025-06-07T15:30:00+02:00"),
        ("2025-01-15T08:00:00Z", "2025-01-15T09:00:00+01:00"),
        ("2025-03-30T00:59:59Z", "2025-03-30T01:59:59+01:00"),  # the last second of winter time
        ("2025-03-30T01:00:00Z", "2025-03-30T03:00:00+02:00"),
        ("2025-10-26T00:59:59Z", "2025-10-26T02:59:59+02:00"),
        ("2025-10-26T01:00:00Z", "2025-10-26T02:00:00+01:00"),
    ],
)
def test_paris_offsets_follow_daylight_saving_time(instant, paris):
    epoch = parse_instant(instant)
    assert iso(epoch) == paris


def test_other_zones():
    epoch = parse_instant("2025-06-07T13:30:00Z")
    assert iso(epoch, "Indian/Reunion") == "2025-06-07T17:30:00+04:00"
    assert iso(epoch, "America/Martinique") == "2025-06-07T09:30:00-04:00"


def test_local_wall_clock_to_instant():
    from datetime import date

    assert iso(local_to_epoch(date(2025, 6, 16), (9, 0))) == "2025-06-16T09:00:00+02:00"
    assert iso(local_to_epoch(date(2025, 6, 16), (9, 0), "Indian/Reunion"), "Indian/Reunion")[11:19] == "09:00:00"


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        (90, 90),
        ("90s", 90),
        ("2h30m", 9000),
        ("1d", 86400),
        ("P1DT2H", 93600),
        ("PT0.5S", 0.5),
        ("-1h", -3600),
        ("250ms", 0.25),
        ("1w", 604800),
        ("12.5", 12.5),
    ],
)
def test_durations(text, seconds):
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["soon", "", "1x", "P", "2h garbage", True])
def test_bad_durations(text):
    with pytest.raises(ValueError):
        parse_duration(text)


def test_clock_modes():
    frozen = ClockState(frozen_at=100.0)
    assert frozen.now() == 100.0 and frozen.mode == "frozen"
    assert frozen.advanced(5).now() == 105.0
    shifted = ClockState().advanced(3600)
    assert shifted.mode == "shifted" and shifted.offset == 3600
    assert ClockState().mode == "real"


def test_config_layers_defaults_environment_and_overrides():
    config = Config.load({"seed": "7"}, environ={"T4B_SEED": "3", "T4B_PORT": "9000", "T4B_DEBUG_MODE": "false"})
    assert (config.seed, config.port, config.debug_mode) == (7, 9000, False)
    assert Config.load(environ={}).seed == 42
    assert Config.load({"scenario": "slow,flaky"}, environ={}).scenario == ("slow", "flaky")


@pytest.mark.parametrize(
    ("overrides", "needle"),
    [
        ({"seed": "x"}, "seed"),
        ({"colour": "red"}, "unknown setting"),
        ({"environment": "prod"}, "staging, production"),
        ({"now": "yesterday"}, "ISO-8601"),
    ],
)
def test_config_errors_name_the_setting(overrides, needle):
    with pytest.raises(ConfigError, match=needle):
        Config.load(overrides, environ={})


@pytest.mark.parametrize(
    ("typed", "paris"),
    [
        ("2025-06-07T15:30:00", "2025-06-07T15:30:00+02:00"),  # wall time in Paris, not UTC (was 17:30)
        ("2025-06-07T15:30", "2025-06-07T15:30:00+02:00"),
        ("2025-01-15T09:00:00", "2025-01-15T09:00:00+01:00"),
        ("2025-06-07", "2025-06-07T00:00:00+02:00"),  # a bare date is its midnight in Paris (was 02:00)
        ("2025-12-24", "2025-12-24T00:00:00+01:00"),
        ("2025-03-30T02:30:00", "2025-03-30T03:30:00+02:00"),  # does not exist: forward by the gap
        ("2025-10-26T02:30:00", "2025-10-26T02:30:00+01:00"),  # happens twice: the second (later) one
        ("2025-10-26T01:59:59", "2025-10-26T01:59:59+02:00"),  # just before the overlap: unambiguous
        ("2025-06-07T15:30:00Z", "2025-06-07T17:30:00+02:00"),  # an offset is kept as given
        ("2025-06-07T15:30:00-04:00", "2025-06-07T21:30:00+02:00"),
    ],
)
def test_times_without_an_offset_are_paris_wall_time(typed, paris):
    assert iso(parse_instant(typed)) == paris


def test_the_same_rule_for_now_its_variable_and_the_control_api(client):
    assert iso(Config.load({"now": "2025-06-07T15:30:00"}, environ={}).now) == "2025-06-07T15:30:00+02:00"
    assert iso(Config.load(environ={"T4B_NOW": "2025-06-07"}).now) == "2025-06-07T00:00:00+02:00"
    for typed, shown in [
        ("2025-06-07T15:30:00", "2025-06-07T15:30:00+02:00"),
        ("2025-06-07", "2025-06-07T00:00:00+02:00"),
        ("2025-10-26T02:30", "2025-10-26T02:30:00+01:00"),
    ]:
        reply = client.post("/__mock/clock/freeze", json={"at": typed})
        assert reply.status_code == 200 and reply.get_json()["data"]["now"] == shown


@pytest.mark.slow
def test_serve_now_without_an_offset_is_paris_time():
    from server import running

    from mockserver.client import SandboxClient

    with running("--now", "2025-06-07T15:30:00") as (_, url):
        assert SandboxClient(url).clock()["now"] == "2025-06-07T15:30:00+02:00"
