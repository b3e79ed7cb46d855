"""A student (or instructor) at the class hub, as a browser would be: its own cookie jar,
the hub's forms with their XSRF token, then a personal API token for the rest.

Paths and fields are JupyterHub's and NativeAuthenticator's own (jupyterhub/handlers/login.py,
nativeauthenticator/handlers.py: /hub/signup takes username, signup_password,
signup_password_confirmation; /hub/authorize/<name> toggles an account; /hub/login takes
username, password). Every request goes to 127.0.0.1 only.
"""

from __future__ import annotations

import http.cookiejar
import json
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field

import dockerlab


@dataclass
class Response:
    status: int
    body: str
    url: str

    def json(self):
        return json.loads(self.body) if self.body else None


@dataclass
class HubUser:
    base: str  # http://127.0.0.1:PORT
    name: str
    password: str
    token: str | None = None
    jar: http.cookiejar.CookieJar = field(default_factory=http.cookiejar.CookieJar)

    def __post_init__(self):
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))

    def request(self, method: str, path: str, *, data: bytes | None = None, headers: dict | None = None) -> Response:
        request = urllib.request.Request(self.base + path, data=data, headers=headers or {}, method=method)  # noqa: S310
        try:
            with self.opener.open(request, timeout=60) as response:
                return Response(response.status, response.read().decode(errors="replace"), response.url)
        except urllib.error.HTTPError as error:
            return Response(error.code, error.read().decode(errors="replace"), error.url)

    def xsrf(self) -> str:
        for cookie in self.jar:
            if cookie.name == "_xsrf" and cookie.path.startswith("/hub"):
                return cookie.value
        raise AssertionError(f"{self.name}: the hub set no _xsrf cookie")

    def form(self, path: str, fields: dict[str, str]) -> Response:
        self.request("GET", path)  # the page sets the _xsrf cookie, as in a browser
        body = urllib.parse.urlencode({**fields, "_xsrf": self.xsrf()}).encode()
        return self.request("POST", path, data=body, headers={"Content-Type": "application/x-www-form-urlencoded"})

    def sign_up(self) -> Response:
        fields = {
            "username": self.name,
            "signup_password": self.password,
            "signup_password_confirmation": self.password,
        }
        return self.form("/hub/signup", fields)

    def log_in(self, *, start_server: bool = True) -> Response:
        """As in a browser: logging in starts one's server (JupyterHub's redirect_to_server)
        unless the login asks to go to the hub's home page instead."""
        path = "/hub/login" if start_server else "/hub/login?next=%2Fhub%2Fhome"
        return self.form(path, {"username": self.name, "password": self.password})

    @property
    def logged_in(self) -> bool:
        return any(cookie.name == "jupyterhub-hub-login" for cookie in self.jar)

    def create_token(self) -> str:
        """A personal API token, created with the login cookie as the hub's token page does."""
        body = json.dumps({"note": "courselab test", "expires_in": 3600}).encode()
        headers = {"Content-Type": "application/json", "X-XSRFToken": self.xsrf()}
        response = self.request("POST", f"/hub/api/users/{self.name}/tokens", data=body, headers=headers)
        assert response.status == 201, f"{self.name}: token request answered {response.status}: {response.body[:300]}"
        self.token = response.json()["token"]
        return self.token

    def api(self, method: str, path: str, body: dict | None = None, *, token: str | None = None) -> Response:
        headers = {"Authorization": f"token {token or self.token}", "Content-Type": "application/json"}
        data = json.dumps(body).encode() if body is not None else None
        return self.request(method, path, data=data, headers=headers)

    def server(self) -> dict | None:
        model = self.api("GET", f"/hub/api/users/{self.name}").json()
        return (model.get("servers") or {}).get("")

    def start_server(self, *, timeout: float = 300, options: dict | None = None) -> float:
        """Start this user's server and wait until its file API answers; returns seconds."""
        started = time.monotonic()
        response = self.api("POST", f"/hub/api/users/{self.name}/server", options)
        assert response.status in (201, 202), f"{self.name}: start answered {response.status}: {response.body[:300]}"
        self.wait_usable(timeout=timeout)
        return time.monotonic() - started

    def wait_usable(self, *, timeout: float = 300) -> None:
        def usable():
            server = self.server()
            if server is None:
                raise AssertionError("the hub has no server for this user (the spawn failed)")
            return server.get("ready") and self.api("GET", f"/user/{self.name}/api/contents").status == 200

        dockerlab.wait_for(usable, timeout=timeout, interval=1, what=f"{self.name}'s server to be usable")

    def stop_server(self, *, timeout: float = 120) -> None:
        response = self.api("DELETE", f"/hub/api/users/{self.name}/server")
        assert response.status in (202, 204), f"{self.name}: stop answered {response.status}"
        dockerlab.wait_for(lambda: self.server() is None, timeout=timeout, what=f"{self.name}'s server to stop")

    def put_file(self, path: str, text: str) -> Response:
        return self.api(
            "PUT", f"/user/{self.name}/api/contents/{path}", {"type": "file", "format": "text", "content": text}
        )

    def get_file(self, owner: str, path: str) -> Response:
        return self.api("GET", f"/user/{owner}/api/contents/{path}")
