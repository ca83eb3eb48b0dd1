// libmosquitto's client API (Debian libmosquitto-dev), the MQTT client library of the Eclipse
// Mosquitto project, and its MQTT 5 reason codes and property identifiers.
#include <mosquitto.h>
#include <mqtt_protocol.h>
