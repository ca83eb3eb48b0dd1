import CLinux

#if canImport(Glibc)
import Glibc
#endif

/// A timer on the wall clock (`CLOCK_REALTIME`) as a descriptor to poll: a `timerfd` armed for
/// an absolute instant with `TFD_TIMER_CANCEL_ON_SET`, so it becomes readable when the instant
/// comes and also when the clock is set (NTP stepping it after boot, an administrator, a DST
/// change does not set the clock): the schedules are then worked out again. Always armed, for
/// a far instant when nothing is due, so a clock set is never missed; a timer that waits costs
/// no wake-up.
public final class RealtimeTimer {
    /// The descriptor to poll for reading.
    public let fd: Int32

    /// What woke the timer.
    public enum Wake: Equatable, Sendable {
        /// Its instant came.
        case expired
        /// The clock was set (stepped) meanwhile.
        case clockSet
        /// Nothing (a spurious wake).
        case none
    }

    /// The instant armed when nothing is due: 2100-01-01 (armed for it, the timer still
    /// reports the clock being set).
    public static let farFuture: Int64 = 4_102_444_800

    public init() throws(Errno) {
        let fd = timerfd_create(CLOCK_REALTIME, Int32(TFD_NONBLOCK | TFD_CLOEXEC))
        guard fd >= 0 else { throw Errno.current }
        self.fd = fd
    }

    deinit { close(fd) }

    /// Arms it for `unix` (seconds since the Unix epoch), or for `farFuture`.
    public func arm(at unix: Int64?) throws(Errno) {
        var spec = itimerspec()
        spec.it_value.tv_sec = time_t(max(1, unix ?? Self.farFuture))
        let flags = Int32(TFD_TIMER_ABSTIME) | Int32(TFD_TIMER_CANCEL_ON_SET)
        guard timerfd_settime(fd, flags, &spec, nil) == 0 else { throw Errno.current }
    }

    /// Reads what woke it (after `poll` said it is readable).
    public func read() -> Wake {
        var count: UInt64 = 0
        let n = Glibc.read(fd, &count, MemoryLayout<UInt64>.size)
        if n == MemoryLayout<UInt64>.size { return .expired }
        return n < 0 && errno == ECANCELED ? .clockSet : .none
    }

    /// Whether the kernel says an NTP daemon keeps the clock synchronised (`adjtimex`, read
    /// only); `nil` if it may not be asked (systemd's `ProtectClock=` filters the call).
    public static func kernelSynchronized() -> Bool? {
        var tx = timex()
        let state = adjtimex(&tx)
        if state < 0 { return nil }
        return state != TIME_ERROR && tx.status & STA_UNSYNC == 0
    }
}
