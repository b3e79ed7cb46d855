"""The token, generated once and kept once, whoever asks first."""

from __future__ import annotations

import os
import stat
import threading

from labkit.hostfacts import token


def test_new_tokens_are_long_url_safe_and_different():
    first, second = token.new_token(), token.new_token()

    assert len(first) >= 32
    assert first != second
    assert first.replace("-", "").replace("_", "").isalnum()


def test_stored_token_is_created_once_private_and_reused(tmp_path):
    state = tmp_path / "state"

    first = token.stored_token(state)

    assert token.stored_token(state) == first
    path = state / token.TOKEN_FILE_NAME
    assert path.read_text() == first + "\n"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert sorted(p.name for p in state.iterdir()) == [token.TOKEN_FILE_NAME]


def test_racing_starts_agree_on_one_token(tmp_path):
    results: list[str] = []
    threads = [threading.Thread(target=lambda: results.append(token.stored_token(tmp_path))) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(set(results)) == 1
    assert (tmp_path / token.TOKEN_FILE_NAME).read_text().strip() == results[0]
