"""The language of every message a student reads: English by default, Vietnamese with
LAB_LANG=vi or a Vietnamese locale.

Standard gettext: the English sentence in the code is the message id; the translations live
in one catalogue, locale/<lang>/LC_MESSAGES/courselab.po (compiled to .mo beside it with
`scripts/i18n compile`). Placeholders are str.format names ({name}), so a translation can put
them in another order. Standard library only: the host's scripts/lab uses it too.
"""

from __future__ import annotations

import gettext
import os
from collections.abc import Mapping
from functools import cache
from pathlib import Path

DOMAIN = "courselab"
LOCALE_DIR = Path(__file__).resolve().parent / "locale"
LANGUAGES = ("en", "vi")
DEFAULT_LANGUAGE = "en"
# The order gettext itself consults the locale variables in; in the container, the host's
# locale arrives as LAB_HOST_LOCALE (compose.yaml), since the image has a locale of its own.
LOCALE_VARIABLES = ("LAB_HOST_LOCALE", "LC_ALL", "LC_MESSAGES", "LANG", "LANGUAGE")


def language(environ: Mapping[str, str] | None = None) -> str:
    """LAB_LANG when set to a language we have, else the locale's language, else English."""
    environ = os.environ if environ is None else environ
    chosen = environ.get("LAB_LANG", "").strip().lower()
    if chosen:
        return _known(chosen) or DEFAULT_LANGUAGE
    for variable in LOCALE_VARIABLES:
        value = environ.get(variable, "")
        if value:
            # "vi_VN.UTF-8", "vi", "C.UTF-8"; LANGUAGE may list several ("vi:en").
            return _known(value.split(":")[0]) or DEFAULT_LANGUAGE
    return DEFAULT_LANGUAGE


def _known(value: str) -> str | None:
    code = value.replace("-", "_").split("_")[0].split(".")[0].lower()
    return code if code in LANGUAGES else None


@cache
def translations(lang: str) -> gettext.NullTranslations:
    if lang == DEFAULT_LANGUAGE:
        return gettext.NullTranslations()
    return gettext.translation(DOMAIN, localedir=str(LOCALE_DIR), languages=[lang], fallback=True)


def _(message: str) -> str:
    """The message in the student's language (looked up at call time, so LAB_LANG set by a
    test or a notebook takes effect without re-importing anything)."""
    return translations(language()).gettext(message)


def N_(message: str) -> str:  # noqa: N802 - gettext's own name for "mark, translate later"
    """Marks a constant for the catalogue; translate it with _() where it is shown."""
    return message
