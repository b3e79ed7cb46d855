"""The class hub attacked as a student would (issue 25), on a real hub (deploy/compose.yaml on
the test engine), with Debian's Chromium where a browser is the attacker's tool.

alice is the attacker; bob is a classmate, teacher and ta are instructors (admins). Every test
is one attack try and asserts that it fails. On the hub of before (one origin for the hub and
every server, approvals on GET, one open network, lock-outs per account name, any name) each
of them succeeded: see the report of issue 25.

- A page alice plants where JupyterLab serves lab extensions from, opened by bob and by the
  instructor: it runs in alice's own origin (JupyterHub's subdomain_host), so it can neither
  read the hub nor act as its visitor. The page is not even served (hub mode loads lab
  extensions only from the image's folders); the attack script is then run in alice's
  origin anyway (Playwright's page.evaluate), as if she had found another way to serve it.
- CSRF on the instructor's approvals, from a page on another port of the same host (same
  site: SameSite cookies do not help there) and from alice's origin.
- The network: alice's server reaches no port of bob's server, bob's own little web server
  included; both reach the hub.
- Lock-outs, guessing, names, and what removing an approval ends.
"""

from __future__ import annotations

import http.server
import json
import re
import subprocess
import threading
import urllib.parse
from concurrent.futures import ThreadPoolExecutor

import chromium
import dockerlab
import hubdeploy
import pytest
from hubclient import HubUser

PASSWORD = "correct horse battery staple"
WRONG = "wrong horse battery staple"
ADMINS = ("teacher", "ta")
# Pending accounts (signed up, never approved), one per try, so no try depends on another.
PENDING = ("pend-img", "pend-alice-img", "pend-redirect", "pend-form", "pend-discard-form", "pend-oracle")
PENDING += ("pend-ui-approve", "pend-ui-discard", "pend-ui-link")
PLANTED = ".local/share/jupyter/labextensions/evil/static/steal.html"
SECRET = "bob's homework, nobody else's"

# What alice's page does in its visitor's browser. Every step is tried; a step the browser
# blocks records why. `hub` is the hub's origin, `server` bob's server's. The terminal step
# opens bob's lab in a window first, as a link would, which also logs the browser in to
# bob's server for the file read after it.
ATTACK = """
async ({hub, server, victim, owner}) => {
  const out = {};
  const attempt = async (name, run) => {
    try { out[name] = await run(); } catch (error) { out[name] = {blocked: String(error)}; }
  };
  await attempt("hub_page", async () => {
    const response = await fetch(hub + "/hub/home", {credentials: "include"});
    const text = await response.text();
    return {status: response.status, url: response.url,
            xsrf: (text.match(/xsrf_token: "([^"]+)"/) || [])[1] || null,
            user: (text.match(/user: "([^"]+)"/) || [])[1] || null};
  });
  const xsrf = (out.hub_page && out.hub_page.xsrf) || "";
  await attempt("token", async () => {
    const response = await fetch(`${hub}/hub/api/users/${victim}/tokens`, {
      method: "POST", credentials: "include",
      headers: {"Content-Type": "application/json", "X-XSRFToken": xsrf},
      body: JSON.stringify({note: "made by alice's page"})});
    return {status: response.status, body: (await response.text()).slice(0, 300)};
  });
  await attempt("blind_token", async () => {
    const response = await fetch(`${hub}/hub/api/users/${victim}/tokens`, {
      method: "POST", mode: "no-cors", credentials: "include",
      headers: {"Content-Type": "text/plain"}, body: JSON.stringify({note: "blind, by alice's page"})});
    return {type: response.type};
  });
  await attempt("make_admin", async () => {
    const response = await fetch(`${hub}/hub/api/users/${owner}`, {
      method: "PATCH", credentials: "include",
      headers: {"Content-Type": "application/json", "X-XSRFToken": xsrf},
      body: JSON.stringify({admin: true})});
    return {status: response.status};
  });
  let serverXsrf = "";
  await attempt("terminal", async () => {
    const lab = window.open(`${server}/user/bob/lab`);
    let cookie = "";
    for (let waited = 0; waited < 60000 && !cookie.includes("_xsrf="); waited += 500) {
      await new Promise(resolve => setTimeout(resolve, 500));
      cookie = lab.document.cookie;
    }
    serverXsrf = decodeURIComponent((cookie.match(/_xsrf=([^;]+)/) || [])[1] || "");
    const response = await fetch(`${server}/user/bob/api/terminals`, {
      method: "POST", credentials: "include", headers: {"X-XSRFToken": serverXsrf}});
    lab.close();
    return {status: response.status, body: (await response.text()).slice(0, 300)};
  });
  // After bob's lab page opened in his browser, which logged it in to his server; a script's
  // request needs the server's XSRF token even to read (JupyterHub's rule for fetch()).
  await attempt("files", async () => {
    const response = await fetch(`${server}/user/bob/api/contents/secret.txt`, {
      credentials: "include", headers: {"X-XSRFToken": serverXsrf}});
    return {status: response.status, body: (await response.text()).slice(0, 300)};
  });
  return out;
}
"""


def planted_page(*, hub: str, server: str, victim: str, owner: str) -> str:
    """The page itself runs the attack as soon as it is opened, its result on window."""
    args = json.dumps({"hub": hub, "server": server, "victim": victim, "owner": owner})
    script = f"({ATTACK})({args}).then(result => {{ window.attack = result; }});"
    return f"<!doctype html><title>homework help</title><script>{script}</script>"


@pytest.fixture(scope="module")
def hub(cpu_lab_image, tmp_path_factory):
    settings = {"HUB_MEM_LIMIT": "1G", "HUB_ADMIN_USERS": ",".join(ADMINS)}
    with hubdeploy.running_hub(tmp_path_factory, "hubsec", settings) as stack:
        yield stack


@pytest.fixture(scope="module")
def people(hub):
    """Both instructors logged in (no servers), alice's and bob's servers started, the
    pending accounts signed up; every account through the hub's own forms."""
    users = {name: HubUser(hub.url, name, PASSWORD) for name in (*ADMINS, "alice", "bob", *PENDING)}
    with hub.explained():
        for user in users.values():
            assert user.sign_up().status == 200
        teacher = users["teacher"]
        assert teacher.log_in(start_server=False).status == 200 and teacher.logged_in
        teacher.create_token()
        for name in ("alice", "bob"):
            assert teacher.toggle_approval(name).status == 200
            users[name].log_in()
            assert users[name].logged_in, f"{name} could not log in after the approval"
            users[name].create_token()
        with ThreadPoolExecutor(2) as pool:
            list(pool.map(lambda user: user.start_server(), (users["alice"], users["bob"])))
        assert users["bob"].put_file("secret.txt", SECRET).status == 201
    return users


def exec_in(container: str, *command: str, check: bool = True, timeout: float = 300) -> str:
    return dockerlab.run(["docker", "exec", container, *command], check=check, timeout=timeout).stdout


@pytest.fixture(scope="module")
def planted(hub, people):
    """alice writes the page into her lab extensions folder (as from her terminal: the same
    user, the image's 1000); returns its address on her server."""
    alice = people["alice"]
    page = planted_page(hub=hub.url, server=alice.server_base("bob"), victim="VICTIM", owner="alice")
    script = (
        f"import pathlib; p = pathlib.Path.home() / {PLANTED!r}; p.parent.mkdir(parents=True); p.write_text({page!r})"
    )
    exec_in(hub.container("alice"), "python", "-c", script)
    return f"{alice.server_base('alice')}/user/alice/lab/extensions/evil/static/steal.html"


@pytest.fixture(scope="module")
def browser():
    with chromium.launched() as launched:
        yield launched


def browser_logged_in(browser, hub, user: HubUser):
    """A browser context of `user`, logged in through the hub's login form."""
    context = browser.new_context()
    page = context.new_page()
    page.goto(f"{hub.url}/hub/login?next=%2Fhub%2Fhome")
    page.fill("#username_input", user.name)
    page.fill("#password_input", user.password)
    page.click("#login_submit")
    page.wait_for_url(re.compile(r".*/hub/home$"), timeout=120_000)
    page.close()
    return context


def tokens_of(people, name: str) -> list[str]:
    listed = people["teacher"].api("GET", f"/hub/api/users/{name}/tokens").json()
    return sorted(token["id"] for token in listed["api_tokens"])


def terminals_of_bob(people) -> list[str]:
    bob = people["bob"]
    listed = bob.api("GET", f"{bob.server_base('bob')}/user/bob/api/terminals").json()
    return sorted(terminal["name"] for terminal in listed)


def visit(browser, hub, people, planted, visitor: str) -> dict:
    """`visitor` opens alice's link; what the page got, and what changed at the hub."""
    before = {"tokens": tokens_of(people, visitor), "terminals": terminals_of_bob(people)}
    context = browser_logged_in(browser, hub, people[visitor])
    page = context.new_page()
    response = page.goto(planted.replace("VICTIM", visitor))
    served = response.status == 200 and "text/html" in response.headers.get("content-type", "")
    if served:
        page.wait_for_function("window.attack !== undefined", timeout=120_000)
    args = {"hub": hub.url, "server": people["alice"].server_base("bob"), "victim": visitor, "owner": "alice"}
    # In alice's origin, whether her page was served or not.
    result = page.evaluate(f"({ATTACK})({json.dumps(args)})")
    context.close()
    after = {"tokens": tokens_of(people, visitor), "terminals": terminals_of_bob(people)}
    return {"served": served, "status": response.status, "page": result, "before": before, "after": after}


@pytest.fixture(scope="module")
def bob_visits(browser, hub, people, planted):
    return visit(browser, hub, people, planted, "bob")


@pytest.fixture(scope="module")
def teacher_visits(browser, hub, people, planted):
    return visit(browser, hub, people, planted, "teacher")


# ---- High: alice's page, opened by bob and by the instructor


def test_a_page_planted_among_lab_extensions_is_not_served(bob_visits):
    assert not bob_visits["served"], bob_visits["status"]


@pytest.mark.parametrize("visitor", ["bob", "teacher"])
def test_alices_page_cannot_read_the_hubs_pages_or_xsrf_token(visitor, request):
    hub_page = request.getfixturevalue(f"{visitor}_visits")["page"]["hub_page"]
    assert "blocked" in hub_page or hub_page.get("xsrf") is None, hub_page


@pytest.mark.parametrize("visitor", ["bob", "teacher"])
def test_alices_page_creates_no_token_for_its_visitor(visitor, request):
    visited = request.getfixturevalue(f"{visitor}_visits")
    assert visited["page"]["token"].get("status") != 201, visited["page"]["token"]
    assert visited["after"]["tokens"] == visited["before"]["tokens"]


@pytest.mark.parametrize("visitor", ["bob", "teacher"])
def test_alices_page_creates_no_token_blindly_either(visitor, request):
    """A no-cors POST the page cannot read: only the hub's list of tokens says."""
    visited = request.getfixturevalue(f"{visitor}_visits")
    assert visited["after"]["tokens"] == visited["before"]["tokens"], visited["page"]["blind_token"]


def test_alices_page_cannot_read_bobs_files(bob_visits):
    files = bob_visits["page"]["files"]
    assert SECRET not in json.dumps(files), files


def test_alices_page_cannot_open_a_terminal_in_bobs_server(bob_visits):
    assert bob_visits["page"]["terminal"].get("status") not in (200, 201), bob_visits["page"]["terminal"]
    assert bob_visits["after"]["terminals"] == bob_visits["before"]["terminals"]


def test_alices_page_cannot_make_alice_an_admin_through_the_instructor(people, teacher_visits):
    assert teacher_visits["page"]["make_admin"].get("status") != 200, teacher_visits["page"]["make_admin"]
    assert people["teacher"].api("GET", "/hub/api/users/alice").json()["admin"] is False


# ---- Medium: CSRF on the instructor's approvals


class AttackerSite:
    """Pages on another port of the hub's own host (same site for SameSite cookies)."""

    def __init__(self, hub_url: str):
        pages = {
            "/img": lambda: f'<img src="{hub_url}/hub/authorize/pend-img">',
            "/form-authorize": lambda: self.autosubmit(f"{hub_url}/hub/authorize/pend-form"),
            "/form-discard": lambda: self.autosubmit(f"{hub_url}/hub/discard/pend-discard-form"),
        }
        redirects = {"/redirect": f"{hub_url}/hub/discard/pend-redirect"}

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 - http.server's name
                if self.path in redirects:
                    self.send_response(302)
                    self.send_header("Location", redirects[self.path])
                    self.end_headers()
                    return
                if self.path not in pages:  # the browser's /favicon.ico
                    self.send_error(404)
                    return
                body = f"<!doctype html><title>free answers</title>{pages[self.path]()}".encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/html")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"{urllib.parse.urlsplit(hub_url).scheme}://hub.localhost:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @staticmethod
    def autosubmit(action: str) -> str:
        return f'<form method="post" action="{action}"></form><script>document.forms[0].submit()</script>'


@pytest.fixture(scope="module")
def attacker_site(hub):
    site = AttackerSite(hub.url)
    yield site
    site.server.shutdown()


@pytest.fixture(scope="module")
def teacher_browser(browser, hub, people):
    context = browser_logged_in(browser, hub, people["teacher"])
    yield context
    context.close()


def accounts(people) -> dict[str, str]:
    """name -> "Yes"/"No" (approved?) as the authorization page lists them."""
    page = people["teacher"].request("GET", "/hub/authorize").body
    rows = re.findall(r'<tr[^>]*\bid="?([^">\s]+)"?[^>]*>(.*?)</tr>', page, re.DOTALL)
    return {name: ("Yes" if "<td>Yes</td>" in row else "No") for name, row in rows}


def opened_by_the_instructor(teacher_browser, url: str) -> None:
    page = teacher_browser.new_page()
    page.goto(url)
    page.wait_for_load_state("load")
    page.close()


def test_an_image_on_another_port_does_not_approve_an_account(people, teacher_browser, attacker_site):
    opened_by_the_instructor(teacher_browser, f"{attacker_site.url}/img")
    assert accounts(people)["pend-img"] == "No"


def test_an_image_in_alices_origin_does_not_approve_an_account(hub, people, teacher_browser, planted):
    page = teacher_browser.new_page()
    page.goto(planted)
    page.evaluate(
        """async (src) => { const image = new Image(); image.src = src;
           await new Promise(done => { image.onload = image.onerror = done; }); }""",
        f"{hub.url}/hub/authorize/pend-alice-img",
    )
    page.close()
    assert accounts(people)["pend-alice-img"] == "No"


def test_a_redirect_from_another_port_does_not_discard_an_account(people, teacher_browser, attacker_site):
    opened_by_the_instructor(teacher_browser, f"{attacker_site.url}/redirect")
    assert "pend-redirect" in accounts(people)


def test_a_form_from_another_port_without_the_xsrf_token_does_not_approve(people, teacher_browser, attacker_site):
    opened_by_the_instructor(teacher_browser, f"{attacker_site.url}/form-authorize")
    assert accounts(people)["pend-form"] == "No"


def test_a_form_from_another_port_without_the_xsrf_token_does_not_discard(people, teacher_browser, attacker_site):
    opened_by_the_instructor(teacher_browser, f"{attacker_site.url}/form-discard")
    assert "pend-discard-form" in accounts(people)


def test_the_instructor_still_approves_and_discards_with_the_pages_buttons(hub, people, teacher_browser):
    page = teacher_browser.new_page()
    page.goto(f"{hub.url}/hub/authorize")
    page.locator("tr#pend-ui-approve").get_by_role("button", name="Authorize").click()
    page.wait_for_load_state("load")
    page.locator("tr#pend-ui-discard").get_by_role("button", name="Discard").click()
    page.wait_for_load_state("load")
    page.close()
    listed = accounts(people)
    assert listed["pend-ui-approve"] == "Yes"
    assert "pend-ui-discard" not in listed


def test_an_old_approval_link_asks_before_it_approves(hub, people, teacher_browser):
    page = teacher_browser.new_page()
    page.goto(f"{hub.url}/hub/authorize/pend-ui-link")
    page.get_by_role("heading", name="Authorize pend-ui-link?").wait_for()
    assert accounts(people)["pend-ui-link"] == "No"
    page.get_by_role("button", name="Authorize pend-ui-link").click()
    page.wait_for_load_state("load")
    page.close()
    assert accounts(people)["pend-ui-link"] == "Yes"


# ---- Medium: one network per student


PROBE = """
import json, socket, sys
found = {}
for address in sys.argv[1].split(","):
    for port in (8888, 9000, 1):
        try:
            socket.create_connection((address, port), timeout=5).close()
            found[f"{address}:{port}"] = "open"
        except ConnectionRefusedError:
            found[f"{address}:{port}"] = "refused"
        except OSError as error:
            found[f"{address}:{port}"] = type(error).__name__
print(json.dumps(found))
"""


@pytest.fixture(scope="module")
def bobs_ports_from_alice(hub, people):
    """bob starts a little web server of his own (as from his terminal); alice's server then
    knocks on every address of bob's container: his Jupyter, that server and a closed port.
    An answer of any kind, even "refused", would mean a path to bob."""
    dockerlab.run(["docker", "exec", "-d", hub.container("bob"), "python", "-m", "http.server", "9000"])
    dockerlab.wait_for(
        lambda: "200" in exec_in(hub.container("bob"), "python", "-c", HTTP_STATUS, "http://127.0.0.1:9000/"),
        timeout=60,
        what="bob's own web server",
    )
    details = json.loads(dockerlab.run(["docker", "inspect", hub.container("bob")]).stdout)[0]
    networks = details["NetworkSettings"]["Networks"]
    addresses = [net["IPAddress"] for net in networks.values() if net["IPAddress"]]
    answers = json.loads(exec_in(hub.container("alice"), "python", "-c", PROBE, ",".join(addresses)))
    return answers, {name: isolation_rule(name) for name in networks}


def isolation_rule(network: str) -> str:
    """What keeps other bridges' traffic out of `network` on this host, for a failure message.
    Docker Engine 20.10 to 27 (moby's bridge driver) drops it with a rule per bridge in the
    iptables chain DOCKER-ISOLATION-STAGE-2. A second dockerd starting on the same host deletes
    and recreates that chain (removeIPChains when its bridge driver starts), so the first
    engine's networks lose their isolation until it restarts: then this says MISSING."""
    network_id = dockerlab.run(["docker", "network", "inspect", "-f", "{{.Id}}", network]).stdout.strip()
    bridge = f"br-{network_id[:12]}"
    chain = subprocess.run(["iptables", "-S", "DOCKER-ISOLATION-STAGE-2"], capture_output=True, text=True)
    if chain.returncode != 0:
        return f"no DOCKER-ISOLATION-STAGE-2 chain here (an engine on nftables?): {chain.stderr.strip()}"
    if f"-o {bridge} -j DROP" in chain.stdout:
        return f"{bridge}: isolated (DROP rule present)"
    return f"{bridge}: MISSING its DROP rule: did another Docker engine start on this host since?"


HTTP_STATUS = """
import sys, urllib.request, urllib.error
try:
    print(urllib.request.urlopen(sys.argv[1], timeout=10).status)
except urllib.error.HTTPError as error:
    print(error.code)
"""


@pytest.mark.parametrize("port", [8888, 9000, 1], ids=["bobs-jupyter", "bobs-own-server", "closed-port"])
def test_alice_has_no_path_to_bobs_server(bobs_ports_from_alice, port):
    found, isolation = bobs_ports_from_alice
    answers = {target: answer for target, answer in found.items() if target.endswith(f":{port}")}
    assert answers
    assert all(answer not in ("open", "refused") for answer in answers.values()), (answers, isolation)


@pytest.mark.parametrize("student", ["alice", "bob"])
def test_both_students_servers_still_reach_the_hub_and_its_proxy(hub, people, student):
    assert exec_in(hub.container(student), "python", "-c", HTTP_STATUS, "http://hub:8081/hub/api/").strip() == "200"
    assert exec_in(hub.container(student), "python", "-c", HTTP_STATUS, "http://hub:8000/hub/health").strip() == "200"


# ---- Low: lock-outs, guessing, pending accounts


LOGINS = """
import http.cookiejar, json, sys, urllib.error, urllib.parse, urllib.request
base, tries = sys.argv[1], json.loads(sys.argv[2])
answers = []
for username, password in tries:
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    opener.open(base + "/hub/login", timeout=60).read()
    xsrf = next(cookie.value for cookie in jar if cookie.name == "_xsrf")
    form = urllib.parse.urlencode({"username": username, "password": password, "_xsrf": xsrf}).encode()
    try:
        with opener.open(base + "/hub/login?next=%2Fhub%2Fhome", form, timeout=60) as response:
            status, text, url = response.status, response.read().decode(errors="replace"), response.url
    except urllib.error.HTTPError as error:
        status, text, url = error.code, error.read().decode(errors="replace"), error.url
    answers.append({"status": status, "pending": "has not been authorized" in text, "in": url.endswith("/hub/home")})
print(json.dumps(answers))
"""


def logins_from_alices_server(hub, tries: list[tuple[str, str]]) -> list[dict]:
    """Login attempts typed into the hub's login form from alice's server (its own address)."""
    out = exec_in(hub.container("alice"), "python", "-c", LOGINS, "http://hub:8000", json.dumps(tries))
    return json.loads(out)


def test_a_stranger_on_the_instructors_own_address_cannot_lock_the_instructors_browser_out(hub, people):
    intruder = HubUser(hub.url, "teacher", WRONG)  # another browser, from the same computer
    for _ in range(6):
        intruder.log_in(start_server=False)
    assert not intruder.logged_in
    teacher = people["teacher"]  # logged in from this browser before
    page = teacher.log_in(start_server=False)
    assert page.status == 200 and page.url.endswith("/hub/home"), (page.status, page.url, page.body[-500:])


def test_a_student_cannot_lock_an_instructor_out(hub, people):
    answers = logins_from_alices_server(hub, [("ta", WRONG)] * 6)
    assert not any(answer["in"] for answer in answers)
    ta = HubUser(hub.url, "ta", PASSWORD)  # a browser that never logged in as ta
    page = ta.log_in(start_server=False)
    assert ta.logged_in, (page.status, page.url, page.body[-500:])


def test_guessing_many_names_from_one_computer_is_slowed_down(hub, people):
    answers = logins_from_alices_server(hub, [(f"student{n}", WRONG) for n in range(30)])
    statuses = [answer["status"] for answer in answers]
    assert 429 in statuses, statuses
    assert statuses.index(429) <= 20, statuses


def test_a_pending_accounts_password_cannot_be_guessed_without_limit(hub, people):
    answers = logins_from_alices_server(hub, [("pend-oracle", WRONG)] * 6 + [("pend-oracle", PASSWORD)])
    assert not answers[-1]["pending"], answers


# ---- Low: account names


LOOK_ALIKES = {
    "fullwidth": "ｔｅａｃｈｅｒ",
    "cyrillic": "t\u0435acher",
    "zero-width-space": "tea\u200bcher",
    "soft-hyphen": "tea\u00adcher",
    "300-characters": "a" * 300,
}


@pytest.mark.parametrize("name", LOOK_ALIKES.values(), ids=LOOK_ALIKES.keys())
def test_a_look_alike_name_gets_no_account(hub, people, name):
    before = set(accounts(people))
    HubUser(hub.url, name, PASSWORD).sign_up()
    assert set(accounts(people)) == before


# ---- Low: removing an approval


@pytest.fixture(scope="module")
def removed(hub, people):
    """dave is approved, logs in (his server starts), makes a token; then the instructor
    removes his approval with the authorization page's button."""
    dave = HubUser(hub.url, "dave", PASSWORD)
    teacher = people["teacher"]
    with hub.explained():
        dave.sign_up()
        assert teacher.toggle_approval("dave").status == 200
        dave.log_in()
        dave.create_token()
        dave.wait_usable()
        assert teacher.toggle_approval("dave").status == 200
    return dave


def test_removing_the_approval_stops_the_server(hub, people, removed):
    dockerlab.wait_for(
        lambda: people["teacher"].api("GET", "/hub/api/users/dave").json()["servers"] == {},
        timeout=120,
        what="dave's server to stop",
    )


def test_removing_the_approval_revokes_the_api_token(removed):
    assert removed.api("GET", "/hub/api/users/dave").status == 403


def test_removing_the_approval_ends_the_browser_session(removed):
    page = removed.request("GET", "/hub/home")
    assert "/hub/login" in page.url, page.url


def test_a_removed_student_cannot_make_a_new_token(removed):
    body = json.dumps({"note": "after removal"}).encode()
    headers = {"Content-Type": "application/json", "X-XSRFToken": removed.xsrf()}
    assert removed.request("POST", "/hub/api/users/dave/tokens", data=body, headers=headers).status == 403
