/// A level change that has passed the debounce: the button is now `pressed` (or released), and
/// the level began at `at` — the kernel timestamp of the edge that started it, not the moment the
/// debounce window closed. Hold times are measured between these timestamps.
public struct DebouncedChange: Equatable, Sendable {
    /// The new debounced level.
    public var pressed: Bool
    /// When the raw level that is now accepted began.
    public var at: MonotonicInstant
}

/// Software debounce: a raw level counts only after it has been stable for `window`.
///
/// Feed it every raw edge with its timestamp (`edge(_:at:)`) and tell it when time passes
/// (`advance(to:)`); `deadline` says when it next needs to be asked. Shorter glitches never
/// produce a change, so bounce and noise cause no ghost presses.
public struct Debouncer: Sendable {
    /// The accepted (debounced) level.
    public private(set) var level: Bool
    private var rawLevel: Bool
    private var rawSince: MonotonicInstant
    /// How long a level must be stable.
    public let window: Duration

    /// Creates a debouncer whose accepted level is `initial`, observed at `now`.
    public init(initial: Bool, at now: MonotonicInstant, window: Duration) {
        level = initial
        rawLevel = initial
        rawSince = now
        self.window = window
    }

    /// When the pending raw level will be accepted if nothing changes, or `nil` if none is pending.
    public var deadline: MonotonicInstant? {
        rawLevel == level ? nil : rawSince.advanced(by: window)
    }

    /// Accepts the pending raw level if it has been stable for the window by `now`.
    public mutating func advance(to now: MonotonicInstant) -> DebouncedChange? {
        guard rawLevel != level, rawSince.duration(to: now) >= window else { return nil }
        level = rawLevel
        return DebouncedChange(pressed: level, at: rawSince)
    }

    /// Feeds a raw edge. A level that was stable for the full window before this edge is accepted
    /// first and returned.
    /// Edges come in kernel order; one stamped before the previous edge is taken as simultaneous.
    public mutating func edge(_ pressed: Bool, at stamp: MonotonicInstant) -> DebouncedChange? {
        let time = max(stamp, rawSince)
        let accepted = advance(to: time)
        if pressed != rawLevel {
            rawLevel = pressed
            rawSince = time
        }
        return accepted
    }
}
