"""The class hub's accounts: NativeAuthenticator 1.3.0 with four changes, each through an
extension point JupyterHub documents for authenticators (normalize_username, authenticate,
get_handlers) and its template path, none by patching NativeAuthenticator.

1. Approving, removing and discarding accounts change state on POST only, with JupyterHub's
   XSRF token (NativeAuthenticator does it on a plain GET: an <img> in any page the instructor
   opened, or a link from another site, approved accounts). A GET shows what a click would
   do and asks to confirm. The authorization page's buttons are forms
   (templates/authorization-area.html).
2. Removing an account's approval also ends what it already holds: its login cookies (the
   user's cookie id is renewed), every API and OAuth token, and its running server.
   NativeAuthenticator only flips a flag, which stops the next login and nothing else.
3. Failed logins are counted per client and account (guard.py), with a signed "known login"
   cookie so the instructor's own browser is never locked out by someone else's guesses.
4. Account names are normalized and restricted (usernames.py); the rule itself is JupyterHub's
   own `Authenticator.username_pattern`, set in jupyterhub_config.py.

Written for NativeAuthenticator 1.3.0 on JupyterHub 5.5. It can go when NativeAuthenticator
changes state on POST only and locks out per client (jupyterhub/nativeauthenticator, check
handlers.py's ToggleAuthorizationHandler and nativeauthenticator.py's is_blocked on upgrade).
"""

from __future__ import annotations

import time
import uuid

from jupyterhub.utils import new_token
from nativeauthenticator import NativeAuthenticator
from nativeauthenticator.handlers import DiscardHandler, LocalBase, ToggleAuthorizationHandler, admin_users_scope
from nativeauthenticator.orm import UserInfo
from tornado import web
from traitlets import Float, Integer

from courselab_hub import usernames
from courselab_hub.guard import LoginGuard

# Host-only, HTTPS-only (browsers count http://*.localhost as secure too), never sent by
# another site's request, not readable by scripts: see JupyterHub's own __Host- cookies.
KNOWN_LOGIN_COOKIE = "__Host-courselab-known-{account}"
KNOWN_LOGIN_DAYS = 180


def signed_up(handler, name: str) -> UserInfo:
    info = handler.authenticator.get_user(name)
    if info is None:
        raise web.HTTPError(404, f"No account named {name!r} has signed up.")
    return info


class ConfirmFirst(LocalBase):
    """GET shows the change and a button that POSTs it with the XSRF token; only POST acts."""

    action = ""  # the verb on the page and the button

    @admin_users_scope
    async def get(self, name):
        info = signed_up(self, name)
        verb = self.action or ("Remove the approval of" if info.is_authorized else "Authorize")
        html = await self.render_template("courselab-confirm.html", verb=verb, account=info.username)
        self.finish(html)


class ApprovalHandler(ConfirmFirst):
    """/hub/authorize/NAME: approve a pending account, or remove an approval."""

    @admin_users_scope
    async def post(self, name):
        info = signed_up(self, name)
        # The flag first: from here on the account cannot log in again while we clean up.
        info = UserInfo.change_authorization(self.db, info.username)
        if not info.is_authorized and info.username not in self.authenticator.admin_users:
            await self.end_everything_held_by(info.username)
        self.redirect(self.hub.base_url + "authorize#" + info.username)

    async def end_everything_held_by(self, name: str) -> None:
        user = self.find_user(name)
        if user is None:  # signed up, never logged in: holds nothing
            return
        # Every login cookie holds the user's cookie id: a new one invalidates them all.
        user.orm_user.cookie_id = new_token()
        tokens = list(user.orm_user.api_tokens)
        for token in tokens:
            self.db.delete(token)
        self.db.commit()
        self.log.info("courselab: approval of %s removed; %d token(s) revoked", name, len(tokens))
        for server_name, spawner in list(user.spawners.items()):
            if spawner.active and not spawner.pending:
                await self.stop_single_user(user, server_name)


class DiscardPendingHandler(ConfirmFirst, DiscardHandler):
    """/hub/discard/NAME: delete a pending account (NativeAuthenticator's own code, on POST)."""

    action = "Discard the pending account"

    @admin_users_scope
    async def post(self, name):
        await DiscardHandler.get(self, name)


class ClassAuthenticator(NativeAuthenticator):
    failed_logins_per_client = Integer(
        20, config=True, help="Failed logins one client may make, at any accounts, per failed_logins_window."
    )
    failed_logins_window = Float(600, config=True, help="Seconds over which failed_logins_per_client counts.")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # NativeAuthenticator's two lock-out settings, applied per client and account.
        self.guard = LoginGuard(
            per_account=self.allowed_failed_logins,
            lockout=self.seconds_before_next_try,
            per_client=self.failed_logins_per_client,
            window=self.failed_logins_window,
        )

    def normalize_username(self, username):
        return super().normalize_username(usernames.normalize(username))

    def is_blocked(self, username):
        """NativeAuthenticator's lock-out per account name, for everyone: replaced by the guard."""
        return False

    def client_of(self, handler, account: str) -> str:
        cookie = handler.get_signed_cookie(KNOWN_LOGIN_COOKIE.format(account=account), max_age_days=KNOWN_LOGIN_DAYS)
        if cookie:
            return "browser:" + cookie.decode("ascii", "replace")
        return "address:" + handler.request.remote_ip

    async def authenticate(self, handler, data):
        account = self.normalize_username(data.get("username", ""))
        client = self.client_of(handler, account)
        wait = self.guard.wait(account=account, client=client, now=time.monotonic())
        if wait:
            raise web.HTTPError(
                429,
                f"Too many failed logins from this computer. Try again in {wait} seconds "
                "from this browser, or log in from a browser that has logged in to this account before.",
            )
        authenticated = await super().authenticate(handler, data)
        if not authenticated:
            self.guard.failed(account=account, client=client, now=time.monotonic())
            return None
        self.guard.succeeded(account=account, client=client)
        if not client.startswith("browser:"):
            handler.set_signed_cookie(
                KNOWN_LOGIN_COOKIE.format(account=account),
                uuid.uuid4().hex,
                expires_days=KNOWN_LOGIN_DAYS,
                path="/",
                secure=True,
                httponly=True,
                samesite="Strict",
            )
        return authenticated

    def get_handlers(self, app):
        replaced = {ToggleAuthorizationHandler: ApprovalHandler, DiscardHandler: DiscardPendingHandler}
        return [(route, replaced.get(handler, handler)) for route, handler in super().get_handlers(app)]
