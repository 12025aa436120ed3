"""A loopback HTTP endpoint standing in for a team's own tool backend (forward answers)."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Endpoint:
    """Paths: /ok (echoes the tool and arguments), /slow (answers after `slow` s), /fail (500),
    /notjson (plain text), /redirect (302). Records every request body it receives."""

    def __init__(self, slow: float = 2.0) -> None:
        self.received: list[dict] = []
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # the standard library's name for it
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])) or b"{}")
                endpoint.received.append({"path": self.path, "body": body, "host": self.headers["Host"]})
                if self.path == "/slow":
                    time.sleep(slow)
                status, text = {
                    "/ok": (200, json.dumps({"status": "shipped", "echo": body})),
                    "/slow": (200, json.dumps({"late": True})),
                    "/fail": (500, json.dumps({"error": "boom"})),
                    "/notjson": (200, "hello, not json"),
                    "/redirect": (302, ""),
                }.get(self.path, (404, "{}"))
                try:
                    self.send_response(status)
                    if status == 302:
                        self.send_header("Location", "http://127.0.0.1:9/elsewhere")
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(text.encode())))
                    self.end_headers()
                    self.wfile.write(text.encode())
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the studio gave up waiting, as it should

            def log_message(self, *_: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
