#if canImport(Glibc)
import Glibc
#endif
import Foundation
import PlugCore
import PlugGPIO
import PlugStore
import Synchronization
import Testing
import PlugPOSIX
@testable import PlugDaemon

/// The daemon's blocking loop on the real clock, a simulated chip and a temporary state
/// directory, on a thread of its own. Once `start()` is called, only the loop's thread uses
/// `runtime`; the test watches the chip, the disk and `passes`.
final class LoopRig: @unchecked Sendable {
    let clock = MonotonicClock()
    let gpio: SimulatedGPIO
    let dir: String
    let runtime: PlugRuntime
    let inbox = LoopInbox()
    let stop = StopSignals() // SIGTERM blocked here, so in the loop's thread too
    let stopped = DispatchSemaphore(value: 0)
    let loopThread = Mutex<pthread_t?>(nil)
    /// The loop's passes so far (its `onUpdate` calls).
    let passes = Atomic<Int>(0)

    /// A new plug is unregistered, so in setup mode with the LED blinking (timers in use); a
    /// registered one has nothing to wake for once its start-up flashes are over.
    init(registered: Bool, writeDelay: Duration = .seconds(1)) throws {
        let clock = self.clock
        gpio = SimulatedGPIO(now: { clock.now })
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("plugd-poll-\(UUID().uuidString)").path
        let store = StateStore(fs: try PosixStateFileSystem(directory: dir))
        if registered {
            var s = try store.open().state
            s.registered = true
            try store.save(s)
        }
        runtime = try PlugRuntime(
            backend: gpio, wiring: .named(chip: "gpiosim"), store: store, policy: .last,
            writeDelay: writeDelay, sink: CollectingEventSink(), now: clock.now)
    }

    deinit { try? FileManager.default.removeItem(atPath: dir) }

    func start() {
        Thread.detachNewThread { [self] in
            loopThread.withLock { $0 = pthread_self() }
            runtime.run(inbox: inbox, stop: stop, clock: clock) { [self] _, _ in passes.add(1, ordering: .relaxed) }
            stopped.signal()
        }
    }

    /// Posts a control command and waits up to 3 s for a reply whose relay is `expect`.
    func command(_ command: PlugMachine.Command, expect relay: String) -> Bool {
        let replied = DispatchSemaphore(value: 0)
        inbox.post(
            .request(
                ControlRequest(input: .command(command, source: .control)) { reply in
                    if reply.ok && reply.status?.relay == relay { replied.signal() }
                }))
        return replied.wait(timeout: .now() + 3) == .success
    }

    /// Whether the loop made no pass for 300 ms (waiting up to 5 s for such a quiet spell).
    func quiet() -> Bool {
        for _ in 0..<17 {
            let before = passes.load(ordering: .relaxed)
            usleep(300_000)
            if passes.load(ordering: .relaxed) == before { return true }
        }
        return false
    }
}

@Suite struct PollLoopTests {
    /// Waits up to `seconds` for `condition`.
    func eventually(_ seconds: Double = 3, _ condition: () -> Bool) -> Bool {
        let end = Date().addingTimeInterval(seconds)
        while Date() < end {
            if condition() { return true }
            usleep(5_000)
        }
        return condition()
    }

    @Test func handlesEdgesRequestsAndTimersThenStopsCleanly() throws {
        let rig = try LoopRig(registered: false, writeDelay: .milliseconds(100))
        let gpio = rig.gpio
        rig.start()

        gpio.press() // read by the loop from the line's event descriptor, not handed in by the test
        #expect(eventually { gpio.level(line: "relay") }, "a debounced press turns the relay on")
        gpio.release()

        #expect(rig.command(.off, expect: "off"), "a posted request is answered")
        #expect(!gpio.level(line: "relay"))

        var seen = Set<LEDColor?>()
        #expect(
            eventually {
                seen.insert(gpio.ledColor()); return seen.isSuperset(of: [.blue, .off])
            },
            "setup mode blinks: the loop wakes for the LED's deadlines")

        // SIGTERM to the loop's thread: pending while it works, let through while it waits.
        #expect(pthread_kill(try #require(rig.loopThread.withLock { $0 }), SIGTERM) == 0)
        #expect(rig.stopped.wait(timeout: .now() + 3) == .success, "the loop stops on SIGTERM")
        #expect(!gpio.isHeld(line: "relay") && !gpio.isHeld(line: "button"), "the lines are released")
        let saved = try PosixStateFileSystem(directory: rig.dir).read(StateStore.stateFile).flatMap(StateStore.decode)
        #expect(saved?.relayOn == false, "the last change is written")
    }

    /// A button line that goes away (its descriptor says so) leaves the poll set: the loop does
    /// not spin on it, and goes on serving requests.
    @Test func aButtonLineThatIsGoneIsNoLongerPolled() throws {
        let rig = try LoopRig(registered: true)
        let button = rig.runtime.lines.button
        rig.start()
        #expect(rig.quiet(), "the start-up flashes end and the loop sleeps")
        button.release() // the line is gone under the loop
        #expect(rig.quiet(), "the loop sleeps instead of polling a gone line")
        #expect(rig.command(.on, expect: "on"), "requests are still answered")
        rig.stop.request()
        #expect(rig.stopped.wait(timeout: .now() + 3) == .success)
    }
}
