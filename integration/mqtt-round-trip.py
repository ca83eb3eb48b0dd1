#!/usr/bin/python3
"""A figure, not a test: how long Home Assistant waits to see a command done. A client publishes
`set` ON/OFF to plugd (headless, simulated chip) through a real mosquitto on 127.0.0.1 and waits
for plugd's `state`; the time from the publish to the state's arrival, over --commands commands
(each waits for the last one's state; the relay flood guard is off so none is held back).

  integration/mqtt-round-trip.py [--commands 200] [--broker-nodelay]   PLUGD_BIN=DIR picks the build
                                                           (default .build/debug)
--broker-nodelay sets mosquitto's own `set_tcp_nodelay true`: without it (mosquitto's default) the
broker holds a small message back while its previous one to the same client is not yet
acknowledged (Nagle's algorithm against the client's delayed ACK), whatever plugd does.
"""
import argparse
import socket
import statistics
import sys
import threading
import time

from harness import Client, Plug, mqtt_config, start_broker, topics, wait_for


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--commands", type=int, default=200)
    ap.add_argument("--broker-nodelay", action="store_true")
    ap.add_argument("--write-delay-ms", type=int, default=1000, help="plugd's state.write_delay_ms (1000 as shipped)")
    a = ap.parse_args()
    work, broker = start_broker("plugd-roundtrip-", ["set_tcp_nodelay true"] if a.broker_nodelay else [])
    plug = Plug(work, mqtt_config(broker.port))
    with open(plug.config) as f:
        # The shipped write coalescing (the harness writes every change at once).
        text = f.read().replace("[relay]\n", "[relay]\nmax_changes_window_s = 0\n", 1)
        text = text.replace("write_delay_ms = 0", f"write_delay_ms = {a.write_delay_ms}")
    with open(plug.config, "w") as f:
        f.write(text)
    try:
        t = topics(plug.start()["identity"])
        if not wait_for(lambda: plug.status().get("broker") == "connected"):
            sys.exit("plugd did not connect to the broker")
        arrived = threading.Event()
        expected = [None]
        client = Client(broker.port, (t["state"],))
        # The test's client sends at once (TCP_NODELAY), so only plugd and the broker are
        # measured: else its own Nagle holds each `set` until the broker acknowledges the PUBACK
        # the client sent before.
        client.c.socket().setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        on_message = client.c.on_message

        def seen(c, u, m):
            on_message(c, u, m)
            if m.payload.decode() == expected[0]:
                arrived.set()
        client.c.on_message = seen
        time.sleep(0.5)
        ms = []
        for i in range(a.commands + 1):
            expected[0] = "ON" if i % 2 == 0 else "OFF"
            arrived.clear()
            t0 = time.perf_counter()
            client.c.publish(t["set"], expected[0], qos=1)
            if not arrived.wait(5):
                sys.exit(f"no state {expected[0]} within 5 s")
            if i:   # the first may find the relay already there
                ms.append((time.perf_counter() - t0) * 1000)
            time.sleep(0.02)
        client.close()
        ms.sort()
        print(f"set -> state over {len(ms)} commands: p50 {statistics.median(ms):.2f} ms, "
              f"p99 {ms[int(len(ms) * 0.99) - 1]:.2f} ms, min {ms[0]:.2f} ms, max {ms[-1]:.2f} ms")
    finally:
        plug.stop()
        broker.stop()


if __name__ == "__main__":
    main()
