#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import PlugCore

/// The real clock: `CLOCK_MONOTONIC`, the clock the kernel stamps GPIO edge events with.
public struct MonotonicClock: Clock, Sendable {
    public typealias Instant = MonotonicInstant
    public typealias Duration = Swift.Duration

    public init() {}

    public var now: MonotonicInstant {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return MonotonicInstant(nanoseconds: Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec))
    }

    public var minimumResolution: Swift.Duration { .nanoseconds(1) }

    public func sleep(until deadline: MonotonicInstant, tolerance: Swift.Duration?) async throws {
        // Task.sleep runs on another clock; loop so we never return before `deadline` on this one.
        while true {
            let remaining = now.duration(to: deadline)
            if remaining <= .zero { return }
            try await Task.sleep(for: remaining, tolerance: tolerance)
        }
    }
}
