// Browser bundle for the Call tab: window.StudioAvatarCall.mount(element, options) -> handle.
//
// It renders the SDK's <AvatarCall credentials=…> (pre-fetched credentials, so the SDK's
// page-lifetime credential cache is never used) with <AvatarVideo/>, <UserVideo/> and a small
// <Bridge/> child that reports state, first frame, transcript and client events to the host and
// runs the host's commands: end, mic, camera, and sendData (a JSON message on the room's data
// channel, e.g. typed words for the simulator's character). The host
// (components/static/call-controller.js) draws everything else.
import { useEffect, useRef } from 'react';
import { createRoot } from 'react-dom/client';
import { useRoomContext } from '@livekit/components-react';
import {
  AvatarCall,
  AvatarVideo,
  UserVideo,
  useAvatarSession,
  useAvatarStatus,
  useLocalMedia,
  useTranscript,
} from '@runwayml/avatars-react';
import '@runwayml/avatars-react/styles.css';
import './avatar-call.css';

// The SDK calls onEnd before onError when a connection fails: hold an end this long and drop it
// if an error arrives meanwhile.
const END_GRACE_MS = 100;

const VERSION = '1';

function errorMessage(err) {
  if (!err) return '';
  if (typeof err === 'string') return err;
  return String(err.message || err.name || err);
}

function errorInfo(err) {
  if (!err) return null;
  return { name: String(err.name || 'Error'), message: errorMessage(err) };
}

// Runway's data-channel turns have ids like "runway-transcription-<role>-<turn>"; native LiveKit
// segments carry the speaker's identity instead.
const RUNWAY_ID = /^runway-transcription-([a-z]+)-\d+$/;

function roleOf(entry, localIdentity) {
  const m = RUNWAY_ID.exec(entry.id || '');
  if (m) return m[1] === 'user' ? 'user' : 'assistant';
  if (localIdentity && entry.participantIdentity === localIdentity) return 'user';
  return 'assistant';
}

function toHostEntries(entries, localIdentity) {
  return entries.map((e) => ({
    id: e.id,
    role: roleOf(e, localIdentity),
    content: e.text,
    final: e.final !== false,
  }));
}

// Lives inside <AvatarCall>, so it has the session context. Renders nothing.
function Bridge({ hub }) {
  const session = useAvatarSession();
  const status = useAvatarStatus();
  const media = useLocalMedia();
  // Interim too: a turn shows while it is spoken, not only once the next turn of that role begins.
  const transcript = useTranscript({ interim: true });
  const room = useRoomContext();
  const firstFrameSent = useRef(false);

  // Latest values for the imperative commands coming from the handle.
  const latest = useRef(null);
  latest.current = { session, media, room };

  useEffect(() => {
    hub.emit('onState', {
      session: session.state, // 'connecting' | 'active' | 'ended' (SDK 0.16.0)
      avatar: status.status, // 'connecting' | 'waiting' | 'ready' | 'ended' | ...
      sessionId: session.sessionId || null,
      micEnabled: media.isMicEnabled,
      cameraEnabled: media.isCameraEnabled,
      hasMic: media.hasMic,
      hasCamera: media.hasCamera,
      micError: errorInfo(media.micError),
      cameraError: errorInfo(media.cameraError),
    });
  }, [
    hub, session.state, session.sessionId, status.status, media.isMicEnabled, media.isCameraEnabled,
    media.hasMic, media.hasCamera, media.micError, media.cameraError,
  ]);

  const hasVideoTrack = status.status === 'ready' && !!status.videoTrackRef;
  useEffect(() => {
    if (hasVideoTrack && !firstFrameSent.current) {
      firstFrameSent.current = true;
      hub.emit('onFirstFrame');
    }
  }, [hasVideoTrack, hub]);

  useEffect(() => {
    if (transcript.length === 0) return;
    const localIdentity = room && room.localParticipant ? room.localParticipant.identity : '';
    hub.emit('onTranscript', toHostEntries(transcript, localIdentity));
  }, [transcript, room, hub]);

  useEffect(() => {
    hub.commands = {
      end: () => latest.current.session.end(),
      setMic: (on) => setDevice(latest.current.media, 'Mic', on),
      setCamera: (on) => setDevice(latest.current.media, 'Camera', on),
      sendData: ({ message, options }) => publishJson(latest.current.room, message, options),
    };
    hub.flushPending();
    return () => {
      hub.commands = null;
    };
  }, [hub]);

  return null;
}

// kind is 'Mic' or 'Camera'; uses the SDK's own toggles (and retry after a permission error).
function setDevice(media, kind, on) {
  const enabled = media[`is${kind}Enabled`];
  const failed = kind === 'Mic' ? media.micError : media.cameraError;
  if (on && failed) return media[`retry${kind}`]();
  if (Boolean(on) !== enabled) media[`toggle${kind}`]();
  return undefined;
}

// LiveKit's own publishData, reliable; options: {topic?, destinationIdentities?}.
function publishJson(room, message, options) {
  if (!room || !room.localParticipant) throw new Error('The call is not connected.');
  const payload = new TextEncoder().encode(JSON.stringify(message));
  const opts = options || {};
  return room.localParticipant.publishData(payload, {
    reliable: true,
    topic: opts.topic,
    destinationIdentities: opts.destinationIdentities,
  });
}

// Glue between the React tree and the host callbacks: idempotent end, one error, pending commands.
function createHub(options) {
  const hub = {
    commands: null,
    pending: [],
    closed: false, // after unmount nothing reaches the host
    finished: false, // onEnd or onError has been delivered
    endTimer: null,
    emit(name, ...args) {
      if (hub.closed || hub.finished) return;
      const fn = options[name];
      if (typeof fn !== 'function') return;
      try {
        fn(...args);
      } catch (e) {
        console.error(`[StudioAvatarCall] ${name} handler failed`, e);
      }
    },
    end() {
      if (hub.finished || hub.endTimer) return;
      hub.endTimer = setTimeout(() => {
        hub.endTimer = null;
        hub.emit('onEnd');
        hub.finished = true;
      }, END_GRACE_MS);
    },
    error(err) {
      if (hub.finished) return;
      clearTimeout(hub.endTimer);
      hub.endTimer = null;
      hub.emit('onError', err instanceof Error ? err : new Error(errorMessage(err)));
      hub.finished = true;
    },
    run(name, arg) {
      if (hub.commands) return hub.commands[name](arg);
      hub.pending.push([name, arg]);
      return undefined;
    },
    flushPending() {
      const queued = hub.pending.splice(0);
      for (const [name, arg] of queued) hub.commands[name](arg);
    },
  };
  return hub;
}

function mount(element, options) {
  if (!element) throw new Error('StudioAvatarCall.mount needs an element');
  const opts = options || {};
  const creds = opts.credentials || {};
  if (!creds.serverUrl || !creds.token) {
    throw new Error('StudioAvatarCall.mount needs credentials {sessionId, serverUrl, token, roomName}');
  }
  const hub = createHub(opts);
  const root = createRoot(element);
  const credentials = {
    sessionId: creds.sessionId,
    serverUrl: creds.serverUrl,
    token: creds.token,
    roomName: creds.roomName,
  };

  root.render(
    <AvatarCall
      className="studio-avatar-call"
      avatarId={opts.avatarId}
      avatarImageUrl={opts.avatarImageUrl || undefined}
      credentials={credentials}
      audio={opts.audio !== false}
      video={opts.video === true}
      __unstable_roomOptions={opts.roomOptions}
      onEnd={() => hub.end()}
      onError={(err) => hub.error(err)}
      onClientEvent={(evt) => hub.emit('onClientEvent', evt)}
    >
      <AvatarVideo />
      <UserVideo />
      <Bridge hub={hub} />
    </AvatarCall>,
  );

  let unmounted = false;
  return {
    end() {
      if (unmounted) return Promise.resolve();
      return Promise.resolve(hub.run('end')).catch((e) => hub.error(e));
    },
    setMic(on) {
      if (!unmounted) hub.run('setMic', Boolean(on));
    },
    setCamera(on) {
      if (!unmounted) hub.run('setCamera', Boolean(on));
    },
    sendData(message, options) {
      if (unmounted) return Promise.reject(new Error('The call has ended.'));
      return Promise.resolve().then(() => hub.run('sendData', { message, options }));
    },
    unmount() {
      if (unmounted) return;
      unmounted = true;
      hub.closed = true;
      clearTimeout(hub.endTimer);
      root.unmount();
    },
  };
}

window.StudioAvatarCall = { mount, version: VERSION };
