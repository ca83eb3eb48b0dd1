import PlugCore
import PlugPOSIX
import Synchronization

/// The daemon's run-loop inbox. Any thread posts (control clients, the MQTT client); the
/// loop's thread sleeps in `poll()` on `fd`, the read end of a pipe, until something is posted.
public final class LoopInbox: Sendable {
    private let pipe = WakePipe()
    private let queue = Mutex<[LoopEvent]>([])

    public init() {}

    /// Readable while events are waiting.
    public var fd: Int32 { pipe.fd }

    /// Queues `event` and wakes the loop.
    public func post(_ event: LoopEvent) {
        queue.withLock { $0.append(event) }
        pipe.wake()
    }

    /// Everything posted so far, in order.
    public func take() -> [LoopEvent] {
        pipe.drain()
        return queue.withLock { q in
            defer { q = [] }; return q
        }
    }
}
