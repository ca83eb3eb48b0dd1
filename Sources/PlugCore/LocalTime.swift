/// A time zone's rules, as far as schedules need them: the offset from UTC in force at an
/// instant. The daemon's comes from the C library (`localtime_r`, the system's time zone); tests
/// give their own. Everything else (local dates, local times to instants across daylight
/// saving changes) is derived here, purely.
public protocol LocalTime: Sendable {
    /// Seconds east of UTC in force at `unix` (seconds since the Unix epoch).
    func utcOffset(at unix: Int64) -> Int
}

extension LocalTime {
    /// The local date at `unix`.
    public func date(at unix: Int64) -> CivilDate {
        let local = unix + Int64(utcOffset(at: unix))
        return CivilDate(daysSinceEpoch: Int(local >= 0 ? local / 86400 : (local - 86399) / 86400))
    }

    /// The instant the local clock shows `second` (after midnight) on `date`. A time the clock
    /// skips (spring forward: 02:30 when 02:00 jumps to 03:00) is the instant of the jump; a time
    /// it shows twice (fall back) is the first of the two.
    public func instant(_ date: CivilDate, second: Int) -> Int64 {
        let wall = Int64(date.daysSinceEpoch) * 86400 + Int64(second)
        // Offsets change at most once within a day either side.
        let offsets = Set([utcOffset(at: wall - 86400), utcOffset(at: wall), utcOffset(at: wall + 86400)])
        let valid = offsets.map { wall - Int64($0) }.filter { utcOffset(at: $0) == Int(wall - $0) }
        if let first = valid.min() { return first }
        // Skipped: the jump lies between the instant with the later (larger) offset and the one
        // with the earlier; find its second.
        var low = wall - Int64(offsets.max()!), high = wall - Int64(offsets.min()!)
        let before = utcOffset(at: low)
        while high - low > 1 {
            let mid = (low + high) / 2
            if utcOffset(at: mid) == before { low = mid } else { high = mid }
        }
        return high
    }
}

/// A fixed offset from UTC (UTC itself, or a zone without daylight saving time).
public struct FixedOffset: LocalTime {
    public var seconds: Int
    public init(seconds: Int) { self.seconds = seconds }
    public func utcOffset(at unix: Int64) -> Int { seconds }
}
