/// Delays between connection attempts: the first `min`, doubling up to `max`, each scaled by a
/// random factor from 0.8 to 1.2 so that a fleet of plugs does not reconnect in step after its
/// broker restarts. Resets on a successful connection.
public struct ReconnectBackoff: Sendable, Equatable {
    public let min: Duration
    public let max: Duration
    /// Failed attempts since the last success.
    public private(set) var failures = 0

    public init(min: Duration, max: Duration) {
        self.min = min
        self.max = max
    }

    /// The delay before the next attempt after one more failure; `random` is in 0..<1.
    public mutating func nextDelay(random: Double) -> Duration {
        var delay = min
        for _ in 0..<failures where delay < max { delay = delay * 2 }
        if delay > max { delay = max }
        failures += 1
        return delay * (0.8 + 0.4 * random)
    }

    /// A connection succeeded.
    public mutating func reset() { failures = 0 }
}
