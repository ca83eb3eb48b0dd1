import PlugCore

/// Limits password guesses, per client address: `freeFailures` wrong passwords are let through,
/// then each further one locks that address out for twice as long as the last (from
/// `firstLockout` up to `longestLockout`). A right password clears the address's count; a count
/// is forgotten `forgetAfter` after its last failure. At most `maxTracked` addresses are
/// remembered (the oldest is forgotten first), so a flood of addresses cannot grow it. Pure: each
/// call carries its instant.
public struct LoginLimiter: Sendable {
    struct Record: Sendable {
        var failures: Int
        var last: MonotonicInstant
        var lockedUntil: MonotonicInstant?
    }

    public var freeFailures = 5
    public var firstLockout: Duration = .seconds(30)
    public var longestLockout: Duration = .seconds(15 * 60)
    public var forgetAfter: Duration = .seconds(60 * 60)
    public var maxTracked = 256
    private var records: [String: Record] = [:]

    public init() {}

    /// How long `client` must wait before it may try a password, or `nil` if it may now.
    public func wait(_ client: String, at now: MonotonicInstant) -> Duration? {
        guard let r = records[client], let until = r.lockedUntil, now < until else { return nil }
        return now.duration(to: until)
    }

    /// Records a wrong password from `client`.
    public mutating func failed(_ client: String, at now: MonotonicInstant) {
        var r = records[client] ?? Record(failures: 0, last: now)
        if r.last.duration(to: now) > forgetAfter { r.failures = 0 }
        r.failures += 1
        r.last = now
        if r.failures > freeFailures {
            let doublings = min(r.failures - freeFailures - 1, 16)
            let lockout = min(firstLockout * (1 << doublings), longestLockout)
            r.lockedUntil = now.advanced(by: lockout)
        }
        records[client] = r
        if records.count > maxTracked, let oldest = records.min(by: { $0.value.last < $1.value.last })?.key {
            records.removeValue(forKey: oldest)
        }
    }

    /// Records a right password from `client`: its count starts again.
    public mutating func succeeded(_ client: String) {
        records.removeValue(forKey: client)
    }
}
