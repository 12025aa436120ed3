"""The "use this character in your app" code: the React side receives client events, and the
Python side sends the character's tools and answers its backend RPC tools with the reusable
backend, configured as in the studio."""

from __future__ import annotations

import ast

from components.snippets import python_snippet, react_snippet
from studio.actions.templates import template


def assigned(code: str, name: str):
    tree = ast.parse(code)
    node = next(n for n in tree.body if isinstance(n, ast.Assign) and n.targets[0].id == name)
    return node.value


def test_react_receives_client_events():
    assert "onClientEvent={onClientEvent}" in react_snippet("music-superstar")


def test_python_sends_the_tools_and_answers_backend_tools_as_configured():
    tools = [template("show_product")[0], template("book_slot")[0], template("look_up_order")[0]]
    answers = {"book_slot": template("book_slot")[1],
               "look_up_order": {"kind": "forward", "url": "https://example.com/orders", "timeoutSeconds": 3.2}}
    code = python_snippet("music-superstar", 120, tools, answers)
    assert ast.literal_eval(assigned(code, "TOOLS")) == tools
    assert "tools=TOOLS" in code and "connect_backend" in code and "livekit httpx" in code
    handlers = {ast.literal_eval(k): ast.unparse(v) for k, v in zip(assigned(code, "ANSWERS").keys,
                                                                     assigned(code, "ANSWERS").values)}
    assert handlers == {
        "book_slot": "template_reply({'booked': True, 'day': '{day}', 'time': '{time}', 'confirmation': 'BK-{day}'})",
        "look_up_order": "forward_to('https://example.com/orders', timeout=3.2)",
    }


def test_without_backend_tools_there_is_no_backend_and_without_tools_no_tools():
    only_events = python_snippet("music-superstar", 60, [template("open_link")[0]], {})
    assert "tools=TOOLS" in only_events and "connect_backend" not in only_events
    plain = python_snippet("music-superstar", 60)
    ast.parse(plain)
    assert "TOOLS" not in plain and "rpc_backend" not in plain
