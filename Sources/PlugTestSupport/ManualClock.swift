import PlugCore
import Synchronization

/// A `Clock` whose time moves only when told to: `plugd --simulate` does not use it, tests do,
/// so a 12-second hold is tested in microseconds.
///
/// `sleep(until:)` suspends until `advance(by:)`/`advance(to:)` reaches the deadline.
public final class ManualClock: Clock, Sendable {
    public typealias Instant = MonotonicInstant
    public typealias Duration = Swift.Duration

    private struct Sleeper {
        let deadline: MonotonicInstant
        let continuation: CheckedContinuation<Void, any Error>
    }
    private struct State {
        var now: MonotonicInstant
        var sleepers: [Int: Sleeper] = [:]
        var nextID = 0
    }
    private let state: Mutex<State>

    /// Creates a clock reading `now`.
    public init(now: MonotonicInstant = .zero) { state = Mutex(State(now: now)) }

    public var now: MonotonicInstant { state.withLock { $0.now } }
    public var minimumResolution: Swift.Duration { .nanoseconds(1) }

    /// Moves time forward by `duration`, waking every sleeper whose deadline has passed.
    public func advance(by duration: Swift.Duration) { advance(to: now.advanced(by: duration)) }

    /// Moves time forward to `instant` (never backwards), waking due sleepers.
    public func advance(to instant: MonotonicInstant) {
        let due: [Sleeper] = state.withLock { s in
            if instant > s.now { s.now = instant }
            let now = s.now
            let ids = s.sleepers.filter { $0.value.deadline <= now }.map(\.key)
            return ids.compactMap { s.sleepers.removeValue(forKey: $0) }
        }
        for sleeper in due { sleeper.continuation.resume() }
    }

    public func sleep(until deadline: MonotonicInstant, tolerance: Swift.Duration?) async throws {
        let id = state.withLock { s -> Int in
            s.nextID += 1; return s.nextID
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (c: CheckedContinuation<Void, any Error>) in
                let resumeNow = state.withLock { s -> Bool in
                    if deadline <= s.now { return true }
                    s.sleepers[id] = Sleeper(deadline: deadline, continuation: c)
                    return false
                }
                if resumeNow { c.resume() }
            }
        } onCancel: {
            let sleeper = state.withLock { $0.sleepers.removeValue(forKey: id) }
            sleeper?.continuation.resume(throwing: CancellationError())
        }
    }
}
