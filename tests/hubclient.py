"""A student (or instructor) at the class hub, as a browser would be: its own cookie jar,
the hub's forms with their XSRF token, then a personal API token for the rest.

Paths and fields are JupyterHub's and NativeAuthenticator's own (jupyterhub/handlers/login.py,
nativeauthenticator/handlers.py: /hub/signup takes username, signup_password,
signup_password_confirmation; /hub/login takes username, password); approving an account is
the class hub's POST form (deploy/hub/courselab_hub/accounts.py).

The hub is http://hub.localhost:PORT and each student's server http://NAME.hub.localhost:PORT
(JupyterHub's subdomain_host). Browsers resolve every *.localhost name to this computer and
count it as a secure origin, so they keep the hub's Secure, __Host- cookies over plain http;
this client does the same: it connects *.localhost to 127.0.0.1 and sends Secure cookies
there. Every request goes to 127.0.0.1 only.
"""

from __future__ import annotations

import http.client
import http.cookiejar
import json
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field

import dockerlab


def is_loopback_name(host: str) -> bool:
    return host == "localhost" or host.endswith(".localhost")


class LoopbackConnection(http.client.HTTPConnection):
    """An HTTP connection that reaches *.localhost on 127.0.0.1 (as browsers do), whatever
    the system resolver says; the Host header keeps the name."""

    def connect(self):
        if is_loopback_name(self.host):
            self.sock = self._create_connection(("127.0.0.1", self.port), self.timeout, self.source_address)
        else:
            super().connect()


class LoopbackHandler(urllib.request.HTTPHandler):
    def http_open(self, req):
        return self.do_open(LoopbackConnection, req)


def browser_like_opener(jar: http.cookiejar.CookieJar) -> urllib.request.OpenerDirector:
    return urllib.request.build_opener(LoopbackHandler(), urllib.request.HTTPCookieProcessor(jar))


def browser_like_jar() -> http.cookiejar.CookieJar:
    # Secure cookies go over http to *.localhost too: a secure context for browsers.
    return http.cookiejar.CookieJar(http.cookiejar.DefaultCookiePolicy(secure_protocols=("https", "wss", "http")))


@dataclass
class Response:
    status: int
    body: str
    url: str

    def json(self):
        return json.loads(self.body) if self.body else None


@dataclass
class HubUser:
    base: str  # http://hub.localhost:PORT
    name: str
    password: str
    token: str | None = None
    jar: http.cookiejar.CookieJar = field(default_factory=browser_like_jar)

    def __post_init__(self):
        self.opener = browser_like_opener(self.jar)

    def server_base(self, owner: str) -> str:
        """Where `owner`'s server answers: their own subdomain of the hub's host."""
        parts = urllib.parse.urlsplit(self.base)
        return f"{parts.scheme}://{owner}.{parts.netloc}"

    def request(self, method: str, path: str, *, data: bytes | None = None, headers: dict | None = None) -> Response:
        """`path` on the hub, or a full URL (a student's server)."""
        url = path if "://" in path else self.base + path
        request = urllib.request.Request(url, data=data, headers=headers or {}, method=method)  # noqa: S310
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
        page = self.request("GET", path)  # the page sets the _xsrf cookie, as in a browser
        assert page.status == 200, f"{self.name}: GET {path} answered {page.status}: {page.body[-300:]}"
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

    def toggle_approval(self, name: str) -> Response:
        """What the Authorize / Unauthorize button on /hub/authorize sends (an admin)."""
        return self.form(f"/hub/authorize/{name}", {})

    @property
    def logged_in(self) -> bool:
        return any(cookie.name.endswith("jupyterhub-hub-login") for cookie in self.jar)

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
            return server.get("ready") and self.contents("GET", self.name, "").status == 200

        dockerlab.wait_for(usable, timeout=timeout, interval=1, what=f"{self.name}'s server to be usable")

    def stop_server(self, *, timeout: float = 120) -> None:
        response = self.api("DELETE", f"/hub/api/users/{self.name}/server")
        assert response.status in (202, 204), f"{self.name}: stop answered {response.status}"
        dockerlab.wait_for(lambda: self.server() is None, timeout=timeout, what=f"{self.name}'s server to stop")

    def contents(self, method: str, owner: str, path: str, body: dict | None = None) -> Response:
        """Jupyter Server's contents API of `owner`'s server (/user/OWNER/api/contents/PATH), with my token."""
        return self.api(method, f"{self.server_base(owner)}/user/{owner}/api/contents{path and '/' + path}", body)

    def put_file(self, path: str, text: str) -> Response:
        return self.contents("PUT", self.name, path, {"type": "file", "format": "text", "content": text})

    def get_file(self, owner: str, path: str) -> Response:
        return self.contents("GET", owner, path)
