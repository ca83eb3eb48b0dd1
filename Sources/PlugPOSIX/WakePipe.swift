#if canImport(Glibc)
import Glibc
#endif

/// A pipe that wakes a thread sleeping in `poll()`: another thread calls `wake()`, and `fd`
/// becomes readable until `drain()`. Both ends are close-on-exec and non-blocking, so neither a
/// full pipe nor an empty one ever blocks a caller. plugd's loop, the MQTT
/// client and the control clients sleep this way; none has a timer of its own.
public final class WakePipe: Sendable {
    /// The read end: poll it for `POLLIN`.
    public let fd: Int32
    let writeFD: Int32

    /// - Precondition: a pipe can be made (it fails only when the process is out of file
    ///   descriptors, when nothing else would work either).
    public init() {
        var fds: [Int32] = [0, 0]
        precondition(pipe(&fds) == 0, "pipe: \(Errno.current.description)")
        for fd in fds {
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
            _ = fcntl(fd, F_SETFL, O_NONBLOCK)
        }
        (fd, writeFD) = (fds[0], fds[1])
    }

    deinit {
        close(fd)
        close(writeFD)
    }

    /// Makes `fd` readable (from any thread; async-signal-safe).
    public func wake() {
        var byte: UInt8 = 1
        _ = write(writeFD, &byte, 1)
    }

    /// Reads away every wake-up so far: one `read` unless more than 256 have piled up (a
    /// shorter read emptied the pipe; a wake-up after it leaves the pipe readable again).
    public func drain() {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 256) { buffer in
            while read(fd, buffer.baseAddress, buffer.count) == buffer.count {}
        }
    }
}
