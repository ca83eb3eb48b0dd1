#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import PlugCore
import PlugDaemon
import PlugGPIO
import PlugPOSIX
import PlugProtocol
import Synchronization

/// What the simulator screen shows, updated from the run loop.
struct SimulatorSnapshot: Sendable {
    /// The plug as `plugctl status` would show it.
    var status: PlugStatus?
    var buttonDown: MonotonicInstant?
    /// The countdown that runs, if any: the screen counts it down between the loop's passes.
    var countdown: Countdown?
    var events: [String] = []
}

/// The simulator's screen: an `EventSink` that keeps the last events, and the renderer.
final class SimulatorScreen: EventSink, Sendable {
    let snapshot = Mutex(SimulatorSnapshot())

    func record(_ event: PlugEvent) {
        var line = event.message
        if !event.fields.isEmpty {
            line += "  [" + event.fields.sorted { $0.key < $1.key }.map { "\($0.key.rawValue)=\($0.value)" }.joined(separator: " ") + "]"
        }
        snapshot.withLock { s in
            s.events.append("\(event.name): \(line)")
            if s.events.count > 8 { s.events.removeFirst(s.events.count - 8) }
        }
    }

    func render(now: MonotonicInstant) {
        let s = snapshot.withLock { $0 }
        let dot: String
        switch s.status.flatMap({ LEDColor(rawValue: $0.led) }) ?? .off {
        case .off: dot = "\u{1B}[90m○ off\u{1B}[0m"
        case .red: dot = "\u{1B}[1;31m● red\u{1B}[0m"
        case .green: dot = "\u{1B}[1;32m● green\u{1B}[0m"
        case .blue: dot = "\u{1B}[1;34m● blue\u{1B}[0m"
        case .orange: dot = "\u{1B}[1;33m● orange\u{1B}[0m"
        case .white: dot = "\u{1B}[1;37m● white\u{1B}[0m"
        }
        let relay = s.status?.relay == "on" ? "\u{1B}[1;32mON \u{1B}[0m" : "\u{1B}[90moff\u{1B}[0m"
        var button = "released"
        if let down = s.buttonDown {
            let tenths = down.duration(to: now).nanoseconds / 100_000_000
            button = "HELD \(tenths / 10).\(tenths % 10) s"
        }
        var out = "\u{1B}[H\u{1B}[J"
        out += "plugd --simulate   (SPACE hold = button, B = push/let go, T = on for 10 s, C = cancel timer, Q = quit)\r\n\r\n"
        out += "  relay   \(relay)\r\n"
        if let next = s.status?.schedule?.first { out += "  next    \(next)\r\n" }
        if let c = s.countdown {
            out += "  timer   \(c.level ? "on" : "off") in \(Countdown.text(now.duration(to: c.due)))\(c.auto ? " (\(c.title.lowercased()))" : "")\r\n"
        }
        out += "  LED     \(dot)\r\n"
        out += "  button  \(button)\r\n"
        out += "  mode    \(s.status?.mode ?? "")   name \"\(s.status?.name ?? "")\"   id \(s.status?.identity.prefix(8) ?? "")\r\n\r\n"
        out += "  events (newest last; the daemon sends these to the journal):\r\n"
        for e in s.events { out += "    \(e)\r\n" }
        FileDescriptor.standardOutput.write(out)
    }
}

/// Runs the daemon's real runtime on the simulated chip, with the keyboard as the button.
///
/// A terminal reports key presses, not releases, so a SPACE hold is seen through key
/// auto-repeat: the button is released when repeats stop. B latches (push, push again to let go)
/// for terminals without auto-repeat.
struct TerminalSimulator {
    let gpio: SimulatedGPIO
    let clock: MonotonicClock
    let screen: SimulatorScreen
    let stateDir: String

    /// Before the first auto-repeat arrives (typical delays are 250–660 ms).
    static let firstRepeatWait: Duration = .milliseconds(700)
    /// Between auto-repeats once they flow.
    static let repeatWait: Duration = .milliseconds(200)
    /// T's countdown.
    static let countdownKey: Duration = .seconds(10)

    /// Runs until Q (or Ctrl-C, Ctrl-D, the end of input, SIGTERM): the daemon's own run loop on
    /// this thread; a keyboard thread moves the simulated button (its edges reach the loop
    /// through the line's event descriptor, as on a real chip) and asks the loop to stop; while
    /// the button is down, a watcher thread redraws the hold time and lets go of a SPACE hold
    /// whose auto-repeats have stopped.
    func run(_ runtime: PlugRuntime) {
        let stop = StopSignals() // before the threads below: they inherit its signal mask
        let saved = Terminal.enterRawMode()
        defer { Terminal.restore(saved) }
        let clock = self.clock, screen = self.screen
        let holdWatch = Mutex<(lastSpace: MonotonicInstant?, repeats: Int, latched: Bool, done: Bool)>((nil, 0, false, false))
        let inbox = LoopInbox()
        PlugThread.detach(name: "keyboard") { [self] in
            var byte: UInt8 = 0
            keys: while read(STDIN_FILENO, &byte, 1) == 1 {
                switch byte {
                case UInt8(ascii: " "):
                    let first = holdWatch.withLock { w -> Bool in
                        let first = w.lastSpace == nil
                        if !first { w.repeats += 1 }
                        w.lastSpace = clock.now
                        return first
                    }
                    if first { setButton(true) }
                case UInt8(ascii: "b"), UInt8(ascii: "B"):
                    let down = holdWatch.withLock { w -> Bool in
                        w.latched.toggle()
                        return w.latched
                    }
                    setButton(down)
                case UInt8(ascii: "t"), UInt8(ascii: "T"):
                    inbox.post(.input(.command(.timed(on: true, for: Self.countdownKey), source: .control)))
                case UInt8(ascii: "c"), UInt8(ascii: "C"):
                    inbox.post(.input(.command(.cancelTimer, source: .control)))
                case UInt8(ascii: "q"), UInt8(ascii: "Q"), 3, 4:
                    break keys
                default:
                    break
                }
            }
            holdWatch.withLock { $0.done = true }
            stop.request()
        }
        PlugThread.detach(name: "hold-watch") { [self] in
            var lastDrawn = MonotonicInstant.zero
            while !holdWatch.withLock({ $0.done }) {
                usleep(50_000)
                let now = clock.now
                let releaseNow = holdWatch.withLock { w -> Bool in
                    guard let last = w.lastSpace else { return false }
                    let wait = w.repeats == 0 ? Self.firstRepeatWait : Self.repeatWait
                    guard last.duration(to: now) > wait else { return false }
                    w.lastSpace = nil
                    w.repeats = 0
                    return true
                }
                if releaseNow { setButton(false) }
                // A held button's time, and a countdown's, go on between the loop's passes.
                let (held, counting) = screen.snapshot.withLock { ($0.buttonDown != nil, $0.countdown != nil) }
                if held || (counting && lastDrawn.duration(to: now) >= .milliseconds(500)) {
                    screen.render(now: now)
                    lastDrawn = now
                }
            }
        }
        runtime.run(inbox: inbox, stop: stop, clock: clock) { rt, now in
            let status = rt.status(at: now)
            let countdown = rt.machine.countdown
            screen.snapshot.withLock {
                $0.status = status
                $0.countdown = countdown
            }
            screen.render(now: now)
        }
        holdWatch.withLock { $0.done = true }
        FileDescriptor.standardOutput.write("\r\nplugd: stopped; state kept in \(stateDir)/\r\n")
    }

    private func setButton(_ down: Bool) {
        screen.snapshot.withLock { $0.buttonDown = down ? clock.now : nil }
        down ? gpio.press() : gpio.release()
    }
}

/// Raw terminal mode for single key presses, restored on exit.
enum Terminal {
    static func enterRawMode() -> termios? {
        guard isatty(STDIN_FILENO) == 1 else { return nil }
        var original = termios()
        tcgetattr(STDIN_FILENO, &original)
        var raw = original
        cfmakeraw(&raw)
        tcsetattr(STDIN_FILENO, TCSANOW, &raw)
        FileDescriptor.standardOutput.write("\u{1B}[?25l") // hide the cursor
        return original
    }

    static func restore(_ saved: termios?) {
        FileDescriptor.standardOutput.write("\u{1B}[?25h")
        guard var saved else { return }
        tcsetattr(STDIN_FILENO, TCSANOW, &saved)
    }
}
