from pathlib import Path

import pytest

from studio.config import SettingsError, load_settings


def settings(**env):
    return load_settings(env, dotenv_path=None)


def test_defaults_run_on_the_simulator_locally():
    s = settings()
    assert s.mode == "simulator"
    assert (s.host, s.port) == ("127.0.0.1", 7860)
    assert s.default_max_duration == 300


def test_key_switches_to_live_mode_and_is_never_in_repr():
    s = settings(RUNWAYML_API_SECRET="key_" + "a" * 128)
    assert s.mode == "live"
    assert "key_" not in repr(s)


def test_spaces_binds_all_interfaces_and_trusts_the_proxy():
    s = settings(SYSTEM="spaces")
    assert s.host == "0.0.0.0"
    assert s.trust_proxy_headers


def test_guards_and_auth_are_parsed():
    s = settings(STUDIO_ALLOWED_AVATARS="music-superstar, cat-character,", STUDIO_AUTH="qa:pw1,pm:pw2",
                 STUDIO_MAX_LIVE_SESSIONS="2")
    assert s.allowed_avatars == {"music-superstar", "cat-character"}
    assert s.auth_users == (("qa", "pw1"), ("pm", "pw2"))
    assert "pw1" not in repr(s)
    assert s.max_live_sessions == 2


@pytest.mark.parametrize("env, word", [
    ({"GRADIO_SERVER_PORT": "http"}, "GRADIO_SERVER_PORT"),
    ({"STUDIO_MAX_LIVE_SESSIONS": "0"}, "STUDIO_MAX_LIVE_SESSIONS"),
    ({"STUDIO_MAX_DURATION": "301"}, "STUDIO_MAX_DURATION"),
    ({"STUDIO_AUTH": "nopassword"}, "STUDIO_AUTH"),
    ({"STUDIO_SIM_READY_DELAY": "soon"}, "STUDIO_SIM_READY_DELAY"),
])
def test_bad_values_name_the_setting(env, word):
    with pytest.raises(SettingsError, match=word):
        settings(**env)


def test_environment_wins_over_dotenv(tmp_path: Path):
    dotenv = tmp_path / ".env"
    dotenv.write_text("STUDIO_DAILY_SESSION_CAP=7\nSTUDIO_MAX_LIVE_SESSIONS=4\n")
    s = load_settings({"STUDIO_MAX_LIVE_SESSIONS": "9"}, dotenv_path=dotenv)
    assert (s.daily_session_cap, s.max_live_sessions) == (7, 9)


def test_every_setting_is_documented_in_env_example():
    import re
    source = Path("studio/config.py").read_text()
    names = set(re.findall(r'"((?:STUDIO|RUNWAYML|GRADIO)_[A-Z_]+)"', source))
    example = Path(".env.example").read_text()
    readme = Path("README.md").read_text()
    assert names, "no settings found"
    missing = sorted(n for n in names if n not in example or n not in readme)
    assert not missing, f"undocumented settings: {missing}"
