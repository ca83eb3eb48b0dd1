#if canImport(Glibc)
import Glibc
#endif
import Foundation
import PlugCore
import PlugGPIO
import PlugStore
import Synchronization
import Testing
import PlugPoll
@testable import PlugDaemon

/// The daemon's blocking loop on the real clock and the simulated chip, on a thread of its own.
@Suite struct PollLoopTests {
    /// Hands the runtime to the loop's thread, which alone uses it from then on.
    final class Handoff: @unchecked Sendable {
        let runtime: PlugRuntime
        init(_ runtime: PlugRuntime) { self.runtime = runtime }
    }

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
        let clock = MonotonicClock()
        let gpio = SimulatedGPIO(now: { clock.now })
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("plugd-poll-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let store = StateStore(fs: try PosixStateFileSystem(directory: dir))
        // A new plug: unregistered, so in setup mode with the LED blinking (timers in use).
        let handoff = Handoff(try PlugRuntime(backend: gpio, wiring: .named(chip: "gpiosim"), store: store, policy: .last,
                                              writeDelay: .milliseconds(100), sink: CollectingEventSink(), now: clock.now))
        let inbox = LoopInbox()
        let stop = StopSignals()   // SIGTERM blocked here, so in the loop's thread too
        let stopped = DispatchSemaphore(value: 0)
        let loopThread = Mutex<pthread_t?>(nil)
        Thread.detachNewThread {
            loopThread.withLock { $0 = pthread_self() }
            handoff.runtime.runPolling(inbox: inbox, stop: stop, clock: clock)
            stopped.signal()
        }

        gpio.press()   // delivered by the simulated line's own edge delivery, not by the test
        #expect(eventually { gpio.level(line: "relay") }, "a debounced press turns the relay on")
        gpio.release()

        let replied = DispatchSemaphore(value: 0)
        inbox.post(.request(ControlRequest(input: .command(.off, source: .control)) { reply in
            if reply.ok && reply.status?.relay == "off" { replied.signal() }
        }))
        #expect(replied.wait(timeout: .now() + 3) == .success, "a posted request is answered")
        #expect(!gpio.level(line: "relay"))

        var seen = Set<LEDColor?>()
        #expect(eventually { seen.insert(gpio.ledColor()); return seen.isSuperset(of: [.blue, .off]) },
                "setup mode blinks: the loop wakes for the LED's deadlines")

        // SIGTERM to the loop's thread: pending while it works, let through while it waits.
        #expect(pthread_kill(try #require(loopThread.withLock { $0 }), SIGTERM) == 0)
        #expect(stopped.wait(timeout: .now() + 3) == .success, "the loop stops on SIGTERM")
        #expect(!gpio.isHeld(line: "relay") && !gpio.isHeld(line: "button"), "the lines are released")
        let saved = try PosixStateFileSystem(directory: dir).read(StateStore.stateFile).flatMap(StateStore.decode)
        #expect(saved?.relayOn == false, "the last change is written")
    }

    /// A button line that goes away (its descriptor says so) leaves the poll set: the loop does
    /// not spin on it, and goes on serving requests.
    @Test func aButtonLineThatIsGoneIsNoLongerPolled() throws {
        let clock = MonotonicClock()
        let gpio = SimulatedGPIO(now: { clock.now })
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("plugd-poll-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let store = StateStore(fs: try PosixStateFileSystem(directory: dir))
        var registered = try store.open().state
        registered.registered = true   // no setup-mode blinking: nothing wakes the loop by itself
        try store.save(registered)
        let runtime = try PlugRuntime(backend: gpio, wiring: .named(chip: "gpiosim"), store: store, policy: .last,
                                      sink: CollectingEventSink(), now: clock.now)
        let button = runtime.lines.button
        let handoff = Handoff(runtime)
        let inbox = LoopInbox()
        let stop = StopSignals()
        let stopped = DispatchSemaphore(value: 0)
        let passes = Atomic<Int>(0)
        Thread.detachNewThread {
            handoff.runtime.runPolling(inbox: inbox, stop: stop, clock: clock) { _, _ in
                passes.add(1, ordering: .relaxed)
            }
            stopped.signal()
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
        #expect(quiet(), "the start-up flashes end and the loop sleeps")
        button.release()   // the line is gone under the loop
        #expect(quiet(), "the loop sleeps instead of polling a gone line")
        let replied = DispatchSemaphore(value: 0)
        inbox.post(.request(ControlRequest(input: .command(.on, source: .control)) { reply in
            if reply.ok && reply.status?.relay == "on" { replied.signal() }
        }))
        #expect(replied.wait(timeout: .now() + 3) == .success, "requests are still answered")
        stop.request()
        #expect(stopped.wait(timeout: .now() + 3) == .success)
    }
}
