import PlugCore
import PlugJSON

/// A countdown as MQTT and Home Assistant see it: the level it switches the relay to, when, on
/// the wall clock, and its length in minutes when it was reported. Made once when the countdown
/// starts (or plugd connects), not at every pass, so it is republished only when the countdown
/// changes.
public struct CountdownReport: Equatable, Sendable {
    /// The relay's level when it ends.
    public var level: Bool
    /// Started by `[relay] auto_off` or `auto_on`.
    public var auto: Bool
    /// When it ends, in seconds since the Unix epoch (UTC).
    public var ends: Int64
    /// What remained when it was reported, in whole minutes, rounded up.
    public var minutes: Int

    public init(level: Bool, auto: Bool, ends: Int64, minutes: Int) {
        self.level = level
        self.auto = auto
        self.ends = ends
        self.minutes = minutes
    }

    /// The report of `countdown` at `now`, when the wall clock reads `unixNow` (seconds since
    /// the Unix epoch): its end on the wall clock, to the second.
    public init(_ countdown: Countdown, now: MonotonicInstant, unixNow: Duration) {
        let left = max(.zero, now.duration(to: countdown.due))
        let seconds = (left.nanoseconds + 999_999_999) / 1_000_000_000
        let end = unixNow + left
        self.init(
            level: countdown.level, auto: countdown.auto,
            ends: end.components.seconds + (end.components.attoseconds >= 500_000_000_000_000_000 ? 1 : 0),
            minutes: Int((seconds + 59) / 60))
    }

    /// The retained payload of the countdown topic: `{"relay":"off","ends":"2026-11-29T08:00:00Z",
    /// "minutes":30,"auto":false}`, or with no countdown `{"relay":null,"ends":null,"minutes":0,
    /// "auto":false}` (Home Assistant's timestamp sensor reads the `null` as unknown).
    public static func payload(_ report: CountdownReport?) -> String {
        let object: JSON = [
            "relay": report.map { .string($0.level ? "on" : "off") } ?? .null,
            "ends": report.map { .string(CivilDate.iso8601(unixSeconds: $0.ends)) } ?? .null,
            "minutes": .int(Int64(report?.minutes ?? 0)),
            "auto": .bool(report?.auto ?? false),
        ]
        return object.text()
    }
}
