import Foundation
import PlugCore
import PlugGPIO
import PlugProtocol
import PlugStore
import PlugTestSupport
import Testing
@testable import PlugDaemon

/// A runtime on the simulated GPIO and a real temporary state directory, driven by a manual clock.
final class Rig {
    let clock = ManualClock(now: .zero)
    let gpio: SimulatedGPIO
    let dir: String
    let sink = CollectingEventSink()
    var runtime: PlugRuntime!

    init(
        buttonHeld: Bool = false, policy: PowerOnPolicy = .last, startRuntime: Bool = true, kernelDebounce: Duration? = nil,
        prepare: (StateStore) throws -> Void = { _ in }
    ) throws {
        let clock = self.clock
        gpio = SimulatedGPIO(kernelDebounce: kernelDebounce, now: { clock.now })
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("plugd-rt-\(UUID().uuidString)").path
        try prepare(store())
        if buttonHeld { gpio.preset(line: "button", physical: false) }
        if startRuntime { try start(policy: policy) }
    }

    deinit { try? FileManager.default.removeItem(atPath: dir) }

    /// A `prepare` that saves a set-up plug's state, with `change` made to it.
    static func registered(_ change: @escaping (inout PlugState) -> Void = { _ in }) -> (StateStore) throws -> Void {
        { store in
            var s = try store.open().state
            s.registered = true
            change(&s)
            try store.save(s)
        }
    }

    /// The state directory as the runtime sees it: real, but it can be made to fail.
    func store() throws -> StateStore { StateStore(fs: try FlakyFileSystem(directory: dir, disk: disk)) }
    /// Whether the state directory accepts writes (an SD card gone read-only, and back).
    let disk = DiskSwitch()

    func start(
        policy: PowerOnPolicy = .last, wiring: Wiring = .named(chip: "gpiosim"), keeper: (any LineKeeper)? = nil,
        writeDelay: Duration = .seconds(1)
    ) throws {
        runtime = try PlugRuntime(
            backend: gpio, wiring: wiring, store: store(), policy: policy, writeDelay: writeDelay,
            keeper: keeper, sink: sink, now: clock.now)
    }

    /// Advances the clock to `t`, waking the runtime at each deadline on the way, as `run` does.
    func advance(to t: MonotonicInstant) { runtime.advance(from: clock.now, to: t) { clock.advance(to: $0) } }

    func advance(by d: Duration) { advance(to: clock.now.advanced(by: d)) }

    /// A finger on the simulated button: the edge is delivered as the run loop would deliver it.
    func press() { gpio.press(); runtime.handle(.button(pressed: true, at: clock.now), at: clock.now) }
    func release() { gpio.release(); runtime.handle(.button(pressed: false, at: clock.now), at: clock.now) }

    func hold(_ d: Duration) { press(); advance(by: d); release(); advance(by: .milliseconds(100)) }

    var relay: Bool { gpio.level(line: "relay") }
    var led: LEDColor? { gpio.ledColor() }
    func saved() throws -> PlugState? { try PosixStateFileSystem(directory: dir).read(StateStore.stateFile).flatMap(StateStore.decode) }
}

@Suite struct PlugRuntimeTests {
    @Test func shortPressTogglesTheRelayLineAndTheStateIsWrittenOnceCoalesced() throws {
        let rig = try Rig()
        rig.advance(to: .zero.advanced(by: .seconds(2)))
        #expect(!rig.relay)
        rig.hold(.milliseconds(200))
        #expect(rig.relay)
        rig.hold(.milliseconds(200))
        rig.hold(.milliseconds(200))
        #expect(rig.relay)
        #expect(try rig.saved()?.relayOn == false) // coalesced: not yet written
        rig.advance(by: .seconds(1))
        #expect(try rig.saved()?.relayOn == true)
        #expect(rig.sink.names.filter { $0 == "relay" }.count == 3)
    }

    @Test func relayIsRestoredAtStartWithoutAGlitch() throws {
        let rig = try Rig(policy: .last, prepare: Rig.registered { $0.relayOn = true })
        #expect(rig.relay) // requested high: it never went low
        #expect(rig.runtime.machine.relayOn)
    }

    /// A pass that ends in the last start-up flash's dark phase, and a loop that asks for its
    /// next wake only after the flashes are over (the pass was slow): the steady colour must be
    /// shown then, not at some later event. (With the relay on it is blue; it stayed dark.)
    @Test func aSlowPassAtTheEndOfTheStartUpFlashesStillShowsTheSteadyColour() throws {
        let rig = try Rig(prepare: Rig.registered { $0.relayOn = true })
        let lastDark = MonotonicInstant.zero.advanced(by: .milliseconds(750))
        rig.clock.advance(to: lastDark)
        rig.runtime.handle(.tick, at: lastDark)
        #expect(rig.led == .off)
        let afterFlashes = MonotonicInstant.zero.advanced(by: .milliseconds(950))
        rig.clock.advance(to: afterFlashes)
        // The end of the flashes is due: a wake at once, not none.
        #expect(rig.runtime.nextWake(after: afterFlashes) == MonotonicInstant.zero.advanced(by: .milliseconds(900)))
        rig.runtime.handle(.tick, at: afterFlashes)
        #expect(rig.led == .blue)
        #expect(rig.runtime.nextWake(after: afterFlashes) == nil) // and then nothing more: steady
    }

    @Test func holdFiveSecondsShowsRedThenSetupBlinksBlue() throws {
        let rig = try Rig()
        rig.advance(to: .zero.advanced(by: .seconds(2)))
        rig.press()
        rig.advance(by: .milliseconds(5_100))
        #expect(rig.led == .red)
        rig.release()
        rig.advance(by: .milliseconds(100))
        #expect(rig.runtime.machine.inSetupMode)
        var seen: Set<LEDColor> = []
        for _ in 0..<20 { rig.advance(by: .milliseconds(100)); seen.insert(rig.led!) }
        #expect(seen == [.blue, .off])
    }

    @Test func holdTwelveSecondsWipesTheDirectoryAndEndsBlueThenSetup() throws {
        let rig = try Rig(prepare: Rig.registered { $0.name = "kettle" })
        try PosixStateFileSystem(directory: rig.dir).write("state.json.corrupt-1", [1])
        let before = rig.runtime.machine.state.identity
        rig.advance(to: .zero.advanced(by: .seconds(2)))
        rig.press()
        rig.advance(by: .milliseconds(12_100))
        #expect(rig.led == .orange)
        rig.release()
        rig.advance(by: .milliseconds(60))
        #expect(!rig.relay)
        #expect(rig.runtime.machine.state.identity != before)
        #expect(try PosixStateFileSystem(directory: rig.dir).list() == [StateStore.stateFile])
        #expect(try rig.saved()?.registered == false)
        var colors: [LEDColor] = []
        for _ in 0..<50 { rig.advance(by: .milliseconds(100)); colors.append(rig.led!) }
        #expect(colors.prefix(9).contains(.orange) && colors.prefix(9).contains(.off)) // flashing
        #expect(colors[12...38].allSatisfy { $0 == .blue }) // complete: blue 3 s
        #expect(colors[42...].contains(.off)) // setup: blinking
        #expect(rig.sink.names.contains("factory_reset_complete"))
    }

    @Test func edgesTheKernelDebouncedAreActedOnAtOnce() throws {
        let soft = try Rig()
        soft.press()
        #expect(!soft.runtime.machine.relayOn) // software: 50 ms of stability first
        let kernel = try Rig(kernelDebounce: .milliseconds(50))
        #expect(kernel.runtime.machine.timings.button.debounce == .zero)
        kernel.press()
        #expect(kernel.runtime.machine.relayOn) // already debounced by the kernel
        // A kernel period shorter than the configured one is not enough: software still waits.
        #expect(try Rig(kernelDebounce: .milliseconds(10)).runtime.machine.timings.button.debounce == .milliseconds(50))
    }

    @Test func beforeWipeSeesTheOldStateStillOnDisk() throws {
        let rig = try Rig()
        let old = rig.runtime.machine.state
        var seen: [(given: PlugState, onDisk: PlugState?)] = []
        rig.runtime.beforeWipe = { given in seen.append((given, try? rig.saved())) }
        rig.runtime.handle(.command(.factoryReset, source: .control), at: rig.clock.now)
        #expect(seen.count == 1)
        #expect(seen.first?.given.identity == old.identity)
        #expect(seen.first?.onDisk?.identity == old.identity)
        #expect(rig.runtime.machine.state.identity != old.identity)
    }

    @Test func logEventsFromOtherThreadsAreRecordedInOrder() throws {
        let rig = try Rig()
        rig.runtime.process(.log(PlugEvent(.mqttConnected, "connected")), at: rig.clock.now)
        rig.runtime.process(.input(.command(.on, source: .mqtt)), at: rig.clock.now)
        #expect(Array(rig.sink.names.suffix(2)) == ["mqtt_connected", "relay"])
        #expect(rig.sink.events.last?.fields[.source] == "mqtt")
    }

    @Test func startupHoldTurnsTheLEDOffAtTwelveSecondsAndReleaseFactoryResets() throws {
        let rig = try Rig(buttonHeld: true, prepare: Rig.registered { $0.relayOn = true })
        rig.advance(to: .zero.advanced(by: .seconds(11)))
        #expect(rig.led == .blue)
        rig.advance(to: .zero.advanced(by: .milliseconds(12_001)))
        #expect(rig.led == .off)
        rig.release()
        rig.advance(by: .milliseconds(100))
        #expect(rig.sink.names.contains("factory_reset_started"))
        #expect(!rig.relay)
    }

    @Test func unwritableStateShowsTheFaultPatternAndLogsOnce() throws {
        let rig = try Rig()
        rig.advance(to: .zero.advanced(by: .seconds(2)))
        try FileManager.default.removeItem(atPath: rig.dir)
        rig.hold(.milliseconds(100))
        rig.advance(by: .seconds(2))
        #expect(rig.runtime.machine.fault != nil)
        #expect(rig.sink.names.filter { $0 == "fault" }.count == 1)
        #expect(rig.relay) // the plug keeps working degraded
    }

    @Test func corruptStateIsReportedAndTheDaemonStarts() throws {
        let rig = try Rig { store in
            try store.save(PlugState.fresh(identity: UUID()))
        }
        rig.runtime.lines.release() // the daemon stops; the file is damaged; it starts again
        try PosixStateFileSystem(directory: rig.dir).write(StateStore.stateFile, Array("{{{".utf8))
        try rig.start()
        #expect(rig.sink.names.contains("state_corrupt"))
    }

    @Test func lineBusyAtStartLeavesNothingHeld() throws {
        let rig = try Rig()
        rig.runtime.lines.release()
        rig.gpio.holdElsewhere(line: "led_b")
        #expect(throws: GPIOError.lineBusy(LineSpec(chip: "gpiosim", line: .name("led_b")).description)) { try rig.start() }
        #expect(!rig.gpio.isHeld(line: "relay"))
    }

    @Test func idlePlugNeedsNoWakeUps() throws {
        let rig = try Rig(prepare: Rig.registered())
        rig.advance(to: .zero.advanced(by: .seconds(5)))
        #expect(rig.runtime.nextWake(after: rig.clock.now) == nil)
    }
}

@Suite struct StatusLineTests {
    /// What `STATUS=` said when it was derived from `status(at:)`: relay, LED pattern, mode, fault.
    func derived(_ s: PlugStatus) -> String {
        "relay \(s.relay), LED \(s.ledPattern), \(s.mode)" + (s.fault.map { ", FAULT: \($0)" } ?? "")
    }

    @Test func statusLineSaysWhatTheStatusSays() throws {
        let rig = try Rig(prepare: Rig.registered())
        let runtime = rig.runtime!
        #expect(runtime.statusLine(at: rig.clock.now) == derived(runtime.status(at: rig.clock.now)))
        rig.advance(by: .seconds(2)) // past the start-up flashes
        rig.hold(.milliseconds(200)) // relay on: solid blue
        #expect(runtime.statusLine(at: rig.clock.now) == "relay on, LED \(runtime.machine.led(at: rig.clock.now)), normal")
        #expect(runtime.statusLine(at: rig.clock.now) == derived(runtime.status(at: rig.clock.now)))
        runtime.handle(.stateWriteFailed(reason: "disk full"), at: rig.clock.now)
        #expect(runtime.statusLine(at: rig.clock.now).hasSuffix(", FAULT: state cannot be written"))
        #expect(runtime.statusLine(at: rig.clock.now) == derived(runtime.status(at: rig.clock.now)))
        runtime.handle(.command(.simpleReset, source: .control), at: rig.clock.now)
        #expect(runtime.statusLine(at: rig.clock.now).contains(", setup"))
        #expect(runtime.statusLine(at: rig.clock.now) == derived(runtime.status(at: rig.clock.now)))
    }

    /// The loop rebuilds the line only when `statusKey` changes: whenever two instants' lines
    /// differ, their keys differ too (so no change of the line is ever left unsent).
    @Test func theStatusKeyChangesWheneverTheLineDoes() throws {
        let rig = try Rig(prepare: Rig.registered())
        let runtime = rig.runtime!
        var seen: [(key: PlugRuntime.StatusKey, line: String)] = []
        func note() { seen.append((runtime.statusKey(at: rig.clock.now), runtime.statusLine(at: rig.clock.now))) }
        note()
        for _ in 0..<20 { rig.advance(by: .milliseconds(100)); note() } // the start-up flashes end
        rig.hold(.milliseconds(200)); note() // relay on
        runtime.handle(.broker(connected: false), at: rig.clock.now); note()
        runtime.handle(.broker(connected: true), at: rig.clock.now); note()
        runtime.handle(.stateWriteFailed(reason: "disk full"), at: rig.clock.now); note()
        // The LED shows the fault whatever the relay does: only the line tells them apart.
        runtime.handle(.command(.off, source: .control), at: rig.clock.now); note()
        runtime.handle(.broker(connected: false), at: rig.clock.now); note()
        runtime.handle(.broker(connected: true), at: rig.clock.now); note()
        runtime.handle(.stateWriteSucceeded, at: rig.clock.now); note()
        runtime.handle(.command(.simpleReset, source: .control), at: rig.clock.now); note()
        for _ in 0..<10 { rig.advance(by: .milliseconds(150)); note() } // setup mode blinks
        #expect(Set(seen.map(\.line)).count >= 5, "the walk saw the line change")
        for a in seen {
            for b in seen where a.key == b.key {
                #expect(a.line == b.line, "same key, different lines: \(a.line) / \(b.line)")
            }
        }
    }
}
