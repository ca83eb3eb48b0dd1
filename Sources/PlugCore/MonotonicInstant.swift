/// A point on the monotonic timeline, in nanoseconds since an arbitrary origin (boot, for the
/// real clock; zero, for tests).
///
/// The kernel stamps GPIO edge events with `CLOCK_MONOTONIC` nanoseconds, so edge timestamps and
/// the daemon's clock share this one type and hold times are measured between kernel timestamps.
public struct MonotonicInstant: InstantProtocol, Hashable, Sendable, CustomStringConvertible {
    /// Nanoseconds since the clock's origin.
    public var nanoseconds: Int64

    /// Creates an instant `nanoseconds` after the origin.
    public init(nanoseconds: Int64) { self.nanoseconds = nanoseconds }

    /// The clock's origin.
    public static let zero = MonotonicInstant(nanoseconds: 0)

    public func advanced(by duration: Duration) -> MonotonicInstant {
        MonotonicInstant(nanoseconds: nanoseconds + duration.nanoseconds)
    }

    public func duration(to other: MonotonicInstant) -> Duration {
        .nanoseconds(other.nanoseconds - nanoseconds)
    }

    public static func < (lhs: MonotonicInstant, rhs: MonotonicInstant) -> Bool {
        lhs.nanoseconds < rhs.nanoseconds
    }

    public var description: String {
        let ms = Double(nanoseconds) / 1_000_000
        return "t+\(ms)ms"
    }
}

extension Duration {
    /// The duration as whole nanoseconds (truncated).
    public var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }

    /// The duration as whole milliseconds (truncated).
    public var milliseconds: Int64 { nanoseconds / 1_000_000 }
}

/// Returns the earliest of the given instants, ignoring `nil`s.
public func earliest(_ instants: MonotonicInstant?...) -> MonotonicInstant? {
    instants.compactMap { $0 }.min()
}
