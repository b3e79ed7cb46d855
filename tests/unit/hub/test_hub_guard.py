"""Failed logins (courselab_hub.guard): per client and account, slowed per client, and a
refused try never reaches the password check. Times are seconds on a fake clock."""

from __future__ import annotations

import pytest
from courselab_hub.guard import LoginGuard

STUDENT = "address:172.29.0.18"
TEACHERS_BROWSER = "browser:4d1c0a"
SAME_NAT = "address:10.0.0.1"


def fail(guard: LoginGuard, times: int, *, account: str, client: str, start: float = 0.0) -> None:
    for n in range(times):
        guard.failed(account=account, client=client, now=start + n)


@pytest.mark.parametrize(
    ("failures", "asking", "now", "wait"),
    [
        pytest.param(5, STUDENT, 4, 300, id="five-lock-that-client-for-the-lockout"),
        pytest.param(5, STUDENT, 303, 1, id="until-the-lockout-is-over"),
        pytest.param(5, STUDENT, 304, 0, id="then-it-may-try-again"),
        pytest.param(4, STUDENT, 4, 0, id="four-lock-nothing"),
        pytest.param(50, TEACHERS_BROWSER, 50, 0, id="never-the-instructors-own-browser"),
        pytest.param(5, SAME_NAT, 5, 0, id="nor-another-address"),
    ],
)
def test_failures_at_an_account_lock_out_only_the_client_that_made_them(failures, asking, now, wait):
    guard = LoginGuard(per_account=5, lockout=300)
    fail(guard, failures, account="teacher", client=STUDENT)
    assert guard.wait(account="teacher", client=asking, now=now) == wait


def test_a_client_trying_many_names_is_slowed_down():
    guard = LoginGuard(per_account=5, lockout=300, per_client=20, window=600)
    for n in range(20):
        guard.failed(account=f"student{n}", client=STUDENT, now=n)
    assert guard.wait(account="student99", client=STUDENT, now=20) == 580
    # Once the oldest failure is older than the window, one more try is allowed.
    assert guard.wait(account="student99", client=STUDENT, now=600) == 0
    assert guard.wait(account="student99", client=TEACHERS_BROWSER, now=20) == 0


def test_a_success_clears_that_clients_failures_at_that_account():
    guard = LoginGuard(per_account=5, lockout=300)
    fail(guard, 4, account="alice", client=STUDENT)
    guard.succeeded(account="alice", client=STUDENT)
    fail(guard, 4, account="alice", client=STUDENT, start=10)
    assert guard.wait(account="alice", client=STUDENT, now=14) == 0


def test_a_limit_of_zero_is_off():
    guard = LoginGuard(per_account=0, lockout=300, per_client=0, window=600)
    fail(guard, 100, account="teacher", client=STUDENT)
    assert guard.wait(account="teacher", client=STUDENT, now=100) == 0
