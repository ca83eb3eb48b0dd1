import Foundation
import PlugCore
import PlugGPIO
import PlugStore
import Testing
@testable import PlugDaemon

/// The relay's line request kept through restarts (`SimulatedLineKeeper` plays systemd's fd
/// store): a restart, a crash or an upgrade never changes the relay line; a stop releases it.
@Suite struct HeldRelayTests {
    /// A registered plug, relay `on`, under a keeper.
    func running(relayOn on: Bool, policy: PowerOnPolicy = .last) throws -> (Rig, SimulatedLineKeeper) {
        let rig = try Rig(startRuntime: false, prepare: Rig.registered())
        let keeper = SimulatedLineKeeper(gpio: rig.gpio)
        try rig.start(policy: policy, keeper: keeper)
        if rig.relay != on { rig.hold(.milliseconds(200)) }
        rig.advance(by: .seconds(2)) // written
        #expect(rig.relay == on)
        #expect(keeper.kept[PlugLines.relayKeptName] != nil)
        return (rig, keeper)
    }

    @Test(arguments: [true, false])
    func twentyRestartsLeaveTheRelayLineUntouched(on: Bool) throws {
        let (rig, keeper) = try running(relayOn: on, policy: on ? .off : .on) // the policy would flip it
        let before = rig.gpio.changes(line: "relay")
        for _ in 0..<20 {
            rig.runtime.lines.release() // a stop, or the kernel closing a killed plugd's descriptors
            keeper.restart()
            try rig.start(policy: on ? .off : .on, keeper: keeper)
            #expect(rig.runtime.lines.relayStart == .adopted(level: on))
            #expect(rig.relay == on)
        }
        #expect(rig.gpio.changes(line: "relay") == before)
        #expect(rig.sink.names.filter { $0 == "relay_adopted" }.count == 20)
        // The button still toggles the adopted line.
        rig.hold(.milliseconds(200))
        #expect(rig.relay == !on)
    }

    @Test func theRelayFollowsAStateFileChangedWhilePlugdWasDown() throws {
        let (rig, keeper) = try running(relayOn: true)
        rig.runtime.lines.release()
        let store = try rig.store()
        var s = try store.open().state
        s.relayOn = false
        try store.save(s)
        keeper.restart()
        try rig.start(keeper: keeper)
        #expect(rig.runtime.lines.relayStart == .adopted(level: true))
        #expect(!rig.relay)
        #expect(rig.gpio.changes(line: "relay") == 2) // on at first, off now: one change each
    }

    @Test func stopReleasesTheLine() throws {
        let (rig, keeper) = try running(relayOn: true)
        rig.runtime.lines.release()
        #expect(rig.relay) // the keeper still holds it
        keeper.stop()
        #expect(!rig.gpio.isHeld(line: "relay"))
        #expect(!rig.relay) // released: back to its pull
    }

    /// Stops the running plug and returns the wiring with the relay and the LED's blue line
    /// swapped, as an admin who moved the relay would write it.
    func restartWithTheRelayOnLEDBlue(_ rig: Rig, _ keeper: SimulatedLineKeeper) -> Wiring {
        rig.runtime.lines.release()
        keeper.restart()
        var wiring = Wiring.named(chip: "gpiosim")
        wiring.relay = LineSpec(chip: "gpiosim", line: .name("led_b"))
        wiring.blue = LineSpec(chip: "gpiosim", line: .name("relay"))
        return wiring
    }

    @Test func aRelayMovedToAnotherLineIsRequestedAnewAndTheOldLineReleased() throws {
        let (rig, keeper) = try running(relayOn: true)
        let wiring = restartWithTheRelayOnLEDBlue(rig, keeper)
        try rig.start(wiring: wiring, keeper: keeper)
        guard case .refused(let reason) = rig.runtime.lines.relayStart else {
            Issue.record("adopted a request for another line"); return
        }
        #expect(reason.contains("led_b"))
        #expect(rig.sink.names.contains("relay_not_adopted"))
        #expect(rig.gpio.level(line: "led_b")) // the new relay line, at the remembered level
        #expect(keeper.kept[PlugLines.relayKeptName] == rig.runtime.lines.relay.keepable)
    }

    @Test func theOldRelayLineGivenToTheLEDIsWaitedForWhileSystemdLetsItGo() throws {
        let (rig, keeper) = try running(relayOn: true)
        let wiring = restartWithTheRelayOnLEDBlue(rig, keeper)
        // systemd closes its copy a little after FDSTOREREMOVE, not at once.
        let lagging = LaggingKeeper(keeper, lag: .milliseconds(150))
        let started = ContinuousClock.now
        try rig.start(wiring: wiring, keeper: lagging)
        #expect(ContinuousClock.now - started >= .milliseconds(100)) // it waited for the line
        if case .refused = rig.runtime.lines.relayStart {} else { Issue.record("\(rig.runtime.lines.relayStart)") }
        #expect(rig.gpio.isHeld(line: "relay")) // now the LED's blue line
        #expect(rig.gpio.level(line: "led_b"))
    }

    @Test func aChangedPolarityIsRequestedAnew() throws {
        let (rig, keeper) = try running(relayOn: true)
        rig.runtime.lines.release()
        keeper.restart()
        var wiring = Wiring.named(chip: "gpiosim")
        wiring.relay.activeLow = true
        try rig.start(wiring: wiring, keeper: keeper)
        #expect(rig.runtime.lines.relayStart != .adopted(level: true))
        #expect(rig.runtime.machine.relayOn)
        #expect(!rig.relay) // on, active-low: physically low
    }

    @Test func withoutAKeeperNothingIsKeptAndAStartIsAPowerOn() throws {
        let rig = try Rig(policy: .off)
        #expect(rig.runtime.lines.relayStart == .requested)
        #expect(rig.runtime.lines.relay.keepable != nil)
    }
}

/// A keeper that lets go of a forgotten request only after `lag`, as systemd does.
final class LaggingKeeper: LineKeeper {
    let inner: SimulatedLineKeeper
    let lag: Duration
    init(_ inner: SimulatedLineKeeper, lag: Duration) { self.inner = inner; self.lag = lag }
    func takeBack(_ name: String) -> KeptRequest? { inner.takeBack(name) }
    func keep(_ request: KeptRequest, as name: String) -> Bool { inner.keep(request, as: name) }
    func forget(_ name: String) {
        let inner = self.inner, lag = self.lag
        Thread.detachNewThread {
            Thread.sleep(forTimeInterval: Double(lag.components.attoseconds) / 1e18 + Double(lag.components.seconds))
            inner.forget(name)
        }
    }
}
