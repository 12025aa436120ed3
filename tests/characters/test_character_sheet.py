"""How a character's page reads (pure functions): the knowledge budget, the voice, the refusal of a
file over the upload limit, and the crop focus the form's slider gives."""

from __future__ import annotations

from components.character_editor import focus_point, too_large_message
from components.character_sheet import (
    knowledge_budget,
    render_knowledge,
    render_voice,
    voice_player,
)


def document(name: str, tokens: int) -> dict:
    return {"id": name, "name": name, "size": {"characters": tokens * 4, "tokens": tokens}}


def test_the_knowledge_budget_counts_tokens_and_documents():
    documents = [document("FAQ", 10_000), document("Prices", 30_000)]
    assert knowledge_budget(documents) == (40_000, 0.8)
    shown = render_knowledge(documents)
    assert "~40,000 of 50,000 tokens (80%)" in shown and "2 of 50 documents" in shown
    assert "FAQ" in shown and "~30,000 tokens" in shown


def test_over_the_budget_it_says_so_and_an_empty_knowledge_says_none():
    over = render_knowledge([document("Manual", 60_000)])
    assert "(120%)" in over and "Over the budget" in over and "cp-meter over" in over
    empty = render_knowledge([])
    assert "No documents attached yet" in empty and "~0 of 50,000 tokens" in empty
    assert "under 1%" in render_knowledge([document("Note", 20)])


def test_the_voice_reads_with_what_it_sounds_like_and_names_are_escaped():
    preset = {"type": "runway-live-preset", "preset_id": "clara", "name": "Clara"}
    assert "Clara · soft" in render_voice(preset, lambda _: "soft, approachable")
    custom = {"type": "custom", "id": "x", "name": "<b>Mine</b>"}
    assert "&lt;b&gt;Mine" in render_voice(custom, lambda _: None)
    assert "/api/voices/clara/sample" in voice_player("clara")
    assert "autoplay" not in voice_player("clara", autoplay=False)


def test_a_file_over_the_limit_is_told_its_size_and_the_limit():
    message = too_large_message("holiday.png", 30_000_000, 20 * 1024 * 1024)
    assert "“holiday.png” is 30.0 MB" in message and "the limit is 16 MB" in message  # images: 16 MB
    assert "the limit is 5 MB" in too_large_message("a.jpg", 6_000_000, 5_000_000)


def test_the_slider_gives_a_focus_point():
    assert focus_point(0) == (0.0, 0.0) and focus_point(100) == (1.0, 1.0)
    assert focus_point(50) == (0.5, 0.5) and focus_point(None) == (0.5, 0.5) and focus_point(250) == (1.0, 1.0)
