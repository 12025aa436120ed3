/* Character Studio: the Call tab controller (plain ES2020, served as-is, no build step).
 *
 *   const call = window.StudioCallController.create(rootElement, config);
 *   call.start(overrides?)  // -> Promise; POST sessionRoute, then connect through the LiveKit bundle
 *   call.end()              // hang up (the SDK sends END_CALL)
 *   call.destroy()          // unmount, cancel timers and polling, empty the root
 *   call.state              // 'idle' | 'requesting' | 'waiting' | 'queued' | 'starting' | 'connecting' | 'live' | 'ended' | 'error'
 *
 * The controller draws the whole call card inside `root` and mirrors its state in
 * root.dataset.callState. The LiveKit bundle (avatar-call.js/.css) is only fetched when a call
 * actually starts. All text goes into the DOM through textContent.
 *
 * config (see DEFAULTS below): avatarId, avatarName, avatarImageUrl, sessionRoute, eventsRoute
 * ("{id}" = session id), statusRoute ("{requestId}"), bundleUrl, cssUrl, maxDuration (s),
 * personality?, startScript?, toolsOff? (tool names this call goes without), warnBeforeEndSeconds, offline (the simulator's room: a "Say it as
 * text" box sends typed words over the data channel, and the card says replies are simulated),
 * and optionally roomOptions (LiveKit RoomOptions passed to the SDK) and
 * onStateChange(state, {sessionId, requestId, error, code}) for the host component.
 *
 * Server contract: POST sessionRoute {avatarId, requestId, personality?, startScript?, maxDuration?,
 * wait?, toolsOff?} -> 200 {sessionId, serverUrl, token, roomName, expiresAt?} | 4xx/5xx {error, code}; with
 * wait, a caller refused for want of a free slot (code studio_busy) waits in the studio's line.
 * GET statusRoute -> {status, queued, place?, ended?, reason?, error?, code?}, polled from the
 * request until the call ends: it shows the place in line, and ends the card when the session
 * ends elsewhere (cancelled from the studio, failed upstream, the time limit, another window).
 * POST eventsRoute {event, at, detail?, transcript?} with event in connected | first_frame |
 * ended | error.
 */
(function () {
  'use strict';

  const DEFAULTS = {
    avatarId: '',
    avatarName: '',
    avatarImageUrl: '',
    sessionRoute: '/api/avatar/session',
    eventsRoute: '/api/sessions/{id}/events',
    statusRoute: '/api/calls/{requestId}',
    bundleUrl: '',
    cssUrl: '',
    maxDuration: 300,
    personality: undefined,
    startScript: undefined,
    warnBeforeEndSeconds: 30,
    offline: false,
    roomOptions: undefined,
    onStateChange: undefined,
  };

  const STATUS_TEXT = {
    idle: 'Ready to call',
    requesting: 'Requesting a session…',
    waiting: 'Waiting for a free slot…',
    queued: 'Waiting for a free slot…',
    starting: 'Starting the character…',
    connecting: 'Connecting…',
    live: 'Live',
    ended: 'Call ended',
    error: 'The call could not continue',
  };

  const POLL_MS = 500;
  // Once the call is set up, how often the card asks the studio how the session stands.
  const FOLLOW_MS = 750;
  const BUSY_STATES = ['requesting', 'waiting', 'queued', 'starting'];
  const TICK_MS = 250;
  const MAX_EVENTS_SHOWN = 50;
  const END_TIMEOUT_MS = 2500;
  // Typed words for the simulator's character (simulator/room/data.py).
  const USER_TEXT_TOPIC = 'simulator.user_text';
  const MAX_TYPED = 2000;

  // ---- small helpers ------------------------------------------------------------------------

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function button(label, className, onClick) {
    const b = el('button', 'sc-btn ' + className, label);
    b.type = 'button';
    b.addEventListener('click', onClick);
    return b;
  }

  function fillRoute(route, values) {
    return String(route).replace(/\{(\w+)\}/g, (m, key) =>
      values[key] === undefined ? m : encodeURIComponent(values[key]));
  }

  function randomId() {
    if (window.crypto && typeof window.crypto.randomUUID === 'function') return window.crypto.randomUUID();
    const bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
  }

  function ordinal(n) {
    const tens = n % 100;
    const suffix = tens >= 11 && tens <= 13 ? 'th' : ({ 1: 'st', 2: 'nd', 3: 'rd' })[n % 10] || 'th';
    return n + suffix;
  }

  function mmss(seconds) {
    const s = Math.max(0, Math.ceil(seconds));
    return String(Math.floor(s / 60)).padStart(2, '0') + ':' + String(s % 60).padStart(2, '0');
  }

  function postJson(url, body, extra) {
    return fetch(url, Object.assign({
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
      credentials: 'same-origin',
    }, extra || {}));
  }

  async function readJson(response) {
    try {
      return await response.json();
    } catch (e) {
      return null;
    }
  }

  // Turn SDK / LiveKit / HTTP error texts into something a person can act on.
  function plainError(message) {
    const text = String(message || '').trim();
    if (/token is expired|already been used/i.test(text)) {
      return 'These call credentials have expired or were already used. Start a new call.';
    }
    if (/requested room does not exist/i.test(text)) {
      return 'This call has already ended, or nobody joined it in time. Start a new call.';
    }
    let m = /could not establish signal connection:?\s*(.*)$/i.exec(text);
    if (m) return 'Could not reach the video server' + (m[1] ? ' (' + m[1] + ')' : '') + '.';
    if (/no livekit url provided/i.test(text)) return 'The server did not say which video server to use.';
    if (/timed out|timeout/i.test(text)) return 'The video server did not answer in time.';
    m = /^Failed to connect:\s*(\d+)/i.exec(text);
    if (m) return 'The Studio server refused the call (HTTP ' + m[1] + ').';
    if (/failed to fetch|networkerror|load failed/i.test(text)) return 'Could not reach the server. Check your connection and try again.';
    if (/permission|notallowed/i.test(text)) return 'The browser blocked the microphone or camera.';
    return text || 'Something went wrong.';
  }

  function micAdvice(err) {
    const name = (err && err.name) || '';
    if (name === 'NotFoundError' || name === 'OverconstrainedError') {
      return 'No microphone was found. Plug one in, then press "Mic on" to try again.';
    }
    if (name === 'NotReadableError' || name === 'AbortError') {
      return 'Your microphone is busy in another app. Close that app, then press "Mic on" to try again.';
    }
    return 'The microphone is blocked. Click the icon at the left of the address bar, allow the ' +
      'microphone for this site, then press "Mic on" to try again.';
  }

  // One <script>/<link> per URL per page, shared by every controller.
  const assetLoads = new Map();

  function loadScript(url) {
    if (!assetLoads.has(url)) {
      assetLoads.set(url, new Promise((resolve, reject) => {
        const s = document.createElement('script');
        s.src = url;
        s.async = true;
        s.dataset.studioCall = 'bundle';
        s.onload = () => resolve();
        s.onerror = () => {
          assetLoads.delete(url);
          s.remove();
          reject(new Error('Could not load the call component (' + url + ').'));
        };
        document.head.appendChild(s);
      }));
    }
    return assetLoads.get(url);
  }

  function loadCss(url) {
    if (!url || document.querySelector('link[data-studio-call-css="' + CSS.escape(url) + '"]')) return;
    const link = document.createElement('link');
    link.rel = 'stylesheet';
    link.href = url;
    link.dataset.studioCallCss = url;
    document.head.appendChild(link);
  }

  // ---- the controller -----------------------------------------------------------------------

  class CallController {
    constructor(root, config) {
      if (!root) throw new Error('StudioCallController.create needs a root element');
      this.root = root;
      this.config = Object.assign({}, DEFAULTS, config || {});
      this.state = 'idle';
      this.generation = 0; // bumps on every start/destroy; stale async work checks it
      this.call = null; // per-call data (see resetCall)
      this.timers = new Set();
      this.destroyed = false;
      this.onPageHide = () => this.hangUpQuietly('(the page was closed)');
      window.addEventListener('pagehide', this.onPageHide);
      this.buildDom();
      this.setState('idle');
    }

    // -- DOM ------------------------------------------------------------------------------------

    buildDom() {
      const c = this.config;
      const ui = {};
      ui.card = el('div', 'studio-call');
      ui.card.setAttribute('role', 'region');
      ui.card.setAttribute('aria-label', 'Call with ' + (c.avatarName || 'the character'));

      const head = el('div', 'sc-head');
      ui.name = el('span', 'sc-name', c.avatarName || c.avatarId || 'Character');
      ui.badge = el('span', 'sc-badge', 'Simulated offline');
      ui.timer = el('span', 'sc-timer', '');
      ui.timer.setAttribute('aria-label', 'Time left');
      head.append(ui.name, ui.badge, ui.timer);

      const body = el('div', 'sc-body');
      ui.stage = el('div', 'sc-stage');
      ui.poster = el('div', 'sc-poster');
      ui.posterImg = el('img', 'sc-poster-img');
      ui.posterImg.alt = c.avatarName || 'Character';
      ui.posterImg.decoding = 'async';
      ui.posterInitial = el('div', 'sc-poster-initial', (c.avatarName || c.avatarId || '?').charAt(0).toUpperCase());
      ui.poster.append(ui.posterImg, ui.posterInitial);
      ui.video = el('div', 'sc-video');
      ui.overlay = el('div', 'sc-overlay');
      ui.spinner = el('div', 'sc-spinner');
      ui.spinner.setAttribute('aria-hidden', 'true');
      ui.overlayText = el('div', 'sc-overlay-text', '');
      ui.overlay.append(ui.spinner, ui.overlayText);
      ui.stage.append(ui.poster, ui.video, ui.overlay);

      const side = el('aside', 'sc-side');
      side.append(el('div', 'sc-side-title', 'Transcript'));
      ui.transcript = el('ol', 'sc-transcript');
      ui.transcript.setAttribute('aria-live', 'polite');
      ui.transcriptEmpty = el('div', 'sc-empty', 'The conversation will appear here.');
      ui.eventsTitle = el('div', 'sc-side-title sc-events-title', 'Client events');
      ui.events = el('ul', 'sc-events');
      side.append(ui.transcriptEmpty, ui.transcript, ui.eventsTitle, ui.events);
      body.append(ui.stage, side);

      ui.status = el('div', 'sc-status', '');
      ui.status.setAttribute('role', 'status');
      ui.notice = el('div', 'sc-notice', '');
      ui.notice.setAttribute('role', 'alert');
      ui.guide = el('div', 'sc-guide', '');
      ui.say = this.buildSayBox();

      const controls = el('div', 'sc-controls');
      ui.start = button('Start call', 'sc-primary sc-start', () => this.start());
      ui.cancel = button('Cancel', 'sc-cancel', () => this.cancel());
      ui.mic = button('Mute', 'sc-mic', () => this.toggleMic());
      ui.camera = button('Camera on', 'sc-camera', () => this.toggleCamera());
      ui.end = button('End call', 'sc-danger sc-end', () => this.end());
      ui.again = button('Start a new call', 'sc-primary sc-again', () => this.start(this.lastOverrides));
      ui.wait = button('Wait for a free slot', 'sc-primary sc-wait',
        () => this.start(Object.assign({}, this.lastOverrides || {}, { wait: true })));
      controls.append(ui.start, ui.wait, ui.cancel, ui.mic, ui.camera, ui.end, ui.again);

      ui.card.append(head, body, ui.status, ui.notice, ui.guide, ui.say, controls);
      this.ui = ui;
      this.root.appendChild(ui.card);
      this.setPosterImage(c.avatarImageUrl);
    }

    // "Say it as text": offline only, where the simulated character reads the room's data channel.
    buildSayBox() {
      const form = el('form', 'sc-say');
      const label = el('label', 'sc-say-label', 'Say it as text');
      const input = el('input', 'sc-say-input');
      input.type = 'text';
      input.maxLength = MAX_TYPED;
      input.placeholder = 'Type a question for the character…';
      input.id = 'sc-say-' + randomId();
      label.htmlFor = input.id;
      const send = el('button', 'sc-btn sc-say-send', 'Send');
      send.type = 'submit';
      const note = el('div', 'sc-say-note',
        'Replies are simulated offline: typed words are answered from the character\'s knowledge ' +
        'documents; spoken words are heard, not understood.');
      form.append(label, input, send, note);
      form.addEventListener('submit', (event) => {
        event.preventDefault();
        this.sayText();
      });
      this.sayInput = input;
      return form;
    }

    setPosterImage(url) {
      const ui = this.ui;
      ui.poster.classList.toggle('sc-has-image', !!url);
      if (url) {
        ui.posterImg.src = url;
        ui.poster.style.setProperty('--sc-image', 'url(' + JSON.stringify(String(url)) + ')');
      } else {
        ui.posterImg.removeAttribute('src');
        ui.poster.style.removeProperty('--sc-image');
      }
    }

    show(node, visible) {
      node.hidden = !visible;
    }

    render() {
      const ui = this.ui;
      const s = this.state;
      const call = this.call;
      const busy = BUSY_STATES.includes(s) || s === 'connecting';
      const inCall = s === 'connecting' || s === 'live';

      ui.card.dataset.callState = s;
      this.root.dataset.callState = s;

      ui.status.textContent = this.statusLine();
      // Refused for want of a free slot (or a wait that ran out): the caller may wait in line.
      const slotsBusy = s === 'error' && !!call && ['studio_busy', 'slot_wait_timeout'].includes(call.errorCode);
      ui.overlayText.textContent = busy ? this.statusLine() : s === 'ended' ? 'Call ended'
        : slotsBusy ? 'All call slots are busy' : s === 'error' ? 'Call failed' : '';
      this.show(ui.overlay, s !== 'live' && s !== 'idle');
      this.show(ui.spinner, busy);
      this.show(ui.badge, !!this.config.offline);
      this.show(ui.timer, s === 'live');
      this.show(ui.say, !!this.config.offline && s === 'live');

      this.show(ui.start, s === 'idle');
      this.show(ui.cancel, BUSY_STATES.includes(s));
      this.show(ui.mic, inCall);
      this.show(ui.camera, inCall);
      this.show(ui.end, inCall);
      this.show(ui.again, s === 'ended' || s === 'error');
      this.show(ui.wait, slotsBusy);
      ui.mic.disabled = s !== 'live';
      ui.camera.disabled = s !== 'live';

      const micOn = call ? call.micOn : true;
      const camOn = call ? call.cameraOn : false;
      ui.mic.textContent = micOn ? 'Mute' : 'Mic on';
      ui.mic.setAttribute('aria-pressed', String(!micOn));
      ui.mic.classList.toggle('sc-off', !micOn);
      ui.camera.textContent = camOn ? 'Camera off' : 'Camera on';
      ui.camera.setAttribute('aria-pressed', String(camOn));
      ui.camera.classList.toggle('sc-off', !camOn);

      ui.notice.textContent = call && call.errorText && s === 'error' ? call.errorText : '';
      this.show(ui.notice, !!ui.notice.textContent);
      ui.guide.textContent = this.guidance();
      this.show(ui.guide, !!ui.guide.textContent);
      this.show(ui.transcriptEmpty, ui.transcript.childElementCount === 0);
      this.show(ui.eventsTitle, ui.events.childElementCount > 0);
    }

    statusLine() {
      const s = this.state;
      const call = this.call;
      if (s === 'idle') return 'Ready to call ' + (this.config.avatarName || 'the character') + '.';
      if (s === 'live') return 'Live' + (call && call.firstFrame ? '' : ' · waiting for video…');
      if (s === 'ended') return 'Call ended' + (call && call.endReason ? ' ' + call.endReason : '') + '.';
      if (s === 'error' && call && ['studio_busy', 'slot_wait_timeout'].includes(call.errorCode)) {
        return 'No call slot is free right now.';
      }
      if (s === 'error') return 'The call could not continue.';
      if (s === 'waiting' && call && call.place) return 'Waiting for a free slot · ' + ordinal(call.place) + ' in line';
      return STATUS_TEXT[s];
    }

    guidance() {
      const s = this.state;
      const call = this.call;
      if (call && call.micError && (s === 'live' || s === 'connecting')) return micAdvice(call.micError);
      if (!window.isSecureContext && (s === 'idle' || s === 'error' || s === 'ended')) {
        return 'Microphone access needs a secure page: open the Studio over https:// or at ' +
          'http://localhost (this page is ' + window.location.origin + ').';
      }
      return '';
    }

    setState(state) {
      if (this.destroyed) return;
      this.state = state;
      this.render();
      const cb = this.config.onStateChange;
      if (typeof cb === 'function') {
        try {
          const call = this.call;
          cb(state, {
            sessionId: call ? call.sessionId : null,
            requestId: call ? call.requestId : null,
            error: call ? call.errorText : '',
            code: call ? call.errorCode || '' : '',
          });
        } catch (e) {
          console.error('[StudioCallController] onStateChange failed', e);
        }
      }
    }

    // -- timers -----------------------------------------------------------------------------------

    later(fn, ms) {
      const id = setTimeout(() => {
        this.timers.delete(id);
        fn();
      }, ms);
      this.timers.add(id);
      return id;
    }

    clearTimers() {
      for (const id of this.timers) clearTimeout(id);
      this.timers.clear();
    }

    // -- lifecycle --------------------------------------------------------------------------------

    resetCall(overrides) {
      this.clearTimers();
      this.generation += 1;
      const config = Object.assign({}, this.config, overrides || {});
      this.call = {
        gen: this.generation,
        config,
        requestId: randomId(),
        sessionId: null,
        credentials: null,
        handle: null,
        abort: null,
        transcript: [], // [{role, content}] as shown
        micOn: true,
        cameraOn: false,
        micError: null,
        errorText: '',
        endReason: '',
        firstFrame: false,
        connectedAt: 0,
        warning: false,
        place: 0, // in the studio's line for a call slot (1 = next)
        sent: {}, // timing events already posted
        polling: false,
        errorCode: '',
        finished: false,
      };
      this.ui.transcript.textContent = '';
      this.ui.events.textContent = '';
      this.ui.name.textContent = config.avatarName || config.avatarId || 'Character';
      this.setPosterImage(config.avatarImageUrl);
      return this.call;
    }

    isCurrent(call) {
      return !this.destroyed && this.call === call && call.gen === this.generation && !call.finished;
    }

    async start(overrides) {
      if (this.destroyed) return;
      if (!['idle', 'ended', 'error'].includes(this.state)) return;
      this.unmountHandle();
      // "Start a new call" repeats the overrides, but waits in line only when asked again.
      const repeat = Object.assign({}, overrides || {});
      delete repeat.wait;
      this.lastOverrides = repeat;
      const call = this.resetCall(overrides);
      this.setState('requesting');

      const credentials = await this.requestSession(call);
      if (!credentials || !this.isCurrent(call)) return;
      call.sessionId = credentials.sessionId || null;
      call.credentials = credentials;
      this.setState('connecting');
      await this.startLivekit(call);
    }

    async requestSession(call) {
      const c = call.config;
      const body = { avatarId: c.avatarId, requestId: call.requestId };
      if (c.personality) body.personality = c.personality;
      if (c.startScript) body.startScript = c.startScript;
      if (c.maxDuration) body.maxDuration = c.maxDuration;
      if (c.wait) body.wait = true;
      if (c.toolsOff && c.toolsOff.length) body.toolsOff = c.toolsOff;

      call.abort = new AbortController();
      this.followStatus(call);
      let response;
      try {
        response = await postJson(c.sessionRoute, body, { signal: call.abort.signal });
      } catch (e) {
        if (this.isCurrent(call) && !(e && e.name === 'AbortError')) {
          this.fail(call, 'Could not reach the Studio server. Check your connection and try again.');
        }
        return null;
      } finally {
        call.abort = null;
      }
      if (!this.isCurrent(call)) return null;
      const data = await readJson(response);
      if (!response.ok) {
        // {error, code}, or FastAPI's {detail: "..."} / {detail: {error, code}}
        const info = data && data.detail && typeof data.detail === 'object' ? data.detail : data || {};
        const text = info.error || (typeof info.detail === 'string' ? info.detail : '') || info.message;
        this.fail(call, text || 'The Studio server could not start the call (HTTP ' + response.status + ').',
          info.code);
        return null;
      }
      const ok = data && data.sessionId && data.serverUrl && data.token;
      if (!ok) {
        this.fail(call, 'The Studio server sent an incomplete answer (no session credentials).');
        return null;
      }
      return data;
    }

    // The studio's word on the call, from the request until the card ends: the place in line and
    // the session's progress while the POST is pending (the POST decides that outcome), then the
    // session's end however it came (cancelled from the studio, failed upstream, the time limit).
    followStatus(call) {
      call.polling = true;
      const url = fillRoute(call.config.statusRoute, { requestId: call.requestId });
      const tick = async () => {
        if (!call.polling || !this.isCurrent(call)) return;
        try {
          const r = await fetch(url, { credentials: 'same-origin', cache: 'no-store' });
          const data = r.ok ? await readJson(r) : null;
          if (data && call.polling && this.isCurrent(call)) this.applyStatus(call, data);
        } catch (e) {
          // best effort: the next look, the POST or the room decide
        }
        const setUp = this.state === 'connecting' || this.state === 'live';
        if (call.polling && this.isCurrent(call)) this.later(tick, setUp ? FOLLOW_MS : POLL_MS);
      };
      this.later(tick, POLL_MS);
    }

    applyStatus(call, data) {
      const status = String(data.status || '').toLowerCase();
      if (this.state === 'connecting' || this.state === 'live') {
        if (data.ended === true) this.endedElsewhere(call, status, data);
        return;
      }
      if (!BUSY_STATES.includes(this.state) || data.ended === true) return;
      let next = this.state;
      if (status.startsWith('waiting')) {
        next = 'waiting';
        call.place = Number(data.place) || 0;
      } else if (data.queued === true || status === 'queued') next = 'queued';
      else if (status && status !== 'requested' && status !== 'unknown') next = 'starting';
      if (next !== this.state || next === 'waiting') this.setState(next);
    }

    // The session ended while the card was in the call: close it and say why, in plain words.
    endedElsewhere(call, status, data) {
      const reason = String(data.reason || data.error || '').replace(/[.\s]+$/, '');
      if (status === 'failed') {
        this.fail(call, 'The call stopped: ' + (reason || 'Runway ended the session') + '.', data.code);
        return;
      }
      const why = reason ? '(' + reason.charAt(0).toLowerCase() + reason.slice(1) + ')' : '(it was ended elsewhere)';
      this.finish(call, why);
    }

    cancel() {
      const call = this.call;
      if (!call || !BUSY_STATES.includes(this.state)) return;
      if (call.abort) call.abort.abort();
      call.finished = true;
      call.polling = false;
      this.clearTimers();
      this.setState('idle');
    }

    // -- the call, through the LiveKit bundle --------------------------------------------------

    async startLivekit(call) {
      const c = call.config;
      try {
        if (!window.StudioAvatarCall) {
          if (!c.bundleUrl) throw new Error('No bundleUrl configured for the call component.');
          loadCss(c.cssUrl);
          await loadScript(c.bundleUrl);
        } else {
          loadCss(c.cssUrl);
        }
        if (!this.isCurrent(call)) return;
        if (!window.StudioAvatarCall || typeof window.StudioAvatarCall.mount !== 'function') {
          throw new Error('The call component did not load correctly.');
        }
        this.ui.video.textContent = '';
        const mountPoint = el('div', 'sc-video-mount');
        this.ui.video.appendChild(mountPoint);
        call.handle = window.StudioAvatarCall.mount(mountPoint, this.bundleOptions(call));
      } catch (e) {
        if (this.isCurrent(call)) this.fail(call, (e && e.message) || String(e));
      }
    }

    bundleOptions(call) {
      const c = call.config;
      const creds = call.credentials;
      const guard = (fn) => (...args) => {
        if (this.isCurrent(call)) fn(...args);
      };
      return {
        credentials: {
          sessionId: creds.sessionId,
          serverUrl: creds.serverUrl,
          token: creds.token,
          roomName: creds.roomName,
        },
        avatarId: c.avatarId,
        avatarImageUrl: c.avatarImageUrl || undefined,
        audio: true,
        video: false,
        roomOptions: c.roomOptions,
        onState: guard((st) => this.onBundleState(call, st)),
        onFirstFrame: guard(() => this.onFirstFrame(call)),
        onTranscript: guard((entries) => this.setTranscript(entries)),
        onClientEvent: guard((evt) => this.addClientEvent(evt)),
        onEnd: guard(() => this.roomEnded(call)),
        onError: guard((err) => this.fail(call, plainError(err && err.message ? err.message : err),
          undefined, err && err.message ? err.message : String(err))),
      };
    }

    onBundleState(call, st) {
      // The buttons show what the user asked for; a device error switches the mic button off.
      call.micError = st.micError || null;
      if (call.micError) call.micOn = false;
      if (st.cameraError) call.cameraOn = false;
      if (st.session === 'active' && this.state === 'connecting') this.goLive(call);
      else this.render();
    }

    // -- live behaviour -----------------------------------------------------------------------------

    goLive(call) {
      if (this.state === 'live') return;
      call.connectedAt = Date.now();
      this.sendEvent(call, 'connected');
      this.setState('live');
      this.tick(call);
    }

    onFirstFrame(call) {
      if (call.firstFrame) return;
      call.firstFrame = true;
      this.sendEvent(call, 'first_frame');
      this.render();
    }

    tick(call) {
      if (!this.isCurrent(call) || this.state !== 'live') return;
      const max = Number(call.config.maxDuration) || 0;
      if (max > 0) {
        const left = max - (Date.now() - call.connectedAt) / 1000;
        const warnAt = Number(call.config.warnBeforeEndSeconds) || 0;
        const warning = left <= warnAt;
        if (left <= 0) {
          this.ui.timer.textContent = '00:00';
          this.end('(the time limit was reached)');
          return;
        }
        this.ui.timer.textContent = warning ? 'Call ends in ' + Math.ceil(left) + ' s' : mmss(left);
        this.ui.timer.classList.toggle('sc-warning', warning);
        if (warning !== call.warning) {
          call.warning = warning;
          this.render();
        }
      }
      this.later(() => this.tick(call), TICK_MS);
    }

    // Typed words go to the character over the room's data channel; it answers out loud and
    // its transcript (with the typed turn) comes back through the SDK.
    async sayText() {
      const call = this.call;
      const input = this.sayInput;
      const text = input.value.trim();
      if (!call || !call.handle || this.state !== 'live' || !text) return;
      input.value = '';
      try {
        await call.handle.sendData({ type: 'user_text', text }, { topic: USER_TEXT_TOPIC });
      } catch (e) {
        if (this.isCurrent(call)) input.value = text; // give the words back to try again
      }
    }

    toggleMic() {
      const call = this.call;
      if (!call || this.state !== 'live') return;
      call.micOn = !call.micOn;
      if (call.handle) call.handle.setMic(call.micOn);
      this.render();
    }

    toggleCamera() {
      const call = this.call;
      if (!call || this.state !== 'live') return;
      call.cameraOn = !call.cameraOn;
      if (call.handle) call.handle.setCamera(call.cameraOn);
      this.render();
    }

    async end(reason) {
      const call = this.call;
      if (!call || call.finished) return;
      if (BUSY_STATES.includes(this.state)) {
        this.cancel();
        return;
      }
      if (this.state !== 'live' && this.state !== 'connecting') return;
      const why = typeof reason === 'string' ? reason : '';
      call.hangingUp = true;
      // Connected: let the SDK send END_CALL and disconnect (its onEnd also lands in finish()).
      // Still connecting: there is nobody to tell; unmounting in finish() drops the connection.
      if (call.handle && this.state === 'live') {
        call.endReason = why;
        this.later(() => this.finish(call, why), END_TIMEOUT_MS); // do not wait forever
        try {
          await call.handle.end();
        } catch (e) {
          // finish() below still runs
        }
      }
      this.finish(call, why);
    }

    // Page closing or component destroyed mid-call: tell the server, skip the UI.
    hangUpQuietly(reason) {
      const call = this.call;
      if (!call || call.finished || (this.state !== 'live' && this.state !== 'connecting')) return;
      call.endReason = reason;
      this.sendEvent(call, 'ended', { transcript: call.transcript.slice() });
    }

    // The room closed without the caller hanging up: end the card now, and say why as soon as
    // the studio knows (the session's end reaches it within a refresh).
    roomEnded(call) {
      const asked = call.hangingUp;
      this.finish(call, '');
      if (asked || call.endReason) return;
      const url = fillRoute(call.config.statusRoute, { requestId: call.requestId });
      let looks = 0;
      const look = async () => {
        looks += 1;
        try {
          const r = await fetch(url, { credentials: 'same-origin', cache: 'no-store' });
          const data = r.ok ? await readJson(r) : null;
          if (this.call !== call || this.state !== 'ended') return;
          if (data && data.ended === true) {
            const reason = String(data.reason || data.error || '').replace(/[.\s]+$/, '');
            if (String(data.status).toLowerCase() === 'failed') {
              call.errorText = 'The call stopped: ' + (reason || 'Runway ended the session') + '.';
              call.errorCode = data.code || '';
              this.setState('error');
            } else {
              call.endReason = reason ? '(' + reason.charAt(0).toLowerCase() + reason.slice(1) + ')' : '';
              this.render();
            }
            return;
          }
        } catch (e) {
          // the card has ended either way
        }
        if (looks < 6 && this.call === call && this.state === 'ended') this.later(look, FOLLOW_MS);
      };
      this.later(look, 0);
    }

    finish(call, reason) {
      if (!this.isCurrent(call)) return;
      call.finished = true;
      call.polling = false;
      call.endReason = reason || call.endReason || '';
      this.clearTimers();
      this.sendEvent(call, 'ended', { transcript: call.transcript.slice() });
      this.unmountHandle();
      this.setState('ended');
    }

    fail(call, message, code, detail) {
      if (!this.isCurrent(call)) return;
      call.finished = true;
      call.polling = false;
      call.errorText = message;
      call.errorCode = code || '';
      this.clearTimers();
      this.sendEvent(call, 'error', { detail: detail || message });
      this.unmountHandle();
      this.setState('error');
    }

    unmountHandle() {
      const call = this.call;
      if (call && call.handle) {
        const h = call.handle;
        call.handle = null;
        try {
          h.unmount();
        } catch (e) {
          console.error('[StudioCallController] unmount failed', e);
        }
      }
      if (this.ui) this.ui.video.textContent = '';
    }

    destroy() {
      if (this.destroyed) return;
      this.hangUpQuietly('(the call card was closed)');
      window.removeEventListener('pagehide', this.onPageHide);
      const call = this.call;
      if (call && call.abort) call.abort.abort();
      this.unmountHandle();
      if (call) {
        call.finished = true;
        call.polling = false;
      }
      this.clearTimers();
      this.generation += 1;
      this.destroyed = true;
      if (this.ui && this.ui.card.parentNode) this.ui.card.remove();
      delete this.root.dataset.callState;
    }

    // -- transcript and client events --------------------------------------------------------------

    setTranscript(entries) {
      const lines = (entries || []).filter((e) => e && e.content);
      this.call.transcript = lines.map((e) => ({ role: e.role === 'user' ? 'user' : 'assistant', content: String(e.content) }));
      this.ui.transcript.replaceChildren(...this.call.transcript.map((l) => this.lineNode(l)));
      this.afterTranscriptChange();
    }

    lineNode(line) {
      const li = el('li', 'sc-line sc-role-' + (line.role === 'user' ? 'user' : 'assistant'));
      const who = line.role === 'user' ? 'You' : (this.call.config.avatarName || 'Character');
      li.append(el('span', 'sc-who', who), el('span', 'sc-text', line.content));
      return li;
    }

    afterTranscriptChange() {
      const list = this.ui.transcript;
      this.show(this.ui.transcriptEmpty, list.childElementCount === 0);
      list.scrollTop = list.scrollHeight;
    }

    addClientEvent(evt) {
      // Cards are drawn by tool-events.js (loaded beside this file); a plain line if it is missing.
      if (window.StudioToolEvents) {
        window.StudioToolEvents.add(this.ui.events, evt, MAX_EVENTS_SHOWN);
      } else {
        const tool = evt && evt.tool ? String(evt.tool) : 'event';
        this.ui.events.appendChild(el('li', 'sc-event', tool + ' ' + JSON.stringify((evt && evt.args) || {})));
      }
      this.show(this.ui.eventsTitle, true);
    }

    // -- timing events -------------------------------------------------------------------------

    sendEvent(call, event, extra) {
      if (!call.sessionId || call.sent[event]) return;
      call.sent[event] = true;
      const body = Object.assign({ event, at: Date.now() / 1000 }, extra || {});
      const url = fillRoute(call.config.eventsRoute, { id: call.sessionId });
      try {
        postJson(url, body, { keepalive: true }).catch(() => {});
      } catch (e) {
        // fire and forget
      }
    }
  }

  function create(root, config) {
    const controller = new CallController(root, config);
    return {
      start: (overrides) => controller.start(overrides),
      end: () => controller.end(),
      destroy: () => controller.destroy(),
      get state() {
        return controller.state;
      },
    };
  }

  window.StudioCallController = { create, plainError, version: '1' };
})();
