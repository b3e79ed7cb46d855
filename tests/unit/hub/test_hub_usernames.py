"""Account names: look-alikes of another name are refused, forms of one name are one account.
The rule is what JupyterHub's Authenticator.username_pattern gets (jupyterhub_config.py)."""

from __future__ import annotations

import pytest
from courselab_hub import usernames


@pytest.mark.parametrize(
    "name",
    [
        pytest.param("t\u0435acher", id="cyrillic-ie"),
        pytest.param("tea\u200bcher", id="zero-width-space"),
        pytest.param("tea\u00adcher", id="soft-hyphen"),
        pytest.param("a" * 300, id="300-characters"),
        pytest.param("a" * 33, id="33-characters"),
        pytest.param("-teacher", id="leading-hyphen"),
        pytest.param("teacher-", id="trailing-hyphen"),
        pytest.param("1teacher", id="leading-digit"),
        pytest.param("tea cher", id="space"),
        pytest.param("tea_cher", id="underscore-not-a-dns-label"),
        pytest.param("tea.cher", id="dot-would-be-two-labels"),
        pytest.param("", id="empty"),
    ],
)
def test_look_alikes_and_names_that_are_no_dns_label_are_refused(name):
    assert not usernames.is_valid(usernames.normalize(name))


@pytest.mark.parametrize("name", ["teacher", "alice", "bob-2", "a", "x" * 32, "nguyen-van-an"])
def test_plain_names_are_accepted(name):
    assert usernames.is_valid(usernames.normalize(name))


@pytest.mark.parametrize("form", ["Teacher", "TEACHER", " teacher ", "ｔｅａｃｈｅｒ", "ＴＥＡＣＨＥＲ"])
def test_compatibility_and_case_forms_are_the_same_account(form):
    assert usernames.normalize(form) == "teacher"


@pytest.mark.parametrize("name", ["t\u0435acher", "tea\u200bcher", "tea\u00adcher"])
def test_invisible_and_cyrillic_look_alikes_are_not_folded_into_the_real_name(name):
    """NFKC keeps them, so they stay different from "teacher", and the rule refuses them."""
    normalized = usernames.normalize(name)
    assert normalized != "teacher"
    assert not usernames.is_valid(normalized)


def test_jupyterhub_applies_the_same_rule():
    from jupyterhub.auth import Authenticator

    authenticator = Authenticator(username_pattern=usernames.PATTERN)
    assert authenticator.validate_username("alice")
    assert not authenticator.validate_username("tea\u200bcher")
    assert not authenticator.validate_username("a" * 300)
