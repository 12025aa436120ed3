"""The Call tab's browser assets against a bundle built "the obvious way", measured in the same run.

    python bench/bench_bundle.py            # sizes + a headless chromium run of both pages
    python bench/bench_bundle.py --no-browser

Baseline: `src/entry.jsx` built from the locked packages in web/node_modules (which
scripts/web-deps.sh installs with `npm ci` unless they are there) as a first attempt would:
`esbuild --bundle --format=iife --jsx=automatic`, no --minify and no `process.env.NODE_ENV` define
(so esbuild picks React's development build), one JS file that the page loads eagerly in <head>
instead of on Start. Installing needs the npm registry; when the baseline cannot be built this
says so and exits 1: no silent pass.

Printed: raw and gzip -9 sizes of ours and the baseline's files; the JavaScript an idle page
downloads before Start (ours: call-controller.js only; baseline: the controller plus the whole
bundle), measured in chromium, or from file sizes with --no-browser; ratios baseline/ours.

Judged (exit status 1 on any FAIL):
- avatar-call.js within the 250 KB gzip budget;
- the call bundle at least 2.0x smaller raw and 1.5x smaller gzip than the baseline's
  (measured 3.0x and 1.9x: React's production build and minification; a build that drops
  either lands near 1x);
- an idle page downloads at least 10x less JavaScript (gzip) than the baseline page (measured
  ~54x; loading the bundle eagerly again lands near 1x);
- in chromium, our idle page fetches call-controller.js and nothing else.
Both pages' calls are driven to their end against a stub LiveKit URL that refuses the token, so
the baseline is shown to be a working equivalent, not a broken straw man. Loopback only.
"""

from __future__ import annotations

import argparse
import gzip
import json
import shutil
import subprocess
import sys
import tempfile
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from _common import ROOT, verdict

from tests.support import CHROMIUM, launch_chromium

STATIC = ROOT / "components" / "static"
WEB = ROOT / "web"
BUDGET = 250_000  # bytes, gzip -9, avatar-call.js
MIN_BUNDLE_RAW_RATIO = 2.0
MIN_BUNDLE_GZIP_RATIO = 1.5
MIN_IDLE_GZIP_RATIO = 10.0
OUR_FILES = ["avatar-call.js", "avatar-call.css", "call-controller.js", "call-controller.css"]
BASELINE_FILES = ["avatar-call.js", "avatar-call.css"]

# The same controller on both pages; the baseline page also loads the whole bundle up front, so
# the controller finds window.StudioAvatarCall already defined on Start.
PAGE = """<!doctype html><html><head><meta charset="utf-8">
<link rel="stylesheet" href="/static/call-controller.css">
<script src="/static/call-controller.js"></script>{eager}</head>
<body><div id="root"></div><script>
window.call = StudioCallController.create(document.getElementById('root'), {{
  avatarId: 'bench', avatarName: 'Bench',
  bundleUrl: '{assets}/avatar-call.js', cssUrl: '{assets}/avatar-call.css'}});
</script></body></html>"""
OUR_PAGE = PAGE.format(eager="", assets="/static").encode()
BASELINE_PAGE = PAGE.format(
    eager='\n<link rel="stylesheet" href="/baseline/avatar-call.css">'
          '\n<script src="/baseline/avatar-call.js"></script>',
    assets="/baseline").encode()


def kb(n: int) -> str:
    return f"{n / 1000:,.1f} KB"


def gzip_size(data: bytes) -> int:
    return len(gzip.compress(data, compresslevel=9, mtime=0))


@dataclass(frozen=True)
class Size:
    raw: int
    gz: int

    @classmethod
    def of(cls, data: bytes) -> Size:
        return cls(len(data), gzip_size(data))

    def __add__(self, other: Size) -> Size:
        return Size(self.raw + other.raw, self.gz + other.gz)


# ---- the baseline build ------------------------------------------------------------------------

def npm_error(stderr: str) -> str:
    """npm's own error lines, without the stack trace it prints after them."""
    lines = [line.removeprefix("npm error").strip() for line in stderr.splitlines()
             if line.startswith("npm error") and " at " not in line]
    return "; ".join(lines[:4]) or stderr.strip()[-400:]


def build_baseline(work: Path) -> tuple[Path | None, str]:
    """Build the obvious bundle into work/out; returns (out dir, "") or (None, why it failed)."""
    if not shutil.which("node"):
        return None, "node is not installed"
    # The install step: the locked packages in web/node_modules (npm ci, unless already there).
    deps = subprocess.run(["bash", str(ROOT / "scripts" / "web-deps.sh")], capture_output=True, text=True,
                          timeout=300, check=False)
    if deps.returncode != 0:
        return None, f"web/node_modules could not be installed (npm registry unreachable?): {npm_error(deps.stderr)}"
    out = work / "out"
    esbuild = WEB / "node_modules" / ".bin" / "esbuild"
    # The first attempt: no --minify, no --define:process.env.NODE_ENV (so React's dev build).
    command = [str(esbuild), "src/entry.jsx", "--bundle", "--format=iife", "--jsx=automatic",
               f"--outfile={out / 'avatar-call.js'}", "--log-level=error"]
    build = subprocess.run(command, cwd=WEB, capture_output=True, text=True, timeout=120, check=False)
    if build.returncode != 0:
        return None, f"esbuild failed: {build.stderr.strip()[-400:]}"
    return out, ""


# ---- sizes -------------------------------------------------------------------------------------

def file_sizes(folder: Path, names: list[str]) -> dict[str, Size]:
    return {name: Size.of((folder / name).read_bytes())
            for name in names if (folder / name).is_file()}


def print_sizes(ours: dict[str, Size], baseline: dict[str, Size]) -> None:
    print(f"{'file':<32}{'raw':>14}{'gzip -9':>14}")
    for label, sizes, names in (("", ours, OUR_FILES), ("baseline ", baseline, BASELINE_FILES)):
        for name in names:
            size = sizes.get(name)
            shown = (f"{kb(size.raw):>14}{kb(size.gz):>14}" if size else f"{'missing':>14}")
            print(f"{label + name:<32}{shown}")


def ratio(baseline: int, ours: int) -> float:
    return baseline / ours if ours > 0 else float("nan")


# ---- the browser run ---------------------------------------------------------------------------

class Handler(BaseHTTPRequestHandler):
    baseline_dir: Path | None = None

    def log_message(self, *args):  # quiet
        pass

    def _send(self, code: int, body: bytes, ctype: str) -> None:
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _file(self, folder: Path | None, name: str) -> None:
        f = folder / name if folder else None
        if f is None or not f.is_file() or f.resolve().parent != folder.resolve():
            return self._send(404, b"not found", "text/plain")
        ctype = {".js": "text/javascript", ".css": "text/css"}.get(f.suffix, "text/plain")
        return self._send(200, f.read_bytes(), ctype)

    def do_GET(self):
        path = self.path.split("?")[0]
        if path == "/":
            return self._send(200, OUR_PAGE, "text/html")
        if path == "/baseline-page":
            return self._send(200, BASELINE_PAGE, "text/html")
        if path.startswith("/static/"):
            return self._file(STATIC, path[len("/static/"):])
        if path.startswith("/baseline/"):
            return self._file(self.baseline_dir, path[len("/baseline/"):])
        if path.startswith("/api/calls/"):
            return self._send(200, b'{"status":"ready","queued":false}', "application/json")
        if path.startswith("/lk/"):
            return self._send(401, b"invalid token (bench stub)", "text/plain")
        return self._send(404, b"not found", "text/plain")

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        if self.path == "/api/avatar/session":
            port = self.server.server_address[1]
            body = {"sessionId": "sess_bench", "serverUrl": f"ws://127.0.0.1:{port}/lk",
                    "token": "tok_bench", "roomName": "room_bench"}
            return self._send(200, json.dumps(body).encode(), "application/json")
        return self._send(200, b'{"ok":true}', "application/json")


@dataclass
class PageRun:
    before: list[tuple[str, Size]]  # scripts downloaded before Start
    after: list[tuple[str, Size]]  # scripts downloaded after Start
    end_state: str
    notice: str  # what the card says when the call ended

    @property
    def idle(self) -> Size:
        return sum((s for _, s in self.before), Size(0, 0))


def run_page(browser, url: str) -> PageRun:
    """Open the page, wait until idle, press Start and wait for the call to end."""
    scripts: list[tuple[str, Size]] = []

    def on_response(response):
        if response.request.resource_type == "script":
            try:
                scripts.append((response.url.rsplit("/", 1)[-1], Size.of(response.body())))
            except Exception:  # noqa: BLE001 - a body may be unavailable; count it as 0
                scripts.append((response.url.rsplit("/", 1)[-1], Size(0, 0)))

    page = browser.new_page()
    page.on("response", on_response)
    page.goto(url)
    page.wait_for_load_state("networkidle")
    before = list(scripts)
    page.get_by_role("button", name="Start call").click()
    page.wait_for_selector("#root[data-call-state='error'], #root[data-call-state='live']",
                           state="attached", timeout=30_000)
    end_state = page.evaluate("document.getElementById('root').dataset.callState")
    notice = page.locator(".sc-notice").inner_text()
    page.close()
    return PageRun(before, scripts[len(before):], end_state, notice)


def browser_runs(baseline_dir: Path) -> tuple[PageRun, PageRun]:
    from playwright.sync_api import sync_playwright

    handler = type("BenchHandler", (Handler,), {"baseline_dir": baseline_dir})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        with sync_playwright() as pw:
            browser = launch_chromium(pw)
            try:
                return run_page(browser, base + "/"), run_page(browser, base + "/baseline-page")
            finally:
                browser.close()
    finally:
        server.shutdown()


def describe(scripts: list[tuple[str, Size]]) -> str:
    return ", ".join(f"{name} {kb(s.gz)}" for name, s in scripts) or "nothing"


# ---- main --------------------------------------------------------------------------------------

def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-browser", action="store_true",
                        help="judge what an idle page downloads from file sizes instead of chromium")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-bundle-") as tmp:
        baseline_dir, why = build_baseline(Path(tmp))
        if baseline_dir is None:
            print(f"FAIL  the baseline bundle could not be built: {why}")
            return 1
        ours, baseline = file_sizes(STATIC, OUR_FILES), file_sizes(baseline_dir, BASELINE_FILES)
        print_sizes(ours, baseline)
        if "avatar-call.js" not in ours or "call-controller.js" not in ours:
            print("\nFAIL  components/static/ lacks avatar-call.js or call-controller.js")
            return 1

        browser_checks: dict[str, bool] = {}
        if args.no_browser:
            source = "from file sizes"
            our_idle = ours["call-controller.js"]
            baseline_idle = ours["call-controller.js"] + baseline["avatar-call.js"]
        elif not Path(CHROMIUM).exists():
            print(f"\nFAIL  {CHROMIUM} is missing (install Debian's chromium, or pass --no-browser)")
            return 1
        else:
            source = "measured in chromium"
            our_run, baseline_run = browser_runs(baseline_dir)
            our_idle, baseline_idle = our_run.idle, baseline_run.idle
            print("\nJavaScript downloaded (gzip -9 of each body)")
            for label, run in (("ours", our_run), ("baseline", baseline_run)):
                print(f"  {label:<9} before Start: {describe(run.before)}")
                print(f"  {'':<9} after Start:  {describe(run.after)}  -> {run.end_state}: {run.notice}")
            browser_checks = {
                "our idle page fetches call-controller.js only":
                    [name for name, _ in our_run.before] == ["call-controller.js"],
                "both pages' calls reach the stub LiveKit, which refuses the token":
                    all(run.end_state == "error" and "invalid token (bench stub)" in run.notice
                        for run in (our_run, baseline_run)),
            }

    bundle, base_bundle = ours["avatar-call.js"], baseline["avatar-call.js"]
    rows = [
        ("call bundle JS, raw", bundle.raw, base_bundle.raw),
        ("call bundle JS, gzip -9", bundle.gz, base_bundle.gz),
        ("idle page JS before Start, raw", our_idle.raw, baseline_idle.raw),
        ("idle page JS before Start, gzip", our_idle.gz, baseline_idle.gz),
    ]
    print(f"\n{'':<34}{'ours':>12}{'baseline':>12}{'baseline/ours':>15}   (idle page: {source})")
    for label, mine, theirs in rows:
        print(f"{label:<34}{kb(mine):>12}{kb(theirs):>12}{ratio(theirs, mine):>14.1f}x")

    raw_ratio, gz_ratio = ratio(base_bundle.raw, bundle.raw), ratio(base_bundle.gz, bundle.gz)
    idle_ratio = ratio(baseline_idle.gz, our_idle.gz)
    checks = {
        f"avatar-call.js {kb(bundle.gz)} gzip <= {kb(BUDGET)} budget": bundle.gz <= BUDGET,
        f"call bundle raw {raw_ratio:.1f}x smaller than the baseline (>= {MIN_BUNDLE_RAW_RATIO}x)":
            raw_ratio >= MIN_BUNDLE_RAW_RATIO,
        f"call bundle gzip {gz_ratio:.1f}x smaller than the baseline (>= {MIN_BUNDLE_GZIP_RATIO}x)":
            gz_ratio >= MIN_BUNDLE_GZIP_RATIO,
        f"idle page JS gzip {idle_ratio:.1f}x less than the baseline (>= {MIN_IDLE_GZIP_RATIO:g}x)":
            idle_ratio >= MIN_IDLE_GZIP_RATIO,
        **browser_checks,
    }
    print()
    for name, ok in checks.items():
        print(f"{verdict(ok)}  {name}")
    return 0 if all(checks.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
