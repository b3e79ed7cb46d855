"""No log line the lab writes carries a login token.

Jupyter hides tokens in its access log only (jupyter_server.log scrubs the URL of each request
it logs). Every other line prints them in full: tornado's "Uncaught exception GET
/terminals/websocket/1?token=..." after a malformed websocket message, for one, which
`scripts/lab logs` shows and students paste into chats. So the lab hides them itself:

- the values of its own secrets (JUPYTER_TOKEN, generated or from .env; in hub mode the hub's
  API token), wherever they appear;
- the value of every URL parameter whose name jupyter_server's access log treats as secret
  (any name containing token, auth, key, code or state: a hub user's own API token, OAuth's
  code and state), for tokens the lab cannot know.

`TokenFilter` does it for Jupyter's and tornado's loggers (image/jupyter/jupyter_server_config.py
hooks it into the server's log handler, in lab and hub mode); `redact` for the lines the
entrypoint prints and copies (labkit.entrypoint, labkit.launch). The one line that shows the
token on purpose is the URL the start prints for the student to open (labkit.entrypoint).
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterable, Mapping

HIDDEN = "[secret]"  # what jupyter_server's access log writes in a token's place
SECRET_VARIABLES = ("JUPYTER_TOKEN", "JUPYTERHUB_API_TOKEN", "JPY_API_TOKEN")
# Shorter values are not tokens the lab made or accepted (labkit.values wants 16+ characters):
# replacing them everywhere would blank out ordinary words.
MIN_SECRET_LENGTH = 8
SECRET_PARAMETER = re.compile(
    r"(?P<name>[?&;][\w.~%-]*(?:token|auth|key|code|state)[\w.~%-]*=)(?P<value>[^&#;\s'\"<>]+)", re.IGNORECASE
)


def secrets_of(environ: Mapping[str, str]) -> tuple[str, ...]:
    """The secret values among these variables, longest first (so a token that contains
    another is replaced whole)."""
    found = {environ.get(name, "").strip() for name in SECRET_VARIABLES}
    return tuple(sorted((s for s in found if len(s) >= MIN_SECRET_LENGTH), key=len, reverse=True))


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    for secret in secrets:
        text = text.replace(secret, HIDDEN)
    return SECRET_PARAMETER.sub(lambda m: m["name"] + HIDDEN, text)


class TokenFilter(logging.Filter):
    """Replaces tokens in a record's message, traceback and stack before any handler formats it.

    Set on a handler (not a logger), it sees the records every logger passes on to that
    handler: tornado's loggers reach the Jupyter server's handler that way."""

    def __init__(self, name: str = "", environ: Mapping[str, str] | None = None) -> None:
        super().__init__(name)
        self.secrets = secrets_of(os.environ if environ is None else environ)

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a broken format string is logged as it is, redacted
            message = str(record.msg)
        record.msg, record.args = redact(message, self.secrets), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text, self.secrets)
        if record.stack_info:
            record.stack_info = redact(record.stack_info, self.secrets)
        return True
