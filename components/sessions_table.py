"""The Sessions table: a read-only `gr.Dataframe` of `studio.history.TABLE_COLUMNS`, its cells
coloured by status, with the full values (what selection and the CSV see) kept behind a short
display (one decimal for seconds, the first 8 characters of the id).

On a narrow screen (`PHONE_CSS`) it keeps the columns that say what happened (created, avatar,
status, duration) and fits the screen's width; a row's details show the rest.

`only_changed` lets a refresh send nothing that a viewer already has."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import gradio as gr
import pandas as pd

from studio.history import NUMBER_COLUMNS, TABLE_COLUMNS
from studio.vocabulary import (
    CANCELLED,
    COMPLETED,
    FAILED,
    IN_PROGRESS,
    NOT_READY,
    READY,
    REQUESTED,
    RUNNING,
    status_label,
)

ELEM_ID = "sessions-table"
# Pixels, not shares: on a wide screen the columns keep their widths (PHONE_CSS narrows them).
COLUMN_WIDTHS = [192, 120, 118, 92, 98, 84, 268, 116, 92]
DATATYPES = ["number" if c in NUMBER_COLUMNS else "str" for c in TABLE_COLUMNS]
ID_SHOWN = 8  # characters of the id the cell shows (the value keeps all of it)

_WAITING, _GOOD, _BAD = "color: #b45309", "color: #15803d", "color: #b91c1c; font-weight: 600"
_READY, _LIVE, _DONE = ("color: #6d28d9; font-weight: 600", "color: #1d4ed8; font-weight: 600",
                        "color: #6b7280")
# How each status label (as the table words it) is coloured.
STATUS_STYLES = {
    status_label(NOT_READY, queued=True): _WAITING, status_label(NOT_READY): _WAITING,
    status_label(REQUESTED): _WAITING, status_label(READY): _READY,
    status_label(RUNNING): _LIVE, status_label(IN_PROGRESS): _LIVE,
    status_label(COMPLETED): _GOOD, status_label(FAILED): _BAD, status_label(CANCELLED): _DONE,
}

# Whether the table is on screen, once a tab switch has been drawn (the js of a tab's select:
# its inputs are a checkbox and the selected session's id, passed through).
SHOWING_JS = """async (showing, sessionId) => {
  await new Promise((done) => setTimeout(done, 60));
  const table = document.getElementById("TABLE_ID");
  return [!!table && table.offsetParent !== null && table.getClientRects().length > 0, sessionId];
}""".replace("TABLE_ID", ELEM_ID)


PHONE_WIDTH = 640  # pixels: below this the table keeps only PHONE_COLUMNS
PHONE_COLUMNS = {"created (UTC)": 32, "avatar": 22, "status": 22, "duration": 24}  # % of the width


def _cells(index: int) -> str:
    """Every element Gradio draws for one column: header, row cells and the sizing copy."""
    table = f"#{ELEM_ID}"
    return (f"{table} th[data-heading='{index}'], {table} [role='gridcell'][data-col='{index}'], "
            f"{table} .sizing-body td:nth-child({index + 1})")


def _phone_css() -> str:
    """The page CSS that fits the table to a phone: the other columns hidden, these sharing the
    width (Gradio gives every column a fixed pixel width inline, hence !important)."""
    hidden = ", ".join(_cells(i) for i, c in enumerate(TABLE_COLUMNS) if c not in PHONE_COLUMNS)
    shares = "\n".join(
        f"  {_cells(i)} {{ width: {PHONE_COLUMNS[c]}% !important; min-width: 0 !important; "
        f"max-width: none !important; flex: 0 0 {PHONE_COLUMNS[c]}% !important; }}"
        for i, c in enumerate(TABLE_COLUMNS) if c in PHONE_COLUMNS)
    table = f"#{ELEM_ID}"
    return f"""
@media (max-width: {PHONE_WIDTH}px) {{
  {hidden} {{ display: none !important; }}
{shares}
  {table} table {{ table-layout: fixed; width: 100% !important; }}
  {table} .virtual-body {{ width: 100% !important; }}
  {table} th span, {table} [role='gridcell'] span {{ white-space: normal; overflow-wrap: normal;
    word-break: normal; font-size: 0.8rem; }}
  /* the table right under its caption, a tapped row's details under it, then the filters (two
     to a row) and the export */
  #session-details {{ order: 1; }}
  #sessions-filters {{ order: 2; }}
  #sessions-export-row {{ order: 3; }}
  #sessions-filters > * {{ flex: 1 1 calc(50% - 8px) !important; min-width: calc(50% - 8px) !important; }}
  #sessions-filters > #sessions-search {{ flex-basis: 100% !important; }}
}}
"""


PHONE_CSS = _phone_css()


def sessions_table(**kwargs: Any) -> gr.Dataframe:
    """The empty table (filled by `table_value` updates); keyword arguments go to gr.Dataframe."""
    options: dict[str, Any] = {
        "interactive": False, "wrap": True, "max_height": 560,
        "label": "Sessions (select a row for its details)", "elem_id": ELEM_ID,
    }
    return gr.Dataframe(
        value=pd.DataFrame({c: [] for c in TABLE_COLUMNS}), headers=list(TABLE_COLUMNS),
        column_widths=COLUMN_WIDTHS, datatype=DATATYPES, **(options | kwargs),
    )


def table_value(table: pd.DataFrame) -> dict[str, Any]:
    """The table as Gradio's dataframe payload: the full values (what selection and the CSV see)
    plus how each cell reads (one decimal for seconds, a short id, status colours)."""
    headers = list(TABLE_COLUMNS)
    if table.empty:
        return {"headers": headers, "data": [], "metadata": None}
    data = table[headers].to_numpy(dtype=object).tolist()
    number = [headers.index(c) for c in NUMBER_COLUMNS]
    status_at, id_at = headers.index("status"), headers.index("id")
    display, styling = [], []
    for values in data:
        shown = ["" if v is None else str(v) for v in values]
        for i in number:
            shown[i] = "" if values[i] is None else f"{values[i]:.1f}"
        shown[id_at] = shown[id_at][:ID_SHOWN]
        display.append(shown)
        row_style = [""] * len(headers)
        row_style[status_at] = STATUS_STYLES.get(values[status_at], "")
        styling.append(row_style)
    return {"headers": headers, "data": data, "metadata": {"display_value": display,
                                                           "styling": styling}}


def session_id_of(row: list[Any] | None) -> str | None:
    """The session id of a selected row (its last cell holds the id in full)."""
    return row[-1] if row else None


def digest(value: Any) -> str:
    """A short fingerprint of an output's value (what a viewer was last sent)."""
    text = json.dumps(value, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.blake2b(text.encode(), digest_size=12).hexdigest()


def only_changed(values: tuple[Any, ...], sent: tuple[str, ...] | None) -> tuple[list[Any], tuple[str, ...]]:
    """`values` with `gr.skip()` in place of each one whose fingerprint is the one in `sent` (what
    this viewer was sent last), and the fingerprints to remember. An unchanged refresh sends none."""
    digests = tuple(digest(v) for v in values)
    previous = sent if sent is not None and len(sent) == len(values) else (None,) * len(values)
    outputs = [gr.skip() if d == before else v for v, d, before in zip(values, digests, previous)]
    return outputs, digests
