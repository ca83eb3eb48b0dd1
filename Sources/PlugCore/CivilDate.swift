/// A date of the proleptic Gregorian calendar, and its conversion to and from days since
/// 1970-01-01: plain arithmetic (Howard Hinnant's `days_from_civil` and `civil_from_days`), no
/// time zone, no clock. Schedules and the UTC timestamps plugd publishes are built on it.
public struct CivilDate: Equatable, Hashable, Comparable, Sendable, CustomStringConvertible {
    public var year: Int
    /// 1 to 12.
    public var month: Int
    /// 1 to 31.
    public var day: Int

    public init(year: Int, month: Int, day: Int) {
        self.year = year
        self.month = month
        self.day = day
    }

    /// The date `days` days after 1970-01-01 (before it if negative).
    public init(daysSinceEpoch days: Int) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097 // 0 ... 146096
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365 // 0 ... 399
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100) // 0 ... 365
        let mp = (5 * doy + 2) / 153 // 0 ... 11, from March
        day = doy - (153 * mp + 2) / 5 + 1
        month = mp < 10 ? mp + 3 : mp - 9
        year = yoe + era * 400 + (month <= 2 ? 1 : 0)
    }

    /// Days since 1970-01-01.
    public var daysSinceEpoch: Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = month > 2 ? month - 3 : month + 9
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    /// 0 = Sunday … 6 = Saturday.
    public var weekday: Int {
        let d = daysSinceEpoch
        return d >= -4 ? (d + 4) % 7 : (d + 5) % 7 + 6
    }

    /// The day of the year, 1 for 1 January.
    public var ordinal: Int { daysSinceEpoch - CivilDate(year: year, month: 1, day: 1).daysSinceEpoch + 1 }

    /// `2026-11-29`.
    public var description: String { "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))" }

    public static func < (a: CivilDate, b: CivilDate) -> Bool { a.daysSinceEpoch < b.daysSinceEpoch }

    /// `seconds` since the Unix epoch in UTC as ISO 8601 with a `Z`: `2026-11-29T07:00:00Z`.
    public static func iso8601(unixSeconds seconds: Int64) -> String {
        let s = Int(seconds)
        let days = s >= 0 ? s / 86400 : (s - 86399) / 86400
        let t = s - days * 86400
        return "\(CivilDate(daysSinceEpoch: days))T\(pad(t / 3600, 2)):\(pad(t % 3600 / 60, 2)):\(pad(t % 60, 2))Z"
    }
}

private func pad(_ n: Int, _ width: Int) -> String {
    let s = String(n)
    return s.count >= width ? s : String(repeating: "0", count: width - s.count) + s
}
