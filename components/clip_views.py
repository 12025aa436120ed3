"""How clips show: the render being watched (status, elapsed time, progress, then the player and
the MP4 download), a comparison's players side by side, and the list of every clip.

Each is a `gr.HTML` with its own CSS. Elapsed times tick in the browser (a one-second script on
the panel counts on from the value the server last sent), so the server sends an update only when
something it knows has changed. Videos play from the studio's own route, never Runway's URL.
"""

from __future__ import annotations

from typing import Any

import gradio as gr

from components.text import plain
from studio.clips.words import (
    CANCELLED,
    FAILED,
    SUCCEEDED,
    clip_status_label,
    explain_clip_failure,
    is_terminal,
)
from studio.history import clock_duration, iso_utc

# The Clips form on a phone: hints folded away and a shorter script box, so Render is on the
# first screen.
PHONE_CSS = """
@media (max-width: 640px) {
  #clip-character .info-text, #clip-fill .info-text, #clip-voice .info-text { display: none; }
  #clip-script textarea { max-height: 6em; }
}
"""

CSS = """
@media (max-width: 640px) {
  #clip-fill, #clip-voice { order: 1; }
  #clip-compare-box { order: 2; }
  #clip-character .info, #clip-fill .info, #clip-voice .info { display: none; }
  #clip-script textarea { min-height: 5.5em; max-height: 7.5em; }
}
"""

CSS = """
.clip-card { border: 1px solid var(--border-color-primary); border-radius: 12px; padding: 12px 14px;
  background: var(--block-background-fill); display: flex; flex-direction: column; gap: 8px; min-width: 0; }
.clip-card[data-status="FAILED"] { border-color: #f3b4ab; }
.clip-head { display: flex; justify-content: space-between; align-items: baseline; gap: 8px; flex-wrap: wrap; }
.clip-title { font-weight: 650; }
.clip-badge { font-size: 0.72rem; font-weight: 700; letter-spacing: 0.04em; padding: 2px 8px; border-radius: 999px;
  white-space: nowrap; background: #fff1c7; color: #6b4d00; }
.clip-badge.SUCCEEDED { background: #dcf5e4; color: #11522b; }
.clip-badge.FAILED { background: #ffe1dc; color: #8a1c0f; }
.clip-badge.CANCELLED { background: #ececef; color: #3f3f46; }
.clip-meta { font-size: 0.85rem; opacity: 0.8; }
.clip-script { font-size: 0.88rem; line-height: 1.4; max-height: 4.3em; overflow: hidden; opacity: 0.9; }
.clip-progress { height: 6px; border-radius: 3px; background: rgba(0,0,0,0.08); overflow: hidden; }
.clip-progress > span { display: block; height: 100%; background: #d39b00; transition: width 0.4s; }
.clip-why { font-size: 0.88rem; background: #fff4f2; color: #7a1d12; border-radius: 8px; padding: 6px 8px; }
.clip-expired { font-size: 0.88rem; background: #f4f4f5; color: #3f3f46; border-radius: 8px; padding: 8px 10px; }
.clip-card video { width: 100%; border-radius: 8px; background: #000; aspect-ratio: 17 / 11; }
.clip-actions a { font-size: 0.88rem; }
.clip-empty { opacity: 0.75; font-size: 0.92rem; padding: 8px 2px; }
.clip-compare { display: grid; grid-template-columns: repeat(auto-fit, minmax(220px, 1fr)); gap: 12px; }
.clip-table { width: 100%; border-collapse: collapse; font-size: 0.86rem; }
.clip-table th, .clip-table td { text-align: left; padding: 6px 8px; border-bottom: 1px solid var(--border-color-primary);
  vertical-align: top; }
.clip-table td.script { max-width: 280px; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.clip-table details video { width: 260px; margin-top: 6px; border-radius: 6px; background: #000; }
.clip-scroll { overflow-x: auto; }
@media (max-width: 640px) {
  .clip-table tr:first-child { display: none; }
  .clip-table tr { display: block; padding: 8px 0; border-bottom: 1px solid var(--border-color-primary); }
  .clip-table td { display: inline-block; border: none; padding: 2px 8px 2px 0; }
  .clip-table td.script { display: block; max-width: none; white-space: normal; }
  .clip-table td:first-child { font-weight: 600; }
  .clip-table td.video { display: block; }
  .clip-table details video { width: 100%; }
}
.dark & .clip-why { background: #3a1714; color: #ffcdc6; }
.dark & .clip-expired { background: #27272a; color: #d4d4d8; }
"""

# Counts each live elapsed time on from what the server sent, once a second, in the browser.
TICKER_JS = """
const shown = (s) => `${Math.floor(s / 60)}:${String(Math.floor(s % 60)).padStart(2, '0')}`;
setInterval(() => {
  const now = Date.now() / 1000;
  element.querySelectorAll('[data-elapsed][data-live="1"]').forEach((el) => {
    if (!el.dataset.seen) el.dataset.seen = String(now);
    el.textContent = shown(Number(el.dataset.elapsed) + now - Number(el.dataset.seen));
  });
}, 1000);
"""


def clip_html(value: str = "", **kwargs: Any) -> gr.HTML:
    """A panel of clips (its CSS and the elapsed-time ticker included)."""
    return gr.HTML(value, css_template=CSS, js_on_load=TICKER_JS, apply_default_css=False, **kwargs)


def video_url(clip_id: str, download: bool = False) -> str:
    return f"/api/clips/{plain(clip_id)}/video" + ("?download=1" if download else "")


def elapsed(row: dict[str, Any], now: float) -> tuple[float, bool]:
    """Seconds since the clip was asked for (to its end, once ended), and whether it still runs."""
    end = row["ended_at"] if row["ended_at"] is not None else now
    return max(0.0, end - row["created_at"]), not is_terminal(row["status"])


def expired(row: dict[str, Any], now: float) -> bool:
    return row["output_expires_at"] is not None and now >= row["output_expires_at"]


def credits_text(row: dict[str, Any]) -> str:
    if row["cost_credits"] is not None:
        return f"{row['cost_credits']:g} credits"
    if row["estimated_credits"] is not None and not is_terminal(row["status"]):
        return f"≈ {row['estimated_credits']:g} credits"
    return "–"


def render_card(row: dict[str, Any] | None, now: float, *, title: str | None = None) -> str:
    """One clip as a card: while it runs its status, elapsed time and progress; once it succeeds
    the player and the download; after a failure why; once its output expired, that."""
    if row is None:
        return ("<div class='clip-empty' data-testid='no-clip'>Pick a character, write a script (or upload "
                "audio) and press <b>Render</b>. The clip plays here when it is ready.</div>")
    status = row["status"]
    seconds, live = elapsed(row, now)
    heading = plain(title or f"{row['avatar_name']} · {row['voice_name']}")
    parts = [
        f"<div class='clip-card' data-clip='{plain(row['clip_id'])}' data-status='{plain(status)}'>",
        (f"<div class='clip-head'><span class='clip-title'>{heading}</span>"
         f"<span class='clip-badge {plain(status)}' data-testid='clip-status'>"
         f"{plain(clip_status_label(status))}</span></div>"),
        (f"<div class='clip-meta'>Elapsed <span data-testid='clip-elapsed' data-elapsed='{seconds:.1f}' "
         f"data-live='{int(live)}'>{clock_duration(seconds)}</span> · {plain(credits_text(row))}</div>"),
    ]
    if live:
        progress = max(0.0, min(1.0, row["progress"] or 0.0))
        parts.append(f"<div class='clip-progress' title='{progress:.0%}'><span style='width:{progress * 100:.0f}%'>"
                     "</span></div>")
    elif status == SUCCEEDED:
        parts.append(_result(row, now))
    elif status in (FAILED, CANCELLED):
        parts.append(f"<div class='clip-why' data-testid='clip-failure'>{plain(ended_why(row))}</div>")
    return "".join(parts) + "</div>"


def _result(row: dict[str, Any], now: float) -> str:
    if expired(row, now):
        return (f"<div class='clip-expired' data-testid='clip-expired'>This video expired on "
                f"{iso_utc(row['output_expires_at'])} UTC: Runway keeps outputs for a day or two. Render it "
                "again for a new one.</div>")
    length = f" · {row['duration']:.1f} s" if row["duration"] else ""
    return (f"<video controls playsinline preload='metadata' src='{video_url(row['clip_id'])}' "
            f"data-testid='clip-video'></video><div class='clip-actions'>"
            f"<a href='{video_url(row['clip_id'], True)}' download data-testid='clip-download'>Download MP4</a>"
            f"<span class='clip-meta'>{length} · available until {iso_utc(row['output_expires_at'])} UTC</span>"
            "</div>")


def ended_why(row: dict[str, Any]) -> str:
    """Why a clip failed, or how it was cancelled, in plain words."""
    if row["status"] == CANCELLED:
        return "Cancelled from the studio." if row["failure_code"] == "cancelled" else "Cancelled at Runway."
    return f"Why it failed: {explain_clip_failure(row['failure_code'], row['failure']).rstrip('. ')}."


def render_comparison(rows: list[dict[str, Any]], now: float) -> str:
    """A comparison's clips side by side, one per voice."""
    if not rows:
        return ""
    script = rows[0]["script"] or ""
    cards = "".join(render_card(row, now, title=row["voice_name"]) for row in rows)
    return (f"<div class='clip-meta'>Comparing {len(rows)} voices for {plain(rows[0]['avatar_name'])}: "
            f"“{plain(script[:120])}{'…' if len(script) > 120 else ''}”</div>"
            f"<div class='clip-compare' data-testid='clip-comparison'>{cards}</div>")


def render_list(rows: list[dict[str, Any]], now: float) -> str:
    """Every clip, newest first: character, script, voice, status, cost, length, created, expiry."""
    if not rows:
        return "<div class='clip-empty' data-testid='no-clips'>No clips yet.</div>"
    head = ("<tr><th>Character</th><th>Script or audio</th><th>Voice</th><th>Status</th><th>Cost</th>"
            "<th class='wide'>Length</th><th class='wide'>Created (UTC)</th><th>Video</th></tr>")
    body = "".join(_list_row(row, now) for row in rows)
    return f"<div class='clip-scroll'><table class='clip-table' data-testid='clip-list'>{head}{body}</table></div>"


def _list_row(row: dict[str, Any], now: float) -> str:
    speech = row["script"] if row["script"] is not None else f"🎵 {row['audio_name']}"
    status = row["status"]
    if status == SUCCEEDED and expired(row, now):
        video = f"<span data-testid='clip-expired'>expired {iso_utc(row['output_expires_at'])[:16]}</span>"
    elif status == SUCCEEDED:
        video = (f"<details><summary>Play</summary><video controls preload='none' "
                 f"src='{video_url(row['clip_id'])}'></video></details>"
                 f"<a href='{video_url(row['clip_id'], True)}' download>MP4</a> · until "
                 f"{iso_utc(row['output_expires_at'])[5:16]}")
    elif status in (FAILED, CANCELLED):
        video = plain(ended_why(row))
    else:
        video = "…"
    length = f"{row['duration']:.1f} s" if row["duration"] else "–"
    return (f"<tr data-clip='{plain(row['clip_id'])}' data-status='{plain(status)}'>"
            f"<td>{plain(row['avatar_name'])}</td><td class='script' title='{plain(speech)}'>{plain(speech)}</td>"
            f"<td>{plain(row['voice_name'])}</td><td>{plain(clip_status_label(status))}</td>"
            f"<td>{plain(credits_text(row))}</td><td class='wide'>{length}</td>"
            f"<td class='wide'>{iso_utc(row['created_at'])[:16]}</td><td class='video'>{video}</td></tr>")


def render_estimate(text: str, *, refused: str | None = None) -> str:
    if refused:
        return f"<div class='cs-progress error' data-kind='error' data-testid='clip-refused'>{plain(refused)}</div>"
    return f"<div class='clip-meta' data-testid='clip-estimate'>Estimated cost: {plain(text)}</div>"
