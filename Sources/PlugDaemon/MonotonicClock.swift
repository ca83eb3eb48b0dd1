#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import PlugCore

/// The real clock: `CLOCK_MONOTONIC`, the clock the kernel stamps GPIO edge events with. Only
/// read: nothing in plugd sleeps on a clock (the run loop sleeps in `poll()` until its next
/// deadline), so it is not a Swift `Clock` and plugd needs no task executor.
public struct MonotonicClock: Sendable {
    public init() {}

    public var now: MonotonicInstant {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return MonotonicInstant(nanoseconds: Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec))
    }
}
