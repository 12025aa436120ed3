"""What the simulated character says: the start script, then replies built from its
knowledge documents (the sentence that best matches the user's words) in a tone taken
from its personality. The personality is instructions: it shapes replies and is never
spoken."""

from __future__ import annotations

import math
import re
from collections import Counter

WORD = re.compile(r"[a-z0-9']+")
SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n+")
STOPWORDS = frozenset(
    [
        "a",
        "an",
        "the",
        "and",
        "or",
        "but",
        "if",
        "of",
        "to",
        "in",
        "on",
        "at",
        "by",
        "for",
        "with",
        "about",
        "as",
        "is",
        "are",
        "was",
        "were",
        "be",
        "been",
        "being",
        "do",
        "does",
        "did",
        "have",
        "has",
        "had",
        "i",
        "you",
        "he",
        "she",
        "it",
        "we",
        "they",
        "me",
        "my",
        "your",
        "our",
        "their",
        "this",
        "that",
        "these",
        "those",
        "what",
        "which",
        "who",
        "whom",
        "whose",
        "when",
        "where",
        "why",
        "how",
        "can",
        "could",
        "would",
        "should",
        "will",
        "shall",
        "may",
        "might",
        "must",
        "not",
        "no",
        "yes",
        "so",
        "than",
        "then",
        "there",
        "here",
        "from",
        "into",
        "out",
        "up",
        "down",
        "over",
        "under",
        "again",
        "just",
        "also",
        "very",
        "too",
        "any",
        "some",
        "all",
        "each",
        "tell",
        "please",
        "know",
        "like",
        "get",
        "got",
        "want",
    ]
)
TONES = (
    (
        ("warm", "upbeat", "friendly", "cheerful", "enthusiastic", "playful", "fun"),
        "Great question! ",
    ),
    (("formal", "professional", "precise", "expert", "authoritative", "concise"), "Certainly. "),
    (("calm", "gentle", "soft", "patient", "kind", "soothing"), "Of course. "),
)
NO_DOCUMENTS = (
    "I'm a simulated character running offline, so I can only answer from my knowledge "
    "documents, and none are attached yet."
)
NO_MATCH = "I don't have anything on that in my notes. Could you ask it another way?"
HEARD = (
    "I heard you! Replies are simulated offline and there is no speech recognition here, "
    "so type your question and I'll answer from my notes."
)


def terms(text: str) -> list[str]:
    out = []
    for word in WORD.findall(text.lower()):
        word = word.strip("'")
        word = word.removesuffix("'s")
        if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
            word = word[:-1]
        if word and word not in STOPWORDS:
            out.append(word)
    return out


def sentences(text: str) -> list[str]:
    return [s.strip() for s in SENTENCE_END.split(text) if 3 <= len(s.strip()) <= 600]


def tone_of(personality: str | None) -> str:
    words = set(WORD.findall((personality or "").lower()))
    for keys, lead in TONES:
        if words.intersection(keys):
            return lead
    return "Here's what I know: "


class Brain:
    def __init__(
        self,
        name: str,
        personality: str | None,
        start_script: str | None,
        documents: tuple[str, ...] | list[str],
    ) -> None:
        self.name = name
        self.lead = tone_of(personality)
        self.start_script = (start_script or "").strip()
        banned = set(sentences(personality or ""))
        self.facts = [s for doc in documents for s in sentences(doc) if s not in banned]
        self._terms = [set(terms(s)) for s in self.facts]
        counts = Counter(t for found in self._terms for t in found)
        total = len(self.facts)
        self._idf = {t: math.log(1 + total / n) for t, n in counts.items()}
        self._spoken_turns = 0

    def greeting(self) -> str:
        return self.start_script or f"Hi, I'm {self.name}. What would you like to talk about?"

    def best_fact(self, text: str) -> str | None:
        wanted = set(terms(text))
        best, best_score = None, 0.0
        for fact, found in zip(self.facts, self._terms):
            score = sum(self._idf[t] for t in wanted & found)
            if score > best_score:
                best, best_score = fact, score
        return best

    def reply_to_text(self, text: str) -> str:
        if not self.facts:
            return NO_DOCUMENTS
        fact = self.best_fact(text)
        return self.lead + fact if fact else NO_MATCH

    def reply_to_speech(self, seconds: float) -> str:
        """Spoken turns have no words offline: first say so, then share notes in order."""
        turn = self._spoken_turns
        self._spoken_turns += 1
        if turn == 0 or not self.facts:
            return HEARD
        return "Here's something from my notes: " + self.facts[(turn - 1) % len(self.facts)]
