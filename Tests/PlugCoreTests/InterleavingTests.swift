import Testing
@testable import PlugCore

/// Two things at once: a reset begun while the button is held, a release stamped just before a
/// threshold whose deadline was already handled, storage failing around a factory reset.
@Suite struct InterleavingTests {
    /// The runtime's answer to `.wipeState`: the wipe succeeded, this is the new plug.
    static func finishWipe(_ h: inout Harness, at t: MonotonicInstant) {
        h.effects += h.machine.handle(.factoryResetFinished(PlugState.fresh(identity: identityB)), at: t)
    }

    // MARK: Releases judged by their kernel timestamps

    /// The threshold's deadline is handled exactly at press + threshold; the release is stamped
    /// 1 ms before it and reaches the machine 0.2 ms after it.
    @Test(arguments: [
        (5.0, "short_press"), (12.0, "simple_reset"), (30.0, "factory_reset_started"),
    ])
    func aReleaseStampedJustBeforeAHandledThresholdCountsAsBefore(threshold: Double, expected: String) {
        for window in [PlugTimings().button.debounce, .zero] { // software debounce, and the kernel's
            var t = PlugTimings()
            t.button.debounce = window
            var h = Harness(timings: t)
            h.edge(true, at: sec(2))
            h.advance(to: sec(2 + threshold)) // the deadline is handled: LED red, orange, or stuck
            h.effects += h.machine.handle(
                .button(pressed: false, at: sec(2 + threshold - 0.001)),
                at: ms((2 + threshold) * 1000 + 0.2))
            h.advance(to: sec(3 + threshold))
            let outcomes = h.eventNames.filter {
                ["short_press", "simple_reset", "factory_reset_started", "stuck_button_released"].contains($0)
            }
            #expect(outcomes == [expected], "debounce \(window)")
            #expect(h.wipes == (expected == "factory_reset_started" ? 1 : 0), "debounce \(window)")
        }
    }

    @Test(arguments: [5.0, 12.0, 30.0])
    func aReleaseStampedAtTheThresholdItselfCountsAsAfter(threshold: Double) {
        var h = Harness()
        h.edge(true, at: sec(2))
        h.advance(to: sec(2 + threshold))
        h.effects += h.machine.handle(.button(pressed: false, at: sec(2 + threshold)), at: ms((2 + threshold) * 1000 + 0.2))
        h.advance(to: sec(3 + threshold))
        let expected = ["5.0": "simple_reset", "12.0": "factory_reset_started", "30.0": "stuck_button_released"]["\(threshold)"]!
        #expect(h.eventNames.contains(expected))
    }

    // MARK: A factory reset begun while the button is held

    @Test func toggleOnReleaseCannotSwitchTheRelayOnDuringAFactoryReset() {
        var t = PlugTimings()
        t.button.toggleOn = .release
        var h = Harness(state: registeredState(relayOn: true), timings: t)
        h.edge(true, at: sec(2))
        h.command(.factoryReset, at: ms(2_300))
        h.edge(false, at: ms(2_500))
        h.advance(to: ms(2_600))
        #expect(h.relaySets == [false])
        #expect(!h.machine.relayOn)
        Self.finishWipe(&h, at: ms(2_600))
        h.advance(to: sec(10))
        #expect(h.relaySets == [false])
        #expect(!h.machine.state.relayOn) // the fresh state is not saved with the relay on
        #expect(!h.effects.contains { if case .save(let s) = $0 { s.relayOn } else { false } })
        #expect(h.eventNames.filter { $0 == "hold_voided" }.count == 1)
    }

    @Test func aHoldArmedForSetupBeforeACommandResetDoesNothingWhenReleased() {
        var h = Harness()
        h.edge(true, at: sec(2))
        h.command(.factoryReset, at: ms(6_500)) // before 5 s of hold: armed for nothing yet
        Self.finishWipe(&h, at: ms(6_520))
        h.edge(false, at: sec(9)) // 7 s: would be a simple reset
        h.advance(to: sec(10))
        #expect(!h.eventNames.contains("simple_reset"))
        #expect(!h.eventNames.contains("hold_setup")) // no "release now for setup mode" during the reset
        // The 3 s of solid blue after the reset are not cut short.
        #expect(h.machine.mode == .resetComplete(since: ms(7_500)))
        #expect(h.ledNow == .solid(.blue))
        h.advance(to: ms(10_499))
        #expect(h.ledNow == .solid(.blue))
        h.advance(to: ms(10_500))
        #expect(h.machine.inSetupMode)
        #expect(h.eventNames.filter { $0 == "hold_voided" }.count == 1)
    }

    @Test func aHoldArmedForFactoryResetBeforeACommandResetDoesNotResetTwice() {
        var h = Harness()
        h.edge(true, at: sec(2))
        h.command(.factoryReset, at: sec(13)) // the hold is orange already
        #expect(h.ledNow.color == .orange) // flashing: the reset runs
        Self.finishWipe(&h, at: ms(13_020))
        h.edge(false, at: ms(14_500))
        h.advance(to: sec(20))
        #expect(h.wipes == 1)
        #expect(h.eventNames.filter { $0 == "factory_reset_started" }.count == 1)
        #expect(h.eventNames.filter { $0 == "hold_voided" }.count == 1)
        #expect(h.machine.state.identity == identityB)
        #expect(h.machine.inSetupMode)
    }

    @Test func aVoidedHoldShowsNoArmedColourAndSetsNoTimer() {
        var h = Harness()
        h.edge(true, at: sec(2))
        h.advance(to: sec(8)) // red: release now for setup mode
        h.command(.factoryReset, at: sec(8))
        Self.finishWipe(&h, at: sec(8))
        h.advance(to: sec(60)) // still held, well into setup mode
        #expect(h.machine.inSetupMode)
        #expect(h.ledNow.color != .red && h.ledNow.color != .orange)
        #expect(!h.eventNames.contains("stuck_button"))
        #expect(h.machine.nextDeadline == sec(312)) // only setup mode's timeout (it began at 12 s)
        h.edge(false, at: sec(61))
        h.advance(to: sec(62))
        h.clearEffects()
        h.hold(for: .milliseconds(200), from: sec(70)) // a new press counts again
        #expect(h.relaySets == [true])
    }

    @Test func aPressDuringTheBlueAfterAResetReleasedInSetupModeIsNotCalledStuck() {
        var h = Harness()
        h.command(.factoryReset, at: sec(2))
        Self.finishWipe(&h, at: sec(2))
        h.edge(true, at: sec(4)) // solid blue: reset complete
        h.edge(false, at: sec(7)) // setup mode began at 6 s
        h.advance(to: sec(8))
        #expect(h.machine.inSetupMode)
        #expect(h.eventNames.contains("button_ignored"))
        #expect(h.eventNames.contains("ignored_press_released"))
        #expect(!h.eventNames.contains("stuck_button_released"))
        #expect(h.relaySets == [])
    }

    @Test func aSetupModeEnteredByCommandDoesNotVoidAHold() {
        // Only a factory reset voids a hold: a simple reset keeps nothing from the user.
        var h = Harness()
        h.edge(true, at: sec(2))
        h.command(.simpleReset, at: sec(3))
        h.edge(false, at: sec(15))
        h.advance(to: sec(16))
        #expect(h.wipes == 1)
        #expect(!h.eventNames.contains("hold_voided"))
    }

    // MARK: Factory resets that cannot wipe

    @Test func aResetThatWipedNothingKeepsTheIdentityShowsTheFaultAndSaysSo() {
        var h = Harness(state: registeredState(relayOn: true))
        h.command(.factoryReset, at: sec(2))
        h.effects += h.machine.handle(.factoryResetFailed(reason: "open reset-pending: Read-only file system", committed: false), at: sec(2))
        h.advance(to: sec(10))
        #expect(!h.eventNames.contains("factory_reset_complete"))
        #expect(h.eventNames.contains("factory_reset_failed"))
        #expect(h.machine.state.identity == identityA)
        #expect(h.machine.state.registered && h.machine.state.name == "lamp")
        #expect(h.machine.fault == sec(2))
        #expect(h.ledNow == .blinking(.red, hertz: 2, since: sec(2)))
        #expect(!h.machine.relayOn) // the reset switched it off; it stays off
        #expect(h.machine.acceptsCommands) // the plug works on, degraded
        let failed = h.effects.compactMap { if case .log(let e) = $0, e.name == "factory_reset_failed" { e } else { nil } }.first
        #expect(failed?.priority == .error)
        #expect(failed?.fields[.resetPending] == "no")
        #expect(failed?.message.contains("nothing was wiped") == true)
    }

    @Test func aFailedResetIsLoggedEvenWhenAWriteHadFailedBefore() {
        var h = Harness()
        h.effects += h.machine.handle(.stateWriteFailed(reason: "disk full"), at: sec(1))
        h.command(.factoryReset, at: sec(2))
        h.effects += h.machine.handle(.factoryResetFailed(reason: "disk full", committed: false), at: sec(2))
        #expect(h.eventNames.filter { $0 == "fault" }.count == 1)
        #expect(h.eventNames.filter { $0 == "factory_reset_failed" }.count == 1)
        #expect(h.machine.fault == sec(1))
    }

    @Test func aCommittedResetCompletedLaterTurnsTheRelayOffVoidsTheHoldAndClearsTheFault() {
        var h = Harness()
        h.command(.factoryReset, at: sec(2))
        h.effects += h.machine.handle(.factoryResetFailed(reason: "fsync: I/O error", committed: true), at: sec(2))
        #expect(h.effects.contains { if case .log(let e) = $0 { e.fields[.resetPending] == "yes" } else { false } })
        h.edge(true, at: sec(3)) // the plug works on meanwhile: the press switches
        h.advance(to: sec(4)) // the relay on, and is still held when the retry
        #expect(h.machine.relayOn) // succeeds
        h.clearEffects()
        Self.finishWipe(&h, at: sec(5))
        #expect(h.relaySets == [false])
        #expect(h.machine.fault == nil)
        #expect(h.eventNames.contains("fault_cleared"))
        #expect(h.eventNames.contains("hold_voided"))
        h.edge(false, at: ms(10_000)) // 6 s: would be a simple reset
        h.advance(to: sec(20))
        #expect(h.eventNames.contains("factory_reset_complete"))
        #expect(!h.eventNames.contains("simple_reset"))
        #expect(h.machine.state.identity == identityB)
        #expect(h.machine.inSetupMode)
    }

    @Test func aGoodResetClearsAnEarlierFaultForGood() {
        var h = Harness()
        h.effects += h.machine.handle(.stateWriteFailed(reason: "disk full"), at: sec(1))
        h.command(.factoryReset, at: sec(2))
        Self.finishWipe(&h, at: sec(2))
        #expect(h.machine.fault == nil)
        h.advance(to: sec(400)) // setup mode timed out
        #expect(h.machine.mode == .normal)
        #expect(h.ledNow == .solid(.off)) // not the red 2 Hz of the old fault
    }

    @Test func aFailureReportForNoRunningResetChangesNothing() {
        var h = Harness()
        let before = h.machine
        h.effects += h.machine.handle(.factoryResetFailed(reason: "late", committed: false), at: sec(1))
        #expect(h.machine.fault == before.fault && h.machine.mode == before.mode)
        #expect(!h.eventNames.contains("factory_reset_failed"))
    }
}
