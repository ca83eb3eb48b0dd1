import PlugCore
import Synchronization
import Testing
@testable import PlugDaemon

@Suite struct EventBroadcasterTests {
    func event(_ i: Int) -> PlugEvent { PlugEvent(.relay, "event \(i)") }

    @Test func aWatcherThatFallsBehindIsToldHowManyItMissedAndGoesOn() {
        let events = EventBroadcaster(inner: LoggerEventSinkStub(), maxQueued: 4)
        let watcher = events.subscribe()
        for i in 0..<10 { events.record(event(i)) } // 4 queued, dropped at the 5th; 4 more, dropped at the 9th
        let skipped = watcher.next()
        #expect(skipped?.name == "watch_skipped" && skipped?.fields[.skipped] == "8", "\(String(describing: skipped))")
        #expect(watcher.next()?.message == "event 8")
        #expect(watcher.next()?.message == "event 9")
        events.record(event(10))
        #expect(watcher.next()?.message == "event 10") // still subscribed
        events.unsubscribe(watcher)
        #expect(watcher.next() == nil)
    }

    @Test func aWatcherThatKeepsUpMissesNothing() {
        let events = EventBroadcaster(inner: LoggerEventSinkStub(), maxQueued: 4)
        let watcher = events.subscribe()
        for i in 0..<20 {
            events.record(event(i))
            #expect(watcher.next()?.message == "event \(i)")
        }
    }

    @Test func theLastEventsAreKeptOldestFirstWithTheirTimes() {
        let clock = Atomic<Int64>(1000)
        let events = EventBroadcaster(inner: LoggerEventSinkStub(), recentKept: 3, clock: { clock.add(1, ordering: .relaxed).newValue })
        #expect(events.recent().isEmpty)
        events.record(event(0))
        #expect(events.recent().map(\.event.message) == ["event 0"])
        for i in 1..<5 { events.record(event(i)) }
        #expect(events.recent().map(\.event.message) == ["event 2", "event 3", "event 4"])
        #expect(events.recent().map(\.at) == [1003, 1004, 1005])
    }
}
