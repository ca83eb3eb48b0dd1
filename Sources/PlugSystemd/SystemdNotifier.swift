import CSystemd

/// The service manager's notification socket (`Type=notify`): READY=1, STATUS=, WATCHDOG=1,
/// STOPPING=1. Every call is a no-op when not started by systemd (`$NOTIFY_SOCKET` unset).
public struct SystemdNotifier: Sendable {
    public init() {}

    /// Tells systemd start-up is finished, with a status line.
    public func ready(status: String) { send("READY=1\nSTATUS=\(status)") }

    /// Updates the status line shown by `systemctl status`.
    public func status(_ status: String) { send("STATUS=\(status)") }

    /// Tells systemd the daemon is stopping.
    public func stopping() { send("STOPPING=1\nSTATUS=stopping") }

    /// Pings the watchdog.
    public func watchdog() { send("WATCHDOG=1") }

    /// How often to ping the watchdog (half of `WatchdogSec=`), or `nil` if it is not enabled.
    public var watchdogInterval: Duration? {
        var usec: UInt64 = 0
        guard sd_watchdog_enabled(0, &usec) > 0, usec > 0 else { return nil }
        return .microseconds(Int64(usec / 2))
    }

    private func send(_ state: String) { _ = sd_notify(0, state) }
}
