import ArgumentParser
import Foundation
import Logging
import PlugCore
import PlugDaemon
import PlugGPIO
import PlugLibgpiod
import PlugState
import SystemPackage

/// `plugd`: the smart-plug daemon.
@main
struct Plugd: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plugd",
        abstract: "Smart-plug daemon: relay, button and RGB LED on GPIO lines.",
        discussion: """
            With --simulate, plugd runs its real logic on a simulated GPIO chip in this terminal:
            the relay and LED are drawn live, and the keyboard is the button (hold SPACE, or press
            B to push and B again to let go). No hardware needed.
            """
    )

    @Flag(help: "Run on a simulated GPIO chip in this terminal (keyboard = button).")
    var simulate = false

    @Option(help: "State directory (default: $STATE_DIRECTORY, else /var/lib/plugd; ./plugd-sim-state with --simulate).")
    var stateDir: String?

    @Option(help: "Relay at power-on: off, on or last.")
    var powerOn: PowerOnPolicy = .last

    @Option(help: "When a short press toggles the relay: press or release.")
    var toggleOn: ToggleEdge = .press

    @Option(help: "GPIO chip: path, name, label or number.")
    var chip = "gpiochip0"

    @Option(help: "Relay line: offset or line name.")
    var relay = "relay"

    @Option(help: "Button line: offset or line name.")
    var button = "button"

    @Option(help: "LED lines red,green,blue: offsets or line names.")
    var led = "led_r,led_g,led_b"

    @Flag(help: "The relay board switches on when its input is low.")
    var relayActiveLow = false

    @Flag(help: "Common-anode LED: a colour lights when its line is low.")
    var ledActiveLow = false

    @Flag(help: "The button drives its line high when pressed (default: button to ground, active-low).")
    var buttonActiveHigh = false

    @Option(help: "Button line bias: pull-up, pull-down, disabled or as-is.")
    var buttonBias: Bias = .pullUp

    @Option(help: "Delay for coalescing state writes, in milliseconds.")
    var writeDelayMs = 1000

    func validate() throws {
        guard led.split(separator: ",").count == 3 else {
            throw ValidationError("--led needs three lines, red,green,blue (got \"\(led)\")")
        }
        guard writeDelayMs >= 0 else { throw ValidationError("--write-delay-ms must not be negative") }
    }

    /// The wiring given on the command line.
    var wiring: Wiring {
        func line(_ s: Substring) -> LineSelector { UInt32(s).map { .offset($0) } ?? .name(String(s)) }
        let leds = led.split(separator: ",")
        return Wiring(relay: LineSpec(chip: chip, line: line(relay[...]), activeLow: relayActiveLow),
                      button: LineSpec(chip: chip, line: line(button[...]), activeLow: !buttonActiveHigh),
                      buttonBias: buttonBias,
                      red: LineSpec(chip: chip, line: line(leds[0]), activeLow: ledActiveLow),
                      green: LineSpec(chip: chip, line: line(leds[1]), activeLow: ledActiveLow),
                      blue: LineSpec(chip: chip, line: line(leds[2]), activeLow: ledActiveLow))
    }

    mutating func run() async throws {
        var timings = PlugTimings()
        timings.button.toggleOn = toggleOn
        let clock = MonotonicClock()
        if simulate {
            let dir = stateDir ?? "plugd-sim-state"
            let gpio = SimulatedGPIO(now: { clock.now })
            let screen = SimulatorScreen()
            let runtime = try start(backend: gpio, wiring: .named(chip: SimulatedGPIO.standardChip.name),
                                    stateDir: dir, timings: timings, sink: screen, clock: clock)
            try await TerminalSimulator(gpio: gpio, clock: clock, screen: screen, stateDir: dir).run(runtime)
            return
        }
        let dir = stateDir ?? ProcessInfo.processInfo.environment["STATE_DIRECTORY"] ?? "/var/lib/plugd"
        var logger = Logger(label: "plugd")
        logger.logLevel = .info
        let runtime = try start(backend: LibgpiodBackend(), wiring: wiring, stateDir: dir, timings: timings,
                                sink: LoggerEventSink(logger: logger), clock: clock)
        await runUntilSignalled(runtime, clock: clock)
    }

    /// Opens the state and requests the lines; a failure is one clear line on stderr and the
    /// sysexits code: 69 (EX_UNAVAILABLE) for GPIO, 73 (EX_CANTCREAT) for the state directory.
    func start(backend: any GPIOBackend, wiring: Wiring, stateDir: String, timings: PlugTimings,
               sink: any EventSink, clock: MonotonicClock) throws -> PlugRuntime {
        do {
            return try PlugRuntime(backend: backend, wiring: wiring,
                                   store: StateStore(fs: PosixStateFileSystem(directory: FilePath(stateDir))),
                                   policy: powerOn, timings: timings, writeDelay: .milliseconds(writeDelayMs),
                                   sink: sink, now: clock.now)
        } catch {
            FileHandle.standardError.write(Data("plugd: \(error)\n".utf8))
            throw ExitCode(error is GPIOError ? 69 : 73)
        }
    }

    /// Runs until SIGTERM or SIGINT, then stops gracefully: the pending state is written and the
    /// lines are released.
    func runUntilSignalled(_ runtime: sending PlugRuntime, clock: MonotonicClock) async {
        let loop = Task { await runtime.run(clock: clock) }
        let sources = [SIGTERM, SIGINT].map { sig -> any DispatchSourceSignal in
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            source.setEventHandler { loop.cancel() }
            source.resume()
            return source
        }
        await loop.value
        sources.forEach { $0.cancel() }
    }
}

extension PowerOnPolicy: ExpressibleByArgument {}
extension ToggleEdge: ExpressibleByArgument {}
extension Bias: ExpressibleByArgument {}
