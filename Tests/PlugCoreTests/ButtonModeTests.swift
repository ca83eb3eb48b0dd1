import Testing
@testable import PlugCore

/// `[button] mode = "detached"`, multi-press (double and triple) with its gap, the actions of
/// double and triple presses, and the holds, which work in every mode.
@Suite struct ButtonModeTests {
    func timings(mode: ButtonMode = .toggle, gap: Duration = .zero, double: PressAction = .none, triple: PressAction = .none) -> PlugTimings {
        var t = PlugTimings()
        t.button.mode = mode
        t.button.multiPressGap = gap
        t.button.doublePress = double
        t.button.triplePress = triple
        return t
    }
    func presses(_ h: Harness) -> [String] {
        h.effects.compactMap { if case .log(let e) = $0, e.name == "button_press" { e.fields[.presses] } else { nil } }
    }

    @Test func detachedPressesAreReportedAndNeverSwitch() {
        var h = Harness(timings: timings(mode: .detached))
        h.hold(for: .milliseconds(100), from: sec(1))
        h.hold(for: .milliseconds(100), from: sec(2))
        #expect(!h.machine.relayOn && h.relaySets == [])
        #expect(presses(h) == ["single", "single"])
    }

    @Test(arguments: [ButtonMode.toggle, .detached])
    func holdsWorkInEveryMode(mode: ButtonMode) {
        var h = Harness(timings: timings(mode: mode, gap: .milliseconds(400)))
        h.hold(for: .seconds(6), from: sec(1))
        #expect(h.machine.inSetupMode)
        var f = Harness(timings: timings(mode: mode, gap: .milliseconds(400)))
        f.hold(for: .seconds(13), from: sec(1))
        #expect(f.eventNames.contains("factory_reset_started"))
        #expect(presses(h) == [] && presses(f) == [])
    }

    @Test func withMultiPressOffASinglePressActsAtOnceAndNothingWaits() {
        var h = Harness()
        h.edge(true, at: sec(1))
        h.advance(to: sec(1.05)) // the debounce
        #expect(h.machine.relayOn)
        h.edge(false, at: sec(1.1))
        h.advance(to: sec(1.15))
        #expect(h.machine.nextDeadline == nil || h.machine.nextDeadline! > sec(1.15).advanced(by: .seconds(1)))
        #expect(presses(h) == ["single"])
    }

    @Test func aSinglePressWaitsTheGapThenToggles() {
        var h = Harness(timings: timings(gap: .milliseconds(400)))
        h.edge(true, at: sec(1))
        h.edge(false, at: sec(1.1))
        // Released at 1.1 s: it acts at 1.1 + 0.4 (the gap) + 0.05 (the debounce) = 1.55 s.
        h.advance(to: sec(1.55).advanced(by: .nanoseconds(-1)))
        #expect(!h.machine.relayOn && presses(h) == [])
        #expect(h.machine.nextDeadline == sec(1.55))
        h.advance(to: sec(1.55))
        #expect(h.machine.relayOn && presses(h) == ["single"])
        #expect(h.machine.nextDeadline == nil)
    }

    @Test func aDoublePressDoesItsActionNotTwoToggles() {
        var h = Harness(state: registeredState(relayOn: true), timings: timings(gap: .milliseconds(400), double: .off))
        h.hold(for: .milliseconds(100), from: sec(1))
        h.hold(for: .milliseconds(100), from: sec(1.4)) // pressed 0.3 s after the release
        h.advance(to: sec(3))
        #expect(presses(h) == ["double"])
        #expect(!h.machine.relayOn && h.relaySets == [false])
    }

    @Test func aDoublePressWithoutAnActionIsReportedOnly() {
        var h = Harness(timings: timings(gap: .milliseconds(400)))
        h.hold(for: .milliseconds(100), from: sec(1))
        h.hold(for: .milliseconds(100), from: sec(1.4))
        h.advance(to: sec(3))
        #expect(presses(h) == ["double"] && h.relaySets == [])
    }

    @Test func aTriplePressActsAtItsThirdReleaseWithoutWaiting() {
        var h = Harness(timings: timings(mode: .detached, gap: .milliseconds(400), triple: .toggle))
        h.hold(for: .milliseconds(100), from: sec(1))
        h.hold(for: .milliseconds(100), from: sec(1.4))
        h.edge(true, at: sec(1.8))
        h.edge(false, at: sec(1.9))
        h.advance(to: sec(1.95)) // the release debounced: no gap to wait
        #expect(presses(h) == ["triple"] && h.machine.relayOn)
    }

    @Test func theGapsBoundary() {
        // The next press at exactly the gap after the release starts a new sequence ...
        var apart = Harness(timings: timings(mode: .detached, gap: .milliseconds(400)))
        apart.edge(true, at: sec(1))
        apart.edge(false, at: sec(1.1))
        apart.edge(true, at: sec(1.5))
        apart.edge(false, at: sec(1.6))
        apart.advance(to: sec(3))
        #expect(presses(apart) == ["single", "single"])
        // ... a nanosecond sooner continues it.
        var together = Harness(timings: timings(mode: .detached, gap: .milliseconds(400)))
        together.edge(true, at: sec(1))
        together.edge(false, at: sec(1.1))
        together.edge(true, at: sec(1.5).advanced(by: .nanoseconds(-1)))
        together.edge(false, at: sec(1.6))
        together.advance(to: sec(3))
        #expect(presses(together) == ["double"])
    }

    @Test func aHoldAfterAPressEndsTheSequenceAndEntersSetup() {
        var h = Harness(timings: timings(gap: .milliseconds(400)))
        h.hold(for: .milliseconds(100), from: sec(1))
        h.hold(for: .seconds(6), from: sec(1.4))
        h.advance(to: sec(10))
        #expect(h.machine.inSetupMode && h.relaySets == [] && presses(h) == [])
    }

    @Test func aBounceIsNotASecondPress() {
        var h = Harness(timings: timings(mode: .detached, gap: .milliseconds(400)))
        h.edge(true, at: sec(1))
        h.edge(false, at: sec(1.1))
        h.edge(true, at: sec(1.11)) // 10 ms glitches, shorter than the debounce
        h.edge(false, at: sec(1.12))
        h.advance(to: sec(3))
        #expect(presses(h) == ["single"])
    }
}
