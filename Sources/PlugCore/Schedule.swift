/// The config's schedules (`[[schedule]]`) and the place the sun is reckoned for: when each
/// entry runs next, which ran in a span of time. Pure: instants are seconds since the Unix
/// epoch (the wall clock's), given by the caller; the time zone is a `LocalTime`.
public struct Schedule: Equatable, Sendable {
    public var entries: [ScheduleEntry]
    /// `[location]`: needed by sunrise and sunset entries.
    public var place: Sun.Place?

    public init(entries: [ScheduleEntry] = [], place: Sun.Place? = nil) {
        self.entries = entries
        self.place = place
    }

    /// One run of an entry.
    public struct Occurrence: Equatable, Sendable, CustomStringConvertible {
        /// When, in seconds since the Unix epoch.
        public var at: Int64
        /// Which entry: its index in `entries` (the config's `schedule N` is `entry + 1`).
        public var entry: Int
        /// The local date it belongs to.
        public var date: CivilDate

        public init(at: Int64, entry: Int, date: CivilDate) {
            self.at = at
            self.entry = entry
            self.date = date
        }

        public var description: String { "schedule \(entry + 1) at \(at) (\(date))" }
    }

    /// When entry `index` runs on local `date`; `nil` if not on that weekday, or if the sun does
    /// not rise or set there that day (polar day or night).
    public func occurrence(of index: Int, on date: CivilDate, in zone: some LocalTime) -> Occurrence? {
        let e = entries[index]
        guard e.days.contains(date.weekday) else { return nil }
        let at: Int64
        switch e.time {
        case .clock(let second):
            at = zone.instant(date, second: second)
        case .sunrise(let offset), .sunset(let offset):
            guard let place, case .at(let t) = Sun.event(rising: e.time.isSunrise, on: date, at: place) else { return nil }
            at = t + Int64(offset)
        }
        return Occurrence(at: at, entry: index, date: date)
    }

    /// The runs at the first instant after `unix` at which any entry runs (several entries may
    /// share it; they run in the config's order, the last one's word standing). Empty without
    /// entries, or if none runs within `horizonDays` (a sunrise entry in a polar night longer
    /// than that).
    public func next(after unix: Int64, in zone: some LocalTime) -> [Occurrence] {
        guard !entries.isEmpty else { return [] }
        let start = zone.date(at: unix).daysSinceEpoch - 1
        var found: [Occurrence] = []
        for day in start...(start + Self.horizonDays) {
            // An entry's run lies within a day of its date (offsets are at most 6 h): once one
            // is found, two more dates cannot hold an earlier one.
            if let first = found.first, day > first.date.daysSinceEpoch + 2 { break }
            let date = CivilDate(daysSinceEpoch: day)
            for i in entries.indices {
                guard let o = occurrence(of: i, on: date, in: zone), o.at > unix else { continue }
                if let first = found.first, o.at > first.at { continue }
                if let first = found.first, o.at < first.at { found = [] }
                found.append(o)
            }
        }
        return found.sorted { ($0.at, $0.entry) < ($1.at, $1.entry) }
    }

    /// Every run after `from` and up to and including `through`, in order (at most `limit`).
    public func occurrences(after from: Int64, through: Int64, in zone: some LocalTime, limit: Int = 1000) -> [Occurrence] {
        var all: [Occurrence] = []
        var t = from
        while all.count < limit {
            let next = self.next(after: t, in: zone)
            guard let at = next.first?.at, at <= through else { break }
            all += next
            t = at
        }
        return Array(all.prefix(limit))
    }

    /// How far ahead `next(after:in:)` looks: a year and a day, past any polar night.
    public static let horizonDays = 367
}

extension ScheduleEntry.Time {
    var isSunrise: Bool { if case .sunrise = self { true } else { false } }
    /// Whether it needs `[location]`.
    public var needsPlace: Bool { if case .clock = self { false } else { true } }
}
