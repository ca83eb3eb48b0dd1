#if canImport(Glibc)
import Glibc
#endif
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import PlugGPIO
import PlugPoll
import Synchronization

/// The button's event reader, the same for both libgpiod APIs: a thread blocked in `poll()` on
/// the line's event fd and a stop pipe, so there is no busy polling and no periodic wake-up.
/// `read` is called when the fd is readable and returns the edges (with the kernel's
/// `CLOCK_MONOTONIC` timestamps), or `nil` when the line is gone.
final class EdgeReader: @unchecked Sendable {
    private let eventFD: Int32
    private let stopPipe = WakePipe()
    private let stopped = Semaphore()
    private let started = Atomic<Bool>(false)
    private let closed = Atomic<Bool>(false)

    /// - Throws: `GPIOError.io` if `eventFD` is invalid.
    init(eventFD: Int32, watching description: String) throws {
        guard eventFD >= 0 else { throw GPIOError.io("watching \(description): \(String(cString: strerror(errno)))") }
        self.eventFD = eventFD
    }

    /// Starts the thread (once); the kernel keeps the events that came before.
    func start(read: @escaping @Sendable () -> [ButtonEdge]?, deliver: @escaping @Sendable (ButtonEdge) -> Void,
               finished: @escaping @Sendable () -> Void) {
        guard !started.exchange(true, ordering: .acquiringAndReleasing) else { return }
        let eventFD = self.eventFD, stopPipe = self.stopPipe, stopped = self.stopped
        PlugThread.detach(name: "button") {
            var fds = [pollfd(fd: eventFD, events: Int16(POLLIN), revents: 0), pollfd(fd: stopPipe.fd, events: Int16(POLLIN), revents: 0)]
            loop: while true {
                fds[0].revents = 0
                fds[1].revents = 0
                if poll(&fds, 2, -1) < 0 {
                    if errno == EINTR { continue }
                    break
                }
                if fds[1].revents != 0 { break }
                if fds[0].revents & Int16(POLLIN) != 0 {
                    guard let edges = read() else { break }
                    edges.forEach(deliver)
                } else if fds[0].revents != 0 {
                    break  // POLLERR/POLLHUP: the line is gone
                }
            }
            finished()
            stopped.signal()
        }
    }

    /// Stops the thread and waits for it; call before releasing the line.
    func stop() {
        guard !closed.exchange(true, ordering: .acquiringAndReleasing) else { return }
        if started.load(ordering: .acquiring) {
            stopPipe.wake()
            stopped.wait()
        }
    }
}

extension LibgpiodBackend {
    static func requestError(_ e: Int32, _ spec: LineSpec) -> GPIOError { requestError(e, spec.description) }

    /// The error for a failed line request's errno.
    static func requestError(_ e: Int32, _ lines: String) -> GPIOError {
        switch e {
        case EBUSY: .lineBusy(lines)
        case EACCES, EPERM: .permissionDenied(lines)
        default: .io("requesting \(lines): \(String(cString: strerror(e)))")
        }
    }
}
