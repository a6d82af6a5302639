"""The operator's web view (`sessionctl serve --http`) in a real headless Chromium: rows
appear and leave live as sessions open and end through the CLI, a session's page tells
its whole story, stored values are text (a detail `<script>` never runs), and the
overview, sessions and one-session pages are saved as 1280×800 screenshots.

Screenshots go to $SESSIONSTORE_SCREENSHOTS, else .build/web-screenshots/ (README, "Web view").
"""
import http.client
import json
import os
import re
import subprocess
import time
from pathlib import Path

import pytest

from chromium import Chromium
from conftest import ROOT, Server, sessionctl_path

XSS = "<script>alert(1)</script>"
# The overview shows each user's live sessions against this limit.
LIMITS = ["--set", "max-sessions-per-user=4"]


def screenshots_dir():
    path = Path(os.environ.get("SESSIONSTORE_SCREENSHOTS") or ROOT / ".build" / "web-screenshots")
    path.mkdir(parents=True, exist_ok=True)
    return path


def web_address(server, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        match = re.search(r"web\.address=(\S+?):(\d+)", server.log_text())
        if match:
            return match.group(1), int(match.group(2))
        time.sleep(0.05)
    raise RuntimeError(f"no web.address logged:\n{server.log_text()}")


def ctl(db, *args):
    result = subprocess.run(
        [sessionctl_path(), *args, "--db", str(db)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, f"sessionctl {' '.join(args)}: {result.stderr}"
    return result.stdout


def ctl_json(db, *args):
    return json.loads(ctl(db, *args, "--json"))


def get(host, port, path, headers=None):
    connection = http.client.HTTPConnection(host, port, timeout=10)
    try:
        connection.request("GET", path, headers=headers or {})
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read().decode()
    finally:
        connection.close()


@pytest.fixture
def web(tmp_path):
    server = Server(tmp_path, args=["--http", "127.0.0.1:0", *LIMITS])
    host, port = web_address(server)
    yield server, host, port
    if server.process.poll() is None:
        assert server.stop() == 0, server.log_text()


@pytest.fixture
def browser():
    chromium = Chromium()
    yield chromium
    chromium.close()


def seed(db):
    """A few sessions of two data sources and three users, one with the whole story."""
    keys = []
    for user, source in [("ada", "sales"), ("ada", "sales"), ("ada", "etl"), ("grace", "etl"), ("linus", "sales"), ("ada", "sales")]:
        keys.append(ctl_json(db, "open", "--user", user, "--data-source", source, "--detail", "client=notebook")["key"])
    refused = subprocess.run(
        [sessionctl_path(), "open", "--user", "ada", "--data-source", "sales", "--db", str(db), *LIMITS],
        capture_output=True, text=True, timeout=60)
    assert refused.returncode != 0 and "LIMIT_EXCEEDED.SESSIONS_PER_USER" in refused.stderr, refused.stderr
    story = ctl_json(
        db, "open", "--user", "grace", "--data-source", "sales", "--identifier", "quarterly report",
        "--detail", "client=spark-connect", "--detail", "host=worker-7", "--conf", "spark.sql.shuffle.partitions=64",
        "--conf", "spark.hadoop.fs.s3a.secret.key=hunter2", "--associate", keys[0],
    )["key"]
    first = ctl_json(db, "exec", "create", story, "--statement", "SELECT region, sum(amount) FROM orders GROUP BY region", "--tag", "report")
    ctl(db, "exec", "set", story, first["operationId"], "started")
    ctl(db, "exec", "set", story, first["operationId"], "finished")
    second = ctl_json(db, "exec", "create", story, "--statement", "SELECT * FROM events", "--tag", "stream")
    ctl(db, "exec", "set", story, second["operationId"], "started")
    ctl(db, "query", "register", story, "orders-to-lake-1", "--name", "orders-to-lake")
    ctl(db, "resource", "add", story, "cache", "orders_by_region", "--bytes", "1048576")
    return story


def test_rows_arrive_and_leave_live_and_stored_values_stay_text(web, browser):
    server, host, port = web
    base = f"http://{host}:{port}"
    story = seed(server.db)
    shots = screenshots_dir()

    browser.navigate(f"{base}/sessions")
    browser.wait_for("document.getElementById('live-status').textContent === 'live'", timeout=5)
    browser.evaluate("window.stillThisPage = true")

    key = ctl_json(server.db, "open", "--user", "mallory", "--data-source", "sales", "--detail", f"note={XSS}")["key"]
    took = browser.wait_for(f"document.getElementById('s-{key}') !== null", timeout=2)
    print(f"new row after {took * 1000:.0f} ms")
    assert browser.evaluate("window.stillThisPage === true"), "the page was reloaded"
    assert browser.evaluate(f"document.getElementById('s-{key}').textContent.includes('mallory')")

    execution = ctl_json(server.db, "exec", "create", key, "--statement", "SELECT 1", "--tag", "probe")
    ctl(server.db, "exec", "set", key, execution["operationId"], "started")

    browser.navigate(f"{base}/sessions/{key}")
    assert browser.evaluate(f"document.getElementById('details').textContent.includes({json.dumps(XSS)})")
    assert browser.evaluate("document.querySelectorAll('main script').length") == 0
    assert browser.evaluate("document.querySelectorAll('script').length") == 1
    assert browser.evaluate(f"document.body.textContent.includes({json.dumps(execution['operationId'])})")
    assert browser.evaluate("document.body.textContent.includes('probe')")
    events = browser.evaluate("Array.from(document.querySelectorAll('#event-rows tr td:nth-child(3)')).map(td => td.textContent)")
    assert events[0] == "session.started", events
    assert events.index("execution.created") < events.index("execution.status_changed"), events
    seqs = browser.evaluate("Array.from(document.querySelectorAll('#event-rows tr td:first-child')).map(td => Number(td.textContent))")
    assert seqs == sorted(seqs)

    browser.navigate(f"{base}/sessions")
    browser.wait_for("document.getElementById('live-status').textContent === 'live'", timeout=5)
    browser.evaluate("window.stillThisPage = true")
    assert browser.evaluate(f"document.getElementById('s-{key}') !== null")
    ctl(server.db, "close", key)
    took = browser.wait_for(f"document.getElementById('s-{key}') === null", timeout=2)
    print(f"row gone after {took * 1000:.0f} ms")
    assert browser.evaluate("window.stillThisPage === true"), "the page was reloaded"

    browser.screenshot(shots / "sessions.png")
    browser.navigate(f"{base}/")
    browser.wait_for("document.getElementById('live-status').textContent === 'live'", timeout=5)
    browser.screenshot(shots / "overview.png")
    browser.navigate(f"{base}/sessions/{story}")
    assert browser.evaluate("document.getElementById('config').textContent.includes('(redacted)')")
    assert not browser.evaluate("document.body.textContent.includes('hunter2')")
    browser.screenshot(shots / "session.png")

    browser.pump(0.5)
    assert browser.dialogs() == [], "a script from a stored value ran"
    for name in ("sessions.png", "overview.png", "session.png"):
        data = (shots / name).read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n"
        width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
        assert (width, height) == (1280, 800), (name, width, height)

    # SIGTERM with the page's stream open: serve drains the web view with the rest.
    assert server.stop() == 0, server.log_text()
    assert "stopped cleanly" in server.log_text()


def test_headers_health_metrics_and_resuming_the_stream(web):
    server, host, port = web
    status, headers, body = get(host, port, "/healthz")
    assert (status, body) == (200, "ok\n")
    status, headers, body = get(host, port, "/sessions?user=%3Cb%3E")
    assert status == 200
    assert headers["Content-Security-Policy"].startswith("default-src 'self'; script-src 'self'")
    assert "&lt;b&gt;" in body and "<b>" not in body
    status, _, body = get(host, port, "/metrics")
    assert status == 200 and "sessionstore_sessions" in body and "sessionstore_web_stream_clients" in body
    status, _, _ = get(host, port, "/sessions/not-a-key")
    assert status in (400, 404)

    first = ctl_json(server.db, "open", "--user", "ada")["key"]
    second = ctl_json(server.db, "open", "--user", "ada")["key"]
    started = [e["seq"] for e in ctl_json(server.db, "events", "--kind", "session.started")]
    connection = http.client.HTTPConnection(host, port, timeout=10)
    connection.request("GET", "/events/stream?kind=session.started", headers={"Last-Event-ID": str(started[0])})
    response = connection.getresponse()
    assert response.status == 200 and response.getheader("Content-Type").startswith("text/event-stream")
    third = ctl_json(server.db, "open", "--user", "ada")["key"]
    received = []
    deadline = time.monotonic() + 10
    while len(received) < 2 and time.monotonic() < deadline:
        line = response.fp.readline().decode()
        if line.startswith("id: "):
            received.append(int(line[4:]))
        elif line.startswith("data: "):
            assert json.loads(line[6:])["sessionKey"] in (second, third)
    connection.close()
    assert first and len(received) == 2 and received[0] == started[1] and received[1] > started[1], received


def test_a_token_login_over_tls_shows_the_principals_own_sessions(tmp_path):
    import ssl

    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "web.key", "-out", "web.pem", "-days", "1",
         "-subj", "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1"],
        cwd=tmp_path, check=True, capture_output=True)
    token = "web-token-of-ada-0123456789"
    tokens = tmp_path / "tokens"
    tokens.write_text(f"{token} ada\n")
    tokens.chmod(0o600)
    server = Server(
        tmp_path,
        args=["--http", "127.0.0.1:0", "--auth", "token", "--token-file", str(tokens),
              "--tls-cert", str(tmp_path / "web.pem"), "--tls-key", str(tmp_path / "web.key")])
    try:
        host, port = web_address(server)
        context = ssl.create_default_context(cafile=str(tmp_path / "web.pem"))

        def request(method, path, body=None, cookie=None):
            connection = http.client.HTTPSConnection(host, port, timeout=10, context=context)
            headers = {"Content-Type": "application/x-www-form-urlencoded"} if body else {}
            if cookie:
                headers["Cookie"] = cookie
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            result = response.status, response.getheader("Location"), response.getheader("Set-Cookie"), response.read().decode()
            connection.close()
            return result

        own = ctl_json(server.db, "open", "--user", "ada")["key"]
        other = ctl_json(server.db, "open", "--user", "bob")["key"]
        assert request("GET", "/sessions")[:2] == (303, "/login")
        assert request("GET", "/events/stream")[0] == 401
        assert request("GET", "/metrics")[0] == 401
        assert request("GET", "/healthz")[0] == 200
        assert request("POST", "/login", body="token=wrong")[0] == 401
        status, location, cookie, _ = request("POST", "/login", body=f"token={token}")
        assert (status, location) == (303, "/"), status
        for attribute in ("HttpOnly", "Secure", "SameSite=Strict"):
            assert attribute in cookie, cookie
        assert token not in cookie
        session_cookie = cookie.split(";")[0]
        status, _, _, body = request("GET", "/sessions", cookie=session_cookie)
        assert status == 200 and own in body and other not in body
        assert request("GET", f"/sessions/{other}", cookie=session_cookie)[0] == 404
        assert request("GET", f"/sessions/{own}", cookie=session_cookie)[0] == 200
        assert request("POST", "/logout", cookie=session_cookie)[:2] == (303, "/login")
        assert request("GET", "/sessions", cookie=session_cookie)[:2] == (303, "/login")
    finally:
        assert server.stop() == 0, server.log_text()
    assert token not in server.log_text()


def test_a_non_loopback_web_address_needs_tls_and_a_token(tmp_path):
    result = subprocess.run(
        [sessionctl_path(), "serve", "--db", str(tmp_path / "s.sqlite"), "--http", "0.0.0.0:0"],
        capture_output=True, text=True, timeout=60)
    assert result.returncode != 0 and "not a loopback address" in result.stderr, result.stderr
