// libmosquitto's client API (Debian libmosquitto-dev), the MQTT client library of the Eclipse
// Mosquitto project, and its MQTT 5 reason codes and property identifiers — loaded at run time.
//
// plugd is not linked with libmosquitto: a plug without [mqtt] would map it and the TLS
// libraries it needs (libssl, libcrypto: 1.7 MB resident) for nothing. When [mqtt] is set,
// plugd_mosquitto_load() opens libmosquitto.so.1 with dlopen; the mosquitto_* functions plugd
// calls (declared by <mosquitto.h>, defined in plugd_mosquitto.c) forward to the library's.
// Calling one before a successful load is a programming error (it aborts with a message).
#ifndef PLUGD_MOSQUITTO_H
#define PLUGD_MOSQUITTO_H

#include <stdbool.h>
#include <stddef.h>
#include <mosquitto.h>
#include <mqtt_protocol.h>

/// The library's file name for dlopen: the ABI plugd is built against.
#define PLUGD_MOSQUITTO_SONAME "libmosquitto.so.1"

/// Opens `soname` and finds every function plugd uses in it: true, or false with the reason in
/// `error` (nothing loaded; a later call may try again). Once loaded, later calls return true.
bool plugd_mosquitto_load(const char *soname, char *error, size_t size);

#endif
