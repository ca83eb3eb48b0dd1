/// Keeps a storm of one kind of event (10,000 MQTT commands in 2 s, a client hammering an
/// invalid topic) from flooding the journal, whose own rate limit (by default 10,000 entries per
/// 30 s per service) would then drop the entries a user needs afterwards, the rare ones included.
///
/// Per event name, at most `burst` entries are logged in a `window` that starts with the first
/// of them; the rest are counted, and when the window ends one `log_suppressed` entry says how
/// many of which event were left out. Rare events are never held back or delayed. Pure: every
/// call carries its instant, and a deadline exists only while something was suppressed.
public struct LogThrottle: Sendable {
    public let burst: Int
    public let window: Duration
    private var windows: [String: Window] = [:]

    private struct Window: Sendable {
        var start: MonotonicInstant
        var logged: Int
        var suppressed: Int
    }

    public init(burst: Int = 10, window: Duration = .seconds(1)) {
        self.burst = burst
        self.window = window
    }

    /// What to log for `event` at `now`: the summaries of windows that have ended, then the event
    /// itself unless its window is full.
    public mutating func admit(_ event: PlugEvent, at now: MonotonicInstant) -> [PlugEvent] {
        var out = due(at: now)
        var w = windows[event.name] ?? Window(start: now, logged: 0, suppressed: 0)
        if w.logged < burst {
            w.logged += 1
            out.append(event)
        } else {
            w.suppressed += 1
        }
        windows[event.name] = w
        return out
    }

    /// The summaries of the windows that have ended by `now` (and those windows forgotten).
    public mutating func due(at now: MonotonicInstant) -> [PlugEvent] {
        var out: [PlugEvent] = []
        for (name, w) in windows.sorted(by: { $0.value.start < $1.value.start }) where w.start.advanced(by: window) <= now {
            windows[name] = nil
            guard w.suppressed > 0 else { continue }
            out.append(
                PlugEvent(
                    .logSuppressed,
                    """
                    \(w.suppressed) more "\(name)" entries in \(window.milliseconds) ms were not logged (a storm: at most \(burst) \
                    of one kind are logged per \(window.milliseconds) ms)
                    """, priority: .warning,
                    fields: [.suppressed: "\(w.suppressed)", .suppressedEvent: name]))
        }
        return out
    }

    /// When a summary is next due; `nil` while nothing is suppressed (no timer).
    public var nextDeadline: MonotonicInstant? {
        windows.values.filter { $0.suppressed > 0 }.map { $0.start.advanced(by: window) }.min()
    }
}
