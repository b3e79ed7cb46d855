"""Which account names the class hub accepts: a pure rule, tested as data.

A name is a student's web address (`alice.hub.example.edu`, JupyterHub's subdomain_host), the
name of their container and volume, and what the instructor reads on the authorization page.
So it must be one DNS label a person cannot confuse with another: lowercase ASCII letters,
digits and inner hyphens, starting with a letter, at most 32 characters. Look-alikes are
refused rather than kept: a fullwidth or Cyrillic "teacher", a name with a zero-width space
or a soft hyphen in it (the page shows "teacher", the hub holds another account).

Before the rule is applied, a name is brought to Unicode's compatibility form (NFKC) and
lowercased, so "ＴＥＡＣＨＥＲ" and "Teacher" are the account "teacher" (and signing up
under them finds that name taken) instead of new accounts.
"""

from __future__ import annotations

import re
import unicodedata

MAX_LENGTH = 32
# JupyterHub's Authenticator.username_pattern (a documented option) takes this as it is.
PATTERN = rf"^[a-z](?:[a-z0-9-]{{0,{MAX_LENGTH - 2}}}[a-z0-9])?$"
RULE = f"lowercase letters, digits and inner hyphens, starting with a letter, at most {MAX_LENGTH} characters"


def normalize(name: str) -> str:
    return unicodedata.normalize("NFKC", name).strip().lower()


def is_valid(name: str) -> bool:
    return re.fullmatch(PATTERN, name) is not None
