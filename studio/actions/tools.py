"""Tool definitions (Runway session `tools`) and their validation against the API's limits.

Pure functions over plain dicts in the wire's camelCase shape, so what is checked is exactly what
is sent. Every problem is reported in plain words that name the field, before anything reaches
Runway; a few checks are stricter than the API where the API's answer would be useless anyway
(duplicate parameter names, empty or repeated enum values).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

CLIENT_EVENT, BACKEND_RPC = "client_event", "backend_rpc"
TOOL_TYPES = (CLIENT_EVENT, BACKEND_RPC)
PARAMETER_TYPES = ("string", "integer", "number", "boolean", "array", "object")
ITEM_TYPES = ("string", "integer", "number", "boolean")

NAME_PATTERN = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")
NAME_MAX = 64
DESCRIPTION_MAX = 1024
TOOLS_MAX = 20
PARAMETERS_MAX = 20
ENUM_MAX = 20
ENUM_VALUE_MAX = 64
PROPERTIES_MAX = 20
TIMEOUT_MIN, TIMEOUT_MAX, TIMEOUT_DEFAULT = 1.0, 8.0, 4.0

_TOOL_KEYS = {"type", "name", "description", "parameters"}
_PARAMETER_KEYS = {"type", "name", "description", "required"}

PRESET_VOICE_WARNING = (
    "Runway documents that client events work only for characters with a preset voice: this "
    "character has a custom voice, so its client_event tools may never fire. Backend RPC tools "
    "work with any voice."
)


@dataclass(frozen=True)
class Problem:
    field: str    # where, e.g. "tools[2].parameters[0].name"
    message: str  # plain words that name the tool and the field


class ToolsInvalid(ValueError):
    """One or more tool definitions break the API's limits; `problems` says which and why."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = list(problems)
        super().__init__("; ".join(p.message for p in self.problems))


def validate_tools(tools: Any) -> list[dict[str, Any]]:
    """The tools, normalised (defaults written out), or `ToolsInvalid` listing every problem."""
    problems: list[Problem] = []
    if not isinstance(tools, list):
        raise ToolsInvalid([Problem("tools", "The tools must be a list.")])
    if len(tools) > TOOLS_MAX:
        problems.append(Problem("tools", f"A session takes at most {TOOLS_MAX} tools; there are {len(tools)}."))
    normalised = [_tool(tool, i, problems) for i, tool in enumerate(tools)]
    _no_duplicates([t.get("name") for t in tools if isinstance(t, dict)], "tools", "tool", problems)
    if problems:
        raise ToolsInvalid(problems)
    return normalised


def validate_tool(tool: Any) -> dict[str, Any]:
    """One tool on its own (the editor's form)."""
    problems: list[Problem] = []
    normalised = _tool(tool, 0, problems, single=True)
    if problems:
        raise ToolsInvalid(problems)
    return normalised


def voice_warnings(tools: Iterable[Mapping[str, Any]], voice: Mapping[str, Any] | None) -> list[str]:
    """Runway's documented limits that apply to these tools on a character with this voice."""
    has_client_events = any(t.get("type") == CLIENT_EVENT for t in tools)
    custom_voice = bool(voice) and voice.get("type") == "custom"
    return [PRESET_VOICE_WARNING] if has_client_events and custom_voice else []


# -- One tool ----------------------------------------------------------------------------------------

def _tool(tool: Any, index: int, problems: list[Problem], *, single: bool = False) -> dict[str, Any]:
    where = "tool" if single else f"tools[{index}]"
    if not isinstance(tool, dict):
        problems.append(Problem(where, f"Tool {index + 1} must be an object with a type, name and description."))
        return {}
    label = _tool_label(tool, index, single)
    kind = tool.get("type")
    if kind not in TOOL_TYPES:
        problems.append(Problem(f"{where}.type", f"{label}: the type must be client_event or backend_rpc, "
                                                 f"not {_shown(kind)}."))
    allowed = _TOOL_KEYS | ({"timeoutSeconds"} if kind == BACKEND_RPC else set())
    for key in sorted(set(tool) - allowed):
        why = ("timeoutSeconds applies only to backend_rpc tools" if key == "timeoutSeconds"
               else "the API does not know this field")
        problems.append(Problem(f"{where}.{key}", f"{label}: remove '{key}': {why}."))
    _name(tool.get("name"), f"{where}.name", f"{label}: the name", problems)
    _description(tool.get("description"), f"{where}.description", f"{label}: the description", problems)
    out: dict[str, Any] = {"type": kind, "name": tool.get("name"), "description": tool.get("description")}
    out["parameters"] = _parameters(tool.get("parameters", []), where, label, problems)
    if kind == BACKEND_RPC:
        out["timeoutSeconds"] = _timeout(tool.get("timeoutSeconds", TIMEOUT_DEFAULT), where, label, problems)
    return out


def _tool_label(tool: dict[str, Any], index: int, single: bool) -> str:
    name = tool.get("name")
    named = f" ({name})" if isinstance(name, str) and name else ""
    return f"The tool{named}" if single else f"Tool {index + 1}{named}"


def _timeout(value: Any, where: str, label: str, problems: list[Problem]) -> float:
    number = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    if not number or not TIMEOUT_MIN <= value <= TIMEOUT_MAX:
        problems.append(Problem(f"{where}.timeoutSeconds",
                                f"{label}: timeoutSeconds must be a number from {TIMEOUT_MIN:g} to "
                                f"{TIMEOUT_MAX:g} seconds, not {_shown(value)}."))
        return TIMEOUT_DEFAULT
    return value


def _parameters(params: Any, where: str, label: str, problems: list[Problem]) -> list[dict[str, Any]]:
    if not isinstance(params, list):
        problems.append(Problem(f"{where}.parameters", f"{label}: the parameters must be a list."))
        return []
    if len(params) > PARAMETERS_MAX:
        problems.append(Problem(f"{where}.parameters", f"{label}: a tool takes at most {PARAMETERS_MAX} "
                                                       f"parameters; there are {len(params)}."))
    out = [_parameter(p, f"{where}.parameters[{i}]", f"{label}, parameter {i + 1}", problems)
           for i, p in enumerate(params)]
    _no_duplicates([p.get("name") for p in params if isinstance(p, dict)], f"{where}.parameters",
                   f"{label}: parameter", problems)
    return out


# -- One parameter -----------------------------------------------------------------------------------

def _parameter(param: Any, where: str, label: str, problems: list[Problem]) -> dict[str, Any]:
    if not isinstance(param, dict):
        problems.append(Problem(where, f"{label} must be an object with a type, name and description."))
        return {}
    name = param.get("name")
    if isinstance(name, str) and name:
        label = f"{label} ({name})"
    kind = param.get("type")
    if kind not in PARAMETER_TYPES:
        problems.append(Problem(f"{where}.type", f"{label}: the type must be one of "
                                                 f"{', '.join(PARAMETER_TYPES)}, not {_shown(kind)}."))
    extra_keys = {"string": {"enum"}, "array": {"items"}, "object": {"properties"}}.get(kind, set())
    for key in sorted(set(param) - _PARAMETER_KEYS - extra_keys):
        problems.append(Problem(f"{where}.{key}", f"{label}: remove '{key}': a {kind} parameter has no such field."))
    _name(name, f"{where}.name", f"{label}: the name", problems)
    _description(param.get("description"), f"{where}.description", f"{label}: the description", problems)
    required = param.get("required", True)
    if not isinstance(required, bool):
        problems.append(Problem(f"{where}.required", f"{label}: 'required' must be true or false."))
    out: dict[str, Any] = {"type": kind, "name": name, "description": param.get("description"),
                           "required": required}
    if kind == "string" and "enum" in param:
        out["enum"] = _enum(param["enum"], where, label, problems)
    elif kind == "array":
        out["items"] = _items(param.get("items"), where, label, problems)
    elif kind == "object":
        out["properties"] = _properties(param.get("properties"), where, label, problems)
    return out


def _enum(values: Any, where: str, label: str, problems: list[Problem]) -> list[str]:
    field = f"{where}.enum"
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        problems.append(Problem(field, f"{label}: the allowed values (enum) must be a list of texts."))
        return []
    if len(values) > ENUM_MAX:
        problems.append(Problem(field, f"{label}: at most {ENUM_MAX} allowed values (enum); "
                                       f"there are {len(values)}."))
    for value in values:
        if not value or len(value) > ENUM_VALUE_MAX:
            problems.append(Problem(field, f"{label}: each allowed value (enum) must be 1 to "
                                           f"{ENUM_VALUE_MAX} characters; {_shown(value)} is not."))
    _no_duplicates(values, field, f"{label}: allowed value", problems)
    return list(values)


def _items(items: Any, where: str, label: str, problems: list[Problem]) -> dict[str, str]:
    if not isinstance(items, dict) or items.get("type") not in ITEM_TYPES or set(items) != {"type"}:
        problems.append(Problem(f"{where}.items", f"{label}: an array parameter needs items with a type, one of "
                                                  f"{', '.join(ITEM_TYPES)}."))
        return {"type": "string"}
    return {"type": items["type"]}


def _properties(props: Any, where: str, label: str, problems: list[Problem]) -> list[Any]:
    if not isinstance(props, list):
        problems.append(Problem(f"{where}.properties", f"{label}: an object parameter needs properties "
                                                       "(a list, at most 20)."))
        return []
    if len(props) > PROPERTIES_MAX:
        problems.append(Problem(f"{where}.properties", f"{label}: at most {PROPERTIES_MAX} properties; "
                                                       f"there are {len(props)}."))
    return list(props)


# -- Shared checks -----------------------------------------------------------------------------------

def _name(name: Any, field: str, label: str, problems: list[Problem]) -> None:
    if not isinstance(name, str) or not name:
        problems.append(Problem(field, f"{label} is missing."))
    elif len(name) > NAME_MAX:
        problems.append(Problem(field, f"{label} is {len(name)} characters long; at most {NAME_MAX}."))
    elif not NAME_PATTERN.match(name):
        problems.append(Problem(field, f"{label} {_shown(name)} may use only letters, digits and '_', "
                                       "and must not start with a digit."))


def _description(text: Any, field: str, label: str, problems: list[Problem]) -> None:
    if not isinstance(text, str) or not text.strip():
        problems.append(Problem(field, f"{label} is missing: say when the character should use it."))
    elif len(text) > DESCRIPTION_MAX:
        problems.append(Problem(field, f"{label} is {len(text):,} characters long; at most {DESCRIPTION_MAX:,}."))


def _no_duplicates(names: Iterable[Any], field: str, what: str, problems: list[Problem]) -> None:
    seen: set[Any] = set()
    what = what[0].upper() + what[1:]
    for name in names:
        if isinstance(name, str) and name in seen:
            problems.append(Problem(field, f"{what} {_shown(name)} is listed twice."
                                    if what.endswith("allowed value")
                                    else f"{what} name {_shown(name)} is used twice; names must be unique."))
        seen.add(name)


def _shown(value: Any) -> str:
    text = repr(value) if isinstance(value, str) else str(value)
    return text if len(text) <= 40 else text[:37] + "…"
