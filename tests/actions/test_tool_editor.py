"""The tool editor's handlers on a real studio (embedded simulator): a definition that breaks a
limit is refused with the field named and nothing stored; a template saves; a rename keeps its
place; remove removes; a forward to a plain-http address is refused while private URLs are not
allowed."""

from __future__ import annotations

import asyncio
import json

import pytest

from components.tool_editor import NEW, ToolEditor
from studio.actions.templates import template
from tests.app.conftest import harness_for

AVATAR = "music-superstar"


@pytest.fixture
def editor(tmp_path):
    with harness_for(tmp_path) as harness:
        yield ToolEditor(harness.studio, owner_only=lambda handler: handler)


def form_of(key: str, **changes):
    """The editor's form values (in `ToolEditor.form` order) for a template, with changes."""
    tool, answer = template(key)
    values = {"kind": tool["type"], "enabled": True, "name": tool["name"],
              "timeout": tool.get("timeoutSeconds"), "description": tool["description"],
              "parameters": json.dumps(tool["parameters"]), "answer_kind": (answer or {}).get("kind", "fixed"),
              "reply": json.dumps((answer or {}).get("reply", {})), "url": "", "forward_timeout": None}
    values.update(changes)
    return list(values.values())


def save(editor, picked, **changes):
    key = changes.pop("key", "look_up_order")
    summary, pick, status = asyncio.run(editor.save_tool(AVATAR, picked, *form_of(key, **changes)))
    return summary, pick, status.replace("\\", "")  # as read on the page, without Markdown's escapes


def test_a_bad_definition_is_refused_with_the_field_named_and_nothing_stored(editor):
    _, _, status = save(editor, NEW, name="look up", timeout=9, parameters='[{"type": "date"}]')
    assert status.startswith("⚠️ **Not saved.**")
    assert "The tool (look up): the name 'look up' may use only letters, digits and '_'" in status
    assert "The tool (look up): timeoutSeconds must be a number from 1 to 8 seconds, not 9" in status
    assert "parameter 1: the type must be one of string, integer" in status
    _, _, status = save(editor, NEW, parameters="[{,]")
    assert "The parameters list is not valid JSON: Expecting property name" in status
    assert editor.store.tools(AVATAR) == []


def test_templates_save_a_rename_keeps_its_place_and_remove_removes(editor):
    save(editor, NEW)
    summary, _, status = save(editor, NEW, key="show_product")
    assert "Saved" in status and "`show_product`: client event" in summary
    save(editor, "look_up_order", name="find_order")
    assert [e.name for e in editor.store.tools(AVATAR)] == ["find_order", "show_product"]
    _, _, status = save(editor, NEW, key="show_product")
    assert "'show_product' is used twice" in status
    *_, status = asyncio.run(editor.remove_tool(AVATAR, "find_order"))
    assert "Removed" in status and [e.name for e in editor.store.tools(AVATAR)] == ["show_product"]


def test_a_template_answer_must_use_the_tools_parameters(editor):
    _, _, status = save(editor, NEW, answer_kind="template", reply='{"message": "Order {order} shipped"}')
    assert "uses {order}, which is not a parameter of the tool" in status
    save(editor, NEW, answer_kind="template", reply='{"message": "Order {order_id} shipped"}')
    assert editor.store.tools(AVATAR)[0].answer == {"kind": "template",
                                                    "reply": {"message": "Order {order_id} shipped"}}


def test_a_forward_to_plain_http_is_refused_unless_private_urls_are_allowed(editor):
    _, _, status = save(editor, NEW, answer_kind="forward", url="http://127.0.0.1:9/hook")
    assert "the endpoint must be an https:// address" in status
    save(editor, NEW, answer_kind="forward", url="https://example.com/hook", forward_timeout=2.5)
    assert editor.store.tools(AVATAR)[0].answer == {"kind": "forward", "url": "https://example.com/hook",
                                                    "timeoutSeconds": 2.5}


def test_loading_a_character_shows_its_tools_and_the_first_in_the_form(editor):
    save(editor, NEW)
    summary, pick, *form, _ = asyncio.run(editor.load(AVATAR))
    assert "**1 tool**" in summary and pick.value == "look_up_order"
    assert form[0] == "backend_rpc" and form[2] == "look_up_order"
    assert json.loads(form[7]) == {"status": "shipped", "arrives": "tomorrow"}
