import Testing
@testable import PlugCore

/// The spec's "Button timing" table, row by row, with its boundaries.
@Suite struct ButtonGestureTests {
    @Test func shortPressTogglesTheRelayOnPressOncePerPress() {
        var h = Harness()
        h.edge(true, at: sec(2))
        h.advance(to: ms(2_049))
        #expect(h.relaySets == []) // still debouncing
        h.advance(to: ms(2_050))
        #expect(h.relaySets == [true]) // toggled at once on the debounced press
        #expect(h.machine.state.relayOn)
        h.edge(false, at: ms(2_300))
        h.advance(to: sec(3))
        #expect(h.relaySets == [true]) // release does nothing more
        h.hold(for: .milliseconds(200), from: sec(4))
        #expect(h.relaySets == [true, false])
        #expect(h.machine.mode == .normal)
        #expect(h.wipes == 0)
    }

    @Test func toggleOnReleaseWaitsForTheReleaseOfAShortPress() {
        var t = PlugTimings()
        t.button.toggleOn = .release
        var h = Harness(timings: t)
        h.edge(true, at: sec(2))
        h.advance(to: sec(3))
        #expect(h.relaySets == [])
        h.edge(false, at: sec(3))
        h.advance(to: ms(3_050))
        #expect(h.relaySets == [true])
        h.hold(for: .seconds(6), from: sec(5)) // a hold is not a short press
        #expect(h.relaySets == [true])
        #expect(h.machine.inSetupMode)
    }

    /// Hold length → what happens on release. Presses also toggle on press; that is checked above.
    @Test(arguments: [
        (4_999.0, "short_press"), (5_000.0, "simple_reset"),
        (11_999.0, "simple_reset"), (12_000.0, "factory_reset_started"),
        (29_999.0, "factory_reset_started"), (30_000.0, "stuck_button_released"),
    ])
    func releaseAfterHoldOf(heldMs: Double, expected: String) {
        var h = Harness()
        h.hold(for: .milliseconds(Int64(heldMs)), from: sec(2))
        let outcomes = h.eventNames.filter {
            ["short_press", "simple_reset", "factory_reset_started", "stuck_button_released"].contains($0)
        }
        #expect(outcomes == [expected])
        #expect(h.wipes == (expected == "factory_reset_started" ? 1 : 0))
        #expect(h.machine.inSetupMode == (expected == "simple_reset"))
    }

    @Test func holdShowsRedAtFiveSecondsAndOrangeAtTwelve() {
        var h = Harness()
        h.edge(true, at: sec(2))
        h.advance(to: ms(6_999))
        #expect(h.ledNow == .solid(.blue)) // toggled on, not yet 5 s
        h.advance(to: sec(7))
        #expect(h.ledNow == .solid(.red))
        h.advance(to: ms(13_999))
        #expect(h.ledNow == .solid(.red))
        h.advance(to: sec(14))
        #expect(h.ledNow == .solid(.orange))
        #expect(h.eventNames.contains("hold_setup") && h.eventNames.contains("hold_factory"))
    }

    @Test func simpleResetEntersSetupModeAndKeepsIdentityAndRegistration() {
        var h = Harness()
        h.hold(for: .seconds(7), from: sec(2))
        #expect(h.machine.inSetupMode)
        #expect(h.machine.state.identity == identityA)
        #expect(h.machine.state.registered)
        #expect(h.ledNow == .blinking(.blue, hertz: 1, since: ms(9_050)))
        #expect(h.wipes == 0)
    }

    @Test func factoryResetFlashesOrangeWhileWipingThenBlueThenSetup() {
        var h = Harness()
        h.hold(for: .seconds(13), from: sec(2)) // press toggled the relay on
        let started = ms(15_050)
        #expect(h.wipes == 1)
        #expect(h.relaySets == [true, false]) // relay off for the reset
        #expect(h.led(at: started) == .blinking(.orange, hertz: 4, since: started))
        // The wipe takes 20 ms; the flashing is still shown for its minimum second.
        var fresh = PlugState.fresh(identity: identityB)
        fresh.relayOn = false
        h.effects += h.machine.handle(.factoryResetFinished(fresh), at: started.advanced(by: .milliseconds(20)))
        h.advance(to: started.advanced(by: .milliseconds(999)))
        #expect(h.ledNow.color == .orange)
        h.advance(to: started.advanced(by: .seconds(1)))
        #expect(h.ledNow == .solid(.blue))
        #expect(h.eventNames.contains("factory_reset_complete"))
        h.advance(to: started.advanced(by: .milliseconds(3_999)))
        #expect(h.ledNow == .solid(.blue))
        h.advance(to: started.advanced(by: .seconds(4)))
        #expect(h.ledNow == .blinking(.blue, hertz: 1, since: started.advanced(by: .seconds(4))))
        #expect(h.machine.inSetupMode)
        #expect(h.machine.state.identity == identityB)
        #expect(!h.machine.state.registered)
    }

    @Test func buttonIsIgnoredWhileAFactoryResetRuns() {
        var h = Harness()
        h.hold(for: .seconds(13), from: sec(2))
        h.clearEffects()
        h.hold(for: .milliseconds(200), from: sec(15.5))
        h.hold(for: .seconds(13), from: sec(16))
        #expect(h.relaySets == [])
        #expect(h.wipes == 0)
    }

    @Test func stuckButtonIsCancelledAtThirtySecondsAndNeverResets() {
        var h = Harness()
        h.edge(true, at: sec(2))
        h.advance(to: ms(31_999))
        #expect(h.ledNow == .solid(.orange))
        h.advance(to: sec(32))
        #expect(h.eventNames.contains("stuck_button"))
        #expect(h.ledNow == .solid(.blue)) // back to normal: relay on
        #expect(h.machine.nextDeadline == nil) // nothing more to time while it stays stuck
        h.advance(to: sec(600))
        h.edge(false, at: sec(600))
        h.advance(to: sec(601))
        #expect(h.wipes == 0)
        #expect(!h.machine.inSetupMode)
        #expect(h.eventNames.contains("stuck_button_released"))
        h.hold(for: .milliseconds(100), from: sec(610)) // the button works again
        #expect(h.relaySets == [true, false])
    }

    @Test func bouncyPressAndReleaseGiveExactlyOneToggle() {
        var h = Harness()
        var t = 2_000.0
        for i in 0..<7 { h.edge(i % 2 == 0, at: ms(t)); t += 3 } // ends pressed
        h.advance(to: ms(2_500))
        for i in 0..<7 { h.edge(i % 2 == 1, at: ms(t + 500)); t += 4 } // ends released
        h.advance(to: sec(4))
        #expect(h.relaySets == [true])
        #expect(h.eventNames.filter { $0 == "short_press" }.count == 1)
    }

    @Test func glitchesShorterThanDebounceAreNoPresses() {
        var h = Harness()
        for k in 0..<50 {
            let t = 2_000.0 + Double(k) * 100
            h.edge(true, at: ms(t))
            h.edge(false, at: ms(t + 49.9))
        }
        h.advance(to: sec(10))
        #expect(h.relaySets == [])
        #expect(h.eventNames.allSatisfy { $0 != "short_press" })
    }

    @Test func lateProcessingStillJudgesByKernelTimestamps() {
        // The release edge is stamped 11.999 s after the press but handled 200 ms later.
        var h = Harness()
        h.edge(true, at: sec(2))
        h.advance(to: ms(13_000))
        h.effects += h.machine.handle(.button(pressed: false, at: ms(13_999)), at: ms(14_199))
        h.advance(to: sec(15))
        #expect(h.eventNames.contains("simple_reset"))
        #expect(!h.eventNames.contains("hold_factory"))
        #expect(h.wipes == 0)
    }
}

/// "Held at start-up" row.
@Suite struct StartupHoldTests {
    @Test func startupHoldNeverToggles() {
        var h = Harness(buttonPressed: true)
        h.edge(false, at: sec(1))
        h.advance(to: sec(2))
        #expect(h.relaySets == [])
        #expect(h.eventNames.contains("startup_hold_released"))
        #expect(h.wipes == 0)
    }

    @Test(arguments: [(11_999.0, false), (12_000.0, true), (29_999.0, true), (30_000.0, false), (60_000.0, false)])
    func releaseAfterStartupHold(heldMs: Double, resets: Bool) {
        var h = Harness(buttonPressed: true)
        h.edge(false, at: ms(heldMs))
        h.advance(to: ms(heldMs + 100))
        #expect(h.wipes == (resets ? 1 : 0))
        #expect(!h.machine.inSetupMode || resets == false)
    }

    @Test func ledTurnsOffCompletelyAfterTwelveSecondsNotRedAtFive() {
        var h = Harness(state: registeredState(relayOn: true), buttonPressed: true)
        h.advance(to: sec(6))
        #expect(h.ledNow == .solid(.blue)) // no red stage for a start-up hold
        h.advance(to: ms(11_999))
        #expect(h.ledNow == .solid(.blue))
        h.advance(to: sec(12))
        #expect(h.ledNow == .solid(.off))
        #expect(h.eventNames.contains("startup_hold_armed"))
    }

    @Test func stuckAtStartupForSixtySecondsNeverResets() {
        var h = Harness(state: registeredState(relayOn: true), buttonPressed: true)
        h.advance(to: sec(30))
        #expect(h.eventNames.contains("stuck_button"))
        #expect(h.ledNow == .solid(.blue))
        h.advance(to: sec(60))
        h.edge(false, at: sec(60))
        h.advance(to: sec(61))
        #expect(h.wipes == 0)
        #expect(h.relaySets == [])
        #expect(h.machine.state.identity == identityA)
    }
}
