import Testing
@testable import PlugCore

@Suite struct BrokerAndIdentifyTests {
    @Test func identifyBlinksGreenForItsTimeThenStops() {
        var h = Harness()
        h.command(.identify, at: sec(2))
        #expect(h.ledNow.description == "green blinking 2 Hz")
        #expect(h.eventNames.last == "identify")
        #expect(h.machine.nextDeadline == sec(7))
        h.advance(to: sec(7))
        #expect(h.ledNow == .solid(.off))
        #expect(h.machine.nextDeadline == nil)
    }

    @Test func identifyIsRefusedDuringAFactoryReset() {
        var h = Harness()
        h.command(.factoryReset, at: sec(2))
        h.command(.identify, at: sec(2.1))
        #expect(h.eventNames.last == "command_rejected")
        #expect(h.machine.identifying == nil)
    }

    @Test func anUnreachableBrokerBlinksRedSlowlyUntilItIsBack() {
        var h = Harness()
        #expect(h.machine.brokerConnected == nil)
        h.advance(to: sec(2))
        h.effects += h.machine.handle(.broker(connected: false), at: sec(2))
        #expect(h.ledNow.description == "red blinking 1 Hz")
        #expect(h.machine.brokerConnected == false)
        // Repeated failures keep the blink's phase (anchored at the first).
        h.effects += h.machine.handle(.broker(connected: false), at: sec(5))
        #expect(h.machine.brokerDown == sec(2))
        h.effects += h.machine.handle(.broker(connected: true), at: sec(6))
        #expect(h.ledNow == .solid(.off))
        #expect(h.machine.brokerConnected == true)
        // It never touches the relay or the state.
        #expect(h.relaySets == [] && !h.effects.contains { if case .save = $0 { true } else { false } })
    }

    @Test func theUnreachablePatternCanBeTurnedOff() {
        var t = PlugTimings()
        t.showBrokerUnreachable = false
        var h = Harness(timings: t)
        h.advance(to: sec(2))
        h.effects += h.machine.handle(.broker(connected: false), at: sec(2))
        #expect(h.ledNow == .solid(.off))
        #expect(h.machine.brokerConnected == false)
    }

    @Test func setupModeAndFaultShowOverTheBrokerPattern() {
        var h = Harness(state: .fresh(identity: identityA))
        h.advance(to: sec(2))
        h.effects += h.machine.handle(.broker(connected: false), at: sec(2))
        #expect(h.ledNow.description == "blue blinking 1 Hz")
    }
}
