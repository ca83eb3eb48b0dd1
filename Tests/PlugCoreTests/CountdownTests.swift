import Testing
@testable import PlugCore

/// Countdowns (`plugctl on --for 30m`): every rule with its boundaries, in microseconds of test
/// time for half-hour countdowns.
@Suite struct CountdownTests {
    /// The machine after `plugctl on --for 30m` at 1 s.
    func onForHalfAnHour() -> Harness {
        var h = Harness()
        h.command(.timed(on: true, for: .seconds(1800)), at: sec(1))
        return h
    }

    @Test func onForSwitchesOnNowAndOffWhenTheTimeIsUpNotBefore() {
        var h = onForHalfAnHour()
        #expect(h.machine.relayOn)
        #expect(h.machine.countdown == Countdown(level: false, due: sec(1801), boot: "boot-1"))
        #expect(h.eventNames.contains("timer_started"))
        // It is state: written with the countdown in it.
        #expect(h.effects.last(where: { if case .save = $0 { true } else { false } }) == .save(h.machine.state))
        h.clearEffects()
        h.advance(to: sec(1801).advanced(by: .nanoseconds(-1)))
        #expect(h.machine.relayOn && h.relaySets == [])
        h.advance(to: sec(1801))
        #expect(!h.machine.relayOn && h.relaySets == [false])
        #expect(h.eventNames.contains("timer_fired"))
        #expect(h.machine.countdown == nil && h.machine.state.countdown == nil)
        #expect(h.effects.contains(.save(h.machine.state)))
    }

    @Test func offForSwitchesBackOn() {
        var h = Harness(state: registeredState(relayOn: true))
        h.command(.timed(on: false, for: .seconds(600)), at: sec(1))
        #expect(!h.machine.relayOn)
        h.advance(to: sec(601))
        #expect(h.machine.relayOn)
    }

    @Test func theOnlyDeadlineIsTheCountdownsEnd() {
        var h = onForHalfAnHour()
        h.advance(to: sec(10)) // the flood guard's window and the rest have passed
        #expect(h.machine.nextDeadline == sec(1801))
        h.advance(to: sec(1801))
        #expect(h.machine.nextDeadline == nil) // idle again: no wake-up at all
    }

    @Test func anyOtherSwitchCancelsItTheButtonsToo() {
        var h = onForHalfAnHour()
        h.hold(for: .milliseconds(100), from: sec(10)) // a short press: off
        #expect(!h.machine.relayOn)
        #expect(h.machine.countdown == nil)
        #expect(h.eventNames.contains("timer_cancelled"))
        h.clearEffects()
        h.advance(to: sec(4000))
        #expect(h.relaySets == [])
    }

    @Test func anOnCommandWhileOnCancelsItToo() {
        var h = onForHalfAnHour()
        h.command(.on, at: sec(20))
        #expect(h.machine.countdown == nil)
        h.advance(to: sec(4000))
        #expect(h.machine.relayOn)
    }

    @Test func cancelTimerEndsItAndLeavesTheRelay() {
        var h = onForHalfAnHour()
        h.command(.cancelTimer, at: sec(60))
        #expect(h.machine.relayOn && h.machine.countdown == nil)
        #expect(h.effects.contains(.save(h.machine.state)))
        h.clearEffects()
        h.advance(to: sec(4000))
        #expect(h.machine.relayOn && h.relaySets == [])
    }

    @Test func cancelTimerWithoutOneSaysSoAndChangesNothing() {
        var h = Harness()
        h.command(.cancelTimer, at: sec(1))
        #expect(h.eventNames.last == "command_rejected")
        #expect(!h.effects.contains { if case .save = $0 { true } else { false } })
    }

    @Test func aNewCountdownReplacesTheOldOne() {
        var h = onForHalfAnHour()
        h.command(.timed(on: true, for: .seconds(60)), at: sec(100))
        #expect(h.machine.countdown?.due == sec(160))
        h.advance(to: sec(160))
        #expect(!h.machine.relayOn)
    }

    @Test func aFactoryResetEndsIt() {
        var h = onForHalfAnHour()
        h.command(.factoryReset, at: sec(5))
        #expect(h.machine.countdown == nil && !h.machine.relayOn)
        h.clearEffects()
        h.advance(to: sec(4000))
        #expect(!h.relaySets.contains(true))
    }

    // MARK: Restarts and power cuts

    func stateWithCountdown(relayOn: Bool, level: Bool, due: MonotonicInstant, boot: String) -> PlugState {
        var s = registeredState(relayOn: relayOn)
        s.countdown = Countdown(level: level, due: due, boot: boot)
        return s
    }

    @Test func aRestartOfPlugdInTheSameBootKeepsItRunning() {
        var h = Harness(state: stateWithCountdown(relayOn: true, level: false, due: sec(100), boot: "boot-1"), at: sec(50))
        #expect(h.machine.relayOn && h.machine.countdown?.due == sec(100))
        #expect(!h.eventNames.contains("timer_lapsed"))
        h.advance(to: sec(100))
        #expect(!h.machine.relayOn && h.eventNames.contains("timer_fired"))
    }

    @Test func aCountdownThatEndedDuringARestartFiresAtOnce() {
        var h = Harness(state: stateWithCountdown(relayOn: true, level: false, due: sec(100), boot: "boot-1"), at: sec(200))
        #expect(h.machine.nextDeadline == sec(100))
        h.advance(to: sec(200))
        #expect(!h.machine.relayOn)
    }

    /// After a power cut (another boot) a countdown has ended: under `last` the relay starts at
    /// the countdown's level, under `on` and `off` the policy decides.
    @Test(arguments: [
        (PowerOnPolicy.last, true, false, false), (.last, false, true, true),
        (.on, true, false, true), (.off, false, true, false),
    ])
    func afterAPowerCutItHasEndedAndThePolicyDecides(policy: PowerOnPolicy, relayOn: Bool, level: Bool, expected: Bool) {
        let state = stateWithCountdown(relayOn: relayOn, level: level, due: sec(100), boot: "boot-0")
        #expect(PlugMachine.relayAtPowerOn(state: state, policy: policy, resetCompleted: false, boot: "boot-1") == expected)
        var h = Harness(state: state, policy: policy, boot: "boot-1", at: sec(5))
        #expect(h.machine.relayOn == expected && h.relaySets == [])
        #expect(h.machine.countdown == nil && h.eventNames.contains("timer_lapsed"))
        #expect(h.machine.state.relayOn == expected && h.effects.contains(.save(h.machine.state)))
        h.clearEffects()
        h.advance(to: sec(500))
        #expect(h.relaySets == [])
    }

    @Test func aFactoryResetFinishedAtStartDropsIt() {
        let h = Harness(
            state: stateWithCountdown(relayOn: true, level: false, due: sec(100), boot: "boot-1"), resetCompleted: true, at: sec(5))
        #expect(h.machine.countdown == nil && !h.machine.relayOn)
    }

    @Test(arguments: [
        (Duration.seconds(1800), "30 min"), (.seconds(5400), "1 h 30 min"), (.seconds(45), "45 s"),
        (.milliseconds(200), "1 s"), (.zero, "0 s"), (.seconds(3601), "1 h 1 s"), (.seconds(604_800), "168 h"),
    ])
    func durationsAreWrittenForPeople(duration: Duration, text: String) {
        #expect(Countdown.text(duration) == text)
    }
}
