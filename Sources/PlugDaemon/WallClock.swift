#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The wall clock, `CLOCK_REALTIME`: read only at the edges, to tell people and Home Assistant
/// when something happens (a countdown's end). Nothing in plugd waits on it.
public enum WallClock {
    /// The time since the Unix epoch.
    public static var unixNow: Duration {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return .seconds(Int64(ts.tv_sec)) + .nanoseconds(Int64(ts.tv_nsec))
    }
}
