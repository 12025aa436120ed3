"""A Sessions table refresh sends nothing a viewer already has: a tick over an unchanged ledger
skips every output, and a tick after a session changes sends the new table (the handler itself,
run as Gradio runs it, on the studio's own loop)."""

from __future__ import annotations

from typing import Any

import gradio as gr
import pytest

from app import build_ui
from pages.context import PageContext
from tests.app.conftest import harness_for

NO_FILTERS = ([], "", "", "", "")
SKIP = gr.skip()


@pytest.fixture()
def studio_page(tmp_path):
    with harness_for(tmp_path, STUDIO_MAX_LIVE_SESSIONS="10") as harness:
        # Every tick re-reads the ledger (a viewer's ticks are seconds apart; these are not).
        harness.studio.history.mirror.min_interval = 0.0
        demo = build_ui(PageContext(studio=harness.studio))
        yield harness, table_handlers(demo)


def table_handlers(demo: gr.Blocks) -> dict[str, Any]:
    """The Sessions table's handlers by name: the refresh `tick` and the API's `load_table`."""
    return {f.fn.__name__: f.fn for f in demo.fns.values()
            if f.fn is not None and f.fn.__qualname__.startswith("table_panel.")}


def call(harness, handler, *args: Any) -> tuple[Any, ...]:
    return harness.client.portal.call(lambda: handler(*args))


def test_an_idle_tick_sends_nothing_and_a_changed_session_is_sent(studio_page):
    harness, handlers = studio_page
    tick = handlers["tick"]
    harness.start_call()

    table, figures, caption, sent = call(harness, tick, *NO_FILTERS, None)
    assert len(table["data"]) == 1 and "<div class='figures'>" in figures and "1" in caption
    assert isinstance(sent, tuple) and len(sent) == 3

    for _ in range(3):  # nothing changed: every output (the remembered fingerprints too) skipped
        assert call(harness, tick, *NO_FILTERS, sent) == (SKIP, SKIP, SKIP, SKIP)

    harness.start_call()  # a second session: the table, figures and caption change
    table, figures, caption, new_sent = call(harness, tick, *NO_FILTERS, sent)
    assert len(table["data"]) == 2
    assert "2" in caption and new_sent != sent
    assert call(harness, tick, *NO_FILTERS, new_sent) == (SKIP, SKIP, SKIP, SKIP)


def test_a_status_change_alone_is_sent(studio_page):
    harness, handlers = studio_page
    tick = handlers["tick"]
    session_id = harness.start_call().json()["sessionId"]
    *_, sent = call(harness, tick, *NO_FILTERS, None)
    harness.sim_call(session_id, "join")  # READY → RUNNING in the ledger
    table, *_ = call(harness, tick, *NO_FILTERS, sent)
    assert table is not SKIP and table != SKIP
    assert table["data"][0][2] == "running"


def test_a_new_viewer_and_the_api_always_get_the_whole_table(studio_page):
    harness, handlers = studio_page
    harness.start_call()
    first = call(harness, handlers["tick"], *NO_FILTERS, None)
    assert SKIP not in first[:3]
    # Another viewer (nothing remembered yet) gets everything, as does a filter change or the API.
    fresh = call(harness, handlers["tick"], *NO_FILTERS, None)
    assert SKIP not in fresh[:3]
    loaded = call(harness, handlers["load_table"], *NO_FILTERS)
    assert len(loaded) == 3 and len(loaded[0]["data"]) == 1


def test_the_old_always_send_behaviour_stays_available_for_the_benchmark(tmp_path, monkeypatch):
    import functools

    import app
    from pages import sessions

    with harness_for(tmp_path) as harness:
        harness.studio.history.mirror.min_interval = 0.0
        monkeypatch.setattr(sessions, "build", functools.partial(sessions.build, send_unchanged=True))
        demo = app.build_ui(PageContext(studio=harness.studio))
        tick = table_handlers(demo)["tick"]
        *_, sent = call(harness, tick, *NO_FILTERS, None)
        again = call(harness, tick, *NO_FILTERS, sent)
        assert again[0] == {"headers": again[0]["headers"], "data": [], "metadata": None}
