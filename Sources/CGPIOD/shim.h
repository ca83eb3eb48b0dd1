// libgpiod (Debian: libgpiod-dev). v1 API (1.6, Debian 12).
#include <gpiod.h>
