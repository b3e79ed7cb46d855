"""Which language a student gets: LAB_LANG, else the locale, else English."""

from __future__ import annotations

import pytest
from labkit import i18n


@pytest.mark.parametrize(
    "environ,lang",
    [
        ({}, "en"),
        ({"LAB_LANG": "vi"}, "vi"),
        ({"LAB_LANG": "VI"}, "vi"),
        ({"LAB_LANG": "en", "LANG": "vi_VN.UTF-8"}, "en"),
        ({"LANG": "vi_VN.UTF-8"}, "vi"),
        ({"LAB_HOST_LOCALE": "vi_VN.UTF-8", "LANG": "C.UTF-8"}, "vi"),
        ({"LC_ALL": "de_DE.UTF-8", "LANG": "vi_VN.UTF-8"}, "en"),
        ({"LANGUAGE": "vi:en"}, "vi"),
        ({"LANG": "C.UTF-8"}, "en"),
        ({"LAB_LANG": "fr"}, "en"),
    ],
    ids=[
        "nothing",
        "lab-lang",
        "lab-lang-upper",
        "lab-lang-wins",
        "locale",
        "host-locale-in-container",
        "lc-all-first",
        "language-list",
        "c-locale",
        "unknown-language",
    ],
)
def test_language_choice(environ, lang):
    assert i18n.language(environ) == lang


def test_english_is_the_message_itself(monkeypatch):
    monkeypatch.setenv("LAB_LANG", "en")
    assert i18n._("No GPU") == "No GPU"
