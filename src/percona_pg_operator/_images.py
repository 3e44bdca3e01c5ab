"""Image references, read one way everywhere (the verification, the diff, the preview line).

A reference is ``[registry[:port]/]repository[:tag][@sha256:digest]``
(https://github.com/distribution/reference/blob/main/reference.go): a ':' after the last '/'
starts the tag, '@' starts the digest, and a registry's port is not a tag.
"""

from __future__ import annotations

from typing import Any


def image_tag(image: Any) -> str:
    """The tag (``repo:2.9.0@sha256:...`` -> ``2.9.0``), or '' when there is none."""
    reference = str(image).split("@", 1)[0]
    last = reference.rsplit("/", 1)[-1]
    return last.split(":", 1)[1] if ":" in last else ""


def image_version(image: Any) -> str:
    """What to show for an image's version: its tag, else its digest shortened to 12 hex
    digits (``sha256:0123456789ab``), else the reference itself."""
    tag = image_tag(image)
    if tag:
        return tag
    text = str(image)
    if "@" in text:
        digest = text.split("@", 1)[1]
        algorithm, _, hex_digits = digest.partition(":")
        return f"{algorithm}:{hex_digits[:12]}" if hex_digits else digest
    return text
