"""Browser tests for components/static/call-controller.js (+ the real avatar-call.js bundle).

They assert what a user would notice: what the card says, which buttons it offers, what reached
the server, and that the heavy bundle is only downloaded once a call starts.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest

pytestmark = pytest.mark.browser

TRANSCRIPT = [
    {"role": "assistant", "content": "Welcome back, contestant!"},
    {"role": "user", "content": "Hi! What's today's game?"},
    {"role": "assistant", "content": "<b>Trivia</b> & riddles"},  # must show as text, not HTML
]


def base_config(stub, **overrides):
    cfg = {
        "avatarId": "game-host",
        "avatarName": "Game Host",
        "avatarImageUrl": "/static-test/avatar.svg",
        "sessionRoute": "/api/avatar/session",
        "eventsRoute": "/api/sessions/{id}/events",
        "statusRoute": "/api/calls/{requestId}",
        "bundleUrl": "/static/avatar-call.js",
        "cssUrl": "/static/avatar-call.css",
        "maxDuration": 300,
        "personality": "A cheerful quiz-show host.",
        "startScript": "Welcome back, contestant!",
        "warnBeforeEndSeconds": 30,
    }
    cfg.update(overrides)
    return cfg


def open_controller(page, stub, **overrides):
    page.page.goto(stub.url + "/")
    page.page.evaluate(
        "cfg => { window.call = StudioCallController.create(document.getElementById('root'), cfg); }",
        base_config(stub, **overrides),
    )
    return page.page


def state_of(pg) -> str:
    return pg.evaluate("document.getElementById('root').dataset.callState")


def wait_state(pg, state: str, timeout: float = 10_000):
    pg.wait_for_selector(f"#root[data-call-state='{state}']", timeout=timeout, state="attached")


def wait_phase(pg, state: str, words: str, button: str | None = None) -> None:
    """The card in `state`, saying `words` (and showing `button`), all at one moment."""
    pg.wait_for_function("""([state, words, button]) => {
      const root = document.getElementById('root');
      const shown = [...root.querySelectorAll('button')].some((b) => b.offsetParent && b.textContent.trim() === button);
      return root.dataset.callState === state && root.querySelector('.sc-status').innerText.includes(words)
        && (button === null || shown);
    }""", arg=[state, words, button], timeout=10_000)


def shown_transcript(pg):
    return pg.eval_on_selector_all(
        ".sc-transcript .sc-line",
        "els => els.map(li => ({who: li.querySelector('.sc-who').textContent, text: li.querySelector('.sc-text').textContent}))",
    )


def test_idle_card_does_not_download_the_bundle(page, stub):
    pg = open_controller(page, stub)
    assert state_of(pg) == "idle"
    assert pg.get_by_role("button", name="Start call").is_visible()
    assert "Ready to call Game Host" in pg.locator(".sc-status").inner_text()
    pg.wait_for_load_state("networkidle")
    scripts = [u for u in page.requests if u.endswith(".js")]
    assert scripts == [stub.url + "/static/call-controller.js"], scripts
    assert not page.fetched("avatar-call")
    assert pg.evaluate("typeof window.StudioAvatarCall") == "undefined"
    assert not pg.locator(".sc-guide").is_visible()  # 127.0.0.1 is a secure context

    pg.evaluate("window.call.destroy()")
    assert pg.evaluate("document.getElementById('root').childElementCount") == 0
    assert pg.evaluate("'callState' in document.getElementById('root').dataset") is False


def test_livekit_call_queues_then_hands_the_token_to_livekit(page, stub, wait_until):
    stub.state.session_delay = 2.0  # the POST is held: "queued" for 1 s, then "provisioning" for 1 s
    pg = open_controller(page, stub)
    pg.get_by_role("button", name="Start call").click()

    # Each phase lasts 1 s: state, words and button are read together, inside the page.
    wait_phase(pg, "queued", "Waiting for a free slot", button="Cancel")
    wait_phase(pg, "starting", "Starting the character")

    post = stub.state.session_posts[0]
    assert post["avatarId"] == "game-host"
    assert re.fullmatch(r"[0-9a-f-]{16,}", post["requestId"])
    assert post["personality"] == "A cheerful quiz-show host."
    assert post["startScript"] == "Welcome back, contestant!"
    assert post["maxDuration"] == 300
    assert set(stub.state.status_polls) == {post["requestId"]}

    # The real bundle loads, mounts AvatarCall with the credentials, LiveKit dials the stub.
    handshake = wait_until(lambda: stub.state.lk_handshakes, message="LiveKit handshake")[0]
    assert handshake["access_token"] == "tok_1_secret"
    assert "join_request" in handshake
    assert page.fetched("/static/avatar-call.js") and page.fetched("/static/avatar-call.css")

    wait_state(pg, "error")
    notice = pg.locator(".sc-notice").inner_text()
    assert notice.startswith("Could not reach the video server (")
    assert "invalid token (stub)" in notice
    assert pg.get_by_role("button", name="Start a new call").is_visible()
    errors = wait_until(lambda: [e for e in stub.state.events if e["event"] == "error"], message="error event")
    assert len(errors) == 1 and errors[0]["sessionId"] == "sess_1"
    assert "could not establish signal connection" in errors[0]["detail"]
    assert isinstance(errors[0]["at"], float)
    assert not [e for e in stub.state.events if e["event"] in ("connected", "ended")]
    # The secret token is never drawn into the page.
    assert "tok_1_secret" not in pg.content()


def test_error_is_plain_text_and_new_call_makes_a_new_session(page, stub, wait_until):
    stub.state.session_modes = ["rate_limited", "rate_limited"]
    pg = open_controller(page, stub)
    pg.get_by_role("button", name="Start call").click()
    wait_state(pg, "error")
    assert pg.locator(".sc-notice").inner_text() == "Too many calls right now. Try again in a minute."
    again = pg.get_by_role("button", name="Start a new call")
    assert again.is_visible()
    assert not page.fetched("avatar-call.js")  # nothing to connect to, so no bundle

    again.click()
    wait_until(lambda: len(stub.state.session_posts) == 2, message="second POST")
    wait_state(pg, "error")
    first, second = stub.state.session_posts
    assert first["requestId"] != second["requestId"]
    assert second["avatarId"] == "game-host"


def test_bundle_reports_a_failed_connect_exactly_once(page, stub, wait_until):
    """mount() straight from avatar-call.js: onEnd (sent first by the SDK) is dropped, onError once."""
    pg = page.page
    pg.clock.install()  # time flows as usual until the test jumps it forward
    pg.goto(stub.url + "/")
    pg.add_script_tag(url="/static/avatar-call.js")
    pg.evaluate(
        """url => {
          window.seen = {end: 0, errors: [], states: []};
          const el = document.getElementById('root');
          window.handle = StudioAvatarCall.mount(el, {
            credentials: {sessionId: 'sess_x', serverUrl: url, token: 'tok_direct', roomName: 'r'},
            avatarId: 'game-host', audio: true, video: false,
            onState: s => window.seen.states.push(s.session),
            onEnd: () => window.seen.end++,
            onError: e => window.seen.errors.push(String(e.message)),
          });
        }""",
        stub.url.replace("http://", "ws://") + "/lk",
    )
    assert pg.locator("#root [data-avatar-call][data-avatar-id='game-host']").count() == 1
    pg.wait_for_function("window.seen.errors.length > 0")
    # Fire every timer due in the next 2 s at once: a held onEnd (100 ms grace) that the error
    # failed to cancel, or a retry that reports a second error, would land now.
    pg.clock.run_for(2_000)
    seen = pg.evaluate("window.seen")
    assert seen["end"] == 0
    assert len(seen["errors"]) == 1 and "could not establish signal connection" in seen["errors"][0]
    assert "connecting" in seen["states"]
    assert stub.state.lk_handshakes[0]["access_token"] == "tok_direct"
    pg.evaluate("window.handle.unmount()")
    assert pg.locator("#root [data-avatar-call]").count() == 0


def test_livekit_callbacks_drive_the_card(page, stub, wait_until):
    """The controller side of the bundle contract, with a fake bundle standing in for LiveKit."""
    pg = open_controller(page, stub, bundleUrl="/fake/avatar-call-fake.js")
    pg.get_by_role("button", name="Start call").click()
    pg.wait_for_function("window.fakeBundleOptions")
    mounted = pg.evaluate("window.fakeBundleLog[0]")
    assert mounted["credentials"]["token"] == "tok_1_secret"
    assert mounted["audio"] is True and mounted["video"] is False
    assert state_of(pg) == "connecting"

    pg.evaluate(
        """() => {
          const o = window.fakeBundleOptions;
          o.onState({session: 'active', avatar: 'waiting', micEnabled: false, cameraEnabled: false,
                     micError: {name: 'NotAllowedError', message: 'Permission denied'}});
          o.onFirstFrame();
          o.onTranscript([{id: 'a', role: 'assistant', content: 'Hello there!'},
                          {id: 'b', role: 'user', content: 'Hi.'}]);
          o.onClientEvent({type: 'client_event', tool: 'show_score', args: {points: 3}});
        }"""
    )
    wait_state(pg, "live")
    assert pg.locator(".sc-timer").inner_text() in ("05:00", "04:59")
    assert "allow the microphone" in pg.locator(".sc-guide").inner_text()
    assert pg.get_by_role("button", name="Mic on").is_visible()
    assert pg.get_by_role("button", name="Camera on").is_visible()  # camera off by default
    assert shown_transcript(pg) == [
        {"who": "Game Host", "text": "Hello there!"},
        {"who": "You", "text": "Hi."},
    ]
    assert pg.locator(".sc-events").inner_text().replace("\n", " ") == 'show_score {"points":3}'

    pg.get_by_role("button", name="Mic on").click()
    pg.get_by_role("button", name="Camera on").click()
    pg.get_by_role("button", name="End call").click()
    wait_state(pg, "ended")
    ops = [e["op"] for e in pg.evaluate("window.fakeBundleLog")]
    assert ops == ["mount", "setMic", "setCamera", "end", "unmount"]
    assert pg.evaluate("window.fakeBundleLog[1].on") is True

    wait_until(lambda: any(e["event"] == "ended" for e in stub.state.events), message="ended event")
    names = [e["event"] for e in stub.state.events]
    assert names == ["connected", "first_frame", "ended"]  # onEnd twice, reported once
    ended = stub.state.events[-1]
    assert ended["transcript"] == [
        {"role": "assistant", "content": "Hello there!"},
        {"role": "user", "content": "Hi."},
    ]
    assert pg.get_by_role("button", name="Start a new call").is_visible()


def go_live(pg, transcript=()):
    """What the real bundle reports once LiveKit connects: active, first frame, the transcript."""
    pg.wait_for_function("window.fakeBundleOptions")
    pg.evaluate(
        """lines => {
          const o = window.fakeBundleOptions;
          o.onState({session: 'active', avatar: 'ready', micEnabled: true, cameraEnabled: false});
          o.onFirstFrame();
          if (lines.length) o.onTranscript(lines.map((l, i) => ({id: String(i), ...l})));
        }""",
        list(transcript),
    )
    wait_state(pg, "live")


def test_countdown_warns_before_the_limit_and_ends_the_call(page, stub, wait_until):
    pg = page.page
    t0 = datetime(2030, 1, 1, 12, 0, 0)
    pg.clock.install(time=t0)
    pg = open_controller(page, stub, bundleUrl="/fake/avatar-call-fake.js", maxDuration=31)
    pg.clock.pause_at(t0 + timedelta(minutes=1))  # time moves only when the test says so
    pg.get_by_role("button", name="Start call").click()
    go_live(pg, TRANSCRIPT[:1])
    assert pg.locator(".sc-timer").inner_text() == "00:31"
    assert "sc-warning" not in (pg.locator(".sc-timer").get_attribute("class") or "")

    pg.clock.run_for(1200)
    assert pg.locator(".sc-timer").inner_text() == "Call ends in 30 s"
    assert "sc-warning" in pg.locator(".sc-timer").get_attribute("class")

    pg.clock.run_for(31_000)
    wait_state(pg, "ended")
    assert "time limit" in pg.locator(".sc-status").inner_text()
    assert [e["op"] for e in pg.evaluate("window.fakeBundleLog")] == ["mount", "end", "unmount"]
    ended = wait_until(lambda: [e for e in stub.state.events if e["event"] == "ended"], message="ended")
    assert ended[0]["transcript"] == [{"role": "assistant", "content": "Welcome back, contestant!"}]


def test_offline_card_says_it_as_text_over_the_data_channel(page, stub, wait_until):
    pg = open_controller(page, stub, bundleUrl="/fake/avatar-call-fake.js", offline=True,
                         avatarName="Game <Host>")
    assert pg.locator(".sc-badge").inner_text().lower() == "simulated offline"
    assert not pg.locator(".sc-say").is_visible()  # only during a call
    pg.get_by_role("button", name="Start call").click()
    go_live(pg, TRANSCRIPT)
    lines = shown_transcript(pg)
    assert [line["text"] for line in lines] == [t["content"] for t in TRANSCRIPT]
    assert lines[0]["who"] == "Game <Host>" and lines[1]["who"] == "You"
    assert pg.locator(".sc-transcript b").count() == 0  # escaped, shown as text
    assert "Replies are simulated offline" in pg.locator(".sc-say-note").inner_text()

    pg.get_by_label("Say it as text").fill("  What's the prize?  ")
    pg.get_by_role("button", name="Send").click()
    sent = wait_until(lambda: [e for e in pg.evaluate("window.fakeBundleLog") if e["op"] == "sendData"],
                      message="sendData")
    assert sent == [{"op": "sendData", "message": {"type": "user_text", "text": "What's the prize?"},
                     "options": {"topic": "simulator.user_text"}}]
    assert pg.get_by_label("Say it as text").input_value() == ""
    pg.get_by_label("Say it as text").press("Enter")  # nothing typed: nothing sent
    assert len([e for e in pg.evaluate("window.fakeBundleLog") if e["op"] == "sendData"]) == 1


def test_a_live_call_offers_no_text_box(page, stub):
    pg = open_controller(page, stub, bundleUrl="/fake/avatar-call-fake.js")
    assert not pg.locator(".sc-badge").is_visible()
    pg.get_by_role("button", name="Start call").click()
    go_live(pg)
    assert not pg.locator(".sc-say").is_visible()


def test_insecure_page_explains_the_microphone_needs_https(page, stub):
    page.page.add_init_script("Object.defineProperty(window, 'isSecureContext', {get: () => false})")
    pg = open_controller(page, stub)
    guide = pg.locator(".sc-guide")
    assert guide.is_visible()
    assert "https://" in guide.inner_text() and "localhost" in guide.inner_text()


def test_end_while_connecting_hangs_up_cleanly(page, stub, wait_until):
    """LiveKit accepts the socket but never answers; End must still end the call, without an error."""
    sockets = []
    page.page.route_web_socket("**/lk/**", lambda ws: sockets.append(ws.url))  # open, silent
    page.page.clock.install()  # time flows as usual until the test jumps it forward
    pg = open_controller(page, stub)
    pg.get_by_role("button", name="Start call").click()
    wait_state(pg, "connecting")
    wait_until(lambda: sockets, message="LiveKit socket")
    assert "access_token=tok_1_secret" in sockets[0]
    pg.get_by_role("button", name="End call").click()
    wait_state(pg, "ended", timeout=5000)
    # Jump past LiveKit's 15 s signal timeout and the controller's 2.5 s end timeout: an aborted
    # connect that still reported an error would flip the card now.
    pg.clock.run_for(20_000)
    assert state_of(pg) == "ended"
    assert pg.locator("#root [data-avatar-call]").count() == 0  # SDK unmounted
    assert [e["event"] for e in stub.state.events] == ["ended"]


def test_destroy_mid_call_tells_the_server_and_stops(page, stub, wait_until):
    page.page.clock.install()  # time flows as usual until the test jumps it forward
    pg = open_controller(page, stub, bundleUrl="/fake/avatar-call-fake.js")
    pg.get_by_role("button", name="Start call").click()
    go_live(pg, TRANSCRIPT)
    pg.evaluate("window.call.destroy()")
    assert pg.evaluate("document.getElementById('root').innerHTML") == ""
    ended = wait_until(lambda: [e for e in stub.state.events if e["event"] == "ended"], message="ended")
    assert ended[0]["transcript"] == TRANSCRIPT  # what was on screen when it closed
    assert [e["op"] for e in pg.evaluate("window.fakeBundleLog")] == ["mount", "unmount"]
    requests_made = len(page.requests)
    # Fire every timer due in the next 5 s at once: a tick (250 ms) or a status poll (500 ms)
    # that destroy() left running would act now.
    pg.clock.run_for(5_000)
    assert pg.evaluate("document.getElementById('root').innerHTML") == ""
    assert page.requests[requests_made:] == []
    assert [e["event"] for e in stub.state.events] == ["connected", "first_frame", "ended"]


def test_sdk_errors_are_reworded_in_plain_words(page, stub):
    pg = open_controller(page, stub)
    samples = {
        "could not establish signal connection: Failed to fetch": "Could not reach the video server (Failed to fetch).",
        "no livekit url provided": "The server did not say which video server to use.",
        "could not establish signal connection: signal connection timed out while waiting":
            "Could not reach the video server (signal connection timed out while waiting).",
        "Failed to connect: 500 {}": "The Studio server refused the call (HTTP 500).",
        "could not establish signal connection: invalid authorization token: go-jose/go-jose/jwt: "
        "validation failed, token is expired (exp)":
            "These call credentials have expired or were already used. Start a new call.",
        "could not establish signal connection: invalid authorization token: this one-time token "
        "has already been used": "These call credentials have expired or were already used. Start a new call.",
        "could not establish signal connection: requested room does not exist":
            "This call has already ended, or nobody joined it in time. Start a new call.",
        "Something odd": "Something odd",
    }
    got = pg.evaluate("xs => xs.map(x => StudioCallController.plainError(x))", list(samples))
    assert got == list(samples.values())
