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
    /// Started by the config's `[relay] auto_off` or `auto_on`, not asked for.
    public var auto: Bool

    public init(level: Bool, due: MonotonicInstant, boot: String, auto: Bool = false) {
        self.level = level
        self.due = due
        self.boot = boot
        self.auto = auto
    }

    /// What it is, for people: "Countdown", "Auto-off" or "Auto-on".
    public var title: String { auto ? (level ? "Auto-on" : "Auto-off") : "Countdown" }

    /// The longest countdown, auto-off or auto-on: 7 days.
    public static let longest: Duration = .seconds(7 * 86_400)

    /// A duration as people write it for plugctl's `--for`, the config's `auto_off` and MQTT: a
    /// whole number and one unit, `s`, `m`, `h` or `d` (`90s`, `30m`, `2h`, `1d`), in whole
    /// seconds; `nil` if it is not of that form or longer than `longest`. Zero is accepted
    /// (`0m`): each caller says what it means.
    public static func seconds(in text: String) -> Int? {
        let units: [Character: Int] = ["s": 1, "m": 60, "h": 3600, "d": 86400]
        let limit = Int(longest.components.seconds)
        guard let unit = text.last.flatMap({ units[$0] }), !text.dropLast().isEmpty, text.dropLast().allSatisfy({ $0.isASCII && $0.isNumber }),
            let n = Int(text.dropLast()), n >= 0, n <= limit / unit
        else { return nil }
        return n * unit
    }

    /// The form `seconds(in:)` reads, for error messages.
    public static let form = "a whole number and a unit, s, m, h or d (90s, 30m, 2h, 1d), up to 7 days"

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
