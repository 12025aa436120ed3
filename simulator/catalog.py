"""Runway's fixed vocabulary: preset avatars, live voice presets, the model, the
runway:// scheme and failure texts. Read by the request schemas (api/) and the engine
alike, so it sits below both."""

from __future__ import annotations

# presetId -> display name. Mochi, Mina, Sofia and Marco are documented by Runway's own
# examples; the other five names are invented (the real ones are not published).
PRESET_AVATARS: dict[str, str] = {
    "game-character": "Nova",
    "music-superstar": "Mina",
    "game-character-man": "Kai",
    "cat-character": "Mochi",
    "influencer": "Ava",
    "tennis-coach": "Sam",
    "human-resource": "Hannah",
    "fashion-designer": "Sofia",
    "cooking-teacher": "Marco",
}

# presetId -> the voice preset its simulated character speaks with (invented).
PRESET_AVATAR_VOICES: dict[str, str] = {
    "game-character": "skye",
    "music-superstar": "ruby",
    "game-character-man": "max",
    "cat-character": "luna",
    "influencer": "summer",
    "tennis-coach": "blake",
    "human-resource": "emma",
    "fashion-designer": "georgia",
    "cooking-teacher": "roman",
}

# presetId -> description. Only clara, victoria and vincent are documented; the other 27
# descriptions are invented, short and plausible, so apps have something to display.
VOICE_PRESETS: dict[str, str] = {
    "victoria": "firm, professional",
    "vincent": "knowledgeable, authoritative",
    "clara": "soft, approachable",
    "drew": "relaxed, conversational",
    "skye": "bright, youthful",
    "max": "energetic, upbeat",
    "morgan": "calm, neutral",
    "felix": "playful, witty",
    "mia": "warm, friendly",
    "marcus": "deep, confident",
    "summer": "cheerful, breezy",
    "ruby": "lively, expressive",
    "aurora": "dreamy, gentle",
    "jasper": "crisp, articulate",
    "leo": "easygoing, casual",
    "adrian": "smooth, measured",
    "nina": "clear, attentive",
    "emma": "kind, reassuring",
    "blake": "bold, direct",
    "david": "steady, trustworthy",
    "maya": "thoughtful, soft-spoken",
    "nathan": "friendly, curious",
    "sam": "neutral, even",
    "georgia": "elegant, polished",
    "petra": "cool, precise",
    "adam": "grounded, sincere",
    "zach": "casual, enthusiastic",
    "violet": "velvety, intimate",
    "roman": "rich, dramatic",
    "luna": "airy, whimsical",
}

MODEL = "gwm1_avatars"
VOICE_DESIGN_MODELS = ("eleven_ttv_v3", "eleven_multilingual_ttv_v2")
DOC_URL = "https://docs.dev.runwayml.com/api"
RUNWAY_URI_SCHEME = "runway://"  # uploads are referred to as runway://uploads/<id>/<name>
NO_PARTICIPANT_CODE = "TALKING_AVATAR.NO_PARTICIPANT"
NO_PARTICIPANT_TEXT = "No participants joined the session"
NO_FACE_TEXT = "No face was detected in the reference image."
UNREADABLE_IMAGE_TEXT = "The reference image could not be read."


def preset_voice_name(preset_id: str) -> str:
    return preset_id.capitalize()
