import Foundation
import PlugCore
import PlugProtocol
import PlugStore
import Synchronization
import Testing
@testable import PlugDaemon

/// The runtime on a state directory that fails and recovers: failed writes are kept and retried,
/// and a factory reset that cannot wipe says so instead of claiming a new identity.
@Suite struct StorageFailureTests {
    /// A registered plug named "lamp" with the relay remembered off.
    static func lamp() throws -> Rig {
        try Rig(prepare: Rig.registered { $0.name = "lamp" })
    }

    /// `plugctl` over the control socket, as `answer` serves it.
    static func request(_ command: PlugMachine.Command, _ rig: Rig) -> ControlReply? {
        let reply = Mutex<ControlReply?>(nil)
        rig.runtime.answer(
            ControlRequest(input: .command(command, source: .control), reply: { r in reply.withLock { $0 = r } }),
            at: rig.clock.now)
        return reply.withLock { $0 }
    }

    static func t(_ s: Double) -> MonotonicInstant { .zero.advanced(by: .milliseconds(Int64(s * 1000))) }

    /// Colours shown over the next second.
    static func colours(_ rig: Rig) -> Set<LEDColor> {
        var seen: Set<LEDColor> = []
        for _ in 0..<10 { rig.advance(by: .milliseconds(100)); seen.insert(rig.led!) }
        return seen
    }

    @Test(arguments: [false, true])
    func aFactoryResetThatCannotWipeFailsTheRequestAndKeepsTheIdentity(faultBefore: Bool) throws {
        let rig = try Self.lamp()
        let old = rig.runtime.machine.state.identity
        rig.advance(to: Self.t(2))
        rig.disk.failing = true
        if faultBefore { // a write had already failed: fault shown, logged once
            rig.hold(.milliseconds(100))
            rig.advance(by: .seconds(2))
            #expect(rig.runtime.machine.fault != nil)
        }
        let reply = Self.request(.factoryReset, rig)
        #expect(reply?.ok == false)
        #expect(reply?.error?.hasPrefix("factory reset failed: ") == true)
        let failed = rig.sink.events.filter { $0.name == "factory_reset_failed" }
        #expect(failed.count == 1)
        #expect(failed.first?.priority == .error)
        #expect(failed.first?.fields[.resetPending] == "no")
        #expect(failed.first?.fields[.identity] == old.uuidString)
        #expect(!rig.sink.names.contains("factory_reset_complete"))
        #expect(!rig.sink.events.contains { $0.message.contains("new identity") })
        #expect(rig.runtime.machine.state.identity == old)
        #expect(rig.runtime.status(at: rig.clock.now).fault != nil)
        #expect(Self.colours(rig) == [.red, .off]) // the fault: red 2 Hz
        #expect(!rig.relay)
        // What the journal said holds after a restart: nothing was wiped.
        rig.runtime.lines.release()
        rig.disk.failing = false
        try rig.start()
        #expect(rig.runtime.machine.state.identity == old)
        #expect(rig.runtime.machine.state.registered && rig.runtime.machine.state.name == "lamp")
        #expect(try PosixStateFileSystem(directory: rig.dir).list() == [StateStore.stateFile]) // no marker left
    }

    @Test func aResetCommittedBeforeTheCardFailedIsFinishedAtTheNextStart() throws {
        let rig = try Self.lamp()
        let old = rig.runtime.machine.state.identity
        rig.disk.allowing = 3 // the marker is written and synced, then read-only
        let reply = Self.request(.factoryReset, rig)
        #expect(reply?.ok == false)
        #expect(rig.sink.events.first { $0.name == "factory_reset_failed" }?.fields[.resetPending] == "yes")
        #expect(rig.runtime.machine.state.identity == old)
        rig.runtime.lines.release() // power cut before any retry
        rig.disk.failing = false
        try rig.start()
        #expect(rig.runtime.machine.state.identity != old)
        #expect(!rig.runtime.machine.state.registered)
        #expect(try rig.saved()?.identity == rig.runtime.machine.state.identity)
    }

    @Test func aCommittedResetIsFinishedByARetryOnceTheCardWorksAgain() throws {
        let rig = try Self.lamp()
        let old = rig.runtime.machine.state.identity
        rig.advance(to: Self.t(2))
        rig.disk.allowing = 3
        _ = Self.request(.factoryReset, rig)
        rig.advance(to: Self.t(20)) // retried at 3, 5, 9, 17 s: still read-only
        // The first unlink, then at each retry the marker's write and its clean-up.
        #expect(rig.disk.refused == 1 + 4 * 2)
        #expect(rig.runtime.machine.state.identity == old)
        rig.disk.failing = false
        rig.advance(to: Self.t(40)) // the retry at 33 s succeeds
        let fresh = rig.runtime.machine.state.identity
        #expect(fresh != old)
        #expect(rig.sink.events.contains { $0.name == "factory_reset_complete" && $0.fields[.identity] == fresh.uuidString })
        #expect(try rig.saved()?.identity == fresh)
        #expect(try PosixStateFileSystem(directory: rig.dir).list() == [StateStore.stateFile])
        #expect(rig.runtime.machine.fault == nil)
        #expect(rig.runtime.machine.inSetupMode)
    }

    /// The reviewed case: writes fail, `plugctl on` at 2 s, the write fails at 3 s, then the disk
    /// works again.
    @Test func aFailedWriteIsKeptRetriedAndTheFaultClears() throws {
        let rig = try Self.lamp()
        rig.disk.failing = true
        rig.advance(to: Self.t(2))
        #expect(Self.request(.on, rig)?.ok == true)
        rig.advance(to: Self.t(3))
        #expect(rig.runtime.machine.fault != nil)
        rig.advance(to: Self.t(50))
        rig.disk.failing = false
        rig.advance(to: Self.t(650))
        #expect(try rig.saved()?.relayOn == true)
        #expect(rig.runtime.machine.fault == nil)
        #expect(rig.sink.names.filter { $0 == "fault" }.count == 1)
        #expect(rig.sink.names.filter { $0 == "fault_cleared" }.count == 1)
        #expect(rig.led == .blue) // relay on, no red
        #expect(rig.runtime.nextWake(after: rig.clock.now) == nil) // nothing pending: no timer
        let attempts = rig.disk.attempts
        rig.advance(to: Self.t(5_000))
        #expect(rig.disk.attempts == attempts) // and nothing retried
        // A power cut now brings the relay back on (power-on policy `last`).
        rig.runtime.lines.release()
        try rig.start()
        #expect(rig.relay)
    }

    @Test func retriesBackOffToOnceAMinuteAndWriteTheNewestState() throws {
        let rig = try Self.lamp()
        let before = rig.disk.attempts
        rig.disk.failing = true
        rig.advance(to: Self.t(2))
        _ = Self.request(.on, rig)
        rig.advance(to: Self.t(100))
        _ = Self.request(.off, rig) // a newer state while retrying
        rig.advance(to: Self.t(602))
        // Writes at 3 s, then 1, 2, 4, 8, 16, 32, 60, 60 … s later: 3 4 6 10 18 34 66 126 186 … 546.
        #expect(rig.disk.refused == 15)
        rig.disk.failing = false
        rig.advance(to: Self.t(700))
        #expect(try rig.saved()?.relayOn == false)
        #expect(rig.disk.attempts - before - rig.disk.refused == 4) // one save: write, fsync, rename, fsync dir
    }

    @Test func aGoodFactoryResetClearsTheFaultForGood() throws {
        let rig = try Self.lamp()
        rig.advance(to: Self.t(2))
        rig.disk.failing = true
        _ = Self.request(.on, rig)
        rig.advance(to: Self.t(3.5))
        #expect(rig.runtime.machine.fault != nil)
        rig.disk.failing = false // back before the next retry (at 4 s)
        #expect(Self.request(.factoryReset, rig)?.ok == true)
        #expect(rig.runtime.machine.fault == nil)
        rig.advance(to: Self.t(400)) // reset complete, setup mode, its timeout
        #expect(!rig.runtime.machine.inSetupMode)
        #expect(rig.led == .off) // not the old fault's red 2 Hz
        #expect(rig.runtime.nextWake(after: rig.clock.now) == nil)
    }
}
