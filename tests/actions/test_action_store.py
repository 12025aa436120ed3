"""The actions store keeps tool sets, session tools and tool calls on SQLite and PostgreSQL, and
they survive a restart (a new connection to the same database)."""

from __future__ import annotations

import pytest

from studio.actions.store import ActionStore, ToolEntry
from studio.actions.templates import template
from studio.actions.tools import ToolsInvalid
from studio.store import open_database

AVATAR = "0b0e5a43-7e34-4d0c-9d4b-3b5f5e4b8f00"


def entries():
    show, _ = template("show_product")
    order, answer = template("look_up_order")
    return [ToolEntry(show), ToolEntry(order, answer=answer),
            ToolEntry(template("book_slot")[0], enabled=False, answer=template("book_slot")[1])]


def test_tool_sets_survive_a_restart_in_order_with_their_answers(database_target):
    db = open_database(database_target)
    ActionStore(db).save_tools(AVATAR, entries(), at=10.0)
    db.close()
    again = ActionStore(open_database(database_target))
    saved = again.tools(AVATAR)
    assert [e.name for e in saved] == ["show_product", "look_up_order", "book_slot"]
    assert saved[1].answer == {"kind": "fixed", "reply": {"status": "shipped", "arrives": "tomorrow"}}
    assert saved[0].answer is None and saved[2].enabled is False
    assert again.tools("someone-else") == []
    again.db.close()


def test_saving_replaces_the_whole_set_and_an_invalid_set_changes_nothing(database_target):
    store = ActionStore(open_database(database_target))
    store.save_tools(AVATAR, entries(), at=1.0)
    bad = entries() + [ToolEntry({"type": "client_event", "name": "show_product", "description": "again"})]
    with pytest.raises(ToolsInvalid):
        store.save_tools(AVATAR, bad, at=2.0)
    assert len(store.tools(AVATAR)) == 3
    store.save_tools(AVATAR, entries()[:1], at=3.0)
    assert [e.name for e in store.tools(AVATAR)] == ["show_product"]
    store.db.close()


def test_a_session_gets_the_enabled_tools_less_those_switched_off(database_target):
    store = ActionStore(open_database(database_target))
    store.save_tools(AVATAR, entries(), at=1.0)
    given = store.session_tools_for(AVATAR)
    assert [t["name"] for t in given.tools] == ["show_product", "look_up_order"]
    assert list(given.answers) == ["look_up_order"]
    assert [t["name"] for t in store.session_tools_for(AVATAR, ["show_product"]).tools] == ["look_up_order"]
    store.record_session_tools("req-1", given, at=2.0)
    store.attach_session("req-1", "sess-1")
    for key in ("req-1", "sess-1"):
        found = store.session_tools(key)
        assert found.session_id == "sess-1" and [t["name"] for t in found.backend_tools] == ["look_up_order"]
    store.db.close()


def test_tool_calls_are_kept_per_session_and_findable_by_tool(database_target):
    store = ActionStore(open_database(database_target))
    store.record_call("sess-1", "look_up_order", "backend_rpc", {"order_id": "A1"}, at=5.0,
                      answer={"status": "shipped"}, latency_ms=12.5)
    store.record_call("sess-1", "show_product", "client_event", {"product": "lamp"}, at=4.0)
    store.record_call("sess-2", "look_up_order", "backend_rpc", {}, at=6.0, error="No answer within 3.8 s.")
    calls = store.calls("sess-1")
    assert [c["tool"] for c in calls] == ["show_product", "look_up_order"]
    assert calls[1]["answer"] == {"status": "shipped"} and calls[1]["latency_ms"] == 12.5
    assert calls[1]["arguments"] == {"order_id": "A1"} and calls[0]["answer"] is None
    assert store.latest_call_at("sess-1") == (2, 5.0)
    assert store.sessions_that_called("look_up_order") == {"sess-1", "sess-2"}
    assert store.calls("sess-2")[0]["error"] == "No answer within 3.8 s."
    store.db.close()
