import Dispatch
import PlugCore
import Synchronization

/// An `EventSink` that passes every event to an inner sink (the journal) and to any number of
/// subscribers (`plugctl watch`). Each subscriber gets events on its own serial queue, at most
/// `maxQueued` behind, so a slow client never stalls the daemon; it is dropped instead.
public final class EventBroadcaster: EventSink, Sendable {
    private final class Subscriber: Sendable {
        let queue: DispatchQueue
        let handler: @Sendable (PlugEvent) -> Void
        let queued = Atomic<Int>(0)

        init(queue: DispatchQueue, handler: @escaping @Sendable (PlugEvent) -> Void) {
            self.queue = queue
            self.handler = handler
        }
    }
    private let inner: any EventSink & Sendable
    private let subscribers = Mutex<[Int: Subscriber]>([:])
    private let nextID = Atomic<Int>(0)
    /// How far a subscriber may fall behind before it is dropped.
    public let maxQueued: Int

    public init(inner: any EventSink & Sendable, maxQueued: Int = 256) {
        self.inner = inner
        self.maxQueued = maxQueued
    }

    /// Calls `handler` (on a private queue) for every event from now on, until `unsubscribe` —
    /// or until it falls `maxQueued` events behind, when it is dropped.
    public func subscribe(_ handler: @escaping @Sendable (PlugEvent) -> Void) -> Int {
        let id = nextID.add(1, ordering: .relaxed).newValue
        let subscriber = Subscriber(queue: DispatchQueue(label: "plugd.watch.\(id)"), handler: handler)
        subscribers.withLock { $0[id] = subscriber }
        return id
    }

    public func unsubscribe(_ id: Int) {
        _ = subscribers.withLock { $0.removeValue(forKey: id) }
    }

    public func record(_ event: PlugEvent) {
        inner.record(event)
        let all = subscribers.withLock { Array($0) }
        for (id, s) in all {
            if s.queued.add(1, ordering: .relaxed).newValue > maxQueued {
                unsubscribe(id)
                continue
            }
            s.queue.async {
                s.handler(event)
                s.queued.subtract(1, ordering: .relaxed)
            }
        }
    }
}
