import Testing
@testable import PlugCore

@Suite struct PowerOnPolicyTests {
    @Test(arguments: [
        (PowerOnPolicy.off, false, false), (.off, true, false),
        (.on, false, true), (.on, true, true),
        (.last, false, false), (.last, true, true),
    ])
    func relayAtPowerOn(policy: PowerOnPolicy, remembered: Bool, expected: Bool) {
        let h = Harness(state: registeredState(relayOn: remembered), policy: policy)
        #expect(h.machine.relayOn == expected)
        // The machine never sends a set at start: the line was requested with this level.
        #expect(h.relaySets == [])
        // Memory follows the actual relay, so a later `last` start sees the truth.
        #expect(h.machine.state.relayOn == expected)
        #expect(h.effects.contains(.save(h.machine.state)) == (remembered != expected))
    }

    @Test func preferenceInTheStateOverridesTheConfig() {
        var s = registeredState(relayOn: false)
        s.powerOnPolicy = .on
        #expect(Harness(state: s, policy: .off).machine.relayOn)
    }

    @Test func interruptedFactoryResetCompletedAtStartShowsBlueThenSetupWithRelayOff() {
        var fresh = PlugState.fresh(identity: identityB)
        fresh.relayOn = true
        var h = Harness(state: fresh, policy: .on, resetCompleted: true)
        #expect(!h.machine.relayOn)
        #expect(h.ledNow == .solid(.blue))
        h.advance(to: sec(3))
        #expect(h.machine.inSetupMode)
    }
}

@Suite struct PlugMachineTests {
    @Test func newPlugStartsInSetupModeWhichTimesOutAfterFiveMinutes() {
        var h = Harness(state: PlugState.fresh(identity: identityA))
        #expect(h.machine.inSetupMode)
        h.advance(to: ms(299_999))
        #expect(h.machine.inSetupMode)
        h.advance(to: sec(300))
        #expect(h.machine.mode == .normal)
        #expect(h.eventNames.contains("setup_timeout"))
    }

    @Test func setupCommandNamesRegistersAndLeavesSetupMode() {
        var h = Harness(state: PlugState.fresh(identity: identityA))
        h.command(.setup(name: "kettle"), at: sec(5))
        #expect(h.machine.mode == .normal)
        #expect(h.machine.state.name == "kettle")
        #expect(h.machine.state.registered)
        #expect(h.effects.contains(.save(h.machine.state)))
    }

    @Test func relayCommandsChangeRelayAndAreSavedAndLogged() {
        var h = Harness()
        h.command(.on, at: sec(1))
        h.command(.on, at: sec(2)) // already on: no effect
        h.command(.toggle, at: sec(3))
        h.command(.off, at: sec(4))
        #expect(h.relaySets == [true, false])
        let relayEvents = h.effects.compactMap { if case .log(let e) = $0, e.name == "relay" { e } else { nil } }
        #expect(relayEvents.map { $0.fields[.relay] } == ["on", "off"])
        #expect(relayEvents.allSatisfy { $0.fields[.source] == "control" })
    }

    @Test func deregisterRemovesRegistrationThenFactoryResets() {
        var h = Harness()
        h.command(.deregister, at: sec(2))
        var unregistered = registeredState()
        unregistered.registered = false
        let saveIndex = h.effects.firstIndex(of: .save(unregistered))
        let wipeIndex = h.effects.firstIndex(of: .wipeState)
        #expect(saveIndex != nil && wipeIndex != nil && saveIndex! < wipeIndex!)
    }

    @Test func commandsAreRejectedWhileAFactoryResetRuns() {
        var h = Harness()
        h.command(.factoryReset, at: sec(2))
        h.clearEffects()
        h.command(.on, at: ms(2_100))
        #expect(h.relaySets == [])
        #expect(h.eventNames == ["command_rejected"])
    }

    @Test func faultBlinksRedUntilAWriteSucceeds() {
        var h = Harness()
        h.effects += h.machine.handle(.stateWriteFailed(reason: "EROFS"), at: sec(2))
        #expect(h.led(at: sec(2)) == .blinking(.red, hertz: 2, since: sec(2)))
        h.effects += h.machine.handle(.stateWriteFailed(reason: "EROFS"), at: sec(3))
        #expect(h.eventNames.filter { $0 == "fault" }.count == 1) // one entry, not one per retry
        h.effects += h.machine.handle(.stateWriteSucceeded, at: sec(4))
        #expect(h.led(at: sec(4)) == .solid(.off))
        #expect(h.eventNames.contains("fault_cleared"))
    }

    @Test func startupShowsThreeRedFlashesThenNormal() {
        let h = Harness(state: registeredState(relayOn: true))
        #expect(h.led(at: ms(10)).description == "3× red flashes")
        #expect(h.led(at: ms(10)).color(at: ms(10)) == .red)
        #expect(h.led(at: ms(200)).color(at: ms(200)) == .off)
        #expect(h.led(at: ms(900)) == .solid(.blue))
    }

    @Test func idleMachineAsksForNoWakeUp() {
        var h = Harness()
        h.advance(to: sec(10))
        #expect(h.machine.nextDeadline == nil)
        #expect(h.ledNow.nextChange(after: h.now) == nil)
    }
}
