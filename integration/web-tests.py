#!/usr/bin/env python3
"""The web page's process on the real binaries: plugd headless on the simulated chip and
plugd-web beside it (on 127.0.0.1), tried the way a careless or hostile client on the LAN would.

    integration/web-tests.py

Checks: reading is open and changing is not (no password set: refused, saying how to set one);
wrong, missing and locked-out passwords; the cookie without its CSRF token; cross-site requests;
a logged-out session replayed; resets without confirmation or through a GET; malformed JSON,
wrong types, oversized and form bodies; slow clients that never finish their headers (others
are served meanwhile, and they are dropped); a chunked body refused before it is read; live events (a button press reaches an open event
stream without any request); plugd stopped (503, said plainly) and back; plugd-web exiting when
idle, and not while a page is open. After each hostile part, plugd still answers and its relay
is what was last really asked.

Prints one line per check and a closing line "N passed, N failed"; exits 1 if any failed."""
import os
import socket
import threading
import time

from harness import check, finish, wait_for
from webharness import PASSWORD, Web, plug_and_web


class EventStream:
    """A raw GET /api/events, read on a thread: the (event, data) messages as they arrive."""

    def __init__(self, web, source="127.0.0.1"):
        self.messages = []
        self.closed = False
        self.sock = socket.create_connection(("127.0.0.1", web.port), timeout=60, source_address=(source, 0))
        self.sock.sendall(f"GET /api/events HTTP/1.1\r\nHost: 127.0.0.1:{web.port}\r\nAccept: text/event-stream\r\n\r\n".encode())
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        buffer = b""
        try:
            while True:
                chunk = self.sock.recv(4096)
                if not chunk:
                    break
                buffer += chunk
                while b"\n\n" in buffer:
                    block, buffer = buffer.split(b"\n\n", 1)
                    event = data = None
                    for line in block.decode(errors="replace").split("\n"):
                        if line.startswith("event: "):
                            event = line[7:]
                        elif line.startswith("data: "):
                            data = line[6:]
                    if event:
                        self.messages.append((event, data))
        except OSError:
            pass
        self.closed = True

    def has(self, event, text):
        return any(e == event and text in (d or "") for e, d in self.messages)

    def close(self):
        # shutdown first: a close() alone does not end a connection another thread is reading.
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()


def plugd_fine(plug, relay=None):
    """plugd is running, answers, and (if given) its relay is `relay`."""
    try:
        status = plug.status()
    except (OSError, ValueError):
        return False
    return plug.alive() and (relay is None or status["relay"] == relay)


def slow_client(port, source):
    """A connection that sends half a request line and then nothing."""
    s = socket.create_connection(("127.0.0.1", port), timeout=60, source_address=(source, 0))
    s.sendall(b"GET /api/sta")
    return s


def closed_by_server(s):
    s.settimeout(0.5)
    try:
        return s.recv(1) == b""
    except socket.timeout:
        return False
    except OSError:
        return True


def main():
    work, plug, web = plug_and_web("plugd-web-", password=False)
    slow = []
    try:
        # --- Reading is open; with no password set nothing changes ---
        status, headers, page = web.get("/")
        check("GET / is the page (HTML, its script apart, not framable)",
              status == 200 and "<button id=\"power\"" in page and headers.get("x-frame-options") == "DENY"
              and "script-src 'self'" in headers.get("content-security-policy", ""), (status, headers))
        status, _, s = web.get("/api/status")
        check("GET /api/status: the status, open to anyone", status == 200 and s["name"] == "kettle" and s["relay"] == "off", s)
        status, _, reply = web.post("/api/relay", {"state": "on"})
        check("no password set: a change is refused (403), saying how to set one",
              status == 403 and "plugctl web-password" in reply["error"] and plugd_fine(plug, "off"), (status, reply))
        status, _, reply = web.post("/api/login", {"password": "anything"})
        check("... and so is a login", status == 403 and "plugctl web-password" in reply["error"], (status, reply))

        out = web.set_password("short")
        check("plugctl web-password refuses a password under 8 characters",
              out.returncode == 1 and "8 to 256" in out.stderr and not os.path.exists(web.password_file), out.stderr)
        out = web.set_password()
        mode = oct(os.stat(web.password_file).st_mode & 0o777) if os.path.exists(web.password_file) else None
        check("plugctl web-password stores an Argon2id hash, mode 0640, and plugd-web takes it without a restart",
              out.returncode == 0 and mode == "0o640" and open(web.password_file).read().startswith("$argon2id$")
              and PASSWORD not in open(web.password_file).read(), (out.stdout, out.stderr, mode))

        # Slow clients, from 127.0.0.3: they hold connections until the server's 30 s timeout.
        slow = [slow_client(web.port, "127.0.0.3") for _ in range(8)]
        slow_started = time.monotonic()

        # --- Wrong and missing credentials ---
        status, headers, reply = web.post("/api/relay", {"state": "on"})
        check("not logged in: 401, with WWW-Authenticate", status == 401 and "www-authenticate" in headers
              and plugd_fine(plug, "off"), (status, reply))
        status, _, reply = web.post("/api/login", {"password": "wrong password"})
        check("a wrong password: 401 'wrong password'", status == 401 and reply["error"] == "wrong password", reply)
        status, _, reply = web.post("/api/login", {})
        check("a login without a password: 400 naming the member", status == 400 and "password" in reply["error"], reply)
        status, _, reply = web.post("/api/relay", {"state": "on"}, headers={"Authorization": "Bearer 1.2.3"})
        check("a forged bearer token: 401", status == 401 and plugd_fine(plug, "off"), reply)

        # --- A logged-in page ---
        page_headers, token = web.login()
        status, _, reply = web.post("/api/relay", {"state": "on"}, headers={"Cookie": page_headers["Cookie"]})
        check("the session cookie without its CSRF token: 403 naming the header",
              status == 403 and "X-CSRF-Token" in reply["error"] and plugd_fine(plug, "off"), reply)
        status, _, reply = web.post("/api/relay", {"state": "on"}, headers={**page_headers, "X-CSRF-Token": "0" * 64})
        check("... and with a wrong CSRF token: 403", status == 403 and plugd_fine(plug, "off"), reply)
        status, _, reply = web.post("/api/relay", {"state": "on"}, headers=page_headers)
        check("cookie and CSRF token: the relay switches (plugd says so too)",
              status == 200 and reply["relay"] == "on" and plugd_fine(plug, "on"), reply)
        status, _, reply = web.post("/api/relay", {"state": "off"}, headers={**page_headers, "Origin": "http://evil.example"})
        check("a cross-site request (Origin of another site), even with cookie and token: 403",
              status == 403 and "cross-site" in reply["error"] and plugd_fine(plug, "on"), reply)
        status, _, reply = web.post("/api/relay", {"state": "off"}, headers={**page_headers, "Sec-Fetch-Site": "cross-site"})
        check("... and one a browser marks Sec-Fetch-Site: cross-site", status == 403 and plugd_fine(plug, "on"), reply)
        status, _, reply = web.request("POST", "/api/relay", body="state=off",
                                       headers={**page_headers, "Content-Type": "application/x-www-form-urlencoded"})
        check("a form post (what a cross-site form can send): 415", status == 415 and plugd_fine(plug, "on"), reply)
        status, _, reply = web.post("/api/relay", {"state": "off"}, headers={"Authorization": f"Bearer {token}"})
        check("a script's bearer token needs no CSRF token", status == 200 and plugd_fine(plug, "off"), reply)

        # --- Resets ---
        identity = plug.status()["identity"]
        for path in ("/api/reset", "/api/factory-reset", "/api/deregister"):
            status, headers, _ = web.get(path)
            check(f"GET {path}: 405, Allow: POST", status == 405 and headers.get("allow") == "POST", status)
            status, _, reply = web.post(path, {}, headers=page_headers)
            check(f"POST {path} without confirm: 400 saying what it would do",
                  status == 400 and "\"confirm\": true" in reply["error"], reply)
        check("... and nothing was reset", plugd_fine(plug) and plug.status()["identity"] == identity and plug.status()["mode"] == "normal")

        # --- Bodies ---
        status, _, reply = web.request("POST", "/api/relay", body='{"state": "on"', headers={**page_headers, "Content-Type": "application/json"})
        check("malformed JSON: 400 'malformed JSON body'", status == 400 and reply["error"].startswith("malformed JSON body"), reply)
        status, _, reply = web.post("/api/relay", {"state": True}, headers=page_headers)
        check("a wrong type: 400 naming the member", status == 400 and "state" in reply["error"], reply)
        status, _, reply = web.post("/api/relay", {"state": "on", "seconds": 10**12}, headers=page_headers)
        check("a countdown out of range: 400", status == 400 and "seconds" in reply["error"], reply)
        status, _, reply = web.post("/api/setup", {"name": "x" * 200}, headers=page_headers)
        check("a name of 200 characters: 400", status == 400 and "name" in reply["error"], reply)
        # A 1 MB body announced: the answer comes before any of it is sent.
        s = socket.create_connection(("127.0.0.1", web.port), timeout=10)
        s.sendall((f"POST /api/setup HTTP/1.1\r\nHost: 127.0.0.1:{web.port}\r\nContent-Type: application/json\r\n"
                   f"Cookie: {page_headers['Cookie']}\r\nX-CSRF-Token: {page_headers['X-CSRF-Token']}\r\n"
                   "Content-Length: 1000000\r\n\r\n").encode())
        answer = s.recv(4096).decode(errors="replace")
        s.close()
        check("a 1 MB body: 413 before it is read", answer.startswith("HTTP/1.1 413") and "4096" in answer, answer[:200])
        # A body sent in chunks, with no length announced.
        s = socket.create_connection(("127.0.0.1", web.port), timeout=10)
        head = (f"POST /api/setup HTTP/1.1\r\nHost: 127.0.0.1:{web.port}\r\nContent-Type: application/json\r\n"
                f"Cookie: {page_headers['Cookie']}\r\n"
                f"X-CSRF-Token: {page_headers['X-CSRF-Token']}\r\nTransfer-Encoding: chunked\r\n\r\n")
        s.sendall(head.encode())
        try:
            for _ in range(20):
                s.sendall(b"400\r\n" + b" " * 1024 + b"\r\n")
            s.sendall(b"0\r\n\r\n")
        except OSError:
            pass
        answer = s.recv(4096).decode(errors="replace")
        s.close()
        check("a chunked body (no length): 411, refused before it is read", answer.startswith("HTTP/1.1 411") and "Content-Length" in answer,
              answer[:200])
        status, _, reply = web.get("/api/nothing")
        check("an unknown path: 404 with a JSON error", status == 404 and "no such path" in reply["error"], reply)
        check("after all that, plugd answers and its relay is off", plugd_fine(plug, "off"))

        # --- Live events ---
        stream = EventStream(web)
        check("the event stream starts with the status", wait_for(lambda: stream.has("status", '"relay":"off"'), 5), stream.messages)
        plug.send_button("press")
        time.sleep(0.15)
        plug.send_button("release")
        check("a button press reaches the open stream unasked: the event, then the status with the relay on",
              wait_for(lambda: stream.has("plug", '"PLUG_RELAY":"on"') and stream.has("status", '"relay":"on"'), 5), stream.messages)
        status, _, recent = web.get("/api/events/recent")
        check("GET /api/events/recent lists it, with its time",
              status == 200 and any(e["event"] == "relay" and e.get("at", 0) > 1_700_000_000_000 for e in recent["events"]), recent)

        # --- Logout, then the session replayed ---
        status, headers, _ = web.post("/api/logout", {}, headers=page_headers)
        check("logout clears the cookie", status == 200 and "Max-Age=0" in headers.get("set-cookie", ""), headers)
        status, _, reply = web.post("/api/relay", {"state": "off"}, headers=page_headers)
        check("the logged-out cookie and token, replayed: 401", status == 401 and plugd_fine(plug, "on"), reply)

        # --- Login limits (from 127.0.0.2, so the rest can still log in) ---
        codes = [web.post("/api/login", {"password": f"guess {i}"}, source="127.0.0.2")[0] for i in range(6)]
        status, headers, reply = web.post("/api/login", {"password": PASSWORD}, source="127.0.0.2")
        check("six wrong passwords lock the address out: even the right one gets 429 with Retry-After",
              codes == [401] * 6 and status == 429 and headers.get("retry-after") == "30", (codes, status, reply))
        status, _, _ = web.post("/api/login", {"password": PASSWORD})
        check("... another address is not locked out", status == 200)

        # --- Slow clients ---
        t0 = time.monotonic()
        status, _, _ = web.get("/api/status")
        check("with 8 slow clients hanging, another client is served at once",
              status == 200 and time.monotonic() - t0 < 1.0, time.monotonic() - t0)
        ninth = slow_client(web.port, "127.0.0.3")
        check("a ninth connection from the slow clients' address is refused (8 per address)",
              wait_for(lambda: closed_by_server(ninth), 3))
        ninth.close()
        wait_for(lambda: time.monotonic() - slow_started > 33, 40, step=0.5)
        check("the slow clients are dropped after the 30 s timeout", all(closed_by_server(s) for s in slow))

        # --- A logout outlives plugd-web (which exits when idle and is started again) ---
        web.stop()
        web.start()
        status, _, reply = web.post("/api/relay", {"state": "off"}, headers={"Authorization": f"Bearer {token}"})
        check("the logged-out token is still refused after plugd-web exits and starts again (kept on disk)",
              status == 401 and plugd_fine(plug, "on"), reply)
        stream.close()
        stream = EventStream(web)
        wait_for(lambda: stream.has("status", '"relay"'), 5)

        # --- plugd stopped and back ---
        plug.stop()
        status, headers, reply = web.get("/api/status")
        check("plugd stopped: 503 'plugd cannot be reached … (is it running?)', Retry-After",
              status == 503 and "is it running?" in reply["error"] and "retry-after" in headers, reply)
        check("... and the open event stream ends (the browser connects again)", wait_for(lambda: stream.closed, 5))
        plug.start()
        status, _, s = web.get("/api/status")
        check("plugd back: served again, no restart of plugd-web", status == 200 and web.proc.poll() is None, s)
        stream.close()

        # --- A dual-stack socket (what systemd's plugd-web.socket gives): IPv4 clients as IPv4 ---
        dual = Web(plug, work, listen="[::]")
        dual.start()
        dual.post("/api/login", {"password": "wrong"})
        dual.stop()
        check("on a dual-stack socket an IPv4 client is logged (and limited) as 127.0.0.1, not ::ffff:127.0.0.1",
              "login refused for 127.0.0.1: wrong password" in open(dual.log).read(), open(dual.log).read()[-300:])

        # --- Idle exit ---
        idle = Web(plug, work, idle_exit=2)
        idle.start()
        kept = EventStream(idle)
        time.sleep(3.5)
        check("plugd-web --idle-exit 2 stays while an event stream is open", idle.proc.poll() is None)
        kept.close()
        check("... and exits (status 0) 2 s after the last connection closes",
              wait_for(lambda: idle.proc.poll() is not None, 5) and idle.proc.returncode == 0, idle.proc.poll())
        check("plugd is unaffected by all of it", plugd_fine(plug))
    finally:
        for s in slow:
            s.close()
        web.stop()
        plug.stop()
    finish(work)


if __name__ == "__main__":
    main()
