"""A cloud service's own words, fit to quote in a job's error: one line, bounded, no secret."""

from __future__ import annotations

LIMIT = 200


def quote_vendor_text(text: str, *, secret: str, limit: int = LIMIT) -> str:
    # Vendors do not echo keys today; redacting anyway keeps "never in an error" true by
    # construction rather than by their courtesy.
    one_line = " ".join(text.replace(secret, "[key]").split()) if secret else " ".join(text.split())
    return one_line if len(one_line) <= limit else one_line[: limit - 1] + "…"
