"""Tool use by the simulated character, as pure functions: which of its session tools a
typed user turn asks for (keywords from the tool's name, description and enum values),
the arguments the turn's words give, and the sentence the character says about the
outcome. Runway's LLM makes these choices; this is a deterministic stand-in for tests."""

from __future__ import annotations

import itertools
import json
import re
from typing import Any

from .brain import STOPWORDS

RAW_WORD = re.compile(r"\d+\.\d+|[A-Za-z0-9][A-Za-z0-9'\-]*")
NAME_PART = re.compile(r"[A-Z]?[a-z0-9]+|[A-Z]+(?![a-z])")
QUOTED = re.compile(
    r'"([^"]{1,200})"|\u201c([^\u201d]{1,200})\u201d|(?<![\w])\'([^\']{1,200})\'(?!\w)'
)
NUMBER = re.compile(r"(?<![A-Za-z0-9.])-?\d+(?:\.\d+)?(?![A-Za-z0-9]|\.\d)")
IDENT = re.compile(r"\b(?=[A-Za-z0-9-]*\d)[A-Za-z0-9][A-Za-z0-9-]*\b")
URL = re.compile(r"https?://[^\s\"'<>]+")
URL_WORDS = frozenset({"url", "link", "href", "website", "page", "site"})
NEGATIONS = frozenset({"no", "not", "don't", "dont", "without", "never", "disable", "off"})
NUMBER_WORDS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5,
    "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10,
}  # fmt: skip
STRONG = 2  # weight of a tool-name word or an enum value
WEAK = 1  # weight of a description word
MIN_SCORE = 2  # a tool fires on a name or enum word at least
MAX_SPOKEN = 400


# ---------------------------------------------------------------------------- words


def stem(word: str) -> str:
    """A light English stem, so that "booking", "booked" and "books" meet "book"."""
    word = word.lower().strip("'-").removesuffix("'s")
    for suffix, shortest in (("ing", 6), ("ed", 5)):
        if len(word) >= shortest and word.endswith(suffix):
            word = word[: -len(suffix)]
            if len(word) > 3 and word[-1] == word[-2] and word[-1] not in "lsz":
                word = word[:-1]  # shipped -> shipp -> ship
            return word
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


def words(text: str) -> list[str]:
    return RAW_WORD.findall(text)


def terms(text: str, *, joined: bool = False) -> set[str]:
    """Stems of the content words; with ``joined``, also each pair of neighbouring words
    run together ("look up" -> "lookup"), as tool names often are."""
    raw = [w.lower() for w in words(text)]
    found = {stem(w) for w in raw if w not in STOPWORDS}
    if joined:
        found |= {stem(a + b) for a, b in itertools.pairwise(raw)}
    found.discard("")
    return found


def name_terms(name: str) -> set[str]:
    """Content stems of an identifier: ``lookup_order`` / ``showProduct``."""
    parts = [p.lower() for chunk in name.split("_") for p in NAME_PART.findall(chunk)]
    return {stem(p) for p in parts if p not in STOPWORDS} - {""}


def humanize(name: str) -> str:
    return " ".join(p.lower() for chunk in name.split("_") for p in NAME_PART.findall(chunk))


# ---------------------------------------------------------------------------- matching


def keywords(tool: dict[str, Any]) -> dict[str, int]:
    """Term -> weight: description words are weak, name words and enum values strong."""
    weights = dict.fromkeys(terms(str(tool.get("description", ""))), WEAK)
    for term in name_terms(str(tool.get("name", ""))):
        weights[term] = STRONG
    for parameter in tool.get("parameters") or []:
        for value in parameter.get("enum") or []:
            for term in terms(str(value)):
                weights[term] = STRONG
    return weights


def match_tool(text: str, tools: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The tool the turn asks for: the best score over MIN_SCORE with at least one strong
    word; the first declared wins a tie; None when no tool fits."""
    said = terms(text, joined=True)
    best, best_score = None, 0
    for tool in tools:
        weights = keywords(tool)
        hits = said & weights.keys()
        score = sum(weights[h] for h in hits)
        if any(weights[h] >= STRONG for h in hits) and score >= MIN_SCORE and score > best_score:
            best, best_score = tool, score
    return best


# ---------------------------------------------------------------------------- arguments


class _Words:
    """The turn's words, quoted strings and numbers, each used by one parameter at most."""

    def __init__(self, text: str, tool: dict[str, Any]) -> None:
        self.text = text
        self.raw = words(text)
        self.quoted = [next(g for g in m.groups() if g) for m in QUOTED.finditer(text)]
        self.used: set[str] = set()
        self.tool_terms = set(keywords(tool))

    def take(self, value: str) -> str:
        self.used.add(value.lower())
        return value

    def free(self, value: str) -> bool:
        return value.lower() not in self.used

    def numbers(self) -> list[tuple[int, float]]:
        """(word index, value) of every number, digits or a word from one to ten."""
        out = []
        for i, word in enumerate(self.raw):
            lowered = word.lower()
            if NUMBER.fullmatch(word):
                out.append((i, float(word)))
            elif lowered in NUMBER_WORDS:
                out.append((i, float(NUMBER_WORDS[lowered])))
        return out

    def near(self, parameter: str) -> list[int]:
        """Indexes of the words that name the parameter ("order" for order_id)."""
        wanted = name_terms(parameter)
        return [i for i, w in enumerate(self.raw) if stem(w) in wanted]


def _enum_value(found: _Words, values: list[str]) -> str | None:
    lowered = found.text.lower()
    said = terms(found.text)
    hits = []
    for value in values:
        at = re.search(r"(?<![\w])" + re.escape(value.lower()) + r"(?![\w])", lowered)
        if at:
            hits.append((at.start(), value))
        elif terms(value) and terms(value) <= said:
            hits.append((len(lowered), value))
    return min(hits)[1] if hits else None


def _string_value(found: _Words, parameter: dict[str, Any]) -> str | None:
    name = str(parameter["name"])
    if name_terms(name) & URL_WORDS:
        for url in URL.findall(found.text):
            url = url.rstrip(".,!?;:)")
            if found.free(url):
                return found.take(url)
    for quoted in found.quoted:
        if found.free(quoted):
            return found.take(quoted)
    for i in found.near(name):  # "order 4417": the word after the parameter's own name
        after = [w for w in found.raw[i + 1 : i + 4] if w.lower() not in STOPWORDS]
        for word in sorted(after, key=lambda w: not any(c.isdigit() for c in w)):
            if found.free(word) and stem(word) not in name_terms(name):
                return found.take(word)
    for ident in IDENT.findall(found.text):
        if found.free(ident):
            return found.take(ident)
    return None


def _content_default(found: _Words, parameter: dict[str, Any]) -> str:
    """A required string the words did not give: the turn's leftover content words."""
    left = [
        w
        for w in found.raw
        if w.lower() not in STOPWORDS
        and stem(w) not in found.tool_terms
        and found.free(w)
        and not NUMBER.fullmatch(w)
    ]
    return " ".join(left[:5]) or humanize(str(parameter["name"]))


def _number_value(found: _Words, parameter: dict[str, Any]) -> float | None:
    numbers = [(i, v) for i, v in found.numbers() if found.free(found.raw[i])]
    anchors = found.near(str(parameter["name"]))
    close = [(i, v) for i, v in numbers if any(abs(i - a) <= 2 for a in anchors)]
    for i, value in close or numbers:
        found.take(found.raw[i])
        return value
    return None


def _boolean_value(found: _Words, parameter: dict[str, Any]) -> bool | None:
    anchors = found.near(str(parameter["name"]))
    if not anchors:
        return None
    before = {w.lower() for a in anchors for w in found.raw[max(0, a - 3) : a]}
    return not (before & NEGATIONS)


def _value(found: _Words, parameter: dict[str, Any]) -> Any:
    """The parameter's value from the words, or None when they do not give one."""
    kind = parameter.get("type")
    if kind == "string":
        if parameter.get("enum"):
            return _enum_value(found, list(parameter["enum"]))
        return _string_value(found, parameter)
    if kind in ("integer", "number"):
        value = _number_value(found, parameter)
        if value is None:
            return None
        return int(value) if kind == "integer" else value
    if kind == "boolean":
        return _boolean_value(found, parameter)
    if kind == "array":
        item = (parameter.get("items") or {}).get("type")
        if item in ("integer", "number"):
            values = [v for _, v in found.numbers()]
            return [int(v) if item == "integer" else v for v in values] or None
        if item == "string":
            return [q for q in found.quoted] or None
    return None


def _default(found: _Words, parameter: dict[str, Any]) -> Any:
    kind = parameter.get("type")
    if kind == "string":
        enum = parameter.get("enum")
        return enum[0] if enum else _content_default(found, parameter)
    defaults: dict[str, Any] = {"integer": 1, "number": 1.0, "boolean": True, "object": {}}
    if kind == "array":
        item = (parameter.get("items") or {}).get("type")
        return [_content_default(found, parameter)] if item == "string" else []
    return defaults.get(str(kind))


def fill_arguments(tool: dict[str, Any], text: str) -> dict[str, Any]:
    """Arguments for ``tool`` from the turn's words: enum values named in the text,
    numbers, quoted strings, the word after a parameter's name; a required parameter the
    words leave open gets a plain default, an optional one is left out."""
    found = _Words(text, tool)
    args: dict[str, Any] = {}
    for parameter in tool.get("parameters") or []:
        value = _value(found, parameter)
        if value is None and parameter.get("required", True):
            value = _default(found, parameter)
        if value is not None:
            args[str(parameter["name"])] = value
    return args


# ---------------------------------------------------------------------------- speech


def _spoken(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (str, int, float)):
        return str(value)
    if isinstance(value, list):
        return ", ".join(_spoken(v) for v in value[:8]) or "nothing"
    if isinstance(value, dict):
        return ", ".join(f"{humanize(str(k))} {_spoken(v)}" for k, v in list(value.items())[:6])
    return "nothing" if value is None else json.dumps(value)[:80]


def call_phrase(tool: str, args: dict[str, Any]) -> str:
    """``lookup order for order id 4417``"""
    phrase = humanize(tool)
    if args:
        phrase += " for " + ", ".join(
            f"{humanize(k)} {_spoken(v)}" for k, v in list(args.items())[:4]
        )
    return phrase


def _clip(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= MAX_SPOKEN else text[: MAX_SPOKEN - 1].rstrip() + "…"


SPEAKABLE_KEYS = ("message", "reply", "answer", "text", "speech", "say", "summary")


def result_speech(tool: str, args: dict[str, Any], result: Any) -> str:
    """What the character says with a backend's answer: its own words when the answer
    carries a message, else the answer's fields read out."""
    if isinstance(result, dict):
        for key in SPEAKABLE_KEYS:
            if isinstance(result.get(key), str) and result[key].strip():
                return _clip(result[key])
        error = result.get("error")
        if isinstance(error, str) and error.strip():
            return _clip(f"I tried to {call_phrase(tool, args)}, but {error}")
        fields = "; ".join(
            f"{humanize(str(k))} is {_spoken(v)}" for k, v in list(result.items())[:6]
        )
        return _clip(f"I checked {call_phrase(tool, args)}: {fields or 'nothing came back'}.")
    if isinstance(result, str) and result.strip():
        return _clip(f"I checked {call_phrase(tool, args)}: {result}")
    if result is None:
        return _clip(f"I checked {call_phrase(tool, args)}, and nothing came back.")
    return _clip(f"I checked {call_phrase(tool, args)}: {_spoken(result)}.")


FAILURE_REASONS = {
    1400: "that action is not available",
    1401: "there is no service in the call to ask",
    1402: "the request was too large",
    1501: "the service did not answer",
    1502: "it took too long to answer",
    1503: "the service left the call",
    1504: "the answer was too large",
}


def failure_speech(tool: str, args: dict[str, Any], code: int, message: str) -> str:
    reason = FAILURE_REASONS.get(code) or message or "something went wrong"
    return _clip(f"Sorry, I couldn't {call_phrase(tool, args)} just now: {reason}.")


def event_speech(tool: str, args: dict[str, Any]) -> str:
    return _clip(f"Okay, {call_phrase(tool, args)}. It's on your screen now.")


def refused_event_speech(tool: str, args: dict[str, Any]) -> str:
    return _clip(f"Sorry, I can't {call_phrase(tool, args)} with the voice I have.")
