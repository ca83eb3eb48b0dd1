import ArgumentParser
import PlugConfig
import PlugCore
import PlugDaemon
import PlugGPIO
import PlugPOSIX
import PlugProtocol

/// `plugd`: the smart-plug daemon.
@main
struct Plugd: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plugd",
        abstract: "Smart-plug daemon: relay, button and RGB LED on GPIO lines.",
        discussion: """
            plugd reads its wiring and timings from the config file, restores the relay, and
            serves plugctl on the control socket. Under systemd it logs to the journal with
            structured fields (journalctl -u plugd PLUG_EVENT=relay) and notifies readiness.

            With --simulate, plugd runs its real logic on a simulated GPIO chip in this terminal:
            the relay and LED are drawn live, and the keyboard is the button (hold SPACE, or press
            B to push and B again to let go). No hardware and no config file needed.

            """ + ExitStatus.summary(ExitStatus.plugd),
        version: plugdVersion
    )

    @Option(help: ArgumentHelp("The config file (default: \(PlugConfig.defaultPath)).", valueName: "file"))
    var config: String?

    @Option(name: .customLong("check-config"), help: ArgumentHelp("Check a config file and exit (0 valid, 78 invalid).", valueName: "file"))
    var checkConfig: String?

    @Option(help: "State directory (default: $STATE_DIRECTORY, else /var/lib/plugd; ./plugd-sim-state with --simulate).")
    var stateDir: String?

    @Flag(help: "Run on a simulated GPIO chip in this terminal (keyboard = button).")
    var simulate = false

    @Flag(
        help: """
            With --simulate: no terminal UI; run as the service does (config, control socket, log, \
            sd_notify) on the simulated chip. Lines 'press' and 'release' on stdin move the button.
            """)
    var headless = false

    func validate() throws {
        if headless && !simulate { throw ValidationError("--headless goes with --simulate") }
        if headless && config == nil { throw ValidationError("--simulate --headless needs --config (for the control socket and timings)") }
    }

    /// The daemon (`Daemon`) and the terminal simulator run the same loop on the main thread.
    mutating func run() throws {
        if let checkConfig {
            let loaded = try Daemon.loadConfig(checkConfig)
            print("\(checkConfig): OK (relay \(loaded.wiring.relay), button \(loaded.wiring.button))")
            return
        }
        if simulate && !headless {
            try simulateInTerminal(clock: MonotonicClock())
            return
        }
        try Daemon(configPath: config ?? PlugConfig.defaultPath, stateDir: stateDir, headless: headless).run()
    }

    /// `--simulate`: the runtime on a simulated chip, drawn in this terminal, keyboard = button.
    func simulateInTerminal(clock: MonotonicClock) throws {
        // The simulator needs no config file; one given with --config supplies timings.
        var timings = PlugTimings(), policy = PowerOnPolicy.last, schedule = Schedule()
        if let config { let c = try Daemon.loadConfig(config); timings = c.timings; policy = c.powerOn; schedule = c.schedule }
        let dir = stateDir ?? "plugd-sim-state"
        let gpio = SimulatedGPIO(now: { clock.now })
        let screen = SimulatorScreen()
        let runtime = try Daemon.start(
            backend: gpio, wiring: .named(chip: SimulatedGPIO.standardChip.name), stateDir: dir,
            policy: policy, timings: timings, writeDelay: .seconds(1), sink: screen, clock: clock)
        try Daemon.attachSchedules(schedule, to: runtime)
        TerminalSimulator(gpio: gpio, clock: clock, screen: screen, stateDir: dir).run(runtime)
    }
}
