import CLinux
#if canImport(Glibc)
import Glibc
#endif

/// The one `poll()` of plugd's threads: the run loop and the MQTT client.
///
/// A wait ends when a descriptor is ready, when `timeout` has passed, or when a signal
/// interrupted it. An interrupted wait returns 0 with every `revents` cleared, as a timeout
/// does: each caller already loops, looking at its descriptors and deadlines again, and that is
/// all EINTR ever asks of it (a stop signal's handler has made the stop descriptor readable by
/// then). So EINTR is handled here, once, and no caller reads `errno`.
public enum Poll {
    /// Sleeps until one of `fds` is ready or `timeout` has passed (`nil`: no timeout; rounded up
    /// to whole milliseconds, so a deadline is never woken early). With `signalMask`, the wait
    /// is `ppoll()` with that mask in force for the wait only (how `StopSignals` lets SIGTERM
    /// through). Returns how many descriptors are ready (0: the time passed, or a signal came).
    /// - Throws: the errno of any other failure (EBADF, EFAULT, EINVAL, ENOMEM).
    public static func wait(_ fds: inout [pollfd], timeout: Duration?, signalMask: sigset_t? = nil) throws(Errno) -> Int {
        for i in fds.indices { fds[i].revents = 0 }
        let ms = pollTimeout(timeout)
        let ready = fds.withUnsafeMutableBufferPointer { buffer -> Int32 in
            guard var mask = signalMask else { return poll(buffer.baseAddress, nfds_t(buffer.count), ms) }
            var ts = timespec(tv_sec: Int(ms / 1000), tv_nsec: Int(ms % 1000) * 1_000_000)
            return ms < 0
                ? ppoll(buffer.baseAddress, nfds_t(buffer.count), nil, &mask)
                : ppoll(buffer.baseAddress, nfds_t(buffer.count), &ts, &mask)
        }
        if ready >= 0 { return Int(ready) }
        let failure = Errno.current
        guard failure == .interrupted else { throw failure }
        for i in fds.indices { fds[i].revents = 0 }
        return 0
    }
}

/// `poll()`'s timeout for sleeping `remaining`: whole milliseconds rounded up, so a deadline is
/// never woken early; 0 if it has passed; -1 (no timeout) for `nil`.
public func pollTimeout(_ remaining: Duration?) -> Int32 {
    guard let remaining else { return -1 }
    let (seconds, attoseconds) = remaining.components
    guard seconds >= 0, remaining > .zero else { return 0 }
    let ms = seconds.multipliedReportingOverflow(by: 1000)
    guard !ms.overflow else { return Int32.max }
    let fraction = (attoseconds + 999_999_999_999_999) / 1_000_000_000_000_000 // round up to 1 ms
    return Int32(clamping: ms.partialValue.addingReportingOverflow(fraction).partialValue)
}
