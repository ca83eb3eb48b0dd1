import PlugCore

/// The config's `[[schedule]]` entries (an array of tables, so not rows of `ConfigKey.all`):
/// each needs `at` and `action`; `days` and `catch_up` are optional. Problems are named
/// `schedule[N].key`, N counting from 1 as the journal and `plugctl schedule` do.
enum ScheduleReader {
    static let section = "schedule"
    /// The most entries (Tasmota has 16 timers).
    static let limit = 32
    static let keys: Set<String> = ["at", "action", "days", "catch_up"]

    static func read(_ value: TOMLValue?, place: Sun.Place?, _ r: inout ConfigReader) -> [ScheduleEntry] {
        guard let value else { return [] }
        guard case .array(let items) = value, items.allSatisfy({ $0.table != nil }) else {
            r.fail(section, "must be [[schedule]] tables, one per entry")
            return []
        }
        if items.count > limit { r.fail(section, "at most \(limit) entries (got \(items.count))") }
        var entries: [ScheduleEntry] = []
        for (i, item) in items.prefix(limit).enumerated() {
            let table = item.table!
            let name = "\(section)[\(i + 1)]"
            for (key, _) in table where !keys.contains(key) { r.fail("\(name).\(key)", "unknown key") }
            let time = readTime(table["at"], "\(name).at", place: place, &r)
            let action = table["action"] == nil ? r.failed("\(name).action", "is required: on, off or toggle") : r.choice(table["action"], "\(name).action", ScheduleEntry.Action.self)
            let days = readDays(table["days"], "\(name).days", &r)
            let catchUp = table["catch_up"] == nil ? false : r.bool(table["catch_up"], "\(name).catch_up")
            if let time, let action, let days, let catchUp {
                entries.append(ScheduleEntry(time: time, days: days, action: action, catchUp: catchUp))
            }
        }
        return entries
    }

    static func readTime(_ v: TOMLValue?, _ key: String, place: Sun.Place?, _ r: inout ConfigReader) -> ScheduleEntry.Time? {
        guard let v else { return r.failed(key, "is required: a time like \"07:30\", or \"sunrise\"/\"sunset\" with an offset like \"sunset-15m\"") }
        guard let text = v.string, let time = ScheduleEntry.Time(text) else {
            return r.failed(key, "must be a time like \"07:30\" (00:00 to 23:59), or \"sunrise\"/\"sunset\" with an offset of up to 6 h, like \"sunset-15m\" or \"sunrise+1h\"")
        }
        if time.needsPlace, place == nil { return r.failed(key, "\(text) needs [location] latitude and longitude") }
        return time
    }

    /// `"daily"`, `"weekdays"`, `"weekends"`, a day name, or an array of day names.
    static func readDays(_ v: TOMLValue?, _ key: String, _ r: inout ConfigReader) -> Set<Int>? {
        let form = "must be \"daily\", \"weekdays\", \"weekends\", or day names like [\"mon\", \"wed\", \"fri\"]"
        guard let v else { return Set(0...6) }
        if let s = v.string {
            guard let days = ScheduleEntry.days(named: s) else { return r.failed(key, "\(form) (got \"\(s)\")") }
            return days
        }
        guard case .array(let names) = v, !names.isEmpty else { return r.failed(key, form) }
        var days: Set<Int> = []
        for name in names {
            guard let s = name.string, let i = ScheduleEntry.dayNames.firstIndex(of: s.lowercased()) else {
                return r.failed(key, "\(form) (got \(name.string.map { "\"\($0)\"" } ?? "a value that is not a day name"))")
            }
            days.insert(i)
        }
        return days
    }
}
