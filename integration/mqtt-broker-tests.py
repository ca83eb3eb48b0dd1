#!/usr/bin/env python3
"""plugd against a real MQTT broker: Debian's mosquitto, started by this script on 127.0.0.1
(free ports, its own config, killed at the end), and the real plugd binary headless on the
simulated chip (`plugd --simulate --headless`). The test side talks MQTT with paho-mqtt.

    integration/mqtt-broker-tests.py

Checks: the retained state, availability and Home Assistant discovery payloads; command round
trips (ON, OFF, TOGGLE, identify) with their source in the log; countdowns (`3m`, `0m`,
`OFF 2s` on the countdown topic, the retained report, Home Assistant's number and sensor); a retained command never moves
the relay at (re)connect; the last will after kill -9 and `offline` at a clean stop; the broker
restarting (LED and status show it, everything is published again, commands work again);
deregister and factory reset removing the device from Home Assistant, also when the broker was
down at that moment; TLS with a password file, and a wrong password; libmosquitto loaded only
with [mqtt] (never libssl without it), and a plug whose libmosquitto is missing (hidden in a mount
namespace of its own) working without MQTT and saying why.

Prints one line per check and a closing line "N passed, N failed"; exits 1 if any failed."""
import json
import os
import subprocess
import time

from harness import Broker, Client, Plug, check, finish, mqtt_config, retained, start_broker, topics, wait_for


def main():
    work, broker = start_broker("plugd-mqtt-")
    plug = Plug(os.path.join(work, "plug"), extra_config=mqtt_config(broker.port)) if os.makedirs(os.path.join(work, "plug")) is None else None
    try:
        status = plug.start()
        t = topics(status["identity"])
        watcher = Client(broker.port)

        # --- Connect, state, availability, discovery ---
        check("plugd connects and says so in status and the log",
              wait_for(lambda: plug.status().get("broker") == "connected") and plug.logged("PLUG_EVENT=mqtt_connected"),
              plug.tail())
        check("with [mqtt] it has loaded libmosquitto", plug.mapped("libmosquitto"))
        now = retained(broker.port, "#")
        check("availability is retained online", now.get(t["availability"]) == "online", now)
        check("state is retained OFF", now.get(t["state"]) == "OFF", now)
        check("an unregistered plug is not announced to Home Assistant", t["switch"] not in now, now)
        plug.command("setup", name="kettle")
        wait_for(lambda: t["switch"] in retained(broker.port, "homeassistant/#", 0.3))
        now = retained(broker.port, "#")
        sw = json.loads(now.get(t["switch"], "{}"))
        btn = json.loads(now.get(t["button"], "{}"))
        ident = status["identity"].lower().replace("-", "")
        check("setup announces the switch: retained discovery config with the plug's topics",
              sw.get("command_topic") == t["set"] and sw.get("state_topic") == t["state"]
              and sw.get("availability_topic") == t["availability"] and sw.get("payload_on") == "ON"
              and sw.get("unique_id") == f"plugd_{ident}_relay", sw)
        check("the device is named and identified by the plug", sw.get("device", {}).get("name") == "kettle"
              and sw.get("device", {}).get("identifiers") == [f"plugd_{ident}"], sw.get("device"))
        check("an identify button is announced", btn.get("command_topic") == t["identify"]
              and btn.get("device_class") == "identify", btn)

        # --- Commands ---
        watcher.publish(t["set"], "ON")
        check("ON over MQTT switches the relay on", wait_for(lambda: plug.status()["relay"] == "on"), plug.status())
        check("... and the state ON is published retained", wait_for(lambda: watcher.seen(t["state"], "ON")))
        check("... and the journal names the source", plug.logged("PLUG_EVENT=relay PLUG_RELAY=on PLUG_SOURCE=mqtt")
              and plug.logged("PLUG_EVENT=mqtt_command"), plug.tail())
        watcher.publish(t["set"], "TOGGLE")
        check("TOGGLE switches it off", wait_for(lambda: plug.status()["relay"] == "off"))
        watcher.publish(t["set"], "off")
        watcher.publish(t["set"], "bogus")
        check("a command it does not understand is logged, not obeyed",
              wait_for(lambda: plug.logged("PLUG_EVENT=mqtt_command_invalid")) and plug.status()["relay"] == "off")
        n = len(watcher.seen(t["state"], "ON"))
        plug.send_button("press")
        time.sleep(0.2)
        plug.send_button("release")
        check("a button press is published too", wait_for(lambda: len(watcher.seen(t["state"], "ON")) > n))
        watcher.publish(t["identify"], "PRESS")
        check("the identify button blinks the LED green",
              wait_for(lambda: "green" in plug.status()["ledPattern"]), plug.status()["ledPattern"])
        check("a button press is published on the button topic, not retained, for Home Assistant's device trigger",
              wait_for(lambda: watcher.seen(t["press"], "single", retained=False))
              and json.loads(retained(broker.port, "homeassistant/#").get(t["single"], "{}")).get("payload") == "single",
              watcher.seen(t["press"]))
        n_sw = len(watcher.seen(t["switch"]))
        watcher.publish("homeassistant/status", "online")
        check("Home Assistant coming online gets discovery again", wait_for(lambda: len(watcher.seen(t["switch"])) > n_sw))

        # --- Countdowns over MQTT ---
        now = retained(broker.port, "#")
        number = json.loads(now.get(t["number"], "{}"))
        ends = json.loads(now.get(t["ends"], "{}"))
        check("Home Assistant gets the countdown's number and its end's timestamp sensor",
              number.get("command_topic") == t["countdown_set"] and number.get("state_topic") == t["countdown"]
              and ends.get("device_class") == "timestamp" and ends.get("state_topic") == t["countdown"], (number, ends))
        check("no countdown runs: the retained report says so",
              json.loads(now.get(t["countdown"], "{}")) == {"relay": None, "ends": None, "minutes": 0, "auto": False},
              now.get(t["countdown"]))
        plug.command("off")
        before = time.time()
        watcher.publish(t["countdown_set"], "3m")  # what Home Assistant's number sends for 3
        check("a countdown over MQTT (3m): relay on, the countdown in status",
              wait_for(lambda: plug.status()["relay"] == "on" and plug.status().get("timer", "").startswith("off in")), plug.status())
        report = wait_for(lambda: next((json.loads(m[1]) for m in reversed(watcher.seen(t["countdown"])) if json.loads(m[1])["relay"]), None))
        end = report and time.mktime(time.strptime(report["ends"], "%Y-%m-%dT%H:%M:%SZ")) - time.timezone
        check("... its report: relay off, 3 minutes, the end on the wall clock to the second",
              report and report["relay"] == "off" and report["minutes"] == 3 and before + 178 <= end <= time.time() + 181, report)
        watcher.publish(t["countdown_set"], "0m")
        check("0m (the number set to 0) ends it; the relay stays on, the report clears",
              wait_for(lambda: "timer" not in plug.status() and json.loads(watcher.seen(t["countdown"])[-1][1])["relay"] is None)
              and plug.status()["relay"] == "on", (plug.status(), watcher.seen(t["countdown"])[-1:]))
        watcher.publish(t["countdown_set"], "OFF 2s")
        check("OFF 2s: off now, on again after 2 s", wait_for(lambda: plug.status()["relay"] == "off", 3)
              and wait_for(lambda: plug.status()["relay"] == "on", 5), plug.status())
        watcher.publish(t["countdown_set"], "soon")
        check("a countdown command it does not understand is logged with the accepted forms",
              wait_for(lambda: plug.logged("ON 30m, OFF 10m, or CANCEL")), plug.tail())
        plug.command("off")
        time.sleep(3.5)  # the flood guard's window empties before the checks below count changes
        earlier_floods = sum("PLUG_EVENT=relay_flood" in line for line in open(plug.log, errors="replace"))

        # --- A command flood: at most 5 relay changes per 3 s, the last command wins ---
        time.sleep(3.1)   # the changes above leave the guard's window
        changes = lambda: plug.log_count("PLUG_EVENT=relay PLUG_RELAY=")
        before, started = changes(), time.monotonic()
        collapsed = 194 if plug.status()["relay"] == "on" else 195   # the first ON changes nothing if on
        for i in range(200):   # 200 commands in one second, alternating; the last is OFF
            watcher.publish(t["set"], "ON" if i % 2 == 0 else "OFF")
            time.sleep(max(0.0, started + (i + 1) * 0.005 - time.monotonic()))
        sent = time.monotonic() - started
        pending = plug.status().get("relayPending")
        check(f"200 commands in {sent:.2f} s: 5 relay changes at once, the rest collapsed", wait_for(lambda: changes() - before >= 5)
              and changes() - before <= 5 + 1 and pending is not None, (changes() - before, pending))
        check("... plugctl status shows the pending change", pending is not None and pending.startswith("off in "), pending)
        check("... it is applied when the window allows: the final state is the last command (OFF)",
              wait_for(lambda: plug.status()["relay"] == "off" and plug.status().get("relayPending") is None, 8), plug.status())
        floods = lambda: [line for line in open(plug.log, errors="replace") if "PLUG_EVENT=relay_flood" in line][earlier_floods:]
        wait_for(floods, 5)   # reported once the window that began with the first collapsed command is over
        time.sleep(3.1)   # and nothing more after it
        flood = floods()
        check(f"... at most 6 relay changes in all ({changes() - before}), and the flood is logged once with the count",
              changes() - before <= 6 and len(flood) == 1 and f"PLUG_COLLAPSED={collapsed} " in flood[0], flood)
        check("... the state published last is OFF", wait_for(lambda: watcher.seen(t["state"])[-1][1] == "OFF"),
              watcher.seen(t["state"])[-3:])

        # --- Retained commands never move the relay ---
        relay_before = plug.status()["relay"]
        plug.stop()
        check("a clean stop publishes availability offline",
              wait_for(lambda: retained(broker.port, t["availability"], 0.3).get(t["availability"]) == "offline"))
        stale = "OFF" if relay_before == "on" else "ON"
        watcher.publish(t["set"], stale, retain=True)
        plug.start()
        wait_for(lambda: plug.status().get("broker") == "connected")
        time.sleep(1.0)
        check("a retained command waiting on the broker does not move the relay at connect",
              plug.status()["relay"] == relay_before and plug.logged("PLUG_EVENT=mqtt_command_ignored"), plug.status())
        watcher.publish(t["set"], "", retain=True)  # clear it

        # --- Last will ---
        plug.kill9()
        check("kill -9: the broker publishes the last will (availability offline)",
              wait_for(lambda: retained(broker.port, t["availability"], 0.3).get(t["availability"]) == "offline", 5))
        plug.start()
        check("restarted, it is online again",
              wait_for(lambda: retained(broker.port, t["availability"], 0.3).get(t["availability"]) == "online"))

        # --- Broker restart (it keeps nothing: persistence off) ---
        watcher.close()
        broker.stop()
        check("broker gone: status says unreachable",
              wait_for(lambda: plug.status().get("broker") == "unreachable", 5), plug.status())
        check("... the LED blinks red (1 Hz)", plug.status()["ledPattern"] == "red blinking 1 Hz", plug.status())
        check("... and the journal says so", plug.logged("PLUG_EVENT=mqtt_disconnected"))
        relay = plug.status()["relay"]
        broker.start()
        check("broker back: plugd reconnects within its backoff",
              wait_for(lambda: plug.status().get("broker") == "connected", 10), plug.status())
        now = wait_for(lambda: (lambda r: r if t["switch"] in r else None)(retained(broker.port, "#", 0.5)), 5) or {}
        check("... and publishes availability, state and discovery again",
              now.get(t["availability"]) == "online" and now.get(t["state"]) == relay.upper() and t["switch"] in now, now)
        check("... the LED is back to normal", "red" not in plug.status()["ledPattern"], plug.status())
        watcher = Client(broker.port)
        watcher.publish(t["set"], "TOGGLE")
        check("... and commands work again", wait_for(lambda: plug.status()["relay"] != relay))

        # --- Deregister removes the device from Home Assistant ---
        old = t
        plug.command("deregister")
        new_identity = wait_for(lambda: (lambda s: s["identity"] if s["identity"] != status["identity"] else None)(plug.status()))
        t = topics(new_identity)
        wait_for(lambda: plug.status().get("broker") == "connected")
        now = retained(broker.port, "#")
        check("deregister clears the old discovery configs and the countdown's report",
              all(old[k] not in now for k in ("switch", "button", "number", "ends", "countdown", "single")), now)
        check("... and the old state and availability", old["state"] not in now and old["availability"] not in now, now)
        order = [plug.log_index("PLUG_EVENT=factory_reset_started"), plug.log_index("PLUG_EVENT=mqtt_forgotten"),
                 plug.log_index(f"PLUG_CLIENT_ID={t['device']}")]
        check("... before the wipe: reset started, removal confirmed, then the new identity connects",
              None not in order and order == sorted(order), order)
        check("the new identity is online and not announced (not registered)",
              now.get(t["availability"]) == "online" and t["switch"] not in now, now)

        # --- Factory reset while the broker is down: the removal waits for it ---
        # This time the broker keeps its retained messages across the restart (saved at stop).
        watcher.close()
        broker.stop()
        broker.configure(persistence=True)
        broker.start()
        wait_for(lambda: plug.status().get("broker") == "connected", 10)
        wait_for(lambda: plug.status()["mode"] == "setup", 10)   # the reset has finished
        plug.command("setup", name="lamp")
        check("set up again, it is announced again",
              wait_for(lambda: t["switch"] in retained(broker.port, "homeassistant/#", 0.3)))
        broker.stop()
        wait_for(lambda: plug.status().get("broker") == "unreachable", 5)
        started = time.monotonic()
        plug.command("factory-reset")
        took = time.monotonic() - started
        check("factory reset with the broker down is not held up more than the 3 s limit", took < 5, took)
        check("... and logs that the removal is pending", wait_for(lambda: plug.logged("PLUG_EVENT=mqtt_forget_pending")))
        old = t
        forgotten = plug.log_count("PLUG_EVENT=mqtt_forgotten")
        broker.start()
        # plugd reconnects as the new device and sends the pending removal.
        check("broker back: the pending removal is sent",
              wait_for(lambda: plug.log_count("PLUG_EVENT=mqtt_forgotten") == forgotten + 1
                       and old["switch"] not in retained(broker.port, "homeassistant/#", 0.3), 10))
    finally:
        plug.stop()
        broker.stop()

    # --- TLS, user name and password file ---
    tls_dir = os.path.join(work, "tls")
    os.makedirs(tls_dir)
    ca, cert, key = (os.path.join(tls_dir, n) for n in ("ca.pem", "server.pem", "server.key"))
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=plugd test CA",
                    "-keyout", os.path.join(tls_dir, "ca.key"), "-out", ca], check=True, capture_output=True)
    subprocess.run(["openssl", "req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1",
                    "-keyout", key, "-out", os.path.join(tls_dir, "server.csr")], check=True, capture_output=True)
    ext = os.path.join(tls_dir, "ext.cnf")
    with open(ext, "w") as f:
        f.write("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    subprocess.run(["openssl", "x509", "-req", "-in", os.path.join(tls_dir, "server.csr"), "-CA", ca,
                    "-CAkey", os.path.join(tls_dir, "ca.key"), "-CAcreateserial", "-days", "2", "-extfile", ext,
                    "-out", cert], check=True, capture_output=True)
    passwords = os.path.join(tls_dir, "passwords")
    subprocess.run(["mosquitto_passwd", "-b", "-c", passwords, "plug", "s3cret"], check=True, capture_output=True)
    good, bad = os.path.join(tls_dir, "good-password"), os.path.join(tls_dir, "bad-password")
    with open(good, "w") as f:
        f.write("s3cret\n")
    with open(bad, "w") as f:
        f.write("wrong\n")
    broker = Broker(work, tls={"ca": ca, "cert": cert, "key": key, "passwords": passwords})
    broker.start()
    try:
        for name, password_file, expect in (("right", good, "connected"), ("wrong", bad, "unreachable")):
            os.makedirs(os.path.join(work, f"tls-{name}"))
            p = Plug(os.path.join(work, f"tls-{name}"), extra_config=mqtt_config(
                broker.tls_port, f'ca_file = "{ca}"\nusername = "plug"\npassword_file = "{password_file}"\n'))
            p.start()
            try:
                check(f"TLS with the {name} password: {expect}",
                      wait_for(lambda: p.status().get("broker") == expect, 10), p.tail())
                if name == "wrong":
                    check("... and the journal says the broker refused it", p.logged("the broker refused: Not authorized"), p.tail())
            finally:
                p.stop()
    finally:
        broker.stop()

    # --- libmosquitto: loaded only with [mqtt]; missing, the plug works without MQTT ---
    os.makedirs(os.path.join(work, "plain"))
    plain = Plug(os.path.join(work, "plain"))
    plain.start()
    try:
        check("without [mqtt] plugd maps neither libmosquitto nor libssl/libcrypto",
              not plain.mapped("libmosquitto") and not plain.mapped("libssl") and not plain.mapped("libcrypto"))
    finally:
        plain.stop()
    library = next(line.split(" => ")[1] for line in subprocess.run(["ldconfig", "-p"], capture_output=True, text=True).stdout.splitlines()
                   if line.strip().startswith("libmosquitto.so.1 "))
    os.makedirs(os.path.join(work, "no-library"))
    # A mount namespace of its own in which libmosquitto is an empty file: as if it were not installed.
    hide = ["unshare", "--mount", "--map-root-user", "--", "sh", "-c", f'mount --bind /dev/null {library} && exec "$@"', "sh"]
    missing = Plug(os.path.join(work, "no-library"), extra_config=mqtt_config(1), wrapper=hide)
    missing.start()
    try:
        check("libmosquitto missing: plugd runs, and the journal says MQTT is unavailable and why",
              wait_for(lambda: missing.logged("PLUG_EVENT=mqtt_unavailable")) and missing.logged("libmosquitto cannot be loaded")
              and missing.logged("apt install libmosquitto1"), missing.tail())
        check("... status shows the broker unreachable", missing.status().get("broker") == "unreachable", missing.status())
        missing.send_button("press")
        time.sleep(0.1)
        missing.send_button("release")
        check("... and the button still switches the relay", wait_for(lambda: missing.status()["relay"] == "on"), missing.status())
    finally:
        missing.stop()

    finish(work)


if __name__ == "__main__":
    main()
