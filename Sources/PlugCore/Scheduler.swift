/// Runs the schedules by the wall clock: what is due, what was missed, and when to be woken
/// next. Pure: the runtime tells it the wall clock's time, whether the clock is synchronised
/// (a Pi has no real-time clock: until NTP sets it, the time is wrong) and the time zone, every
/// time its timer expires or the clock is set; it answers with the runs for the machine, the
/// journal entries, and the instant to arm the timer for.
public struct Scheduler: Sendable {
    public let schedule: Schedule
    /// Whether the clock was synchronised at the last update.
    public private(set) var synchronized = false
    /// Up to when runs are done (the wall clock's time at the last update once synchronised).
    public private(set) var seen: Int64?
    /// The next runs, once the clock is synchronised.
    public private(set) var nextRuns: [Schedule.Occurrence] = []
    private var waitingLogged = false

    /// A run more than this late is not run unless its entry says `catch_up`: it was missed
    /// (the plug was off, its clock unset, or the clock jumped past it). Less late (a busy
    /// system, plugd restarted in the meantime) it runs.
    public static let lateness: Int64 = 10
    /// While the clock is not synchronised, check again this often (a clock that is set also
    /// wakes the timer at once; this is for synchronisation without a step).
    public static let unsyncedRecheck: Int64 = 60

    /// - Parameter seen: `PlugState.scheduleSeen`, up to when an earlier run of plugd ran them.
    public init(schedule: Schedule, seen: Int64?) {
        self.schedule = schedule
        self.seen = seen
    }

    /// What to do after an update.
    public struct Outcome: Equatable, Sendable {
        /// The runs to carry out now, in order (the relay ends as the last one says).
        public var runs: [ScheduleRun] = []
        public var logs: [PlugEvent] = []
        /// When to update again (the timer's expiry, wall clock); `nil`: never by itself.
        public var wake: Int64?
        /// The new `PlugState.scheduleSeen`, when it moved.
        public var seen: Int64?
    }

    /// The wall clock reads `now`; `synchronized` says whether it can be trusted. Call at start,
    /// when the timer expires, and when the clock was set.
    public mutating func update(now: Int64, synchronized: Bool, zone: some LocalTime) -> Outcome {
        var out = Outcome()
        guard !schedule.entries.isEmpty else { return out }
        guard synchronized else {
            self.synchronized = false
            nextRuns = []
            if !waitingLogged {
                waitingLogged = true
                out.logs.append(
                    PlugEvent(
                        .scheduleWaiting,
                        "The system clock is not synchronised yet (no real-time clock; waiting for NTP): schedules run once it is",
                        priority: .notice))
            }
            out.wake = now + Self.unsyncedRecheck
            return out
        }
        if !self.synchronized, waitingLogged {
            out.logs.append(PlugEvent(.scheduleClockSynchronized, "The system clock is synchronised: schedules run", priority: .notice))
        }
        self.synchronized = true
        waitingLogged = false
        if let seen, now > seen {
            let due = schedule.occurrences(after: seen, through: now, in: zone)
            let onTime = due.filter { $0.at >= now - Self.lateness }
            let missed = due.filter { $0.at < now - Self.lateness }
            // Of the missed runs, the last one that asks to be caught up runs, late, once;
            // and only if no run on time follows it (that one decides the relay anyway).
            if onTime.isEmpty, let late = missed.last(where: { schedule.entries[$0.entry].catchUp }) {
                out.runs.append(run(late, late: true))
            }
            let skipped = missed.filter { o in !out.runs.contains { $0.occurrence == o } }
            if !skipped.isEmpty {
                let names = Set(skipped.map { $0.entry + 1 }).sorted().map { "\($0)" }.joined(separator: ", ")
                out.logs.append(
                    PlugEvent(
                        .scheduleMissed,
                        """
                        \(skipped.count) scheduled run\(skipped.count == 1 ? "" : "s") missed while the plug was off or its clock \
                        unset (schedule \(names)): not run late (set catch_up = true on an entry to run its last missed run)
                        """, priority: .notice, fields: [.missed: "\(skipped.count)"]))
            }
            out.runs += onTime.map { run($0, late: false) }
        }
        // A clock set back does not run the same time twice.
        let from = max(now, seen ?? now)
        if seen != from {
            seen = from
            out.seen = from
        }
        nextRuns = schedule.next(after: from, in: zone)
        out.wake = nextRuns.first?.at
        return out
    }

    /// The next `count` runs for people, soonest first, in local time ("2026-11-29 07:30  on
    /// schedule 1 (07:30, weekdays)"), or why none runs yet; empty without schedules.
    public func upcoming(_ count: Int, zone: some LocalTime) -> [String] {
        guard !schedule.entries.isEmpty else { return [] }
        guard synchronized, let seen else { return ["waiting for the system clock to be synchronised"] }
        let runs = schedule.occurrences(after: seen, through: .max, in: zone, limit: count)
        guard !runs.isEmpty else { return ["none within a year (the sun does not rise or set here then)"] }
        return runs.map { o in
            let e = schedule.entries[o.entry]
            let second = Int((o.at + Int64(zone.utcOffset(at: o.at))) % 86400 + 86400) % 86400
            let clock = ScheduleEntry.Time.clock(second: second / 60 * 60).description
            let action = e.action.rawValue + String(repeating: " ", count: 7 - e.action.rawValue.count)
            return "\(zone.date(at: o.at)) \(clock)  \(action)\(run(o, late: false).name)"
        }
    }

    private func run(_ o: Schedule.Occurrence, late: Bool) -> ScheduleRun {
        ScheduleRun(occurrence: o, entry: schedule.entries[o.entry], late: late)
    }
}

/// One run of a schedule entry, for the machine.
public struct ScheduleRun: Equatable, Sendable {
    public var occurrence: Schedule.Occurrence
    public var entry: ScheduleEntry
    /// Run late (`catch_up`), not at its time.
    public var late: Bool

    public init(occurrence: Schedule.Occurrence, entry: ScheduleEntry, late: Bool) {
        self.occurrence = occurrence
        self.entry = entry
        self.late = late
    }

    /// "schedule 2 (sunset-15m, daily)".
    public var name: String { "schedule \(occurrence.entry + 1) (\(entry.time), \(entry.daysText))" }
}
