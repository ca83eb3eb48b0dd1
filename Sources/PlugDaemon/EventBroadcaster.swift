import PlugCore
import PlugPOSIX
import Synchronization

/// An `EventSink` that passes every event to an inner sink (the journal) and to any number of
/// subscribers (`plugctl watch`). Each subscriber takes events from its own queue, on its own
/// thread, so a slow client never stalls the daemon. A subscriber that falls `maxQueued` events
/// behind loses them: they are dropped, and the next thing it takes says how many
/// (`watch_skipped`), then it goes on with new events. No dispatch queue or task is involved: an
/// idle daemon keeps no thread pool awake.
///
/// It also keeps the last `recentKept` events with when they happened (wall clock, milliseconds
/// since the epoch), for `plugctl events` and the web page's list: a few kilobytes.
public final class EventBroadcaster: EventSink, Sendable {
    /// One subscriber's events not yet taken.
    public final class Subscription: Sendable {
        private let state = Mutex<(events: [PlugEvent], skipped: Int, closed: Bool)>(([], 0, false))
        /// Signalled at least once per event offered, and once at close.
        private let available = Semaphore()
        private let limit: Int

        init(limit: Int) { self.limit = limit }

        /// The next event, waiting for it (after a fall behind, first a `watch_skipped` event
        /// with the count); `nil` once closed.
        public func next() -> PlugEvent? {
            while true {
                available.wait()
                let taken = state.withLock { s -> (PlugEvent?, done: Bool) in
                    if s.closed { return (nil, true) }
                    if s.skipped > 0 {
                        defer { s.skipped = 0 }
                        return (Self.skippedEvent(s.skipped), true)
                    }
                    return s.events.isEmpty ? (nil, false) : (s.events.removeFirst(), true)
                }
                if taken.done { return taken.0 }
            }
        }

        static func skippedEvent(_ count: Int) -> PlugEvent {
            PlugEvent(
                .watchSkipped, "\(count) events skipped: this watcher fell more than its queue behind (the journal has them all)",
                priority: .warning, fields: [.skipped: "\(count)"])
        }

        /// Ends the subscription; a waiting `next()` returns `nil`.
        public func close() {
            let wasOpen = state.withLock { s in
                defer { s.closed = true }; return !s.closed
            }
            if wasOpen { available.signal() }
        }

        /// Queues `event`; when `limit` are already waiting, they are dropped and counted
        /// instead, and `event` starts the queue again. `false` if the subscriber is closed.
        func offer(_ event: PlugEvent) -> Bool {
            let open = state.withLock { s -> Bool in
                guard !s.closed else { return false }
                if s.events.count >= limit {
                    s.skipped += s.events.count
                    s.events.removeAll(keepingCapacity: true)
                }
                s.events.append(event)
                return true
            }
            if open { available.signal() }
            return open
        }
    }

    private let inner: any EventSink & Sendable
    private let subscribers = Mutex<[ObjectIdentifier: Subscription]>([:])
    private let recentRing = Mutex<(events: [(at: Int64, event: PlugEvent)], next: Int)>(([], 0))
    /// How many recent events are kept.
    public let recentKept: Int
    /// The wall clock, in milliseconds since the epoch (a test's own clock in tests).
    private let clock: @Sendable () -> Int64
    /// How far a subscriber may fall behind before its queue is dropped (and counted).
    public let maxQueued: Int

    public init(
        inner: any EventSink & Sendable, maxQueued: Int = 256, recentKept: Int = 30,
        clock: @escaping @Sendable () -> Int64 = { Int64(WallClock.unixNow.milliseconds) }
    ) {
        self.inner = inner
        self.maxQueued = maxQueued
        self.recentKept = recentKept
        self.clock = clock
    }

    /// The last `recentKept` events, oldest first, with when each happened.
    public func recent() -> [(at: Int64, event: PlugEvent)] {
        recentRing.withLock { r in Array(r.events[r.next...] + r.events[..<r.next]) }
    }

    /// Every event from now on, until `unsubscribe`.
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
        let at = clock()
        recentRing.withLock { r in
            if r.events.count < recentKept {
                r.events.append((at, event))
            } else if recentKept > 0 {
                r.events[r.next] = (at, event)
                r.next = (r.next + 1) % recentKept
            }
        }
        for s in subscribers.withLock({ Array($0.values) }) where !s.offer(event) {
            unsubscribe(s)
        }
    }
}
