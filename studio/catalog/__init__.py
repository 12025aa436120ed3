"""The catalog: what a character is made of, checked before anything is sent.

- `forms`: every check of the character, document and voice forms (`FormInvalid`, one plain
  message per field), against the limits in `studio.vocabulary`;
- `characters`, `documents`, `voices`: one service each over the `RunwayGateway`, built whole by
  `studio.core.Studio` (as `Studio.characters`, `.documents` and `.voices`);
- `images`: reference-image pre-flight and preparation (Pillow, pure);
- `media`: images and voice previews behind Runway URLs, fetched server-side (via
  `studio.netguard`) and cached.
"""
