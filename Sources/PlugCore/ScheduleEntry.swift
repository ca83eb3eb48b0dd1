/// One `[[schedule]]` entry of the config: when (a time of day, or sunrise or sunset with an
/// offset), on which days of the week, and what the relay does.
public struct ScheduleEntry: Equatable, Sendable {
    /// When, on a day the entry runs.
    public enum Time: Equatable, Sendable, CustomStringConvertible {
        /// Seconds after local midnight, by the wall clock (`"07:30"`).
        case clock(second: Int)
        /// Sunrise or sunset at `[location]`, moved by `offset` seconds (`"sunset-15m"`).
        case sunrise(offset: Int)
        case sunset(offset: Int)

        /// The form the config takes: `07:30` (or `07:30:15`), `sunrise`, `sunset+30m`, `sunrise-1h`; `nil` if
        /// it is none of these. Offsets up to `maxOffset`.
        public init?(_ text: String) {
            let t = text.lowercased()
            for (name, make) in [("sunrise", Time.sunrise), ("sunset", Time.sunset)] where t.hasPrefix(name) {
                let rest = t.dropFirst(name.count)
                guard let sign = rest.first else {
                    self = make(0)
                    return
                }
                guard sign == "+" || sign == "-", let s = Countdown.seconds(in: String(rest.dropFirst())), s <= Self.maxOffset
                else { return nil }
                self = make(sign == "-" ? -s : s)
                return
            }
            let parts = t.split(separator: ":", omittingEmptySubsequences: false)
            guard parts.count == 2 || parts.count == 3, parts.allSatisfy({ $0.count == 2 && $0.allSatisfy { $0.isASCII && $0.isNumber } }),
                let h = Int(parts[0]), let m = Int(parts[1]), h < 24, m < 60
            else { return nil }
            let s = parts.count == 3 ? Int(parts[2])! : 0
            guard s < 60 else { return nil }
            self = .clock(second: h * 3600 + m * 60 + s)
        }

        /// The furthest a sun event may be moved: 6 hours either way.
        public static let maxOffset = 6 * 3600

        /// The form people write, back: `07:30`, `sunset-15m`.
        public var description: String {
            func offset(_ s: Int) -> String {
                guard s != 0 else { return "" }
                let a = abs(s)
                let text = a % 3600 == 0 ? "\(a / 3600)h" : a % 60 == 0 ? "\(a / 60)m" : "\(a)s"
                return (s < 0 ? "-" : "+") + text
            }
            switch self {
            case .clock(let s):
                let seconds = s % 60 == 0 ? "" : ":\(s % 60 / 10)\(s % 10)"
                return "\(s / 36000)\(s / 3600 % 10):\(s % 3600 / 600)\(s % 600 / 60)" + seconds
            case .sunrise(let o): return "sunrise" + offset(o)
            case .sunset(let o): return "sunset" + offset(o)
            }
        }
    }

    /// What the relay does.
    public enum Action: String, Sendable, CaseIterable {
        case on, off, toggle
    }

    public var time: Time
    /// The days of the week it runs, 0 = Sunday … 6 = Saturday (`CivilDate.weekday`): the
    /// local date the time belongs to (a sunset moved past midnight still belongs to its day).
    public var days: Set<Int>
    public var action: Action
    /// If it was missed (the plug off, or its clock not yet set), it runs late, once, when the
    /// plug can; otherwise a missed entry is skipped.
    public var catchUp: Bool

    public init(time: Time, days: Set<Int> = Set(0...6), action: Action, catchUp: Bool = false) {
        self.time = time
        self.days = days
        self.action = action
        self.catchUp = catchUp
    }

    /// The day names the config takes, in `CivilDate.weekday` order.
    public static let dayNames = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"]

    /// `days` as the config takes it: `"daily"`, `"weekdays"`, `"weekends"` or a day name.
    public static func days(named name: String) -> Set<Int>? {
        switch name.lowercased() {
        case "daily": Set(0...6)
        case "weekdays": Set(1...5)
        case "weekends": [0, 6]
        default: dayNames.firstIndex(of: name.lowercased()).map { [$0] }
        }
    }

    /// `days` for people: "daily", "weekdays", "weekends" or "mon,wed,fri".
    public var daysText: String {
        switch days {
        case Set(0...6): "daily"
        case Set(1...5): "weekdays"
        case [0, 6]: "weekends"
        default: [1, 2, 3, 4, 5, 6, 0].filter(days.contains).map { Self.dayNames[$0] }.joined(separator: ",")
        }
    }
}
