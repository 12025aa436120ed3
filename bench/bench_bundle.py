"""Size budget of the Call tab's browser assets, and what the idle page downloads.

    python bench/bench_bundle.py            # sizes + a headless chromium run
    python bench/bench_bundle.py --no-browser

1. Raw and gzip -9 sizes of avatar-call.js / avatar-call.css / call-controller.js, with the
   250 KB gzip budget for the bundle (PASS/FAIL; exit status 1 on FAIL).
2. With Playwright + /usr/bin/chromium: a loopback page with an idle call controller. Prints the
   JavaScript bytes downloaded before Start (should be call-controller.js only) and after Start
   (the lazily loaded bundle). The stub session route returns credentials for a LiveKit URL that
   refuses the token, so the call ends in an error; only loopback is used.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
STATIC = REPO / "components" / "static"
BUDGET = 250_000  # bytes, gzip -9, avatar-call.js
CHROMIUM = "/usr/bin/chromium"
FILES = ["avatar-call.js", "avatar-call.css", "call-controller.js", "call-controller.css"]

PAGE = b"""<!doctype html><html><head><meta charset="utf-8">
<link rel="stylesheet" href="/static/call-controller.css">
<script src="/static/call-controller.js"></script></head>
<body><div id="root"></div><script>
window.call = StudioCallController.create(document.getElementById('root'), {
  avatarId: 'bench', avatarName: 'Bench', transport: 'livekit',
  bundleUrl: '/static/avatar-call.js', cssUrl: '/static/avatar-call.css'});
</script></body></html>"""


def kb(n: int) -> str:
    return f"{n / 1000:,.1f} KB"


def sizes() -> bool:
    print(f"{'file':<22}{'raw':>14}{'gzip -9':>14}")
    ok = True
    bundle_gz = None
    for name in FILES:
        path = STATIC / name
        if not path.exists():
            print(f"{name:<22}{'missing':>14}")
            ok = ok and name != "avatar-call.js"
            continue
        data = path.read_bytes()
        gz = len(gzip.compress(data, compresslevel=9, mtime=0))
        print(f"{name:<22}{kb(len(data)):>14}{kb(gz):>14}")
        if name == "avatar-call.js":
            bundle_gz = gz
    verdict = "PASS" if ok and bundle_gz is not None and bundle_gz <= BUDGET else "FAIL"
    shown = kb(bundle_gz) if bundle_gz is not None else "missing"
    print(f"\nbudget: avatar-call.js {shown} gzip <= {kb(BUDGET)}: {verdict}")
    return verdict == "PASS"


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):  # quiet
        pass

    def _send(self, code: int, body: bytes, ctype: str) -> None:
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):  # noqa: N802
        path = self.path.split("?")[0]
        if path == "/":
            return self._send(200, PAGE, "text/html")
        if path.startswith("/static/"):
            f = STATIC / path[len("/static/"):]
            if f.is_file() and f.resolve().parent == STATIC.resolve():
                ctype = {".js": "text/javascript", ".css": "text/css"}.get(f.suffix, "text/plain")
                return self._send(200, f.read_bytes(), ctype)
        if path.startswith("/api/calls/"):
            return self._send(200, b'{"status":"ready","queued":false}', "application/json")
        if path.startswith("/lk/"):
            return self._send(401, b"invalid token (bench stub)", "text/plain")
        return self._send(404, b"not found", "text/plain")

    def do_POST(self):  # noqa: N802
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        if self.path == "/api/avatar/session":
            port = self.server.server_address[1]
            body = {"sessionId": "sess_bench", "serverUrl": f"ws://127.0.0.1:{port}/lk",
                    "token": "tok_bench", "roomName": "room_bench"}
            return self._send(200, json.dumps(body).encode(), "application/json")
        return self._send(200, b'{"ok":true}', "application/json")


def browser_run() -> None:
    if not os.path.exists(CHROMIUM):
        print(f"\n(browser part skipped: {CHROMIUM} is missing)")
        return
    from playwright.sync_api import sync_playwright

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/"
    scripts: list[tuple[str, int]] = []

    def on_response(response):
        if response.request.resource_type == "script":
            try:
                scripts.append((response.url.rsplit("/", 1)[-1], len(response.body())))
            except Exception:  # noqa: BLE001 - a body may be unavailable; count it as 0
                scripts.append((response.url.rsplit("/", 1)[-1], 0))

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--no-first-run", "--disable-gpu"])
        page = browser.new_page()
        page.on("response", on_response)
        page.goto(url)
        page.wait_for_load_state("networkidle")
        before = list(scripts)
        page.get_by_role("button", name="Start call").click()
        page.wait_for_selector("#root[data-call-state='error'], #root[data-call-state='live']",
                               state="attached", timeout=30_000)
        after = scripts[len(before):]
        browser.close()
    server.shutdown()

    total_before = sum(n for _, n in before)
    total_after = sum(n for _, n in after)
    print("\nJavaScript downloaded by a page with an idle call card")
    print(f"  before Start: {kb(total_before):>10}  ({', '.join(f'{u} {kb(n)}' for u, n in before)})")
    print(f"  after Start:  {kb(total_after):>10}  ({', '.join(f'{u} {kb(n)}' for u, n in after) or 'nothing'})")
    only_controller = [u for u, _ in before] == ["call-controller.js"]
    print(f"  idle page loads only call-controller.js: {'PASS' if only_controller else 'FAIL'}")
    if not only_controller:
        raise SystemExit(1)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-browser", action="store_true", help="only print file sizes")
    args = parser.parse_args()
    ok = sizes()
    if not args.no_browser:
        browser_run()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
