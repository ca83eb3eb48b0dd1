import PlugCore
import Synchronization

/// A clock whose time moves only when told to: `plugd --simulate` does not use it, tests do,
/// so a 12-second hold is tested in microseconds.
public final class ManualClock: Sendable {
    private let time: Mutex<MonotonicInstant>

    /// Creates a clock reading `now`.
    public init(now: MonotonicInstant = .zero) { time = Mutex(now) }

    public var now: MonotonicInstant { time.withLock { $0 } }

    /// Moves time forward by `duration`.
    public func advance(by duration: Swift.Duration) { advance(to: now.advanced(by: duration)) }

    /// Moves time forward to `instant` (never backwards).
    public func advance(to instant: MonotonicInstant) {
        time.withLock { if instant > $0 { $0 = instant } }
    }
}
