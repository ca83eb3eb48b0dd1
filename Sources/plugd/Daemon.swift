#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import ArgumentParser
import PlugConfig
import PlugCore
import PlugDaemon
import PlugGPIO
import PlugLibgpiod
import PlugMQTT
import PlugMosquitto
import PlugPOSIX
import PlugProtocol
import PlugStore
import PlugSystemd

/// The service: wires the config, the GPIO backend, the state store, the journal, the control
/// socket, MQTT and systemd's notifications together, then runs the loop until SIGTERM. `main`
/// only parses the command line and hands over (as systemd's daemons keep `main` to wiring).
///
/// Synchronous on purpose: the daemon runs on the main thread and never starts Swift's task
/// pool (libdispatch's worker threads wake once a second for good once started), and it blocks
/// SIGTERM/SIGINT before any other thread exists.
struct Daemon {
    /// The config file.
    var configPath: String
    /// `--state-dir`, if given.
    var stateDir: String?
    /// `--simulate --headless`: the simulated chip, its button moved by `press`/`release` on stdin.
    var headless: Bool

    func run() throws {
        let clock = MonotonicClock()
        let settings = try Self.loadConfig(configPath)
        let signals = StopSignals() // before any thread starts
        // Button presses also go to the MQTT client (Home Assistant's device triggers).
        let presses = EventTap(inner: SystemLog(identifier: "plugd", messageIDs: MessageCatalog.ids), name: .buttonPress)
        let events = EventBroadcaster(inner: presses)
        let dir = stateDir ?? ProcessInfo.processInfo.environment["STATE_DIRECTORY"] ?? PlugConfig.defaultStateDirectory
        if let problem = PlugConfig.controlSocketProblem(settings.controlSocket, stateDirectory: dir) {
            Self.fail("\(configPath): control.socket: \(problem)")
            throw ExitCode(ExitStatus.config)
        }
        let backend: any GPIOBackend, wiring: Wiring
        // systemd's fd store keeps the relay's line request while plugd restarts.
        let keeper = headless ? nil : SystemdFDStore()
        if headless {
            let gpio = SimulatedGPIO(now: { clock.now })
            Self.followButtonCommands(gpio)
            (backend, wiring) = (gpio, .named(chip: SimulatedGPIO.standardChip.name))
        } else {
            let gpio = LibgpiodBackend(debounce: settings.timings.button.debounce)
            (backend, wiring) = (gpio, try Self.headerChip(settings.wiring, gpio, events))
        }
        let runtime = try Self.start(
            backend: backend, wiring: wiring, stateDir: dir, board: BoardIdentity.current(configured: settings.boardID),
            policy: settings.powerOn, timings: settings.timings, writeDelay: settings.writeDelay,
            keeper: keeper, sink: events, clock: clock)
        keeper?.closeUnclaimed()
        do {
            try Self.attachSchedules(settings.schedule, to: runtime)
        } catch {
            runtime.lines.release()
            Self.fail("cannot create the schedules' timer: \(error)")
            throw ExitCode(ExitStatus.unavailable)
        }
        if !headless {
            let debounce = settings.timings.button.debounce
            let how = runtime.lines.button.kernelDebounce == nil ? "in software" : "by the kernel"
            events.record(
                PlugEvent(
                    .gpioBackend, "GPIO through \(LibgpiodBackend.libraryVersion); button debounced \(how) (\(debounce.milliseconds) ms)",
                    fields: [.gpiod: LibgpiodBackend.libraryVersion, .debounce: how]))
        }
        let inbox = LoopInbox()
        let server = ControlServer(path: settings.controlSocket, submit: { inbox.post(.request($0)) }, events: events)
        do {
            try server.start()
        } catch {
            runtime.lines.release()
            Self.fail("\(error)")
            throw ExitCode(ExitStatus.cannotCreate)
        }
        let mqtt = settings.mqtt.flatMap { Self.startMQTT($0, runtime: runtime, inbox: inbox, events: events) }
        if let mqtt { presses.listen { e in e.fields[.presses].map(mqtt.pressed) } }
        let notifier = SystemdNotifier()
        let readyAt = clock.now
        notifier.ready(status: runtime.statusLine(at: readyAt))
        var shown = runtime.statusKey(at: readyAt)
        var published = runtime.snapshot(at: readyAt, unixNow: WallClock.unixNow)
        runtime.run(
            inbox: inbox, stop: signals, clock: clock,
            watchdog: notifier.watchdogInterval.map { ($0, { notifier.watchdog() }) }
        ) { rt, now in
            let key = rt.statusKey(at: now)
            if key != shown { notifier.status(rt.statusLine(at: now)); shown = key }
            if let mqtt {
                let plug = rt.snapshot(at: now, unixNow: WallClock.unixNow)
                if plug != published { published = plug; mqtt.update(plug) }
            }
        }
        notifier.stopping()
        if let mqtt {
            mqtt.stop()
            for case .log(let event) in inbox.take() { events.record(event) } // its goodbye
        }
        server.stop()
    }

    /// Gives the runtime the schedules' edge, if the config has schedules. `PLUGD_TIMESYNC_FILE`
    /// names a file of the tests' own that stands for timesyncd's "synchronized" flag (then only
    /// it counts).
    static func attachSchedules(_ schedule: Schedule, to runtime: PlugRuntime) throws(Errno) {
        guard !schedule.entries.isEmpty else { return }
        runtime.schedules = try ScheduleDriver(
            schedule: schedule, seen: runtime.machine.state.scheduleSeen,
            syncFile: ProcessInfo.processInfo.environment["PLUGD_TIMESYNC_FILE"])
    }

    /// Starts the MQTT client: its commands, reachability and log entries reach the loop through
    /// the inbox; before a factory reset wipes the identity, it removes the plug from Home
    /// Assistant (waiting up to `MQTTSettings.removalWait` for the broker). Without libmosquitto
    /// the plug runs without MQTT: the journal says why, and the LED and `plugctl status` show
    /// the broker unreachable, as for any broker plugd cannot reach.
    static func startMQTT(_ settings: MQTTSettings, runtime: PlugRuntime, inbox: LoopInbox, events: any EventSink) -> MQTTClient? {
        do {
            try MQTTClient.loadLibrary()
        } catch {
            events.record(
                PlugEvent(
                    .mqttUnavailable,
                    """
                    MQTT is configured but libmosquitto cannot be loaded: \(error.description); \
                    install it (Debian: apt install libmosquitto1) and restart plugd. The button and plugctl work meanwhile
                    """, priority: .error, fields: [.broker: settings.broker, .reason: error.description]))
            inbox.post(.input(.broker(connected: false)))
            return nil
        }
        let client = MQTTClient(settings: settings, plug: runtime.snapshot(at: MonotonicClock().now, unixNow: WallClock.unixNow)) { output in
            switch output {
            case .command(let c): inbox.post(.input(.command(c, source: .mqtt)))
            case .reachable(let r): inbox.post(.input(.broker(connected: r)))
            case .log(let e): inbox.post(.log(e))
            }
        }
        runtime.beforeWipe = { old in
            if !client.forget(PlugSnapshot(old, relayOn: old.relayOn), timeout: MQTTSettings.removalWait) {
                let topics = MQTTTopics(settings: settings, identity: old.identity)
                events.record(
                    PlugEvent(
                        .mqttForgetPending,
                        """
                        The MQTT broker did not confirm removing \(topics.deviceID) from Home Assistant; \
                        it is sent when the broker is back (while plugd runs), or clear it by hand: \
                        mosquitto_pub -r -n -t \(topics.switchConfig) (and \(topics.buttonConfig))
                        """, priority: .warning, fields: [.topic: topics.switchConfig]))
            }
        }
        client.start()
        return client
    }

    /// Loads the config or exits 78 (EX_CONFIG) with one line per problem — before any line is touched.
    static func loadConfig(_ path: String) throws -> PlugConfig {
        do {
            return try PlugConfig.load(path: path)
        } catch let errors as ConfigErrors {
            fail(errors.description)
            throw ExitCode(ExitStatus.config)
        }
    }

    /// Opens the state and requests the lines; a failure is one clear line on stderr and the
    /// sysexits code: 69 (EX_UNAVAILABLE) for GPIO, 73 (EX_CANTCREAT) for the state directory.
    static func start(
        backend: any GPIOBackend, wiring: Wiring, stateDir: String, board: String? = nil, policy: PowerOnPolicy,
        timings: PlugTimings, writeDelay: Duration, keeper: (any LineKeeper)? = nil, sink: any EventSink,
        clock: MonotonicClock
    ) throws -> PlugRuntime {
        do {
            return try PlugRuntime(
                backend: backend, wiring: wiring,
                store: StateStore(fs: PosixStateFileSystem(directory: stateDir), board: board),
                policy: policy, timings: timings, writeDelay: writeDelay, keeper: keeper,
                boot: BootID.current, sink: sink, now: clock.now)
        } catch {
            fail("\(error)")
            throw ExitCode(error is GPIOError ? ExitStatus.unavailable : ExitStatus.cannotCreate)
        }
    }

    /// The wiring with `chip = "auto"` replaced by the Raspberry Pi header's chip, found by its
    /// label and logged; no chip found is exit 69 with the chips seen.
    static func headerChip(_ wiring: Wiring, _ backend: any GPIOBackend, _ events: any EventSink) throws -> Wiring {
        guard wiring.usesHeaderChip else { return wiring }
        do {
            let (chosen, choice) = try wiring.choosingHeaderChip(backend.chips())
            if let choice {
                events.record(
                    PlugEvent(
                        .gpioChip,
                        """
                        GPIO header chip: \(choice.chip.name) (\(choice.chip.label), \(choice.chip.lines) lines: \(choice.models)), \
                        found by its label because gpio.chip is "auto"
                        """, fields: [.chip: choice.chip.name, .chipLabel: choice.chip.label]))
            }
            return chosen
        } catch {
            fail("\(error)")
            throw ExitCode(ExitStatus.unavailable)
        }
    }

    /// `--simulate --headless`: a thread reads stdin; a line `press` pushes the simulated button,
    /// `release` lets it go (timestamped on arrival). Anything else is ignored; EOF ends the thread.
    static func followButtonCommands(_ gpio: SimulatedGPIO) {
        PlugThread.detach(name: "stdin") {
            while let line = readLine() {
                switch line.trimmed {
                case "press": gpio.press()
                case "release": gpio.release()
                default: break
                }
            }
        }
    }

    /// `message` on stderr, each line prefixed with `plugd: `.
    static func fail(_ message: String) {
        let lines = message.split(separator: "\n").map { "plugd: \($0)\n" }.joined()
        FileDescriptor.standardError.write(lines)
    }
}
