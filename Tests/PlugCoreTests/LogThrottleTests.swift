import PlugCore
import Testing

@Suite struct LogThrottleTests {
    let t0 = MonotonicInstant.zero.advanced(by: .seconds(50))
    func at(_ ms: Int) -> MonotonicInstant { t0.advanced(by: .milliseconds(ms)) }

    @Test func rareEventsPassAtOnceAndNeedNoTimer() {
        var throttle = LogThrottle()
        for i in 0..<5 { #expect(throttle.admit(PlugEvent(.relay, "r\(i)"), at: at(i * 300)).map(\.message) == ["r\(i)"]) }
        #expect(throttle.nextDeadline == nil)
    }

    @Test func beyondTheBurstEntriesAreCountedAndSummarisedWhenTheWindowEnds() {
        var throttle = LogThrottle(burst: 10, window: .seconds(1))
        var logged: [PlugEvent] = []
        for i in 0..<10_000 { // 10,000 in 2 s
            logged += throttle.admit(PlugEvent(.mqttCommand, "c\(i)"), at: at(i / 5))
        }
        logged += throttle.due(at: at(3000))
        let summaries = logged.filter { $0.name == "log_suppressed" }
        #expect(logged.count - summaries.count == 20) // 10 per window, two windows
        #expect(summaries.map { $0.fields[.suppressed] } == ["4990", "4990"])
        #expect(throttle.nextDeadline == nil)
    }

    @Test func oneStormDoesNotHoldBackAnotherEvent() {
        var throttle = LogThrottle(burst: 2, window: .seconds(1))
        for i in 0..<100 { _ = throttle.admit(PlugEvent(.mqttCommand, "c\(i)"), at: at(i)) }
        #expect(throttle.admit(PlugEvent(.factoryResetStarted, "reset"), at: at(100)).map(\.name) == ["factory_reset_started"])
        #expect(throttle.nextDeadline == at(1000))
        #expect(throttle.due(at: at(999)).isEmpty)
        #expect(throttle.due(at: at(1000)).map { $0.fields[.suppressed] } == ["98"])
    }
}
