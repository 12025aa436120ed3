"""The session broker: create → poll → consume → credentials for the browser.

Polling is adaptive: one look straight after create, then a few quick looks around the time
provisioning usually takes (learned from recent sessions), backing off after that; a session
waiting for a free slot (`queued` after the first look) is polled slowly. Whatever ends the wait early (deadline, the caller going away, a
failure) cancels the session upstream so nothing is left queued or billed.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import re
import statistics
import uuid
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from studio.calls.guards import Guards
from studio.calls.ledger import Counts, DuplicateRequest, Ledger, LeftLine
from studio.clock import SystemClock
from studio.errors import StudioError
from studio.runway import Credentials, RunwayGateway, SessionSnapshot
from studio.vocabulary import FAILURE_WORDS, PRESET_AVATARS, TERMINAL, WAITING

# Polling. Runway marks nearly every new session `queued` on its first look and provisions it in
# ~0.7–2 s, so an immediate look tells nothing. The broker instead looks in 50 ms steps across the
# span in which recent sessions turned READY (learned, below), then backs off. Offsets are
# seconds since provisioning began.
UNLEARNED_SPAN = (0.5, 2.0)  # before three sessions have been seen: looked at every 0.1 s
UNLEARNED_STEP = 0.1
CLUSTER_STEP = 0.05
BACKOFF_STEPS: tuple[float, ...] = (0.25,) * 4 + (0.5,) * 4 + (1.0,) * 4
POLL_CEILING = 2.0
QUEUED_INTERVAL = 1.0
# A caller in line for one of the studio's own slots looks this often (and so keeps its place).
LINE_INTERVAL = 0.5

log = logging.getLogger(__name__)

REQUEST_ID = re.compile(r"^[A-Za-z0-9_-]{8,64}$")



@dataclass(frozen=True)
class SessionRequest:
    avatar_id: str
    max_duration: int
    personality: str | None = None
    start_script: str | None = None
    request_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    # Tools of the character switched off for this call, by name; ALL_TOOLS switches off every one.
    tools_off: tuple[str, ...] = ()
    # When every call slot of the studio is in use: wait in line for one instead of a refusal.
    wait: bool = False

    def overrides(self) -> dict[str, object]:
        chosen = {"personality": self.personality, "startScript": self.start_script,
                  "toolsOff": list(self.tools_off)}
        return {k: v for k, v in chosen.items() if v} | {"maxDuration": self.max_duration}


ALL_TOOLS = "*"
# Hooks the actions give the broker: the tools a request's session gets (wire-shaped), and
# what to do once its session is READY (request id, session id).
ToolsFor = Callable[[SessionRequest], list[dict[str, Any]]]
OnReady = Callable[[str, str], None]


class ProvisioningEstimate:
    """Recent provisioning times, so polls cluster where sessions actually turn READY."""

    def __init__(self, window: int = 20) -> None:
        self._samples: deque[float] = deque(maxlen=window)

    def span(self) -> tuple[float, float, float]:
        """Where READY usually happens (10th to 90th percentile of recent sessions), and the step."""
        if len(self._samples) < 3:
            return (*UNLEARNED_SPAN, UNLEARNED_STEP)
        cuts = statistics.quantiles(self._samples, n=10, method="inclusive")
        return cuts[0], cuts[-1], CLUSTER_STEP

    def observe(self, last_not_ready: float | None, first_ready: float) -> None:
        """READY happened after the last NOT_READY look and by the first READY look."""
        if last_not_ready is not None and first_ready - last_not_ready <= 2 * CLUSTER_STEP:
            sample = (last_not_ready + first_ready) / 2
        else:  # no close look before: assume just before, and the next cluster starts earlier
            sample = first_ready - CLUSTER_STEP
        self._samples.append(min(30.0, max(0.0, sample)))


def poll_offsets(span: tuple[float, float, float]) -> Iterator[float]:
    """When to look, in seconds since provisioning began: every `step` across the span, then less often."""
    low, high, step = span
    offset = max(step, low - step / 2)
    while offset < high + step:
        yield offset
        offset += step
    for step in itertools.chain(BACKOFF_STEPS, itertools.repeat(POLL_CEILING)):
        yield offset
        offset += step


def _failure_message(snapshot: SessionSnapshot) -> str:
    if snapshot.failure_code in FAILURE_WORDS:
        return f"{FAILURE_WORDS[snapshot.failure_code]}."
    return f"Runway could not start the session: {snapshot.failure or 'no reason given'}."


class SessionBroker:
    def __init__(
        self,
        gateway: RunwayGateway,
        ledger: Ledger,
        guards: Guards,
        clock: SystemClock,
        *,
        mode: str,
        deadline: float,
        tools_for: ToolsFor | None = None,
        on_ready: OnReady | None = None,
    ) -> None:
        self.gateway, self.ledger, self.guards, self.clock = gateway, ledger, guards, clock
        self.mode, self.deadline = mode, deadline
        self.tools_for, self.on_ready = tools_for, on_ready
        self.in_flight: set[str] = set()  # request ids this broker is polling (the refresher skips them)
        self.provisioning = ProvisioningEstimate()

    async def start(self, request: SessionRequest, client_id: str) -> Credentials:
        """Run a session request to credentials, or raise a `StudioError` with the ledger updated."""
        self.guards.check_avatar(request.avatar_id)
        # Whatever needs the network comes first: claiming the slot must not span an await.
        await self._check_avatar_ready(request.avatar_id)
        rid = request.request_id
        await self._claim_slot(request, client_id)
        self.in_flight.add(rid)
        session_id: str | None = None
        try:
            tools = self.tools_for(request) if self.tools_for else []
            session_id = await self.gateway.create_session(
                request.avatar_id, max_duration=request.max_duration,
                personality=request.personality, start_script=request.start_script,
                **({"tools": tools} if tools else {}),
            )
            if not self.ledger.attach_session(rid, session_id, self.clock.now()):
                raise StudioError("session_cancelled", "The call was cancelled before it started.", 409)
            ready = await self._wait_until_ready(rid, session_id)
            if self.on_ready:
                self.on_ready(rid, session_id)
            credentials = await self._consume(rid, ready)
            self.ledger.record_consumed(rid, self.clock.now())
            return credentials
        except asyncio.CancelledError:
            await asyncio.shield(self._abandon(rid, session_id, StudioError(
                "client_gone", "The caller left before the session was ready.", 499)))
            raise
        except StudioError as error:
            await self._abandon(rid, session_id, error)
            raise
        except Exception as error:  # an answer nobody planned for must not keep the slot or the session
            log.exception("session request %s failed unexpectedly", rid)
            failure = StudioError("upstream_invalid", "Runway answered in a way the studio did not expect, "
                                  "so the call was stopped. Try again.", 502)
            await self._abandon(rid, session_id, failure)
            raise failure from error
        finally:
            self.in_flight.discard(rid)

    async def cancel(self, any_id: str) -> dict:
        """Cancel a session the studio started (the Sessions tab's Cancel, the browser's hang-up)."""
        row = self.ledger.get(any_id)
        if row is None:
            raise StudioError("not_found", "The studio has no session with that id.", 404)
        if row["status"] in TERMINAL:
            return row
        rid, now = row["request_id"], self.clock.now()
        if row["status"] == WAITING and self.ledger.leave_line(
                rid, "line_cancelled", "Cancelled from the studio while it waited for a free slot.", now):
            return self.ledger.get(rid) or row
        if not row["session_id"]:  # still being made: the broker cancels it as soon as it exists
            self.ledger.request_cancel(rid, "cancelled", "Cancelled from the studio.", now)
            return self.ledger.get(rid) or row
        self.ledger.note_cancel(rid, "cancelled", "Cancelled from the studio.", now)
        try:
            await self.gateway.cancel_session(row["session_id"])
        except StudioError as error:
            self.ledger.request_cancel(rid, "cancelled", "Cancelled from the studio.", now)
            raise StudioError("cancel_pending", "Runway did not confirm the cancel "
                              f"({error.message}); the studio keeps trying.", 502) from error
        self.ledger.record_status(rid, "CANCELLED", now, failure="Cancelled from the studio.",
                                  failure_code="cancelled")
        return self.ledger.get(rid) or row

    async def retry_cancel(self, row: dict) -> bool:
        """Cancel upstream a session whose cancel Runway did not confirm; True once it is ended."""
        try:
            await self.gateway.cancel_session(row["session_id"])
        except StudioError:
            return False
        self.ledger.fail_request(row["request_id"], row["failure_code"] or "cancelled",
                                 row["failure"] or "Cancelled from the studio.", self.clock.now())
        return True

    async def _claim_slot(self, request: SessionRequest, client_id: str) -> None:
        """Claim one of the studio's call slots, waiting in line for it when the caller asked to.

        A refusal is on record (REFUSED, with why) before it is raised. A caller in line looks
        every LINE_INTERVAL; going away (the request is cancelled), the deadline passing or a
        cancel from the studio gives up its place.
        """
        rid = request.request_id

        def admit(counts: Counts) -> None:
            self.guards.check(client_id, counts)

        try:
            place = self.ledger.open_request(
                rid, avatar_id=request.avatar_id, client_id=client_id, mode=self.mode,
                max_duration=request.max_duration, overrides=request.overrides(), at=self.clock.now(),
                admit=admit, wait=request.wait,
            )
        except DuplicateRequest:
            error = StudioError("duplicate_request", "That requestId was used already; make a new one.", 409)
            self.ledger.record_refusal(avatar_id=request.avatar_id, client_id=client_id, mode=self.mode,
                                       max_duration=request.max_duration, error=error, at=self.clock.now())
            raise error from None
        deadline = self.clock.now() + self.guards.settings.slot_wait_deadline
        try:
            while place is not None:
                if self.clock.now() >= deadline:
                    raise StudioError("slot_wait_timeout", "No call slot became free within "
                                      f"{self.guards.settings.slot_wait_deadline:g} s. Try again later.", 429)
                await self.clock.sleep(LINE_INTERVAL)
                place = self.ledger.wait_turn(rid, self.clock.now(), admit)
        except LeftLine as left:
            raise StudioError(left.code or "line_cancelled", left.message or "The wait was cancelled.", 409) from None
        except StudioError as error:
            self.ledger.leave_line(rid, error.code, error.message, self.clock.now())
            raise
        except asyncio.CancelledError:
            self.ledger.leave_line(rid, "left_line", "The caller left while waiting for a free slot.",
                                   self.clock.now())
            raise

    async def _check_avatar_ready(self, avatar_id: str) -> None:
        """Refuse a custom avatar that cannot take calls before a session is paid for."""
        if avatar_id in PRESET_AVATARS:
            return
        try:
            avatar = await self.gateway.get_avatar(avatar_id)
        except StudioError as error:
            if error.code == "not_found":
                raise StudioError("avatar_not_found", "There is no character with that id.", 404) from error
            raise
        status = avatar.get("status")
        if status == "FAILED":
            reason = avatar.get("failure_reason") or "processing failed"
            raise StudioError("avatar_failed", f"This character cannot take calls: {reason}", 409)
        if status != "READY":  # PROCESSING, or a state this studio does not know: not callable yet
            raise StudioError("avatar_not_ready", "This character is still being processed. Try again in a moment.", 409)

    async def _wait_until_ready(self, rid: str, session_id: str) -> SessionSnapshot:
        started = began = self.clock.now()  # `began`: when provisioning (re)started, at the earliest
        offsets = poll_offsets(self.provisioning.span())
        next_at = began + next(offsets)
        last_not_ready: float | None = None
        looks, waited_for_slot, in_queue = 0, False, False
        while True:
            if next_at - started > self.deadline:
                raise StudioError(
                    "provisioning_timeout",
                    f"The session was not ready within {self.deadline:g} s"
                    + (" (still waiting for a free slot)." if in_queue else "."),
                    504,
                )
            await self.clock.sleep(max(0.0, next_at - self.clock.now()))
            snapshot = await self.gateway.retrieve_session(session_id)
            now, looks = self.clock.now(), looks + 1
            # Runway marks nearly every session queued on its first look; later it means "no slot".
            in_queue = snapshot.queued and looks > 1
            self.ledger.record_status(rid, snapshot.status, now, queued=in_queue,
                                      duration=snapshot.duration, failure=snapshot.failure,
                                      failure_code=snapshot.failure_code)
            if snapshot.status == "READY":
                if not waited_for_slot:  # a wait for a slot says nothing about provisioning time
                    self.provisioning.observe(last_not_ready, now - began)
                return snapshot
            if snapshot.terminal:
                raise _ended_early(snapshot)
            if in_queue:
                waited_for_slot, began = True, now
                offsets = poll_offsets(self.provisioning.span())
                next_at = now + QUEUED_INTERVAL
                continue
            last_not_ready = now - began
            next_at = _next_look(offsets, began, now)

    async def _consume(self, rid: str, ready: SessionSnapshot) -> Credentials:
        if not ready.session_key:
            raise StudioError("consume_failed", "Runway reported the session ready without a key.", 502)
        try:
            return await self.gateway.consume(ready.id, ready.session_key, ready.expires_at)
        except StudioError as error:
            raise StudioError(
                "consume_failed",
                f"Could not collect the call credentials from Runway: {error.message}",
                error.status if error.status >= 500 else 502,
            ) from error

    async def _abandon(self, rid: str, session_id: str | None, error: StudioError) -> None:
        """Cancel upstream if the session may still be alive, then record why it ended.

        A cancel Runway does not confirm leaves the row open as "cancel pending": it still holds
        its slot, and the refresher retries the cancel until the session is over.
        """
        row = self.ledger.get(rid)
        alive = row is not None and row["status"] not in TERMINAL
        if session_id and alive:
            try:
                await self.gateway.cancel_session(session_id)
            except Exception:  # noqa: BLE001 - whatever went wrong, the refresher retries
                log.warning("cancel of session %s not confirmed; the refresher retries it", session_id)
                self.ledger.request_cancel(rid, error.code, error.message, self.clock.now())
                return
        self.ledger.fail_request(rid, error.code, error.message, self.clock.now())


def _next_look(offsets: Iterator[float], began: float, now: float) -> float:
    """The first planned look still ahead of `now`."""
    for offset in offsets:
        if began + offset > now:
            return began + offset
    raise AssertionError("poll_offsets never ends")


def _ended_early(snapshot: SessionSnapshot) -> StudioError:
    if snapshot.status == "FAILED":
        return StudioError("session_failed", _failure_message(snapshot), 502)
    if snapshot.status == "CANCELLED":
        return StudioError("session_cancelled", "The session was cancelled before it was ready.", 409)
    return StudioError("session_ended", "The session ended before the call could start.", 409)
