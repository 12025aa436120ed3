"""How the studio answers a `backend_rpc` tool: a fixed JSON reply, a reply template filled from
the arguments, or a forward to the user's own HTTPS endpoint. Pure checks of that configuration,
in plain words, and the handler each one becomes (`studio.actions.rpc_backend`)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import httpx

from studio.actions.rpc_backend import (
    PLACEHOLDER,
    AddressCheck,
    Handler,
    fixed_reply,
    forward_to,
    template_reply,
)
from studio.actions.tools import TIMEOUT_DEFAULT, Problem, ToolsInvalid

FIXED, TEMPLATE, FORWARD = "fixed", "template", "forward"
ANSWER_KINDS = (FIXED, TEMPLATE, FORWARD)
ANSWER_LABELS = {FIXED: "Fixed JSON reply", TEMPLATE: "Reply template (filled from the arguments)",
                 FORWARD: "Forward to my HTTPS endpoint"}
REPLY_CHARS_MAX = 15_000   # LiveKit RPC v1 answers at most 15 KiB
URL_CHARS_MAX = 2_048
FORWARD_SHARE = 0.8        # a forward gets this share of the tool's timeout, to answer in time


def default_answer(tool: Mapping[str, Any]) -> dict[str, Any]:
    """A reply that names the tool, so a new tool answers something sensible at once."""
    return {"kind": FIXED, "reply": {"ok": True, "tool": tool.get("name") or "tool"}}


def validate_answer(answer: Any, tool: Mapping[str, Any], *, allow_private: bool = False) -> dict[str, Any]:
    """The answer configuration, normalised, or `ToolsInvalid` naming the field."""
    label = f"The answer of {tool.get('name') or 'the tool'}"
    if not isinstance(answer, dict) or answer.get("kind") not in ANSWER_KINDS:
        raise _invalid("answer.kind", f"{label}: choose a fixed reply, a reply template or a forward.")
    kind = answer["kind"]
    if kind in (FIXED, TEMPLATE):
        reply = _json_value(answer.get("reply"), label)
        if kind == TEMPLATE:
            _placeholders_known(reply, tool, label)
        return {"kind": kind, "reply": reply}
    url = answer.get("url")
    _check_url(url, label, allow_private)
    tool_timeout = float(tool.get("timeoutSeconds", TIMEOUT_DEFAULT))
    timeout = answer.get("timeoutSeconds", round(tool_timeout * FORWARD_SHARE, 2))
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not 0.1 <= timeout < tool_timeout:
        raise _invalid("answer.timeoutSeconds", f"{label}: the endpoint's timeout must be at least 0.1 s and "
                                                f"shorter than the tool's {tool_timeout:g} s, so the "
                                                "character hears an answer before it gives up.")
    return {"kind": FORWARD, "url": url, "timeoutSeconds": float(timeout)}


def parse_reply_text(text: str, label: str = "The reply") -> Any:
    """JSON typed into the editor, or `ToolsInvalid` with the line and column of the mistake."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise _invalid("answer.reply", f"{label} is not valid JSON: {error.msg} (line {error.lineno}, "
                                       f"column {error.colno}).") from None


def handler_for(answer: Mapping[str, Any], tool_name: str, check: AddressCheck | None = None) -> Handler:
    """The function that answers one tool's calls, as configured."""
    if answer["kind"] == FIXED:
        return fixed_reply(answer["reply"])
    if answer["kind"] == TEMPLATE:
        return template_reply(answer["reply"])
    return forward_to(answer["url"], timeout=answer["timeoutSeconds"], check=check, tool=tool_name)


def _json_value(reply: Any, label: str) -> Any:
    if isinstance(reply, str):
        reply = parse_reply_text(reply, f"{label}'s reply")
    if not isinstance(reply, (dict, list)):
        raise _invalid("answer.reply", f"{label}: the reply must be a JSON object (or list), which is "
                                       "what the character reads.")
    if len(json.dumps(reply)) > REPLY_CHARS_MAX:
        raise _invalid("answer.reply", f"{label}: the reply is longer than {REPLY_CHARS_MAX:,} characters.")
    return reply


def _placeholders_known(reply: Any, tool: Mapping[str, Any], label: str) -> None:
    known = {p.get("name") for p in tool.get("parameters") or []}
    used = set(PLACEHOLDER.findall(json.dumps(reply)))
    unknown = sorted(used - known)
    if unknown:
        names = ", ".join("{" + name + "}" for name in unknown)
        raise _invalid("answer.reply", f"{label}: the template uses {names}, which is not a parameter of "
                                       "the tool.")


def _check_url(url: Any, label: str, allow_private: bool) -> None:
    if not isinstance(url, str) or not url.strip() or len(url) > URL_CHARS_MAX:
        raise _invalid("answer.url", f"{label}: give the address of your endpoint (https://…).")
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL:
        raise _invalid("answer.url", f"{label}: {url!r} is not a valid web address.") from None
    schemes = ("https", "http") if allow_private else ("https",)
    if parsed.scheme not in schemes or not parsed.host:
        raise _invalid("answer.url", f"{label}: the endpoint must be an https:// address.")
    if parsed.userinfo:
        raise _invalid("answer.url", f"{label}: put no user name or password in the address.")


def _invalid(field: str, message: str) -> ToolsInvalid:
    return ToolsInvalid([Problem(field, message)])
