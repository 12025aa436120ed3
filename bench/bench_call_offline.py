"""An offline call from the Call tab: time from clicking Start to the first decoded video frame.

The studio runs as `python app.py` in its own process, on its embedded simulator (ready delay
1.0 s, as Runway's ~1 s); Debian's chromium drives the real Call tab with the committed bundle.
For each of ``--calls`` sequential calls the page records, on its own clock: the click, the
session route's answer (the studio's own time: create, poll to READY, consume) and the first
video frame the browser decodes (``requestVideoFrameCallback``). Printed side by side, so the
media share (bundle, LiveKit signalling, ICE, first keyframe) is visible against the route's.

    python bench/bench_call_offline.py [--calls 10]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from typing import Any

from _common import percentile, process_server

from tests.support import launch_chromium

# On the page's clock (ms): when Start was clicked, when the session route answered, when the
# first avatar video frame was decoded. Reset before each call.
PROBE = """
window.benchMarks = {};
document.addEventListener('click', (event) => {
  const label = event.target && event.target.textContent;
  if (label === 'Start call' || label === 'Start a new call') {
    window.benchMarks = {click: performance.now()};
  }
}, true);
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) {
    if (entry.name.endsWith('/api/avatar/session')) window.benchMarks.route = entry.responseEnd;
  }
}).observe({type: 'resource', buffered: false});
new MutationObserver(() => {
  const video = document.querySelector('.sc-video [data-avatar-video] video');
  if (video && !video.benchWatched) {
    video.benchWatched = true;
    video.requestVideoFrameCallback((now) => { window.benchMarks.frame = now; });
  }
}).observe(document, {subtree: true, childList: true});
"""
STUDIO_ENV = {
    "GRADIO_SERVER_PORT": "{port}", "STUDIO_SIM_READY_DELAY": "1.0", "STUDIO_REFRESH_INTERVAL": "0.5",
    "STUDIO_MAX_LIVE_SESSIONS": "20", "STUDIO_SESSIONS_PER_CLIENT_PER_HOUR": "1000",
    "GRADIO_ANALYTICS_ENABLED": "False",
}  # fmt: skip


def one_call(page: Any, first: bool) -> dict[str, float]:
    """Start a call, wait for its first decoded frame, end it; the page's marks (ms)."""
    start = "Start call" if first else "Start a new call"
    page.get_by_role("button", name=start).click()
    page.wait_for_function("window.benchMarks.frame && window.benchMarks.route", timeout=30_000)
    marks = page.evaluate("window.benchMarks")
    page.get_by_role("button", name="End call").click()
    page.locator(".studio-call-host[data-call-state='ended']").wait_for(timeout=15_000)
    return marks


def run_calls(url: str, calls: int) -> list[dict[str, float]]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 1000})
            page.add_init_script(PROBE)
            page.goto(url)
            page.get_by_role("tab", name="Call").click()
            page.get_by_role("button", name="Start call").wait_for(timeout=30_000)
            return [one_call(page, i == 0) for i in range(calls)]
        finally:
            browser.close()


def line(label: str, values: list[float]) -> str:
    return f"{label:<34} p50 {percentile(values, 50):6.0f} ms   p95 {percentile(values, 95):6.0f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=10)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as data:
        env = {**STUDIO_ENV, "STUDIO_DATA_DIR": data}
        with process_server(["app.py"], env=env) as url:
            started = time.monotonic()
            marks = run_calls(url, args.calls)
    total = [m["frame"] - m["click"] for m in marks]
    route = [m["route"] - m["click"] for m in marks]
    media = [m["frame"] - m["route"] for m in marks]
    share = [100 * (t - r) / t for t, r in zip(total, route)]
    print(f"{args.calls} offline calls from the Call tab in {time.monotonic() - started:.0f} s "
          "(embedded simulator, ready delay 1.0 s)")
    print(line("click -> first decoded video frame", total))
    print(line("  of which the session route", route))
    print(line("  of which media (bundle, LiveKit)", media))
    print(f"{'media share of the wait':<34} p50 {percentile(share, 50):6.0f} %    p95 {percentile(share, 95):6.0f} %")
    print(f"first call (bundle downloaded)     {total[0]:6.0f} ms; later calls p50 "
          f"{percentile(total[1:] or total, 50):6.0f} ms")


if __name__ == "__main__":
    main()
