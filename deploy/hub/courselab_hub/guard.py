"""Failed logins: who is refused, and for how long. Pure: the clock is an argument.

NativeAuthenticator 1.3.0 counts failures per account name only, so five wrong passwords
typed by anyone lock the account for everyone: a student could keep the instructor locked
out. Here failures are counted per *client and account*:

- a client is the browser's "known login" cookie for that account when it has one (set after
  a successful login, signed by the hub, see accounts.py), else the address the request came
  from. The instructor's own browser is therefore never locked by another client's failures,
  even one behind the same address (a classroom NAT, the server's own Docker proxy);
- `per_account` failures of one client at one account refuse that client for that account
  for `lockout` seconds (NativeAuthenticator's allowed_failed_logins and
  seconds_before_next_try, applied per client);
- a client is also slowed across accounts: after `per_client` failures within `window`
  seconds, whatever account it tries, it waits until the oldest of them is `window` old.
  That is what stops trying one password against every name on the class list.

A limit of 0 turns that limit off (NativeAuthenticator's allowed_failed_logins default).
A refused attempt is not tried at all, so it cannot tell whether the password was right (a
pending account's right password otherwise answers "not authorized yet").
"""

from __future__ import annotations

import math
from collections import defaultdict, deque
from dataclasses import dataclass, field


@dataclass
class LoginGuard:
    per_account: int = 5
    lockout: float = 300.0
    per_client: int = 20
    window: float = 600.0
    _account_failures: dict[tuple[str, str], deque] = field(default_factory=lambda: defaultdict(deque))
    _client_failures: dict[str, deque] = field(default_factory=lambda: defaultdict(deque))

    def wait(self, *, account: str, client: str, now: float) -> int:
        """Seconds this client must wait before trying this account; 0 when it may try."""
        self._forget_old(account=account, client=client, now=now)
        waits = [0.0]
        mine = self._account_failures.get((account, client))
        if self.per_account > 0 and mine and len(mine) >= self.per_account:
            waits.append(mine[-1] + self.lockout - now)
        everything = self._client_failures.get(client)
        if self.per_client > 0 and everything and len(everything) >= self.per_client:
            waits.append(everything[-self.per_client] + self.window - now)
        return max(0, math.ceil(max(waits)))

    def failed(self, *, account: str, client: str, now: float) -> None:
        self._account_failures[(account, client)].append(now)
        self._client_failures[client].append(now)

    def succeeded(self, *, account: str, client: str) -> None:
        self._account_failures.pop((account, client), None)

    def _forget_old(self, *, account: str, client: str, now: float) -> None:
        mine = self._account_failures.get((account, client))
        if mine and now - mine[-1] >= self.lockout:
            del self._account_failures[(account, client)]
        everything = self._client_failures.get(client)
        while everything and now - everything[0] >= self.window:
            everything.popleft()
        if everything is not None and not everything:
            del self._client_failures[client]
