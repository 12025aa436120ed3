"""SDP touch-ups between browsers and aiortc.

aiortc does not implement simulcast, so its answer drops a video section's ``a=rid``,
``a=simulcast`` and the RID header extensions. Chrome then refuses its *next* offer on that
connection ("negotiates simulcast but does not negotiate the RID RTP header extension"), and
livekit-client's camera publication fails. The room never decodes the user's camera (the
section is answered ``inactive``), so the answer may simply accept the offered layers.
"""

from __future__ import annotations

RID_EXTENSIONS = (
    "urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id",
    "urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id",
)


def _sections(sdp: str) -> tuple[list[str], list[list[str]]]:
    head: list[str] = []
    sections: list[list[str]] = []
    for line in sdp.splitlines():
        if line.startswith("m="):
            sections.append([line])
        elif sections:
            sections[-1].append(line)
        else:
            head.append(line)
    return head, sections


def _mid(section: list[str]) -> str | None:
    for line in section:
        if line.startswith("a=mid:"):
            return line[len("a=mid:") :].strip()
    return None


def _simulcast_lines(offered: list[str]) -> list[str]:
    """What an answer needs to receive the layers ``offered`` sends."""
    send = [ln for ln in offered if ln.startswith("a=simulcast:send ")]
    if not send:
        return []
    lines = [
        ln
        for ln in offered
        if ln.startswith("a=extmap:") and ln.split(" ", 1)[-1].strip() in RID_EXTENSIONS
    ]
    for line in offered:
        if line.startswith("a=rid:") and " send" in line:
            lines.append(f"a=rid:{line[len('a=rid:') :].split(' ', 1)[0]} recv")
    lines.append("a=simulcast:recv " + send[0][len("a=simulcast:send ") :].strip())
    return lines


def accept_simulcast(offer: str, answer: str) -> str:
    """``answer`` with the simulcast attributes of ``offer``'s video sections mirrored."""
    _, offered = _sections(offer)
    by_mid = {_mid(section): section for section in offered}
    head, answered = _sections(answer)
    out = list(head)
    for section in answered:
        extra = []
        if section[0].startswith("m=video") and not section[0].startswith("m=video 0 "):
            extra = [
                ln for ln in _simulcast_lines(by_mid.get(_mid(section), [])) if ln not in section
            ]
        out.extend(section + extra)
    return "\r\n".join(out) + "\r\n"
