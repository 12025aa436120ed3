"""The seed-style baseline: Runway's own FastAPI sample pattern, for the benchmarks to beat.

The sync client and a `time.sleep(1)` poll loop inside an async handler, no guards, no ledger.

    python bench/seed_app.py --port 9100 --base-url http://127.0.0.1:8900
"""

from __future__ import annotations

import argparse
import time

import runwayml
import uvicorn
from fastapi import FastAPI

FAKE_KEY = "key_" + "0123456789abcdef" * 8


def build(base_url: str) -> FastAPI:
    client = runwayml.RunwayML(api_key=FAKE_KEY, base_url=base_url)
    app = FastAPI()

    @app.post("/api/avatar/session")
    async def session(body: dict) -> dict:  # blocking calls inside an async handler, as in the sample
        created = client.realtime_sessions.create(
            model="gwm1_avatars", avatar={"type": "runway-preset", "preset_id": body["avatarId"]})
        while True:
            state = client.realtime_sessions.retrieve(created.id)
            if state.status == "READY":
                break
            time.sleep(1)
        creds = client.post(f"/v1/realtime_sessions/{created.id}/consume", cast_to=object, body={},
                            options={"headers": {"Authorization": f"Bearer {state.session_key}"}})
        return {"sessionId": created.id, "serverUrl": creds["url"], "token": creds["token"],
                "roomName": creds["roomName"]}

    @app.get("/healthz")
    async def health() -> dict:
        return {"status": "ok"}

    return app


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--base-url", required=True)
    args = parser.parse_args()
    uvicorn.run(build(args.base_url), host="127.0.0.1", port=args.port, log_level="warning")
