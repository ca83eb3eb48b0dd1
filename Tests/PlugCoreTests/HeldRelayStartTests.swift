import Testing
@testable import PlugCore

/// A start after a restart whose relay line was held (systemd kept its request): no power cut,
/// so the power-on policy does not apply and the relay follows the state file.
@Suite struct HeldRelayStartTests {
    func start(state: PlugState, policy: PowerOnPolicy = .last, held: Bool, reset: Bool = false) -> (PlugMachine, [PlugMachine.Effect]) {
        PlugMachine.start(state: state, policy: policy, buttonPressed: false, resetCompletedAtStart: reset, relayHeld: held, at: .zero)
    }

    func setsRelay(_ fx: [PlugMachine.Effect]) -> [Bool] {
        fx.compactMap { if case .setRelay(let on) = $0 { on } else { nil } }
    }

    func logged(_ fx: [PlugMachine.Effect]) -> [PlugEvent] {
        fx.compactMap { if case .log(let e) = $0 { e } else { nil } }
    }

    @Test(arguments: [true, false])
    func aHeldLineThatMatchesTheStateIsLeftAlone(on: Bool) {
        let (m, fx) = start(state: registeredState(relayOn: on), held: on)
        #expect(m.relayOn == on)
        #expect(setsRelay(fx).isEmpty)
        let adopted = logged(fx).first { $0.name == "relay_adopted" }
        #expect(adopted?.fields[.relayHeld] == (on ? "on" : "off"))
        #expect(logged(fx).first { $0.name == "started" }?.message.contains("held through the restart") == true)
    }

    @Test(arguments: [PowerOnPolicy.off, .on])
    func thePowerOnPolicyDoesNotApplyToARestart(policy: PowerOnPolicy) {
        let on = policy == .off // the policy would say the opposite of the state
        let (m, fx) = start(state: registeredState(relayOn: on), policy: policy, held: on)
        #expect(m.relayOn == on)
        #expect(setsRelay(fx).isEmpty)
        #expect(!fx.contains { if case .save = $0 { true } else { false } })
    }

    @Test(arguments: [true, false])
    func aStateFileChangedMeanwhileIsFollowed(held: Bool) {
        let (m, fx) = start(state: registeredState(relayOn: !held), held: held)
        #expect(m.relayOn == !held)
        #expect(setsRelay(fx) == [!held])
        let adopted = logged(fx).first { $0.name == "relay_adopted" }
        #expect(adopted?.priority == .notice)
        #expect(adopted?.fields[.relay] == (held ? "off" : "on"))
    }

    @Test func aResetFinishedAtStartTurnsAHeldRelayOff() {
        let (m, fx) = start(state: .fresh(identity: identityB), held: true, reset: true)
        #expect(!m.relayOn)
        #expect(setsRelay(fx) == [false])
    }

    @Test func withoutAHeldLineThePolicyApplies() {
        let (m, fx) = PlugMachine.start(state: registeredState(relayOn: true), policy: .off, buttonPressed: false, at: .zero)
        #expect(!m.relayOn)
        #expect(setsRelay(fx).isEmpty) // the line is requested at that level
        #expect(!logged(fx).contains { $0.name == "relay_adopted" })
    }
}
