#!/usr/bin/python3
"""The baseline: what a user would write instead of plugd to toggle a relay with a button, using
libgpiod's Python bindings (Debian's python3-libgpiod: the v1.6 API on Debian 12, the v2 API on
Debian 13 and the arm64 VM) and the same 50 ms software debounce as plugd (a level counts once it
has been stable for 50 ms; toggle on the press).

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


class V1Lines:
    """The relay and the button through the v1 bindings: one request per line."""

    def __init__(self, chip_name):
        chip = gpiod.Chip(chip_name)
        self.relay = chip.find_line("relay")
        self.button = chip.find_line("button")
        self.relay.request(consumer="baseline", type=gpiod.LINE_REQ_DIR_OUT, default_vals=[0])
        self.button.request(consumer="baseline", type=gpiod.LINE_REQ_EV_BOTH_EDGES,
                            flags=gpiod.LINE_REQ_FLAG_BIAS_PULL_UP)
        self.fd = self.button.event_get_fd()

    def button_low(self):
        return self.button.get_value() == 0

    def set_relay(self, on):
        self.relay.set_value(int(on))

    def edges(self):
        """The pending edges: (kernel timestamp in s, the line is low after it)."""
        event = self.button.event_read()
        return [(event.sec + event.nsec / 1e9, event.type == gpiod.LineEvent.FALLING_EDGE)]


class V2Lines:
    """The relay and the button through the v2 bindings: one request for both lines."""

    def __init__(self, chip_name):
        from gpiod.line import Bias, Direction, Edge, Value
        self.Value = Value
        path = chip_name if chip_name.startswith("/") else "/dev/" + chip_name
        with gpiod.Chip(path) as chip:
            self.relay = chip.line_offset_from_id("relay")
            self.button = chip.line_offset_from_id("button")
        self.request = gpiod.request_lines(path, consumer="baseline", config={
            self.relay: gpiod.LineSettings(direction=Direction.OUTPUT, output_value=Value.INACTIVE),
            self.button: gpiod.LineSettings(direction=Direction.INPUT, edge_detection=Edge.BOTH, bias=Bias.PULL_UP),
        })
        self.fd = self.request.fd

    def button_low(self):
        return self.request.get_value(self.button) == self.Value.INACTIVE

    def set_relay(self, on):
        self.request.set_value(self.relay, self.Value.ACTIVE if on else self.Value.INACTIVE)

    def edges(self):
        return [(e.timestamp_ns / 1e9, e.event_type == e.Type.FALLING_EDGE) for e in self.request.read_edge_events()]


lines = V2Lines(sys.argv[1]) if hasattr(gpiod, "request_lines") else V1Lines(sys.argv[1])

if os.environ.get("NOTIFY_SOCKET"):
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as s:
        s.sendto(b"READY=1", os.environ["NOTIFY_SOCKET"])

on = False
pressed = lines.button_low()               # the debounced level
raw, since = pressed, time.monotonic()     # the raw level, and since when (kernel timestamp)


def accept(now):
    """The raw level counts once it has been stable for DEBOUNCE; a press toggles the relay."""
    global pressed, on
    if raw != pressed and now - since >= DEBOUNCE:
        pressed = raw
        if pressed:
            on = not on
            lines.set_relay(on)


poller = select.poll()
poller.register(lines.fd, select.POLLIN)
while True:
    timeout = None if raw == pressed else max(0, int((since + DEBOUNCE - time.monotonic()) * 1000) + 1)
    if poller.poll(timeout):
        for t, level in lines.edges():
            accept(t)
            if level != raw:
                raw, since = level, t
    else:
        accept(time.monotonic())
