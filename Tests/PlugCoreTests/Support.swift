import Foundation
@testable import PlugCore

/// Milliseconds after the origin, as an instant.
func ms(_ v: Double) -> MonotonicInstant { MonotonicInstant(nanoseconds: Int64(v * 1_000_000)) }
/// Seconds after the origin, as an instant.
func sec(_ v: Double) -> MonotonicInstant { ms(v * 1000) }

let identityA = UUID(uuidString: "00000000-0000-0000-0000-00000000000A")!
let identityB = UUID(uuidString: "00000000-0000-0000-0000-00000000000B")!

/// A registered plug with the relay remembered off.
func registeredState(relayOn: Bool = false) -> PlugState {
    var s = PlugState.fresh(identity: identityA)
    s.registered = true
    s.name = "lamp"
    s.relayOn = relayOn
    return s
}

/// Drives a `PlugMachine` the way the runtime does: inputs at given instants, `.tick` at every
/// deadline on the way, and every effect collected.
struct Harness {
    var machine: PlugMachine
    var effects: [PlugMachine.Effect]
    var now: MonotonicInstant

    init(
        state: PlugState = registeredState(), policy: PowerOnPolicy = .last, timings: PlugTimings = PlugTimings(),
        buttonPressed: Bool = false, resetCompleted: Bool = false, boot: String = "boot-1",
        at start: MonotonicInstant = .zero
    ) {
        (machine, effects) = PlugMachine.start(
            state: state, policy: policy, timings: timings, buttonPressed: buttonPressed,
            resetCompletedAtStart: resetCompleted, boot: boot, at: start)
        now = start
    }

    /// Ticks through every deadline up to `t`, then to `t` itself.
    mutating func advance(to t: MonotonicInstant) {
        effects += machine.tick(through: t)
        now = max(now, t)
    }

    /// A raw edge at `t` (time advanced to it first).
    mutating func edge(_ pressed: Bool, at t: MonotonicInstant) {
        advance(to: t)
        effects += machine.handle(.button(pressed: pressed, at: t), at: t)
    }

    /// A clean press at `t` and release at `t + held`, then 100 ms more for the debounce.
    mutating func hold(for held: Duration, from t: MonotonicInstant) {
        edge(true, at: t)
        edge(false, at: t.advanced(by: held))
        advance(to: t.advanced(by: held + .milliseconds(100)))
    }

    mutating func command(_ c: PlugMachine.Command, at t: MonotonicInstant) {
        advance(to: t)
        effects += machine.handle(.command(c, source: .control), at: t)
    }

    var eventNames: [String] {
        effects.compactMap { if case .log(let e) = $0 { e.name } else { nil } }
    }

    var relaySets: [Bool] {
        effects.compactMap { if case .setRelay(let on) = $0 { on } else { nil } }
    }

    var wipes: Int { effects.filter { $0 == .wipeState }.count }

    func led(at t: MonotonicInstant) -> LEDPattern { machine.led(at: t) }
    var ledNow: LEDPattern { machine.led(at: now) }

    mutating func clearEffects() { effects = [] }
}
