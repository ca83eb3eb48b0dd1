import Dispatch
import PlugCore
import Synchronization

/// An `EventSink` that passes every event to an inner sink (the journal) and to any number of
/// subscribers (`plugctl watch`). Each subscriber takes events from its own queue, on its own
/// thread, at most `maxQueued` behind, so a slow client never stalls the daemon; it is dropped
/// instead. No dispatch queue or task is involved: an idle daemon keeps no thread pool awake.
public final class EventBroadcaster: EventSink, Sendable {
    /// One subscriber's events not yet taken.
    public final class Subscription: Sendable {
        private let state = Mutex<(events: [PlugEvent], closed: Bool)>(([], false))
        /// Signalled once per event offered, and once at close.
        private let available = DispatchSemaphore(value: 0)
        private let limit: Int

        init(limit: Int) { self.limit = limit }

        /// The next event, waiting for it; `nil` once closed (unsubscribed, or dropped for
        /// falling `maxQueued` events behind).
        public func next() -> PlugEvent? {
            available.wait()
            return state.withLock { s in s.closed || s.events.isEmpty ? nil : s.events.removeFirst() }
        }

        /// Ends the subscription; a waiting `next()` returns `nil`.
        public func close() {
            let wasOpen = state.withLock { s in defer { s.closed = true }; return !s.closed }
            if wasOpen { available.signal() }
        }

        /// Queues `event`; `false` (and closed) if the subscriber is closed or too far behind.
        func offer(_ event: PlugEvent) -> Bool {
            let queued = state.withLock { s -> Bool in
                guard !s.closed, s.events.count < limit else { return false }
                s.events.append(event)
                return true
            }
            if queued { available.signal() } else { close() }
            return queued
        }
    }

    private let inner: any EventSink & Sendable
    private let subscribers = Mutex<[ObjectIdentifier: Subscription]>([:])
    /// How far a subscriber may fall behind before it is dropped.
    public let maxQueued: Int

    public init(inner: any EventSink & Sendable, maxQueued: Int = 256) {
        self.inner = inner
        self.maxQueued = maxQueued
    }

    /// Every event from now on, until `unsubscribe` or until it falls `maxQueued` behind.
    public func subscribe() -> Subscription {
        let subscription = Subscription(limit: maxQueued)
        subscribers.withLock { $0[ObjectIdentifier(subscription)] = subscription }
        return subscription
    }

    /// Ends `subscription` and forgets it.
    public func unsubscribe(_ subscription: Subscription) {
        subscription.close()
        _ = subscribers.withLock { $0.removeValue(forKey: ObjectIdentifier(subscription)) }
    }

    public func record(_ event: PlugEvent) {
        inner.record(event)
        for s in subscribers.withLock({ Array($0.values) }) where !s.offer(event) {
            unsubscribe(s)
        }
    }
}
