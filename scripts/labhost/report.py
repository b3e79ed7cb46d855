"""One file a student can send to a TA: doctor output, versions, the gate's result. No secrets."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

REDACTED = "<redacted>"
SECRET_KEY = re.compile(r"(TOKEN|SECRET|PASSWORD|PASSWD|API_KEY|ACCESS_KEY|CREDENTIAL)", re.IGNORECASE)
# token=... in URLs and logs; "token": "..." and KEY=... in JSON and env dumps.
PATTERNS = (
    re.compile(r"(token=)[^\s&\"']+", re.IGNORECASE),
    re.compile(r"(\"[A-Za-z0-9_]*(?:token|secret|password|api_key)[A-Za-z0-9_]*\"\s*:\s*\")[^\"]*", re.IGNORECASE),
    re.compile(r"(\b[A-Z0-9_]*(?:TOKEN|SECRET|PASSWORD|API_KEY)[A-Z0-9_]*=)\S+"),
)


def secrets_in(values: Mapping[str, str]) -> list[str]:
    """Values of settings whose names say they are secret."""
    return [value for key, value in values.items() if SECRET_KEY.search(key) and value]


def redact(text: str, secrets: Iterable[str]) -> str:
    # Longest first, so a secret that contains another is removed whole.
    for secret in sorted({s for s in secrets if len(s) >= 4}, key=len, reverse=True):
        text = text.replace(secret, REDACTED)
    for pattern in PATTERNS:
        text = pattern.sub(lambda m: m.group(1) + REDACTED, text)
    return text


def build(sections: list[tuple[str, str]], secrets: Iterable[str]) -> str:
    """Sections (title, body) in one text, every secret removed."""
    parts = []
    for title, body in sections:
        parts.append(f"===== {title} =====\n{body.rstrip()}\n")
    return redact("\n".join(parts), list(secrets))
