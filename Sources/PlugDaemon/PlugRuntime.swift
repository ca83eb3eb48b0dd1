import PlugCore
import PlugGPIO
import PlugMQTT
import PlugStore

/// The daemon's engine: it feeds inputs to the pure `PlugMachine` and carries out its effects on
/// the edges — relay and LED lines, the state store, the event sink — and tells its caller when
/// it next needs to be woken. It never reads a clock itself: every call is given `now`.
///
/// State writes are coalesced: changes within `writeDelay` of the first become one write. A write
/// that fails is kept and tried again (`WriteRetry`: 1 s, doubling to 60 s) with the newest state,
/// until one succeeds and the fault clears; a factory reset that failed after its reset-pending
/// marker was written is retried the same way. Nothing is retried when nothing is pending.
/// Single-threaded; `run(clock:)` drives it from one task.
public final class PlugRuntime {
    /// The state machine (read it for status).
    public private(set) var machine: PlugMachine
    /// The plug's lines.
    public let lines: PlugLines
    private let store: StateStore
    let sink: any EventSink
    private let writeDelay: Duration
    /// The state to write and when: the coalescing delay, or the next retry after a failure.
    private var pendingWrite: (state: PlugState, at: MonotonicInstant)?
    /// A committed factory reset (its marker is on disk) that failed: when to try it again.
    private var pendingReset: MonotonicInstant?
    private var retry = WriteRetry()
    /// Why the last factory reset failed, until one succeeds; `answer` replies with it.
    var resetFailure: String?
    /// The colour currently shown on the LED lines.
    public private(set) var shownColor: LEDColor?
    /// The instant the LED was last brought up to date (`updateLED`).
    private var ledShownAt: MonotonicInstant = .zero
    /// The countdown last reported to MQTT, and its report (`snapshot(at:unixNow:)`).
    var countdownReported: (Countdown, CountdownReport)?
    /// Keeps storms of one event out of the journal (`LogThrottle`).
    private var throttle = LogThrottle()
    /// While a run loop carries out a batch of events, due state writes wait for its end: a
    /// flood of commands with `write_delay_ms = 0` costs one write per batch, not one per command,
    /// and the button's edge behind it is not held up by thousands of fsyncs.
    var batching = false
    /// The schedules' edge, if the config has schedules: its timer's descriptor is polled by
    /// the run loop (`run`), which calls `updateSchedules`.
    public var schedules: ScheduleDriver?
    /// Called with the old state just before a factory reset wipes it (the MQTT client removes
    /// the plug from Home Assistant while it still knows the old identity). It may block briefly.
    public var beforeWipe: ((PlugState) -> Void)?

    /// Opens the state, requests the lines (relay at its restored level) and starts the machine.
    /// With a `keeper` (systemd's fd store), the relay's request kept by the previous run is
    /// taken over, so a restart, crash or upgrade never cuts the appliance's power. `boot` is the
    /// kernel's boot id (`BootID.current`), against which a saved countdown is read.
    ///
    /// - Throws: `GPIOError` if a line cannot be requested (nothing is left held), or
    ///   `StateStoreError` if the state directory cannot be read at all.
    public init(
        backend: any GPIOBackend, wiring: Wiring, store: StateStore, policy: PowerOnPolicy,
        timings: PlugTimings = PlugTimings(), writeDelay: Duration = .seconds(1),
        keeper: (any LineKeeper)? = nil, boot: String = "", sink: any EventSink, now: MonotonicInstant
    ) throws {
        let opened = try store.open()
        self.store = store
        self.sink = sink
        self.writeDelay = writeDelay
        let relayOn = PlugMachine.relayAtPowerOn(
            state: opened.state, policy: policy, resetCompleted: opened.resetCompleted, boot: boot)
        lines = try PlugLines(backend: backend, wiring: wiring, relayOn: relayOn, keeper: keeper)
        var relayHeld: Bool?
        switch lines.relayStart {
        case .requested: break
        case .adopted(let level): relayHeld = level
        case .refused(let reason):
            sink.record(
                PlugEvent(
                    .relayNotAdopted, "The relay line kept through the restart was not taken over (\(reason)): requested anew",
                    priority: .warning, fields: [.reason: reason]))
        }
        let pressed: Bool
        do { pressed = try lines.button.isPressed() } catch { lines.release(); throw error }
        // Edges the kernel has already debounced (libgpiod v2) are clean: waiting the window
        // again in software would only add latency.
        var timings = timings
        if let kernel = lines.button.kernelDebounce, kernel >= timings.button.debounce { timings.button.debounce = .zero }
        let (machine, effects) = PlugMachine.start(
            state: opened.state, policy: policy, timings: timings,
            buttonPressed: pressed,
            resetCompletedAtStart: opened.resetCompleted, relayHeld: relayHeld, boot: boot, at: now)
        self.machine = machine
        if let aside = opened.setAside {
            sink.record(
                PlugEvent(
                    .stateCorrupt, "State file was corrupt: moved aside to \(aside), defaults used",
                    priority: .error, fields: [.file: aside]))
        }
        if opened.created {
            sink.record(PlugEvent(.stateCreated, "No state found: new plug \(opened.state.identity.uuidString)", priority: .notice))
        }
        if let board = opened.state.board, opened.bound {
            sink.record(
                PlugEvent(
                    .stateBound, "State bound to this board (\(board), from \(PlugState.source(ofBoard: board))): a copy of it on another board will start as a new plug",
                    priority: .notice, fields: [.board: board]))
        }
        if let board = opened.state.board, let copy = opened.cloned {
            sink.record(
                PlugEvent(
                    .stateCloned,
                    """
                    The state was made on another board (\(copy.board ?? "?"); this board is \(board), from \
                    \(PlugState.source(ofBoard: board))): a copied SD card. So that two plugs never share one identity, this \
                    one is a new plug \(opened.state.identity.uuidString) (the copy's was \(copy.identity.uuidString), \
                    "\(copy.name)"), not set up: hold the button 5 s or run plugctl setup --name NAME
                    """, priority: .warning,
                    fields: [
                        .board: board, .copiedBoard: copy.board ?? "", .identity: opened.state.identity.uuidString,
                        .copiedIdentity: copy.identity.uuidString,
                    ]))
        }
        perform(effects, at: now)
        updateLED(at: now)
    }

    /// Feeds one input at `now` and carries out the consequences.
    public func handle(_ input: PlugMachine.Input, at now: MonotonicInstant) {
        perform(machine.handle(input, at: now), at: now)
        if !batching { flushIfDue(at: now) }
        for summary in throttle.due(at: now) { sink.record(summary) }
        updateLED(at: now)
    }

    /// Works the schedules out (at start, when their timer expires, when the clock was set) and
    /// carries out what runs.
    public func updateSchedules(at now: MonotonicInstant, woke: Bool = false) {
        guard let schedules else { return }
        let (input, logs) = woke ? schedules.woke() : schedules.update()
        for event in logs { log(event, at: now) }
        if let input { handle(input, at: now) }
    }

    /// Records `event` in the journal (and for watchers), unless it is part of a storm.
    func log(_ event: PlugEvent, at now: MonotonicInstant) {
        for e in throttle.admit(event, at: now) { sink.record(e) }
    }

    /// Carries out a batch of loop events, then the state write they made due (one for all).
    /// A control request is the exception: it is answered only once its change is written when
    /// the write is due (`write_delay_ms = 0`), so an acknowledged command is on disk.
    func process(_ events: [LoopEvent], at now: MonotonicInstant) {
        batching = true
        for event in events { process(event, at: now) }
        batching = false
        flushIfDue(at: now)
    }

    /// Writes the pending state if its time has come.
    func flushIfDue(at now: MonotonicInstant) {
        if let due = storageDue, due <= now { flush(at: now) }
    }

    /// When the runtime next needs `handle(.tick, at:)`: a machine deadline, the LED's next
    /// change, a coalesced write, or a storm's summary. `nil` when idle — no timer at all.
    ///
    /// The LED's next change is the one after the instant it was last brought up to date, not
    /// after `now`: a change that fell between the two (a slow pass) is then due at once rather
    /// than skipped. Skipped, the end of the start-up flashes left the LED dark with the relay
    /// on until the next event (seen once under emulation).
    public func nextWake(after now: MonotonicInstant) -> MonotonicInstant? {
        earliest(
            machine.nextDeadline, machine.led(at: ledShownAt).nextChange(after: ledShownAt), storageDue,
            throttle.nextDeadline)
    }

    /// Ticks the runtime at every instant it asks to be woken at, from after `now` up to `t`,
    /// then at `t`: the loop's passes without the waiting. Tests on a manual clock drive the
    /// runtime with it, moving the clock to each instant first in `visit`.
    public func advance(from now: MonotonicInstant, to t: MonotonicInstant, visiting visit: (MonotonicInstant) -> Void = { _ in }) {
        var now = now, last: MonotonicInstant?
        while let wake = nextWake(after: now), wake <= t, wake != last {
            last = wake
            now = max(now, wake)
            visit(now)
            handle(.tick, at: now)
        }
        now = max(now, t)
        visit(now)
        handle(.tick, at: now)
    }

    /// When the state directory is next due: a committed reset's retry (it supersedes any
    /// write), else the pending write's delay or retry.
    private var storageDue: MonotonicInstant? { pendingReset ?? pendingWrite?.at }

    /// Writes a pending state change now (at shutdown, or when its delay or retry time has
    /// come); first finishes a committed factory reset that failed, which supersedes it.
    public func flush(at now: MonotonicInstant) {
        if pendingReset != nil {
            pendingWrite = nil // the reset wipes whatever it would have written
            wipe(at: now)
            return
        }
        guard let pending = pendingWrite else { return }
        do {
            try store.save(pending.state)
            pendingWrite = nil
            retry.succeeded()
            if machine.fault != nil { handle(.stateWriteSucceeded, at: now) }
        } catch {
            // Kept, with the newest state folded in by later saves, and tried again later.
            pendingWrite = (pending.state, now.advanced(by: retry.failed()))
            handle(.stateWriteFailed(reason: "\(error)"), at: now)
        }
    }

    private func perform(_ effects: [PlugMachine.Effect], at now: MonotonicInstant) {
        for effect in effects {
            switch effect {
            case .setRelay(let on):
                do { try lines.relay.set(on) } catch {
                    log(PlugEvent(.gpioError, "Cannot drive the relay: \(error)", priority: .error), at: now)
                }
            case .save(let state):
                pendingWrite = (state, pendingWrite?.at ?? now.advanced(by: writeDelay))
            case .wipeState:
                pendingWrite = nil
                updateLED(at: now) // show "factory reset running" before the (blocking) wipe
                beforeWipe?(machine.state)
                wipe(at: now)
            case .log(let event):
                log(event, at: now)
            }
        }
    }

    /// Wipes the state directory. On failure the machine keeps the identity the plug really has
    /// and shows the fault; a committed reset is retried (and the next start finishes it too).
    private func wipe(at now: MonotonicInstant) {
        do {
            let fresh = try store.factoryReset()
            pendingReset = nil
            retry.succeeded()
            resetFailure = nil
            handle(.factoryResetFinished(fresh), at: now)
        } catch {
            let committed = (error as? FactoryResetError)?.committed ?? false
            pendingReset = committed ? now.advanced(by: retry.failed()) : nil
            resetFailure = "\(error)"
            handle(.factoryResetFailed(reason: "\(error)", committed: committed), at: now)
        }
    }

    private func updateLED(at now: MonotonicInstant) {
        ledShownAt = now
        let color = machine.led(at: now).color(at: now)
        guard color != shownColor else { return }
        do {
            try lines.show(color)
            shownColor = color
        } catch {
            log(PlugEvent(.gpioError, "Cannot drive the LED: \(error)", priority: .error), at: now)
        }
    }
}

/// How long to wait before trying a failed state write again: 1 s, doubling to 60 s, back to
/// 1 s after a success. An SD card that went read-only costs one failing write a minute.
struct WriteRetry {
    static let first = Duration.seconds(1)
    static let longest = Duration.seconds(60)
    private var next = first

    /// The delay before the next attempt, after one more failure.
    mutating func failed() -> Duration {
        defer { next = min(next * 2, Self.longest) }
        return next
    }

    mutating func succeeded() { next = Self.first }
}
