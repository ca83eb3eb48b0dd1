import ArgumentParser
import Foundation
import Logging
import PlugCore
import PlugDaemon
import PlugGPIO
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

    mutating func run() async throws {
        guard simulate else {
            FileHandle.standardError.write(Data("plugd: no GPIO hardware backend is built in yet; run `plugd --simulate`\n".utf8))
            throw ExitCode(69)  // EX_UNAVAILABLE
        }
        var timings = PlugTimings()
        timings.button.toggleOn = toggleOn
        let dir = stateDir ?? "plugd-sim-state"
        let clock = MonotonicClock()
        let gpio = SimulatedGPIO(now: { clock.now })
        let screen = SimulatorScreen()
        let runtime: PlugRuntime
        do {
            runtime = try PlugRuntime(backend: gpio, wiring: .named(chip: SimulatedGPIO.standardChip.name),
                                      store: StateStore(fs: PosixStateFileSystem(directory: FilePath(dir))),
                                      policy: powerOn, timings: timings, sink: screen, now: clock.now)
        } catch {
            FileHandle.standardError.write(Data("plugd: \(error)\n".utf8))
            throw ExitCode(error is GPIOError ? 69 : 73)
        }
        try await TerminalSimulator(gpio: gpio, clock: clock, screen: screen, stateDir: dir).run(runtime)
    }
}

extension PowerOnPolicy: ExpressibleByArgument {}
extension ToggleEdge: ExpressibleByArgument {}
