"""The room's settings from the simulator's: ICE servers (TURN behind NAT), loopback-only media
by default, and which LiveKit URL consume hands out."""

from __future__ import annotations

import json

import pytest

from simulator.__main__ import config_from_args, parse_args
from simulator.app import room_settings
from simulator.config import DEFAULT_LIVEKIT_URL, SimConfig

TURN = {"urls": ["turn:turn.example.com:3478"], "username": "u", "credential": "p"}


def test_defaults_keep_room_media_on_loopback_with_no_ice_servers() -> None:
    settings = room_settings(SimConfig())
    assert settings.ice_servers == ()
    assert settings.host_addresses == ("127.0.0.1",)
    assert settings.remote_networks == ("127.0.0.0/8", "::1/128")


def test_flags_set_ice_servers_and_open_every_address() -> None:
    args = parse_args(["--ice-servers", json.dumps([{**TURN, "urls": TURN["urls"][0]}]),
                       "--room-any-address"])
    config = config_from_args(args)
    assert config.ice_servers == [TURN]  # a single url becomes a list
    settings = room_settings(config)
    assert settings.ice_servers == (TURN,)
    assert settings.host_addresses is None and settings.remote_networks is None


@pytest.mark.parametrize("bad", ['{"urls": "turn:x"}', "[1]", '[{"urls": []}]', '[{"urls": "a", "x": 1}]',
                                 '[{"urls": "a", "credential": 5}]', "not json"])
def test_malformed_ice_servers_are_refused(bad: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        parse_args(["--ice-servers", bad])
    assert "--ice-servers" in capsys.readouterr().err
    if bad != "not json":
        with pytest.raises(ValueError, match="ICE server|ice_servers"):
            SimConfig().updated({"iceServers": json.loads(bad)})


def test_consume_hands_out_the_configured_url_else_the_served_room() -> None:
    room = "ws://127.0.0.1:8900/livekit"
    assert SimConfig().consume_url(room) == room
    assert SimConfig(livekit_url="wss://lk.example.com").consume_url(room) == "wss://lk.example.com"
    assert SimConfig().consume_url(None) == DEFAULT_LIVEKIT_URL  # a bare Simulator serves no room
