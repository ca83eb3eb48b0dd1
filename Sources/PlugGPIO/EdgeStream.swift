#if canImport(Glibc)
import Glibc
#endif
import PlugPOSIX

extension ButtonLine {
    /// The line's edges as an async sequence, for async consumers (the terminal simulator's run
    /// loop, tests): a thread sleeps in `poll()` on `eventFD` and passes the edges on. The
    /// sequence ends when the line is released (`readEdges` returns `nil`) or is gone; dropping
    /// it stops the thread. Call it once.
    public func edgeStream() -> AsyncStream<ButtonEdge> {
        let (stream, continuation) = AsyncStream<ButtonEdge>.makeStream()
        let stop = WakePipe()
        continuation.onTermination = { _ in stop.wake() }
        PlugThread.detach(name: "button") { [self] in
            var fds = [pollfd(fd: eventFD, events: Int16(POLLIN), revents: 0), pollfd(fd: stop.fd, events: Int16(POLLIN), revents: 0)]
            while true {
                guard (try? Poll.wait(&fds, timeout: nil)) != nil, fds[1].revents == 0 else { break }
                if fds[0].revents == 0 { continue } // a signal came
                guard fds[0].revents & Int16(POLLIN) != 0, let edges = readEdges() else { break }
                edges.forEach { continuation.yield($0) }
            }
            continuation.finish()
        }
        return stream
    }
}
