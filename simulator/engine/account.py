"""Organization (credits, tier, usage) and ephemeral uploads."""

from __future__ import annotations

import base64
import json
from typing import Any
from urllib.parse import quote

from ..catalog import MODEL, RUNWAY_URI_SCHEME
from ..errors import ApiError, not_found
from ..validation import invalid_field
from . import render
from .clip_tasks import looks_like_audio
from .core import SimulatorCore, new_id
from .records import Upload
from .times import DAY_SECONDS, MAX_USAGE_RANGE, day_range, iso, utc_day, utc_midnight

DEFAULT_USAGE_RANGE = 30 * DAY_SECONDS  # organization usage without dates: the last 30 days


class AccountOps(SimulatorCore):
    def organization(self) -> dict[str, Any]:
        with self._txn() as now:
            cfg = self._config
            return {
                "creditBalance": self.credit_balance,
                "tier": {
                    "maxMonthlyCreditSpend": cfg.max_monthly_credit_spend,
                    "models": {
                        MODEL: {
                            "maxConcurrentGenerations": cfg.concurrency,
                            "maxDailyGenerations": cfg.daily_limit,
                        }
                    },
                },
                "usage": {
                    "models": {MODEL: {"dailyGenerations": self.daily_creates.get(utc_day(now), 0)}}
                },
            }

    def organization_usage(self, start: float | None, before: float | None) -> dict[str, Any]:
        with self._txn() as now:
            start = start if start is not None else utc_midnight(now) - DEFAULT_USAGE_RANGE
            before = before if before is not None else start + DEFAULT_USAGE_RANGE
            if before <= start or before - start > MAX_USAGE_RANGE:
                raise invalid_field(
                    "body", "beforeDate", "beforeDate must be 1 to 90 days after startDate"
                )
            per_day: dict[str, dict[str, int]] = {}  # day -> model -> credits
            for charge in self.charges:
                if start <= charge.at < before:
                    models = per_day.setdefault(utc_day(charge.at), {})
                    models[charge.model] = models.get(charge.model, 0) + charge.amount
            results = [
                {
                    "date": d,
                    "usedCredits": [
                        {"amount": amount, "model": model}
                        for model, amount in sorted(per_day.get(d, {}).items())
                    ],
                }
                for d in day_range(start, before)
            ]
            used = sorted({model for models in per_day.values() for model in models})
            return {"models": used, "results": results}

    # ------------------------------------------------------------------ uploads

    def create_upload(self, filename: str, base: str) -> dict[str, Any]:
        with self._txn() as now:
            upload_id = new_id()
            expires = now + self._config.upload_ttl
            key = f"uploads/{upload_id}/{filename}"
            policy = base64.b64encode(
                json.dumps(
                    {
                        "expiration": iso(expires),
                        "conditions": [
                            {"key": key},
                            [
                                "content-length-range",
                                self._config.min_upload_bytes,
                                self._config.max_upload_bytes,
                            ],
                        ],
                    }
                ).encode()
            ).decode()
            self.uploads[upload_id] = Upload(
                id=upload_id,
                filename=filename,
                created_at=now,
                expires_at=expires,
                key=key,
                policy=policy,
            )
            self._dirty = True
            return {
                "runwayUri": f"{RUNWAY_URI_SCHEME}uploads/{upload_id}/{quote(filename)}",
                "uploadUrl": render.upload_url(base, upload_id),
                "fields": {"key": key, "policy": policy},
            }

    def receive_upload(
        self, upload_id: str, fields: dict[str, str], data: bytes, content_type: str | None
    ) -> None:
        """The S3-style multipart POST to ``uploadUrl`` (no Runway auth)."""
        with self._txn() as now:
            upload = self.uploads.get(upload_id)
            if upload is None:
                raise not_found("Upload", upload_id)
            if now >= upload.expires_at:
                raise ApiError(403, "Upload URL has expired")
            if fields.get("key") != upload.key or fields.get("policy") != upload.policy:
                raise ApiError(403, "Invalid according to Policy: key or policy field mismatch")
            cfg = self._config
            if not cfg.min_upload_bytes <= len(data) <= cfg.max_upload_bytes:
                raise ApiError(
                    400,
                    f"File size {len(data)} bytes is outside the allowed range "
                    f"{cfg.min_upload_bytes}-{cfg.max_upload_bytes} bytes",
                )
            upload.uploaded_at = now
            upload.size = len(data)
            upload.content_type = content_type
            upload.image = self._image_ref_from_bytes(data)
            if looks_like_audio(upload.filename, content_type):  # speech for avatar videos
                upload.audio_file = self._store_file(content_type or "audio/*", data)
            self._dirty = True
