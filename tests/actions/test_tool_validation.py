"""Tool definitions are checked against Runway's documented limits before anything is sent: each
invalid definition is refused with plain words that name the field."""

from __future__ import annotations

import copy

import pytest

from studio.actions.answers import FIXED, FORWARD, TEMPLATE, parse_reply_text, validate_answer
from studio.actions.templates import TEMPLATES, template
from studio.actions.tools import (
    PRESET_VOICE_WARNING,
    ToolsInvalid,
    validate_tool,
    validate_tools,
    voice_warnings,
)


def rpc(**changes):
    tool = {"type": "backend_rpc", "name": "look_up_order", "description": "Find an order.",
            "parameters": [{"type": "string", "name": "order_id", "description": "The order number."}],
            "timeoutSeconds": 4}
    tool.update(changes)
    return tool


def param(**changes):
    p = {"type": "string", "name": "p", "description": "A parameter."}
    p.update(changes)
    return p


def with_param(**changes):
    return rpc(parameters=[param(**changes)])


# (definition list, the field named, words the message must contain)
INVALID = [
    ([rpc(name="")], "tools[0].name", "name is missing"),
    ([rpc(name=None)], "tools[0].name", "name is missing"),
    ([rpc(name="a" * 65)], "tools[0].name", "65 characters long; at most 64"),
    ([rpc(name="1st")], "tools[0].name", "must not start with a digit"),
    ([rpc(name="look up")], "tools[0].name", "only letters, digits and '_'"),
    ([rpc(name="look-up")], "tools[0].name", "only letters, digits and '_'"),
    ([rpc(name="café")], "tools[0].name", "only letters, digits and '_'"),
    ([rpc(description="")], "tools[0].description", "description is missing"),
    ([rpc(description="   ")], "tools[0].description", "description is missing"),
    ([rpc(description="d" * 1025)], "tools[0].description", "1,025 characters long; at most 1,024"),
    ([rpc(type="webhook")], "tools[0].type", "client_event or backend_rpc"),
    ([rpc(type=None)], "tools[0].type", "client_event or backend_rpc"),
    ([rpc(timeoutSeconds=0)], "tools[0].timeoutSeconds", "from 1 to 8 seconds"),
    ([rpc(timeoutSeconds=0.5)], "tools[0].timeoutSeconds", "from 1 to 8 seconds"),
    ([rpc(timeoutSeconds=8.5)], "tools[0].timeoutSeconds", "from 1 to 8 seconds"),
    ([rpc(timeoutSeconds=10)], "tools[0].timeoutSeconds", "from 1 to 8 seconds"),
    ([rpc(timeoutSeconds="4")], "tools[0].timeoutSeconds", "from 1 to 8 seconds"),
    ([rpc(timeoutSeconds=True)], "tools[0].timeoutSeconds", "from 1 to 8 seconds"),
    ([rpc(type="client_event", timeoutSeconds=4)], "tools[0].timeoutSeconds", "only to backend_rpc"),
    ([rpc(instructions="x")], "tools[0].instructions", "remove 'instructions'"),
    ([rpc(parameters="order_id")], "tools[0].parameters", "must be a list"),
    ([rpc(parameters=[param(name=f"p{i}") for i in range(21)])], "tools[0].parameters",
     "at most 20 parameters; there are 21"),
    ([rpc()] + [rpc(name="look_up_order")], "tools", "'look_up_order' is used twice"),
    ([rpc(name=f"t{i}") for i in range(21)], "tools", "at most 20 tools; there are 21"),
    ([with_param(name="")], "tools[0].parameters[0].name", "name is missing"),
    ([with_param(name="order id")], "tools[0].parameters[0].name", "only letters, digits and '_'"),
    ([with_param(name="p" * 65)], "tools[0].parameters[0].name", "at most 64"),
    ([with_param(description="")], "tools[0].parameters[0].description", "description is missing"),
    ([with_param(description="d" * 1025)], "tools[0].parameters[0].description", "at most 1,024"),
    ([with_param(type="date")], "tools[0].parameters[0].type", "one of string, integer, number"),
    ([with_param(required="yes")], "tools[0].parameters[0].required", "true or false"),
    ([with_param(enum="small")], "tools[0].parameters[0].enum", "must be a list of texts"),
    ([with_param(enum=[1, 2])], "tools[0].parameters[0].enum", "must be a list of texts"),
    ([with_param(enum=[f"v{i}" for i in range(21)])], "tools[0].parameters[0].enum",
     "at most 20 allowed values"),
    ([with_param(enum=["x" * 65])], "tools[0].parameters[0].enum", "1 to 64 characters"),
    ([with_param(enum=[""])], "tools[0].parameters[0].enum", "1 to 64 characters"),
    ([with_param(enum=["red", "red"])], "tools[0].parameters[0].enum", "'red' is listed twice"),
    ([with_param(type="integer", enum=["1"])], "tools[0].parameters[0].enum", "remove 'enum'"),
    ([with_param(type="array")], "tools[0].parameters[0].items", "needs items with a type"),
    ([with_param(type="array", items={"type": "object"})], "tools[0].parameters[0].items",
     "needs items with a type"),
    ([with_param(type="object")], "tools[0].parameters[0].properties", "needs properties"),
    ([with_param(type="object", properties=[{}] * 21)], "tools[0].parameters[0].properties",
     "at most 20 properties"),
    ([rpc(parameters=[param(), param()])], "tools[0].parameters", "parameter name 'p' is used twice"),
    ([rpc(parameters=["order_id"])], "tools[0].parameters[0]", "must be an object"),
    (["look_up_order"], "tools[0]", "must be an object"),
]


@pytest.mark.parametrize(("tools", "field", "words"), INVALID)
def test_an_invalid_definition_is_refused_naming_the_field(tools, field, words):
    with pytest.raises(ToolsInvalid) as refused:
        validate_tools(tools)
    problems = {p.field: p.message for p in refused.value.problems}
    assert field in problems, problems
    assert words in problems[field]


def test_there_are_at_least_thirty_refusals_checked():
    assert len(INVALID) >= 30


def test_messages_name_the_tool_and_parameter_in_plain_words():
    with pytest.raises(ToolsInvalid) as refused:
        validate_tools([rpc(), rpc(name="book_slot", parameters=[param(name="day", type="date")])])
    message = refused.value.problems[0].message
    assert message.startswith("Tool 2 (book_slot), parameter 1 (day): the type must be one of")


def test_every_problem_is_reported_at_once():
    with pytest.raises(ToolsInvalid) as refused:
        validate_tools([rpc(name="", description="", timeoutSeconds=99)])
    assert {p.field for p in refused.value.problems} == {
        "tools[0].name", "tools[0].description", "tools[0].timeoutSeconds"}


@pytest.mark.parametrize("kind", ["string", "integer", "number", "boolean"])
def test_every_item_type_of_an_array_is_accepted(kind):
    tools = validate_tools([with_param(type="array", items={"type": kind})])
    assert tools[0]["parameters"][0]["items"] == {"type": kind}


def test_a_valid_set_at_every_upper_limit_passes_and_gets_its_defaults():
    params = [param(name=f"p{i}", description="d" * 1024, enum=["v" * 64] * 1) for i in range(20)]
    tools = [rpc(name=f"t{i}" + "x" * 61, description="d" * 1024, parameters=params, timeoutSeconds=8)
             for i in range(20)]
    assert len(validate_tools(tools)) == 20
    bare = validate_tools([{"type": "backend_rpc", "name": "_x", "description": "d"}])[0]
    assert bare["timeoutSeconds"] == 4 and bare["parameters"] == []
    event = validate_tool({"type": "client_event", "name": "show", "description": "d",
                           "parameters": [param(type="object", properties=[{"name": "a"}])]})
    assert "timeoutSeconds" not in event and event["parameters"][0]["required"] is True


@pytest.mark.parametrize("key", sorted(TEMPLATES))
def test_every_template_is_valid_with_its_answer(key):
    tool, answer = template(key)
    assert validate_tools([tool]) == [validate_tool(tool)]
    if tool["type"] == "backend_rpc":
        assert validate_answer(answer, tool)["kind"] in (FIXED, TEMPLATE)
    else:
        assert answer is None


def test_all_templates_fit_in_one_session():
    validate_tools([template(key)[0] for key in TEMPLATES])


def test_client_events_on_a_custom_voice_warn():
    event = {"type": "client_event", "name": "show", "description": "d"}
    assert voice_warnings([event], {"type": "custom", "id": "v"}) == [PRESET_VOICE_WARNING]
    assert voice_warnings([event], {"type": "runway-live-preset", "presetId": "adrian"}) == []
    assert voice_warnings([rpc()], {"type": "custom", "id": "v"}) == []


# -- answers ------------------------------------------------------------------------------------------

def test_a_template_may_use_only_the_tools_parameters():
    with pytest.raises(ToolsInvalid) as refused:
        validate_answer({"kind": TEMPLATE, "reply": {"status": "{order}"}}, rpc())
    assert "{order}" in str(refused.value) and "not a parameter" in str(refused.value)
    assert validate_answer({"kind": TEMPLATE, "reply": '{"id": "{order_id}"}'}, rpc())["reply"] == {
        "id": "{order_id}"}


@pytest.mark.parametrize(("answer", "words"), [
    ({"kind": "magic"}, "choose a fixed reply"),
    ({"kind": FIXED, "reply": "{nope"}, "not valid JSON"),
    ({"kind": FIXED, "reply": 3}, "must be a JSON object"),
    ({"kind": FIXED, "reply": {"x": "y" * 15_001}}, "longer than 15,000"),
    ({"kind": FORWARD, "url": "http://example.com/hook"}, "must be an https:// address"),
    ({"kind": FORWARD, "url": "ftp://example.com/hook"}, "must be an https:// address"),
    ({"kind": FORWARD, "url": ""}, "give the address"),
    ({"kind": FORWARD, "url": "https://u:p@example.com/"}, "no user name or password"),
    ({"kind": FORWARD, "url": "https://example.com/", "timeoutSeconds": 4}, "shorter than the tool's 4 s"),
])
def test_bad_answers_are_refused_in_plain_words(answer, words):
    with pytest.raises(ToolsInvalid) as refused:
        validate_answer(answer, rpc())
    assert words in str(refused.value)


def test_a_forward_gets_most_of_the_tools_timeout_and_http_only_when_private_is_allowed():
    assert validate_answer({"kind": FORWARD, "url": "https://example.com/"}, rpc())["timeoutSeconds"] == 3.2
    allowed = validate_answer({"kind": FORWARD, "url": "http://127.0.0.1:9/"}, rpc(), allow_private=True)
    assert allowed["url"] == "http://127.0.0.1:9/"


def test_reply_text_errors_say_where():
    with pytest.raises(ToolsInvalid) as refused:
        parse_reply_text('{"a": 1,\n "b": }')
    assert "line 2" in str(refused.value)


def test_validation_does_not_change_its_input():
    tools = [rpc()]
    before = copy.deepcopy(tools)
    validate_tools(tools)
    assert tools == before
