// Jansson (Debian libjansson-dev), a maintained C library for JSON: a strict RFC 8259 parser
// (json_loadb) and a writer (json_dumps), which PlugJSON wraps.
#include <jansson.h>
