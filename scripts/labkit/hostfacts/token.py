"""The Jupyter token: one generator, one place it is kept when .env has none."""

from __future__ import annotations

import secrets
from pathlib import Path

from labkit import atomic

TOKEN_FILE_NAME = "jupyter-token"  # noqa: S105 (a file name, not a password)


def new_token() -> str:
    # 32 characters from [A-Za-z0-9_-]: what envcheck accepts and a URL needs no escaping for.
    return secrets.token_urlsafe(24)


def stored_token(state_dir: Path) -> str:
    """The token kept in `state_dir` (the cache volume), generated on first use. Two
    containers starting at once get the same token: the file is created exclusively, and
    the loser reads the winner's."""
    token_file = Path(state_dir) / TOKEN_FILE_NAME
    try:
        existing = token_file.read_text().strip()
    except FileNotFoundError:
        existing = ""
    if existing:
        return existing
    token = new_token()
    if atomic.create_exclusive(token_file, token + "\n", mode=0o600):
        return token
    return token_file.read_text().strip()
