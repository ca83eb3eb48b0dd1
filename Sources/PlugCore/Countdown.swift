/// A countdown on the relay (`plugctl on --for 30m`): when it ends, the relay goes to `level`.
///
/// It is part of the plug's state, written like the rest, so a restart of plugd keeps it: the
/// monotonic clock goes on through a restart of the daemon, not through a reboot, so `due` is
/// read against the boot it was started in. A countdown from another boot ended while the plug
/// had no power (or rebooted); `PlugMachine.relayAtPowerOn` says what the relay does then.
public struct Countdown: Equatable, Sendable {
    /// The relay's level when the countdown ends.
    public var level: Bool
    /// When it ends, on the monotonic clock of `boot`.
    public var due: MonotonicInstant
    /// The boot it was started in (the kernel's boot id).
    public var boot: String

    public init(level: Bool, due: MonotonicInstant, boot: String) {
        self.level = level
        self.due = due
        self.boot = boot
    }

    /// `d` for people: "1 h 30 min", "10 min", "45 s" (whole seconds, rounded up).
    public static func text(_ d: Duration) -> String {
        let total = max(0, (d.nanoseconds + 999_999_999) / 1_000_000_000)
        let (h, m, s) = (total / 3600, total % 3600 / 60, total % 60)
        var parts: [String] = []
        if h > 0 { parts.append("\(h) h") }
        if m > 0 { parts.append("\(m) min") }
        if s > 0 || parts.isEmpty { parts.append("\(s) s") }
        return parts.joined(separator: " ")
    }
}
