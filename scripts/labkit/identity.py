"""JupyterLab's login, closed until the GPU check has passed.

The entrypoint starts JupyterLab while the GPU check runs (both take seconds; one after the
other they add up). Until the check passes, every request is treated as not logged in: the
API answers 403 and the browser gets the login page, even with the right token. Used through
--ServerApp.identity_provider_class (see entrypoint.lab_command); the health check's /api
request needs no login, and labkit.health also waits for the check itself.
"""

from __future__ import annotations

from jupyter_server.auth.identity import PasswordIdentityProvider

from labkit.runstate import RunState


class GateIdentityProvider(PasswordIdentityProvider):
    run_state = RunState()

    def get_user(self, handler):
        if not self.run_state.gate_passed():
            return None
        return super().get_user(handler)
