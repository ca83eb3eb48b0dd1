/// The whole behaviour of the plug as a pure state machine: button gestures (with software
/// debounce), relay, setup mode, simple reset, factory reset, deregister, start-up hold,
/// stuck-button cancel, fault, and the LED pattern that follows from all of them.
///
/// It performs no I/O and reads no clock. Every input carries or is given the current instant;
/// the machine answers with `Effect`s for the runtime to carry out, and tells the runtime when
/// it next needs to be woken (`nextDeadline`). With nothing pending it asks for no wake-up.
public struct PlugMachine: Sendable {
    /// A request from `plugctl` (or any other controller).
    public enum Command: Equatable, Sendable {
        case on, off, toggle
        /// Complete setup: optionally rename, mark registered, leave setup mode.
        case setup(name: String?)
        /// Simple reset: enter setup mode, keep identity and registration.
        case simpleReset
        case factoryReset
        /// Remove the registration, then factory reset.
        case deregister
        /// Blink the LED green for a few seconds, to find this plug among others.
        case identify
        /// Switch the relay to `on` now and back after `for` (a countdown; the control
        /// socket takes 1 s to 7 days, `ControlRequestMessage.secondsRange`).
        case timed(on: Bool, for: Duration)
        /// End the countdown without switching the relay.
        case cancelTimer
    }

    /// Something that happened, fed to `handle(_:at:)`.
    public enum Input: Equatable, Sendable {
        /// A raw button edge (`pressed` after active-low is applied) with its kernel timestamp.
        case button(pressed: Bool, at: MonotonicInstant)
        /// A command and who sent it.
        case command(Command, source: EventSource)
        /// The runtime finished wiping the state directory; this is the new plug's state. It may
        /// come after `.factoryResetFailed(committed: true)`, when a retry succeeded.
        case factoryResetFinished(PlugState)
        /// The runtime could not wipe the state directory. `committed`: the reset-pending marker
        /// is on disk, so the reset completes later (a retry, or the next start); otherwise
        /// nothing was wiped.
        case factoryResetFailed(reason: String, committed: Bool)
        /// Writing the state failed (the plug becomes degraded) …
        case stateWriteFailed(reason: String)
        /// … or succeeded (a fault clears).
        case stateWriteSucceeded
        /// The MQTT client connected to its broker (`true`) or lost it / failed to reach it.
        case broker(connected: Bool)
        /// Schedules ran (`Scheduler`): their runs in order, and the wall-clock instant up to
        /// which they are done (`PlugState.scheduleSeen`), if it moved.
        case schedule(runs: [ScheduleRun], seen: Int64?)
        /// Only time has passed (a deadline was reached).
        case tick
    }

    /// What the runtime must do.
    public enum Effect: Equatable, Sendable {
        /// Drive the relay line.
        case setRelay(Bool)
        /// Persist this state (the runtime may coalesce writes).
        case save(PlugState)
        /// Factory reset: mark reset-pending, wipe the state directory, make a new identity, then
        /// answer with `.factoryResetFinished`.
        case wipeState
        /// Write one journal entry.
        case log(PlugEvent)
    }

    /// The plug's mode.
    public enum Mode: Equatable, Sendable {
        case normal
        /// Setup mode (blue blinking) since the instant.
        case setup(since: MonotonicInstant)
        /// A factory reset is running since the instant; `finished` once the wipe is done.
        case factoryResetting(since: MonotonicInstant, finished: Bool)
        /// The reset completed at the instant (solid blue for a while, then setup mode).
        case resetComplete(since: MonotonicInstant)
    }

    /// How far the current hold has gone (by the time handled so far; the release itself is
    /// judged by its kernel timestamp).
    public enum HoldStage: Int, Comparable, Sendable {
        case short, setupArmed, factoryArmed, stuck
        public static func < (a: HoldStage, b: HoldStage) -> Bool { a.rawValue < b.rawValue }
    }

    /// A press being held.
    public struct Hold: Equatable, Sendable {
        /// The kernel timestamp of the press.
        public var start: MonotonicInstant
        /// The button was already pressed when the daemon started.
        public var startup: Bool
        public var stage: HoldStage
        /// A factory reset began during this hold (or the press came during one): the hold is
        /// void, and its release does nothing. A new press counts again.
        public var voided: Bool = false
    }

    /// The timings in force.
    public let timings: PlugTimings
    /// The persisted state as the machine knows it.
    public private(set) var state: PlugState
    /// The relay's level.
    public private(set) var relayOn: Bool
    /// The current mode.
    public private(set) var mode: Mode
    /// The current hold, if the button is (debounced) pressed.
    public private(set) var hold: Hold?
    /// Short presses counted towards a double or triple press (multi-press on).
    public struct PressSequence: Equatable, Sendable {
        public var count: Int
        /// The last one's release (kernel timestamp).
        public var lastRelease: MonotonicInstant
    }
    /// The presses of a sequence not yet finished: it ends when the multi-press gap passes
    /// after the last release with no new press (or at the third press).
    public private(set) var presses: PressSequence?
    /// Since when the plug is degraded, if it is.
    public private(set) var fault: MonotonicInstant?
    /// When the machine started.
    public let started: MonotonicInstant
    /// Whether the MQTT client is connected to its broker; `nil` without MQTT.
    public private(set) var brokerConnected: Bool?
    /// Since when the MQTT broker is unreachable; `nil` while connected or without MQTT.
    public private(set) var brokerDown: MonotonicInstant?
    /// Since when the LED identifies the plug, if it does.
    public private(set) var identifying: MonotonicInstant?
    private var debouncer: Debouncer
    private var now: MonotonicInstant
    /// At most `timings.relayMaxChanges` relay changes per `timings.relayChangeWindow`.
    public private(set) var flood: RelayFloodGuard
    /// The boot the machine runs in (the kernel's boot id): a countdown started in another
    /// boot has ended.
    public let boot: String

    /// The countdown that runs, if any (it is part of the state).
    public var countdown: Countdown? { state.countdown }

    /// The relay's level when the plug gets power: off after a factory reset the start
    /// finished, else what the power-on policy (the state's own, else the config's) says of the
    /// remembered level. The one place this rule lives: the lines are requested at this level
    /// before the machine starts, and the machine starts from it.
    ///
    /// A countdown started in another boot ended while the plug had no power (or rebooted): the
    /// remembered level is then the one the countdown would have set, so under `last` the plug
    /// comes back as it would be had the power stayed on; `on` and `off` apply as always.
    public static func relayAtPowerOn(state: PlugState, policy: PowerOnPolicy, resetCompleted: Bool, boot: String) -> Bool {
        guard !resetCompleted else { return false }
        var remembered = state.relayOn
        if let c = state.countdown, c.boot != boot { remembered = c.level }
        return (state.powerOnPolicy ?? policy).initialRelay(remembered: remembered)
    }

    /// Starts the machine.
    ///
    /// - Parameters:
    ///   - state: the state read from the state directory.
    ///   - policy: the config's power-on policy (the state's preference overrides it).
    ///   - buttonPressed: the button's level at start-up (a start-up hold if `true`).
    ///   - resetCompletedAtStart: the state store finished an interrupted factory reset.
    ///   - relayHeld: the relay line's level when its request was kept through a restart of
    ///     plugd (systemd held it): the plug did not lose power, so the power-on policy does not
    ///     apply and the relay follows the state file (off after a reset the start finished).
    ///   - boot: the kernel's boot id: a countdown in the state goes on if it was started in
    ///     this boot, and counts as ended if not.
    /// - Returns: the machine and the effects of starting (log entries, a state write if the
    ///   relay's remembered level changed, the relay set if a held line differs from the state).
    public static func start(
        state: PlugState, policy: PowerOnPolicy, timings: PlugTimings = PlugTimings(),
        buttonPressed: Bool, resetCompletedAtStart: Bool = false, relayHeld: Bool? = nil,
        boot: String = "", at now: MonotonicInstant
    ) -> (PlugMachine, [Effect]) {
        var machine = PlugMachine(
            state: state, policy: policy, timings: timings,
            buttonPressed: buttonPressed, reset: resetCompletedAtStart, boot: boot, now: now)
        var fx: [Effect] = []
        let effective = state.powerOnPolicy ?? policy
        if let relayHeld {
            machine.relayOn = resetCompletedAtStart ? false : state.relayOn
            fx.append(
                .log(
                    PlugEvent(
                        .started, "plugd restarted, relay \(onOff(machine.relayOn)) (its line was held through the restart)",
                        fields: [.relay: onOff(machine.relayOn), .policy: effective.rawValue])))
            if relayHeld == machine.relayOn {
                fx.append(
                    .log(
                        PlugEvent(
                            .relayAdopted, "Relay line held through the restart: kept \(onOff(relayHeld))",
                            fields: [.relay: onOff(relayHeld), .relayHeld: onOff(relayHeld)])))
            } else {
                fx.append(.setRelay(machine.relayOn))
                let why = resetCompletedAtStart ? "a factory reset finished at start-up" : "the state file says \(onOff(machine.relayOn))"
                fx.append(
                    .log(
                        PlugEvent(
                            .relayAdopted, "Relay line held through the restart at \(onOff(relayHeld)), switched \(onOff(machine.relayOn)): \(why)",
                            priority: .notice,
                            fields: [.relay: onOff(machine.relayOn), .relayHeld: onOff(relayHeld)])))
            }
        } else {
            fx.append(
                .log(
                    PlugEvent(
                        .started, "plugd started, relay \(onOff(machine.relayOn)) (power-on policy \(effective.rawValue))",
                        fields: [.relay: onOff(machine.relayOn), .policy: effective.rawValue])))
        }
        if resetCompletedAtStart {
            fx.append(
                .log(
                    PlugEvent(
                        .factoryResetComplete, "An interrupted factory reset was completed at start-up",
                        priority: .notice, fields: [.source: EventSource.startup.rawValue])))
        }
        if buttonPressed {
            fx.append(
                .log(
                    PlugEvent(
                        .startupHold, "Button held at start-up: no toggle; hold 12 s and release to factory reset",
                        priority: .notice)))
        }
        if let c = machine.state.countdown {
            if resetCompletedAtStart {
                machine.state.countdown = nil
            } else if c.boot != boot {
                // Ended while plugd was not running in this boot: a power cut or a reboot.
                machine.state.countdown = nil
                fx.append(
                    .log(
                        PlugEvent(
                            .timerLapsed,
                            """
                            A countdown that was to switch the relay \(onOff(c.level)) ended while the plug had no power or \
                            rebooted; the relay starts \(onOff(machine.relayOn)) (power-on policy \(effective.rawValue))
                            """, priority: .notice, fields: [.relay: onOff(machine.relayOn), .policy: effective.rawValue])))
                fx.append(.save(machine.state))
            }
        }
        if machine.state.relayOn != machine.relayOn {
            machine.state.relayOn = machine.relayOn
            fx.append(.save(machine.state))
        }
        if !resetCompletedAtStart { machine.followAutoRule(&fx) }
        return (machine, fx)
    }

    private init(
        state: PlugState, policy: PowerOnPolicy, timings: PlugTimings, buttonPressed: Bool,
        reset: Bool, boot: String, now: MonotonicInstant
    ) {
        self.timings = timings
        self.state = state
        self.started = now
        self.now = now
        self.boot = boot
        relayOn = Self.relayAtPowerOn(state: state, policy: policy, resetCompleted: reset, boot: boot)
        if reset {
            mode = .resetComplete(since: now)
        } else if !state.registered {
            mode = .setup(since: now)
        } else {
            mode = .normal
        }
        hold = buttonPressed ? Hold(start: now, startup: true, stage: .short) : nil
        debouncer = Debouncer(initial: buttonPressed, at: now, window: timings.button.debounce)
        flood = RelayFloodGuard(limit: timings.relayMaxChanges, window: timings.relayChangeWindow)
    }

    // MARK: - Inputs

    /// Feeds one input at `now` and returns what the runtime must do.
    public mutating func handle(_ input: Input, at now: MonotonicInstant) -> [Effect] {
        var fx: [Effect] = []
        switch input {
        case .button(let pressed, let t):
            advance(to: t, &fx)
            // The edge keeps its kernel timestamp even when it is handled after a deadline that
            // lies past it: a release stamped 11.999 s into a hold is a simple reset even if the
            // 12 s deadline was handled first (the LED may have shown orange for that moment).
            if let change = debouncer.edge(pressed, at: t) { debounced(change, &fx) }
            advance(to: now, &fx)
        case .command(let command, let source):
            advance(to: now, &fx)
            perform(command, source: source, &fx)
        case .factoryResetFinished(let fresh):
            advance(to: now, &fx)
            resetFinished(fresh, &fx)
            advance(to: now, &fx)
        case .factoryResetFailed(let reason, let committed):
            advance(to: now, &fx)
            resetFailed(reason: reason, committed: committed, &fx)
        case .stateWriteFailed(let reason):
            advance(to: now, &fx)
            if fault == nil {
                fault = now
                fx.append(.log(PlugEvent(.fault, "State cannot be written, running degraded: \(reason)", priority: .error)))
            }
        case .stateWriteSucceeded:
            advance(to: now, &fx)
            clearFault(&fx)
        case .broker(let connected):
            advance(to: now, &fx)
            brokerConnected = connected
            if connected { brokerDown = nil } else if brokerDown == nil { brokerDown = now }
        case .schedule(let runs, let seen):
            advance(to: now, &fx)
            for run in runs { scheduled(run, &fx) }
            if let seen, seen != state.scheduleSeen {
                state.scheduleSeen = seen
                fx.append(.save(state))
            }
        case .tick:
            advance(to: now, &fx)
        }
        return fx
    }

    /// A schedule's run: its action, as any switch (through the flood guard, ending a
    /// countdown, starting an auto-off); refused during a factory reset like a command.
    private mutating func scheduled(_ run: ScheduleRun, _ fx: inout [Effect]) {
        let fields: [EventField: String] = [.schedule: run.name, .source: EventSource.schedule.rawValue]
        if resetting {
            fx.append(
                .log(
                    PlugEvent(
                        .commandRejected, "\(run.name.capitalizedSchedule) not run: factory reset in progress",
                        priority: .warning, fields: fields)))
            return
        }
        let level: Bool
        switch run.entry.action {
        case .on: level = true
        case .off: level = false
        case .toggle: level = toggledLevel
        }
        fx.append(
            .log(
                PlugEvent(
                    .scheduleFired, "\(run.name.capitalizedSchedule)\(run.late ? ", missed and run late (catch_up)" : ""): relay \(onOff(level))",
                    priority: .notice, fields: fields.merging([.relay: onOff(level)]) { a, _ in a })))
        setRelay(level, source: .schedule, &fx)
    }

    /// Ticks the machine at each of its deadlines up to `t`, then at `t`: in one call, what a
    /// run loop that wakes at every deadline does on the way (tests, and tools that replay a
    /// timeline). No clock is read; the instants are the machine's own deadlines.
    public mutating func tick(through t: MonotonicInstant) -> [Effect] {
        var fx: [Effect] = []
        while let d = nextDeadline, d <= t, d >= now {
            fx += handle(.tick, at: d)
            if nextDeadline == d { break } // a deadline that does not move on: once is enough
        }
        fx += handle(.tick, at: max(now, t))
        return fx
    }

    /// The next instant at which the machine must be woken with `.tick`, or `nil` if none.
    public var nextDeadline: MonotonicInstant? {
        var holdDeadline: MonotonicInstant?
        if let hold, debouncer.level, !hold.voided {
            let b = timings.button
            switch hold.stage {
            case .short: holdDeadline = hold.start.advanced(by: hold.startup ? b.factoryHold : b.setupHold)
            case .setupArmed: holdDeadline = hold.start.advanced(by: b.factoryHold)
            case .factoryArmed: holdDeadline = hold.start.advanced(by: b.stuckHold)
            case .stuck: holdDeadline = nil
            }
        }
        return earliest(
            debouncer.deadline, holdDeadline, modeDeadline, identifying?.advanced(by: timings.identifyShown),
            flood.deadline, state.countdown?.due, pressesDue)
    }

    /// The LED conditions at the machine's current time.
    public var ledConditions: LEDConditions {
        var c = LEDConditions()
        switch mode {
        case .factoryResetting(let since, _): c.factoryResetRunning = since
        case .resetComplete(let since): c.resetComplete = since
        case .setup(let since): c.setupMode = since
        case .normal: break
        }
        if let hold, !hold.voided {
            c.startupHoldArmed = hold.startup && hold.stage == .factoryArmed
            c.factoryResetArmed = !hold.startup && hold.stage == .factoryArmed
            c.setupArmed = !hold.startup && hold.stage == .setupArmed
        }
        c.fault = fault
        c.identify = identifying
        c.brokerUnreachable = timings.showBrokerUnreachable ? brokerDown : nil
        c.started = started
        c.relayOn = relayOn
        return c
    }

    /// The LED pattern to show at `now`.
    public func led(at now: MonotonicInstant) -> LEDPattern {
        LEDEngine.pattern(for: ledConditions, at: now)
    }

    /// Whether the plug is in setup mode.
    public var inSetupMode: Bool {
        if case .setup = mode { return true }
        return false
    }

    // MARK: - Time

    /// When a press sequence ends: the gap after its last release, plus the debounce (a press
    /// that began within the gap is only known once debounced). None while the button is down.
    private var pressesDue: MonotonicInstant? {
        guard let presses, hold == nil else { return nil }
        return presses.lastRelease.advanced(by: timings.button.multiPressGap + timings.button.debounce)
    }

    private var modeDeadline: MonotonicInstant? {
        switch mode {
        case .normal: nil
        case .setup(let since): since.advanced(by: timings.setupTimeout)
        case .factoryResetting(let since, let finished):
            finished ? since.advanced(by: timings.factoryResetMinimumShown) : nil
        case .resetComplete(let since): since.advanced(by: timings.resetCompleteShown)
        }
    }

    private mutating func advance(to t: MonotonicInstant, _ fx: inout [Effect]) {
        if t > now { now = t }
        if let since = identifying, since.advanced(by: timings.identifyShown) <= now { identifying = nil }
        if let change = debouncer.advance(to: now) { debounced(change, &fx) }
        escalateHold(&fx)
        if let due = pressesDue, due <= now, debouncer.deadline == nil { finishPresses(&fx) }
        advanceMode(&fx)
        if let (level, source) = flood.pending, let room = flood.roomAt, room <= now {
            flood.clearPending()
            if level != relayOn, flood.admit(at: now) { changeRelay(level, source: source, delayed: true, &fx) }
        }
        if let c = state.countdown, c.due <= now { countdownEnded(c, &fx) }
        reportFlood(&fx)
    }

    /// The countdown is over: the relay goes to its level (through the flood guard, as any
    /// change), and the state no longer holds it.
    private mutating func countdownEnded(_ c: Countdown, _ fx: inout [Effect]) {
        state.countdown = nil
        fx.append(
            .log(
                PlugEvent(
                    .timerFired, "\(c.title) ended: relay \(onOff(c.level))",
                    priority: .notice, fields: [.relay: onOff(c.level), .source: EventSource.timer.rawValue])))
        setRelay(c.level, source: .timer, &fx)
        fx.append(.save(state))
    }

    /// Ends the countdown, if one runs, because `why`; the relay stays as it is.
    private mutating func cancelCountdown(_ why: String, source: EventSource, _ fx: inout [Effect]) {
        guard let c = state.countdown else { return }
        state.countdown = nil
        fx.append(.save(state))
        fx.append(
            .log(
                PlugEvent(
                    .timerCancelled, "\(c.title) cancelled (\(why)): the relay will not be switched \(onOff(c.level))",
                    priority: .notice, fields: [.relay: onOff(relayOn), .source: source.rawValue])))
    }

    private mutating func advanceMode(_ fx: inout [Effect]) {
        while let deadline = modeDeadline, deadline <= now {
            switch mode {
            case .factoryResetting:
                mode = .resetComplete(since: deadline)
                fx.append(
                    .log(
                        PlugEvent(
                            .factoryResetComplete, "Factory reset complete; new identity \(state.identity.uuidString)",
                            priority: .notice, fields: [.identity: state.identity.uuidString])))
            case .resetComplete:
                mode = .setup(since: deadline)
                fx.append(.log(PlugEvent(.setupMode, "Setup mode entered after factory reset", priority: .notice)))
            case .setup:
                mode = .normal
                fx.append(.log(PlugEvent(.setupTimeout, "Setup mode timed out", priority: .notice)))
            case .normal:
                return
            }
        }
    }

    /// Moves the hold through its stages up to the present — but not past a release that is
    /// still being debounced, whose kernel timestamp is when the hold really ended.
    private mutating func escalateHold(_ fx: inout [Effect]) {
        guard var h = hold, debouncer.level, !h.voided, h.stage != .stuck else { return }
        var until = now
        if let pendingRelease = debouncer.deadline?.advanced(by: .zero - timings.button.debounce), pendingRelease < until {
            until = pendingRelease
        }
        let held = h.start.duration(to: until)
        let b = timings.button
        if h.stage < .setupArmed, !h.startup, held >= b.setupHold {
            h.stage = .setupArmed
            fx.append(
                .log(
                    PlugEvent(
                        .holdSetup, "Button held \(b.setupHold): release now for setup mode",
                        fields: [.holdMs: "\(held.milliseconds)"])))
        }
        if h.stage < .factoryArmed, held >= b.factoryHold {
            h.stage = .factoryArmed
            fx.append(
                .log(
                    PlugEvent(
                        h.startup ? .startupHoldArmed : .holdFactory,
                        "Button held \(b.factoryHold): release now for factory reset",
                        priority: .notice, fields: [.holdMs: "\(held.milliseconds)"])))
        }
        if held >= b.stuckHold {
            h.stage = .stuck
            fx.append(
                .log(
                    PlugEvent(
                        .stuckButton, "Button held \(b.stuckHold): treated as stuck, hold cancelled, nothing reset",
                        priority: .warning, fields: [.holdMs: "\(held.milliseconds)"])))
        }
        hold = h
    }

    // MARK: - Button

    /// Whether commands are carried out now (not during a factory reset).
    public var acceptsCommands: Bool { !resetting }

    private var resetting: Bool {
        switch mode {
        case .factoryResetting, .resetComplete: true
        default: false
        }
    }

    private mutating func debounced(_ change: DebouncedChange, _ fx: inout [Effect]) {
        if change.pressed {
            hold = Hold(start: change.at, startup: false, stage: .short)
            if resetting {
                fx.append(.log(PlugEvent(.buttonIgnored, "Button pressed during a factory reset: ignored")))
                hold?.voided = true
                return
            }
            // A press after the gap starts a new sequence: the one before is complete.
            if let p = presses, change.at >= p.lastRelease.advanced(by: timings.button.multiPressGap) { finishPresses(&fx) }
            let b = timings.button
            if b.multiPressGap == .zero, b.mode == .toggle, b.toggleOn == .press { toggleRelay(source: .button, &fx) }
            return
        }
        guard let h = hold else { return }
        hold = nil
        let held = h.start.duration(to: change.at)
        // Only short presses make a sequence; anything longer (or void) ends one unfinished.
        if h.voided || h.startup || held >= timings.button.setupHold { presses = nil }
        let fields: [EventField: String] = [.holdMs: "\(held.milliseconds)", .source: EventSource.button.rawValue]
        let b = timings.button
        // Judged by the hold's length between kernel timestamps, not by the stage reached when
        // the last deadline was handled.
        if h.voided {
            fx.append(
                .log(
                    PlugEvent(
                        .ignoredPressReleased, "Button released after a press voided by a factory reset: nothing done",
                        fields: fields)))
        } else if held >= b.stuckHold {
            fx.append(
                .log(
                    PlugEvent(
                        .stuckButtonReleased, "Button released after a hold cancelled as stuck: nothing done",
                        priority: .notice, fields: fields)))
        } else if h.startup {
            if held >= b.factoryHold {
                startFactoryReset(source: .button, fields: fields, &fx)
            } else {
                fx.append(
                    .log(
                        PlugEvent(
                            .startupHoldReleased, "Start-up hold released before \(b.factoryHold): nothing done",
                            fields: fields)))
            }
        } else if held < b.setupHold {
            fx.append(.log(PlugEvent(.shortPress, "Short press", fields: fields)))
            if b.multiPressGap == .zero {
                if b.mode == .toggle, b.toggleOn == .release { toggleRelay(source: .button, &fx) }
                reportPresses(1, &fx)
            } else {
                let count = (presses?.count ?? 0) + 1
                presses = PressSequence(count: count, lastRelease: change.at)
                if count == 3 { finishPresses(&fx) } // nothing counts beyond a triple
            }
        } else if held < b.factoryHold {
            enterSetup(source: .button, fields: fields, &fx)
        } else {
            startFactoryReset(source: .button, fields: fields, &fx)
        }
    }

    /// A press sequence is complete: report it, and do what it asks.
    private mutating func finishPresses(_ fx: inout [Effect]) {
        guard let p = presses else { return }
        presses = nil
        reportPresses(p.count, &fx)
        act(pressAction(p.count), &fx)
    }

    /// What `count` presses do: a single press toggles in toggle mode (nothing when detached),
    /// a double or triple what the config says.
    private func pressAction(_ count: Int) -> PressAction {
        let b = timings.button
        switch count {
        case 1: return b.mode == .toggle ? .toggle : .none
        case 2: return b.doublePress
        default: return b.triplePress
        }
    }

    /// "Single press" (or double, triple) for the journal, `plugctl watch` and MQTT.
    private func reportPresses(_ count: Int, _ fx: inout [Effect]) {
        let word = ["single", "double", "triple"][min(count, 3) - 1]
        let action = pressAction(count)
        let does = action == .none ? "reported only" : "relay \(action.rawValue)"
        fx.append(
            .log(
                PlugEvent(
                    .buttonPress, "\(word.prefix(1).uppercased() + word.dropFirst()) press (\(does))",
                    fields: [.presses: word, .source: EventSource.button.rawValue])))
    }

    private mutating func act(_ action: PressAction, _ fx: inout [Effect]) {
        switch action {
        case .none: break
        case .on: setRelay(true, source: .button, &fx)
        case .off: setRelay(false, source: .button, &fx)
        case .toggle: toggleRelay(source: .button, &fx)
        }
    }

    // MARK: - Actions

    private mutating func perform(_ command: Command, source: EventSource, _ fx: inout [Effect]) {
        let fields: [EventField: String] = [.source: source.rawValue]
        if resetting {
            fx.append(
                .log(
                    PlugEvent(
                        .commandRejected, "Command \(command) rejected: factory reset in progress",
                        priority: .warning, fields: fields)))
            return
        }
        switch command {
        case .on: setRelay(true, source: source, &fx)
        case .off: setRelay(false, source: source, &fx)
        case .toggle: toggleRelay(source: source, &fx)
        case .setup(let name):
            if let name { state.name = name }
            state.registered = true
            if inSetupMode { mode = .normal }
            fx.append(.save(state))
            fx.append(.log(PlugEvent(.setupComplete, "Setup complete, name \"\(state.name)\"", priority: .notice, fields: fields)))
        case .simpleReset: enterSetup(source: source, fields: fields, &fx)
        case .factoryReset: startFactoryReset(source: source, fields: fields, &fx)
        case .deregister:
            state.registered = false
            fx.append(.save(state))
            fx.append(.log(PlugEvent(.deregistered, "Registration removed; factory reset follows", priority: .notice, fields: fields)))
            startFactoryReset(source: source, fields: fields, &fx)
        case .identify:
            identifying = now
            fx.append(.log(PlugEvent(.identify, "Identify: LED blinks green for \(timings.identifyShown)", fields: fields)))
        case .timed(let on, let d):
            cancelCountdown("replaced by a new countdown", source: source, &fx)
            // Set before the switch, so that no auto-off or auto-on starts for it.
            state.countdown = Countdown(level: !on, due: now.advanced(by: d), boot: boot)
            setRelay(on, source: source, keepingCountdown: true, &fx)
            fx.append(.save(state))
            fx.append(
                .log(
                    PlugEvent(
                        .timerStarted, "Countdown: relay \(onOff(on)) for \(Countdown.text(d)), then \(onOff(!on))",
                        fields: [.relay: onOff(!on), .countdownS: "\(d.nanoseconds / 1_000_000_000)", .source: source.rawValue])))
        case .cancelTimer:
            if state.countdown == nil {
                fx.append(.log(PlugEvent(.commandRejected, "Command cancel-timer: no countdown runs", fields: fields)))
            } else {
                cancelCountdown("asked by \(source.rawValue)", source: source, &fx)
            }
        }
    }

    /// A relay change asked for by `source`, through the flood guard: made now if the window
    /// has room, else collapsed into the pending one (the last request wins, even one for the
    /// level the relay has, which then leaves nothing to do). Any request but the countdown's
    /// own ends a countdown that runs: the last word is the user's.
    private mutating func setRelay(_ on: Bool, source: EventSource, keepingCountdown: Bool = false, _ fx: inout [Effect]) {
        if source != .timer, !keepingCountdown { cancelCountdown("the relay was switched by \(source.rawValue)", source: source, &fx) }
        guard on != relayOn || flood.pending != nil else { return }
        if flood.pending == nil, flood.admit(at: now) {
            changeRelay(on, source: source, delayed: false, &fx)
        } else {
            flood.collapse(on, source: source, at: now)
        }
    }

    /// A toggle toggles the level last asked for: a change the flood guard holds back counts.
    private mutating func toggleRelay(source: EventSource, _ fx: inout [Effect]) {
        setRelay(toggledLevel, source: source, &fx)
    }

    /// The level a toggle asks for now.
    private var toggledLevel: Bool { !(flood.pending?.level ?? relayOn) }

    private mutating func changeRelay(_ on: Bool, source: EventSource, delayed: Bool, _ fx: inout [Effect]) {
        relayOn = on
        state.relayOn = on
        fx.append(.setRelay(on))
        fx.append(.save(state))
        let note = delayed ? ", delayed by the flood guard" : ""
        fx.append(
            .log(
                PlugEvent(
                    .relay, "Relay \(onOff(on)) (\(source.rawValue)\(note))",
                    fields: [.relay: onOff(on), .source: source.rawValue])))
        followAutoRule(&fx)
    }

    /// `[relay] auto_off` / `auto_on`: with the relay at its new level and no countdown
    /// running, starts the one the config asks for at that level. An auto countdown left from
    /// a config that no longer asks for it (plugd restarted with another config) ends. A
    /// countdown asked for (`on --for`) replaces this one right after, as it is set after the
    /// switch.
    private mutating func followAutoRule(_ fx: inout [Effect]) {
        let rule = relayOn ? timings.autoOff : timings.autoOn
        if let c = state.countdown {
            if !c.auto || (c.level != relayOn && rule != nil) { return } // one asked for, or the right one
            cancelCountdown("the config no longer asks for it", source: .config, &fx)
        }
        guard let rule else { return }
        let c = Countdown(level: !relayOn, due: now.advanced(by: rule), boot: boot, auto: true)
        state.countdown = c
        fx.append(.save(state))
        fx.append(
            .log(
                PlugEvent(
                    .timerStarted, "\(c.title): relay \(onOff(!relayOn)) in \(Countdown.text(rule))",
                    fields: [.relay: onOff(!relayOn), .countdownS: "\(rule.nanoseconds / 1_000_000_000)", .source: EventSource.config.rawValue])))
    }

    /// Logs the requests the flood guard collapsed, at most once per window.
    private mutating func reportFlood(_ fx: inout [Effect]) {
        guard let n = flood.report(at: now) else { return }
        let limit = "\(flood.limit) changes per \(flood.window.milliseconds) ms"
        let outcome =
            flood.pending.map { "the last, \(onOff($0.level)), follows when the window allows" }
            ?? "the relay is \(onOff(relayOn)), as last asked"
        fx.append(
            .log(
                PlugEvent(
                    .relayFlood, "Relay flood guard (\(limit)): \(n) request\(n == 1 ? "" : "s") collapsed; \(outcome)",
                    priority: .warning,
                    fields: [
                        .collapsed: "\(n)", .relay: onOff(relayOn),
                        .pending: flood.pending.map { onOff($0.level) } ?? "none",
                    ])))
    }

    private mutating func enterSetup(source: EventSource, fields: [EventField: String], _ fx: inout [Effect]) {
        mode = .setup(since: now)
        fx.append(
            .log(
                PlugEvent(
                    .simpleReset, "Simple reset: setup mode, identity and registration kept",
                    priority: .notice, fields: fields)))
    }

    private mutating func startFactoryReset(source: EventSource, fields: [EventField: String], _ fx: inout [Effect]) {
        mode = .factoryResetting(since: now, finished: false)
        fx.append(.log(PlugEvent(.factoryResetStarted, "Factory reset started: wiping state", priority: .notice, fields: fields)))
        enterResetState(&fx)
        fx.append(.wipeState)
    }

    /// What holds whenever a factory reset runs or completes: the relay is off, and a hold in
    /// progress is void (its release must not toggle the relay, enter setup mode or reset again).
    private mutating func enterResetState(_ fx: inout [Effect]) {
        flood.clearPending()
        state.countdown = nil
        if relayOn {
            relayOn = false
            fx.append(.setRelay(false))
            fx.append(.log(PlugEvent(.relay, "Relay off (factory reset)", fields: [.relay: "off", .source: EventSource.system.rawValue])))
        }
        if let h = hold, !h.voided {
            hold?.voided = true
            fx.append(
                .log(
                    PlugEvent(
                        .holdVoided, "Factory reset began while the button was held: this hold does nothing; release and press again",
                        priority: .notice, fields: [.holdMs: "\(h.start.duration(to: now).milliseconds)"])))
        }
    }

    /// The state directory was wiped: this is the new plug. Usually the end of the reset that is
    /// running; after a failed but committed reset, the retry that completed it.
    private mutating func resetFinished(_ fresh: PlugState, _ fx: inout [Effect]) {
        state = fresh
        clearFault(&fx)
        if case .factoryResetting(let since, _) = mode {
            mode = .factoryResetting(since: since, finished: true)
        } else {
            // Completed late: the relay may have been switched meanwhile, a hold may be running.
            fx.append(
                .log(
                    PlugEvent(
                        .factoryResetStarted, "The interrupted factory reset is being completed now that the state can be written",
                        priority: .notice, fields: [.source: EventSource.system.rawValue])))
            enterResetState(&fx)
            mode = .factoryResetting(since: now, finished: true)
        }
    }

    /// The wipe failed: say so, keep the identity the plug really has, show the fault.
    private mutating func resetFailed(reason: String, committed: Bool, _ fx: inout [Effect]) {
        guard case .factoryResetting = mode else { return }
        mode = .normal
        if fault == nil { fault = now }
        // The plug goes on as it was, with the relay the reset switched off remembered off
        // (kept and retried while the directory fails; a committed reset supersedes it).
        state.relayOn = relayOn
        fx.append(.save(state))
        let outcome =
            committed
            ? "the reset-pending marker is written: the reset completes as soon as the state can be written again (retried), or at the next start"
            : "nothing was wiped: identity \(state.identity.uuidString), name and registration are unchanged; try again once the state directory is writable"
        fx.append(
            .log(
                PlugEvent(
                    .factoryResetFailed, "Factory reset failed: \(reason); \(outcome)", priority: .error,
                    fields: [.identity: state.identity.uuidString, .resetPending: committed ? "yes" : "no"])))
    }

    private mutating func clearFault(_ fx: inout [Effect]) {
        guard fault != nil else { return }
        fault = nil
        fx.append(.log(PlugEvent(.faultCleared, "State written again; fault cleared", priority: .notice)))
    }
}

func onOff(_ on: Bool) -> String { on ? "on" : "off" }

extension String {
    /// "schedule 2 (…)" at the start of a sentence.
    fileprivate var capitalizedSchedule: String { hasPrefix("schedule") ? "S" + dropFirst() : self }
}
