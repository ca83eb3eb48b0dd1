// libgpiod: the v1 API (1.6, Debian 12) or the v2 API (2.x, Debian 13), whichever pkg-config
// finds; Package.swift defines GPIOD_V2 for the Swift code when it is 2.x.
#include <gpiod.h>
