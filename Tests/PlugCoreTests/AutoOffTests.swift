import Testing
@testable import PlugCore

/// `[relay] auto_off` and `auto_on`: every time the relay turns on (off), a countdown to off
/// (on) starts; it follows the countdown's rules.
@Suite struct AutoOffTests {
    func timings(off: Duration? = .seconds(7200), on: Duration? = nil) -> PlugTimings {
        var t = PlugTimings()
        t.autoOff = off
        t.autoOn = on
        return t
    }

    @Test func everySwitchOnStartsItAndItEndsOnTimeNotBefore() {
        var h = Harness(timings: timings())
        #expect(h.machine.countdown == nil) // starts off: nothing to do
        h.command(.on, at: sec(1))
        #expect(h.machine.countdown == Countdown(level: false, due: sec(7201), boot: "boot-1", auto: true))
        #expect(h.eventNames.contains("timer_started"))
        #expect(h.effects.last(where: { if case .save = $0 { true } else { false } }) == .save(h.machine.state))
        h.clearEffects()
        h.advance(to: sec(7201).advanced(by: .nanoseconds(-1)))
        #expect(h.machine.relayOn && h.relaySets == [])
        h.advance(to: sec(7201))
        #expect(!h.machine.relayOn && h.relaySets == [false])
        #expect(h.eventNames.contains("timer_fired"))
        #expect(h.machine.countdown == nil && h.machine.nextDeadline == nil)
    }

    @Test func theButtonStartsItToo() {
        var h = Harness(timings: timings())
        h.hold(for: .milliseconds(100), from: sec(1))
        #expect(h.machine.relayOn && h.machine.countdown?.auto == true)
    }

    @Test func switchingOffEndsItAndStartsNothingWithoutAutoOn() {
        var h = Harness(timings: timings())
        h.command(.on, at: sec(1))
        h.clearEffects()
        h.command(.off, at: sec(10))
        #expect(h.machine.countdown == nil)
        #expect(h.eventNames.contains("timer_cancelled"))
        #expect(!h.eventNames.contains("timer_started"))
    }

    @Test func withBothTheRelayCycles() {
        var h = Harness(timings: timings(off: .seconds(60), on: .seconds(30)))
        h.command(.on, at: sec(1))
        h.advance(to: sec(61))
        #expect(!h.machine.relayOn && h.machine.countdown == Countdown(level: true, due: sec(91), boot: "boot-1", auto: true))
        h.advance(to: sec(91))
        #expect(h.machine.relayOn && h.machine.countdown?.due == sec(151))
    }

    @Test func aCountdownAskedForTakesItsPlaceWithoutAnAutoStartLogged() {
        var h = Harness(timings: timings())
        h.command(.timed(on: true, for: .seconds(600)), at: sec(1))
        #expect(h.machine.countdown == Countdown(level: false, due: sec(601), boot: "boot-1"))
        #expect(h.eventNames.filter { $0 == "timer_started" }.count == 1)
        // When it ends the relay is off: auto_off has nothing to do, no auto_on is set.
        h.advance(to: sec(601))
        #expect(!h.machine.relayOn && h.machine.countdown == nil)
    }

    @Test func anOffForCountdownThatEndsOnStartsAutoOff() {
        var h = Harness(state: registeredState(relayOn: true), timings: timings())
        h.command(.timed(on: false, for: .seconds(600)), at: sec(1))
        h.advance(to: sec(601))
        #expect(h.machine.relayOn && h.machine.countdown == Countdown(level: false, due: sec(7801), boot: "boot-1", auto: true))
    }

    @Test func thePowerOnPolicyOnStartsItAtStart() {
        let h = Harness(state: registeredState(relayOn: false), policy: .on, timings: timings())
        #expect(h.machine.relayOn && h.machine.countdown == Countdown(level: false, due: sec(7200), boot: "boot-1", auto: true))
        #expect(h.effects.contains(.save(h.machine.state)))
    }

    @Test func aRestartInTheSameBootKeepsTheOneThatRuns() {
        var state = registeredState(relayOn: true)
        state.countdown = Countdown(level: false, due: sec(100), boot: "boot-1", auto: true)
        var h = Harness(state: state, timings: timings(), at: sec(50))
        #expect(h.machine.countdown == state.countdown)
        h.advance(to: sec(100))
        #expect(!h.machine.relayOn)
    }

    @Test func aRestartWithAConfigThatNoLongerAsksForItEndsIt() {
        var state = registeredState(relayOn: true)
        state.countdown = Countdown(level: false, due: sec(100), boot: "boot-1", auto: true)
        var h = Harness(state: state, timings: timings(off: nil), at: sec(50))
        #expect(h.machine.countdown == nil && h.machine.relayOn)
        #expect(h.eventNames.contains("timer_cancelled"))
        h.clearEffects()
        h.advance(to: sec(200))
        #expect(h.relaySets == [])
    }

    @Test func aRestartKeepsACountdownAskedForEvenWithoutTheRule() {
        var state = registeredState(relayOn: true)
        state.countdown = Countdown(level: false, due: sec(100), boot: "boot-1")
        let h = Harness(state: state, timings: timings(off: nil), at: sec(50))
        #expect(h.machine.countdown == state.countdown)
    }

    @Test func cancelTimerEndsItAndTheRelayStays() {
        var h = Harness(timings: timings())
        h.command(.on, at: sec(1))
        h.command(.cancelTimer, at: sec(2))
        #expect(h.machine.relayOn && h.machine.countdown == nil)
        h.clearEffects()
        h.advance(to: sec(10_000))
        #expect(h.relaySets == [])
    }

    @Test func aFactoryResetLeavesTheRelayOffWithoutAutoOn() {
        var h = Harness(state: registeredState(relayOn: true), timings: timings(off: .seconds(60), on: .seconds(30)))
        h.command(.factoryReset, at: sec(1))
        #expect(!h.machine.relayOn && h.machine.countdown == nil)
        h.effects += h.machine.handle(.factoryResetFinished(registeredState()), at: sec(2))
        h.advance(to: sec(1000))
        #expect(!h.machine.relayOn && h.machine.countdown == nil)
    }

    @Test func aSwitchTheFloodGuardDelaysStartsItWhenItHappens() {
        var t = timings(off: nil, on: .seconds(30))
        t.relayMaxChanges = 1
        var h = Harness(timings: t)
        h.command(.on, at: sec(1))
        h.command(.off, at: sec(1.5)) // held back: pending off, applied at 4 s
        #expect(h.machine.relayOn && h.machine.countdown == nil)
        h.advance(to: sec(4))
        #expect(!h.machine.relayOn && h.machine.countdown == Countdown(level: true, due: sec(34), boot: "boot-1", auto: true))
    }

    @Test func theDurationFormPeopleWrite() {
        #expect(Countdown.seconds(in: "90s") == 90)
        #expect(Countdown.seconds(in: "30m") == 1800)
        #expect(Countdown.seconds(in: "2h") == 7200)
        #expect(Countdown.seconds(in: "7d") == 604_800)
        #expect(Countdown.seconds(in: "0m") == 0)
        #expect(Countdown.seconds(in: "8d") == nil)
        #expect(Countdown.seconds(in: "604801s") == nil)
        for bad in ["", "m", "30", "+5m", "-5m", "1.5h", "30 m", "30M", "٣m", "99999999999999999999s"] {
            #expect(Countdown.seconds(in: bad) == nil, "\(bad)")
        }
    }
}
