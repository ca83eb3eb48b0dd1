// libsystemd (Debian: libsystemd-dev): sd_notify, the native journal protocol, and the
// application-specific machine id.
#include <systemd/sd-daemon.h>
#include <systemd/sd-journal.h>
#include <systemd/sd-id128.h>
