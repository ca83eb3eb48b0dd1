import PlugCore
import PlugProtocol
import Synchronization
import Testing
@testable import PlugDaemon

/// Floods of commands: the state store and the journal must not turn a flood into a backlog
/// that holds up the button, or into a journal the rate limit empties.
@Suite struct FloodTests {
    static let flood = (0..<1000).map { i in LoopEvent.input(.command(i % 2 == 0 ? .on : .off, source: .mqtt)) }

    @Test func withNoWriteDelayABatchOfCommandsIsOneWriteNotOnePerCommand() throws {
        let rig = try Rig(startRuntime: false)
        try rig.start(writeDelay: .zero)
        let before = rig.disk.attempts
        rig.runtime.process(Self.flood, at: rig.clock.now)
        #expect(rig.disk.attempts - before == 4) // one save: write, fsync, rename, fsync the directory
        #expect(try rig.saved()?.relayOn == rig.relay)
        // A control request in a batch is written before it is answered: acknowledged = on disk.
        let later = rig.clock.now.advanced(by: .seconds(10)) // past the flood guard's window
        let writesAtReply = Mutex<Int?>(nil)
        let disk = rig.disk
        let batchStart = disk.attempts
        nonisolated(unsafe) let unsafeDisk = disk
        rig.runtime.process(
            [
                .request(
                    ControlRequest(input: .command(.toggle, source: .control)) { _ in
                        writesAtReply.withLock { $0 = unsafeDisk.attempts }
                    }), .input(.command(.toggle, source: .mqtt)),
            ], at: later)
        #expect(writesAtReply.withLock { $0 } == batchStart + 4) // its write, before the reply
        #expect(disk.attempts == batchStart + 8) // then the batch's
        // Outside a batch (a lone command) it is still written at once.
        rig.runtime.process([.input(.command(.toggle, source: .control))], at: later.advanced(by: .seconds(10)))
        #expect(try rig.saved()?.relayOn == rig.relay)
    }

    @Test func aStormOfOneEventIsSummarisedWhenItsSecondEnds() throws {
        let rig = try Rig()
        let t0 = rig.clock.now
        let start = rig.sink.events.count
        for i in 0..<1000 {
            rig.runtime.process([.log(PlugEvent(.mqttCommandInvalid, "bogus \(i)", priority: .warning))], at: t0)
        }
        #expect(rig.sink.events.count - start == 10)
        #expect(rig.runtime.nextWake(after: t0)! <= t0.advanced(by: .seconds(1))) // a timer for the summary
        rig.advance(to: t0.advanced(by: .seconds(5)))
        let summaries = rig.sink.events.filter { $0.name == "log_suppressed" }
        #expect(summaries.count == 1)
        let summary = summaries.last
        #expect(
            summary?.name == "log_suppressed" && summary?.fields[.suppressed] == "990"
                && summary?.fields[.suppressedEvent] == "mqtt_command_invalid", "\(String(describing: summary))")
    }
}
