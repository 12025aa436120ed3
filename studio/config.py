"""Every setting of the studio, read once from the environment and `.env`.

`RUNWAYML_API_SECRET` and `RUNWAYML_BASE_URL` keep the official SDK's meaning; the studio's own
settings start with `STUDIO_`. `.env.example` and the README list every one of them.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from dotenv import dotenv_values

from studio.vocabulary import CALL_SECONDS_MAX, CALL_SECONDS_MIN

RUNWAY_DEFAULT_BASE_URL = "https://api.dev.runwayml.com"
PUBLIC_DEMO_CHOICES = ("auto", "true", "false")


class SettingsError(ValueError):
    """A setting has a value the studio cannot use; the message names the variable."""


@dataclass(frozen=True)
class SimulatorSettings:
    """How the embedded simulator behaves when no API key is set."""

    ready_delay: float = 1.0
    concurrency: int = 3
    daily_limit: int = 1000
    no_participant_timeout: float = 20.0
    avatar_delay: float = 2.0
    livekit_url: str | None = None
    state_file: Path | None = None


@dataclass(frozen=True)
class Settings:
    api_secret: str | None = field(default=None, repr=False)
    base_url: str = RUNWAY_DEFAULT_BASE_URL
    host: str = "127.0.0.1"
    port: int = 7860
    on_spaces: bool = False
    data_dir: Path = Path("data")
    # Unset: the ledger is a SQLite file in data_dir. postgresql://…: one database for every replica.
    database_url: str | None = field(default=None, repr=False)
    # Guards for a public deployment; refusals cost nothing upstream.
    max_live_sessions: int = 3
    sessions_per_client_per_hour: int = 10  # 0: no per-caller limit (the simulator's default)
    daily_session_cap: int = 100
    allowed_avatars: frozenset[str] = frozenset()
    auth_users: tuple[tuple[str, str], ...] = field(default=(), repr=False)
    trust_proxy_headers: bool = False
    trusted_proxy_hops: int = 1
    # "auto": a public demo on Spaces without STUDIO_AUTH (visitors call and see their own calls,
    # but cannot read others' sessions nor change characters and documents).
    public_demo_setting: str = "auto"
    # Fetching a user's URL (reference images): internal addresses are refused unless allowed.
    allow_private_urls: bool = False
    # Session broker and refresher.
    session_deadline: float = 90.0
    # How long a caller may wait in line for one of the studio's call slots.
    slot_wait_deadline: float = 300.0
    default_max_duration: int = 300
    refresh_interval: float = 2.0
    history_ttl: float = 10.0
    # Spend estimate: Runway publishes no per-minute price for gwm1_avatars; third-party
    # measurements give 20 credits a minute at $0.01 a credit.
    credits_per_minute: float = 20.0
    usd_per_credit: float = 0.01
    # ... and 2 credits each time a call connects (its credentials are issued), joined or not.
    credits_per_call: float = 2.0
    # Clips (avatar videos): Runway publishes no price for them; the estimate before a render
    # uses this rate (a guess, the simulator's default) until the task reports its own.
    clip_credits_per_second: float = 0.5
    # How often the one clip follower polls each open render (Runway: not more than every 5 s).
    clip_poll_interval: float = 5.0
    simulator: SimulatorSettings = SimulatorSettings()

    @property
    def mode(self) -> str:
        """"live" talks to Runway; "simulator" runs the embedded local API."""
        return "live" if self.api_secret else "simulator"

    @property
    def public_demo(self) -> bool:
        """Visitors are strangers: they may call, but not read others' calls or edit the account."""
        if self.public_demo_setting == "auto":
            return self.on_spaces and not self.auth_users
        return self.public_demo_setting == "true"

    @property
    def ledger_path(self) -> Path:
        return self.data_dir / "ledger.sqlite3"

    @property
    def database(self) -> str | Path:
        """Where the studio's stores live: the shared PostgreSQL's URL, or the SQLite file."""
        return self.database_url or self.ledger_path


def load_settings(
    environ: Mapping[str, str] | None = None, dotenv_path: str | Path | None = ".env"
) -> Settings:
    """Settings from `environ` (default: the process environment) over the `.env` file."""
    values: dict[str, str] = {}
    if dotenv_path and Path(dotenv_path).is_file():
        values.update({k: v for k, v in dotenv_values(dotenv_path).items() if v is not None})
    values.update(os.environ if environ is None else environ)
    return _parse(_Reader(values))


class _Reader:
    """Typed access to raw string values, with errors that name the variable."""

    def __init__(self, values: Mapping[str, str]) -> None:
        self.values = values

    def text(self, name: str, default: str | None = None) -> str | None:
        value = self.values.get(name, "")
        value = value.strip() if isinstance(value, str) else value
        return value or default

    def number(self, name: str, default: float, *, minimum: float = 0.0) -> float:
        raw = self.text(name)
        if raw is None:
            return default
        try:
            value = float(raw)
        except ValueError:
            raise SettingsError(f"{name} must be a number, not {raw!r}") from None
        if value < minimum:
            raise SettingsError(f"{name} must be at least {minimum:g}, not {raw}")
        return value

    def integer(self, name: str, default: int, *, minimum: int = 0, maximum: int | None = None) -> int:
        raw = self.text(name)
        if raw is None:
            return default
        try:
            value = int(raw)
        except ValueError:
            raise SettingsError(f"{name} must be a whole number, not {raw!r}") from None
        if value < minimum or (maximum is not None and value > maximum):
            upper = f" and at most {maximum}" if maximum is not None else ""
            raise SettingsError(f"{name} must be at least {minimum}{upper}, not {raw}")
        return value

    def flag(self, name: str, default: bool) -> bool:
        raw = self.text(name)
        if raw is None:
            return default
        if raw.lower() in {"1", "true", "yes", "on"}:
            return True
        if raw.lower() in {"0", "false", "no", "off"}:
            return False
        raise SettingsError(f"{name} must be true or false, not {raw!r}")


def _parse(env: _Reader) -> Settings:
    on_spaces = env.text("SYSTEM") == "spaces"
    data_dir = Path(env.text("STUDIO_DATA_DIR", "data"))
    api_secret = env.text("RUNWAYML_API_SECRET")
    public_demo = env.text("STUDIO_PUBLIC_DEMO", "auto").lower()
    if public_demo not in PUBLIC_DEMO_CHOICES:
        raise SettingsError(f"STUDIO_PUBLIC_DEMO must be one of {', '.join(PUBLIC_DEMO_CHOICES)}")
    return Settings(
        api_secret=api_secret,
        base_url=env.text("RUNWAYML_BASE_URL", RUNWAY_DEFAULT_BASE_URL).rstrip("/"),
        host=env.text("GRADIO_SERVER_NAME", "0.0.0.0" if on_spaces else "127.0.0.1"),
        port=env.integer("GRADIO_SERVER_PORT", 7860, minimum=1, maximum=65535),
        on_spaces=on_spaces,
        data_dir=data_dir,
        database_url=_database_url(env.text("STUDIO_DATABASE_URL")),
        max_live_sessions=env.integer("STUDIO_MAX_LIVE_SESSIONS", 3, minimum=1),
        sessions_per_client_per_hour=env.integer(
            "STUDIO_SESSIONS_PER_CLIENT_PER_HOUR", _per_caller_default(env, api_secret, public_demo, on_spaces),
            minimum=0),
        daily_session_cap=env.integer("STUDIO_DAILY_SESSION_CAP", 100, minimum=1),
        allowed_avatars=frozenset(_split(env.text("STUDIO_ALLOWED_AVATARS", ""))),
        auth_users=_parse_auth(env.text("STUDIO_AUTH", "")),
        trust_proxy_headers=env.flag("STUDIO_TRUST_PROXY_HEADERS", on_spaces),
        trusted_proxy_hops=env.integer("STUDIO_TRUSTED_PROXY_HOPS", 1, minimum=1, maximum=10),
        public_demo_setting=public_demo,
        allow_private_urls=env.flag("STUDIO_ALLOW_PRIVATE_URLS", False),
        session_deadline=env.number("STUDIO_SESSION_DEADLINE", 90.0, minimum=1.0),
        slot_wait_deadline=env.number("STUDIO_SLOT_WAIT_DEADLINE", 300.0, minimum=1.0),
        default_max_duration=env.integer("STUDIO_MAX_DURATION", CALL_SECONDS_MAX, minimum=CALL_SECONDS_MIN,
                                         maximum=CALL_SECONDS_MAX),
        refresh_interval=env.number("STUDIO_REFRESH_INTERVAL", 2.0, minimum=0.1),
        history_ttl=env.number("STUDIO_HISTORY_TTL", 10.0, minimum=0.1),
        credits_per_minute=env.number("STUDIO_CREDITS_PER_MINUTE", 20.0),
        usd_per_credit=env.number("STUDIO_USD_PER_CREDIT", 0.01),
        credits_per_call=env.number("STUDIO_CREDITS_PER_CALL", 2.0, minimum=0.0),
        clip_credits_per_second=env.number("STUDIO_CLIP_CREDITS_PER_SECOND", 0.5),
        clip_poll_interval=env.number("STUDIO_CLIP_POLL_INTERVAL", 5.0, minimum=0.1),
        simulator=SimulatorSettings(
            ready_delay=env.number("STUDIO_SIM_READY_DELAY", 1.0),
            concurrency=env.integer("STUDIO_SIM_CONCURRENCY", 3, minimum=1),
            daily_limit=env.integer("STUDIO_SIM_DAILY_LIMIT", 1000, minimum=1),
            no_participant_timeout=env.number("STUDIO_SIM_NO_PARTICIPANT_TIMEOUT", 20.0, minimum=1.0),
            avatar_delay=env.number("STUDIO_SIM_AVATAR_DELAY", 2.0),
            livekit_url=env.text("STUDIO_SIM_LIVEKIT_URL"),
            state_file=Path(env.text("STUDIO_SIM_STATE_FILE", str(data_dir / "simulator-state.json"))),
        ),
    )


def _per_caller_default(env: _Reader, api_secret: str | None, public_demo: str, on_spaces: bool) -> int:
    """10 calls an hour per caller live or in a public demo; none on a private simulator, where
    every tester on one machine is the same caller and calls cost nothing."""
    public = public_demo == "true" or (public_demo == "auto" and on_spaces and not env.text("STUDIO_AUTH"))
    return 10 if api_secret or public else 0


def _database_url(raw: str | None) -> str | None:
    if raw and not raw.startswith(("postgresql://", "postgres://")):
        raise SettingsError("STUDIO_DATABASE_URL must be a postgresql:// URL (or unset for SQLite)")
    return raw


def _split(raw: str) -> list[str]:
    return [part.strip() for part in raw.split(",") if part.strip()]


def _parse_auth(raw: str) -> tuple[tuple[str, str], ...]:
    users = []
    for pair in _split(raw):
        user, sep, password = pair.partition(":")
        if not sep or not user or not password:
            raise SettingsError("STUDIO_AUTH must look like 'user:password,other:password'")
        users.append((user, password))
    return tuple(users)
