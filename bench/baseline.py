#!/usr/bin/python3
"""The baseline: what a user would write instead of plugd to toggle a relay with a button, using
libgpiod's Python bindings (Debian python3-libgpiod, the v1.6 API) and the same 50 ms software
debounce as plugd (a level counts once it has been stable for 50 ms; toggle on the press).

    baseline.py CHIP

Lines are found by name: "relay" (output) and "button" (input, pull-up, active-low). It blocks in
poll() with no timeout while nothing is pending, and sends READY=1 to $NOTIFY_SOCKET (if set)
once its lines are requested, so it is measured like plugd. No LED, no state, no socket."""
import os
import select
import socket
import sys
import time

import gpiod

DEBOUNCE = 0.050

chip = gpiod.Chip(sys.argv[1])
relay = chip.find_line("relay")
button = chip.find_line("button")
relay.request(consumer="baseline", type=gpiod.LINE_REQ_DIR_OUT, default_vals=[0])
button.request(consumer="baseline", type=gpiod.LINE_REQ_EV_BOTH_EDGES, flags=gpiod.LINE_REQ_FLAG_BIAS_PULL_UP)

if os.environ.get("NOTIFY_SOCKET"):
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as s:
        s.sendto(b"READY=1", os.environ["NOTIFY_SOCKET"])

on = False
pressed = button.get_value() == 0          # the debounced level
raw, since = pressed, time.monotonic()     # the raw level, and since when (kernel timestamp)


def accept(now):
    """The raw level counts once it has been stable for DEBOUNCE; a press toggles the relay."""
    global pressed, on
    if raw != pressed and now - since >= DEBOUNCE:
        pressed = raw
        if pressed:
            on = not on
            relay.set_value(int(on))


poller = select.poll()
poller.register(button.event_get_fd(), select.POLLIN)
while True:
    timeout = None if raw == pressed else max(0, int((since + DEBOUNCE - time.monotonic()) * 1000) + 1)
    if poller.poll(timeout):
        event = button.event_read()
        t = event.sec + event.nsec / 1e9
        accept(t)
        level = event.type == gpiod.LineEvent.FALLING_EDGE
        if level != raw:
            raw, since = level, t
    else:
        accept(time.monotonic())
