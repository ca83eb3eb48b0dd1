/// The relay flood guard: at most `limit` relay changes in any `window` (default 5 in 3 s, as
/// ESPurna's), from any source. A change asked for beyond that is not dropped: the requests are
/// collapsed into the last one asked, which is applied as soon as the window has room, and the
/// collapsing is reported at most once per window. An automation loop or a chattering MQTT
/// client cannot wear out the relay's contacts or the appliance behind it.
///
/// Pure: every call is given its instant.
public struct RelayFloodGuard: Sendable, Equatable {
    /// How many changes any `window` may hold.
    public let limit: Int
    public let window: Duration
    /// The instants of the changes inside the window, oldest first.
    private var recent: [MonotonicInstant] = []
    /// The level the collapsed requests asked for last, and its source; waits for room.
    public var pending: (level: Bool, source: EventSource)? { pendingLevel.map { ($0, pendingSource) } }
    private var pendingLevel: Bool?
    private var pendingSource = EventSource.system
    /// Requests collapsed since the last report, and since when they are counted.
    private var collapsed = 0
    private var counting: MonotonicInstant?

    public init(limit: Int = 5, window: Duration = .seconds(3)) {
        self.limit = max(1, limit)
        self.window = window
    }

    /// Whether a change may be made at `now`; if so, it is counted.
    public mutating func admit(at now: MonotonicInstant) -> Bool {
        recent.removeAll { $0.advanced(by: window) <= now }
        guard recent.count < limit else { return false }
        recent.append(now)
        return true
    }

    /// A request the window has no room for: it replaces any pending one.
    public mutating func collapse(_ level: Bool, source: EventSource, at now: MonotonicInstant) {
        (pendingLevel, pendingSource) = (level, source)
        collapsed += 1
        if counting == nil { counting = now }
    }

    /// Drops the pending request (a later one asked for the level the relay already has).
    public mutating func clearPending() { pendingLevel = nil }

    /// When the pending request can next be applied (the oldest change leaves the window).
    public var roomAt: MonotonicInstant? {
        guard pendingLevel != nil, let oldest = recent.first else { return nil }
        return oldest.advanced(by: window)
    }

    /// When the guard next needs a tick: the pending request's room, or the report of what it
    /// collapsed. `nil` without a flood: no timer.
    public var deadline: MonotonicInstant? {
        earliest(roomAt, collapsed > 0 ? counting?.advanced(by: window) : nil)
    }

    /// The number of requests collapsed in the window that ends at `now`, once that window is
    /// over: one report per window while a flood lasts, and one after it.
    public mutating func report(at now: MonotonicInstant) -> Int? {
        guard collapsed > 0, let since = counting, since.advanced(by: window) <= now else { return nil }
        defer {
            collapsed = 0
            counting = nil
        }
        return collapsed
    }
}
