"""What keeps an open Sessions tab up to date without asking every interval: an invisible
`gr.HTML` whose script listens to `GET /api/sessions/changes` (server-sent events) while the
table is on screen and the browser tab is visible, and fires `sessions_changed` when the server
says the tab would change (Gradio makes `follower.sessions_changed(...)` a listener because the
script names that event in quotes). An idle tab then receives nothing but keep-alive lines.

Dates typed relative to now ("now - 7d", "today") move by themselves, so while a date field holds
one the script also fires every refresh interval.
"""

from __future__ import annotations

import json
from typing import Any

import gradio as gr

from components.sessions_table import ELEM_ID as TABLE_ID

CHANGES_ROUTE = "/api/sessions/changes"
ELEM_ID = "sessions-follower"
CSS = f"#{ELEM_ID} {{ display: none !important; }}"  # nothing to see; no gap in the column either
LOOK_EVERY_MS = 1000  # how often the script checks whether the table is on screen (no traffic)

FOLLOW_JS = """
const tableId = %(table)s, dateIds = %(dates)s;
let source = null, lastRelativeTick = 0;
const onScreen = () => {
  const table = document.getElementById(tableId);
  return !document.hidden && !!table && table.offsetParent !== null && table.getClientRects().length > 0;
};
const relativeDates = () => dateIds.some((id) => {
  const field = document.querySelector(`#${id} input, #${id} textarea`);
  return !!field && /now|today/i.test(field.value || '');
});
function follow() {
  if (onScreen() && !source) {
    source = new EventSource(props.changes_url);
    source.addEventListener('change', () => trigger('sessions_changed', {}));
  } else if (!onScreen() && source) {
    source.close();
    source = null;
  }
  element.dataset.following = source ? 'yes' : 'no';
  if (source && relativeDates() && Date.now() - lastRelativeTick >= props.interval_ms) {
    lastRelativeTick = Date.now();
    trigger('sessions_changed', {});
  }
}
document.addEventListener('visibilitychange', follow);
setInterval(follow, %(look)d);
follow();
"""


class SessionsFollower(gr.HTML):
    """Fires `sessions_changed` whenever the Sessions tab would change (see the module doc)."""

    def __init__(self, *, interval: float, date_ids: list[str], **kwargs: Any) -> None:
        script = FOLLOW_JS % {"table": json.dumps(TABLE_ID), "dates": json.dumps(date_ids), "look": LOOK_EVERY_MS}
        super().__init__(
            value="", html_template="", js_on_load=script, changes_url=CHANGES_ROUTE,
            interval_ms=int(interval * 1000), apply_default_css=False, padding=False, container=False,
            elem_id=ELEM_ID, **kwargs,
        )

    def api_info(self) -> dict[str, Any]:
        return {"type": "string", "description": "nothing: it only fires sessions_changed"}
