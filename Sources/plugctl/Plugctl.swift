import ArgumentParser
import PlugCore
import PlugPOSIX
import PlugProtocol
#if canImport(Glibc)
import Glibc
#endif

/// `plugctl`: talks to plugd over its control socket.
@main
struct Plugctl: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plugctl",
        abstract: "Control a running plugd.",
        discussion: ExitStatus.summary(ExitStatus.plugctl),
        version: plugdVersion,
        subcommands: [
            Status.self, On.self, Off.self, Toggle.self, Identify.self, Setup.self,
            CancelTimer.self, ScheduleList.self, Reset.self, FactoryReset.self, Deregister.self, Watch.self,
        ]
    )
}

struct Connection: ParsableArguments {
    @Option(help: "The daemon's control socket.")
    var socket = ControlProtocol.defaultSocket

    @Flag(help: "Print the daemon's JSON reply instead of text.")
    var json = false

    /// Sends `request`; prints the reply as `show` writes the status (and, for watch, events
    /// until interrupted).
    func send(_ request: ControlRequestMessage, show: (PlugStatus) -> String = Connection.text) throws {
        // A daemon that closes the connection first (busy, or stopping) is an error reported
        // with exit 69, not a silent death by SIGPIPE (141).
        signal(SIGPIPE, SIG_IGN)
        let fd = try connect()
        defer { close(fd) }
        var line = ControlProtocol.line(request)
        guard write(fd, &line, line.count) == line.count else { throw failure("cannot write to") }
        var reader = LineReader(fd: fd)
        guard let first = reader.next() else { throw failure("no reply from") }
        guard let reply = try? ControlReply(line: first) else {
            throw failure("unreadable reply from")
        }
        if json { print(String(decoding: first, as: UTF8.self)) }
        guard reply.ok, let status = reply.status else {
            if !json { printError("plugctl: plugd refused: \(reply.error ?? "unknown error")") }
            throw ExitCode(ExitStatus.refused)
        }
        if request.command == "watch" {
            if !json { print("watching plugd \(status.name) (\(status.identity)); Ctrl-C to stop") }
            while let line = reader.next() {
                if json { print(String(decoding: line, as: UTF8.self)); continue }
                guard let e = try? ControlEventMessage(line: line) else { continue }
                let fields = e.fields.sorted { $0.key < $1.key }.map { " \($0.key)=\($0.value)" }.joined()
                print("\(Self.timestamp()) \(e.event): \(e.message)\(fields)")
                // Whoever reads the output has gone (`plugctl watch | head`): stop quietly.
                if fflush(nil) != 0 { return }
            }
            // The daemon ended the stream: it stopped (or restarted). Say so, and fail, so a
            // script that follows the events knows they ended.
            printError("plugctl: plugd closed the connection (stopped or restarted)")
            throw ExitCode(ExitStatus.unavailable)
        }
        if !json { print(show(status)) }
    }

    static func text(_ s: PlugStatus) -> String {
        var rows: [(String, String)] = [("relay", s.relay)]
        if let pending = s.relayPending { rows.append(("pending", pending)) }
        if let timer = s.timer { rows.append(("timer", timer)) }
        if let next = s.schedule?.first { rows.append(("schedule", next + ((s.schedule?.count ?? 0) > 1 ? " (plugctl schedule: more)" : ""))) }
        rows += [
            ("led", s.ledPattern), ("mode", s.mode), ("name", s.name), ("identity", s.identity),
            ("registered", s.registered ? "yes" : "no"), ("fault", s.fault ?? "none"),
            ("button", s.buttonHeld ? "held" : "released"),
        ]
        if let broker = s.broker { rows.append(("mqtt", broker)) }
        return rows.map { $0.0 + String(repeating: " ", count: max(1, 11 - $0.0.count)) + $0.1 }.joined(separator: "\n")
    }

    /// The local time now, `HH:mm:ss.SSS` (localtime_r reads the zone from /etc/localtime and TZ).
    static func timestamp() -> String {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        var t = tm()
        localtime_r(&now.tv_sec, &t)
        func two(_ n: Int32) -> String { n < 10 ? "0\(n)" : "\(n)" }
        let ms = Int(now.tv_nsec / 1_000_000)
        return "\(two(t.tm_hour)):\(two(t.tm_min)):\(two(t.tm_sec)).\(ms < 10 ? "00" : ms < 100 ? "0" : "")\(ms)"
    }

    private func connect() throws -> Int32 {
        let fd = UnixSocket.connect(to: socket)
        guard fd >= 0 else { throw failure("cannot connect to") }
        return fd
    }

    private func failure(_ what: String) -> ExitCode {
        let e = errno
        var hint = ""
        if e == ENOENT || e == ECONNREFUSED { hint = " (is plugd running?)" }
        if e == EACCES { hint = " (are you in group plugd?)" }
        if e == EPIPE || e == ECONNRESET { hint = " (plugd closed the connection: busy, or stopping; try again)" }
        printError("plugctl: \(what) \(socket): \(Errno(rawValue: e).description)\(hint)")
        return ExitCode(ExitStatus.unavailable)
    }
}

func printError(_ message: String) {
    FileDescriptor.standardError.write(message + "\n")
}

/// Reads newline-terminated lines from a socket.
struct LineReader {
    let fd: Int32
    var buffer: [UInt8] = []

    mutating func next() -> [UInt8]? {
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            if let newline = buffer.firstIndex(of: 0x0A) {
                let line = Array(buffer[..<newline])
                buffer.removeSubrange(...newline)
                return line
            }
            let n = read(fd, &chunk, chunk.count)
            if n <= 0 { return nil }
            buffer += chunk[0..<n]
        }
    }
}

/// A subcommand that sends one fixed request.
protocol SocketCommand: ParsableCommand {
    /// The request's `command`.
    static var request: String { get }
    var connection: Connection { get }
}

extension SocketCommand {
    func run() throws { try connection.send(ControlRequestMessage(command: Self.request)) }
}

struct Status: SocketCommand {
    static let configuration = CommandConfiguration(abstract: "Show relay, LED, mode, name and identity.")
    static let request = "status"
    @OptionGroup var connection: Connection
}

/// `on` and `off`, with an optional countdown (`--for 30m`: switch back after that long).
protocol RelayCommand: ParsableCommand {
    static var request: String { get }
    var connection: Connection { get }
    var duration: String? { get }
}

extension RelayCommand {
    func validate() throws { _ = try seconds() }
    func run() throws { try connection.send(ControlRequestMessage(command: Self.request, seconds: try seconds())) }

    /// `--for` in seconds: a whole number with one unit, `s`, `m`, `h` or `d` (90s, 30m, 2h, 1d),
    /// from 1 s to 7 days (`Countdown.seconds(in:)`, as the config's `auto_off` and MQTT read it).
    func seconds() throws -> Int? {
        guard let duration else { return nil }
        guard let n = Countdown.seconds(in: duration), ControlRequestMessage.secondsRange.contains(n) else {
            throw ValidationError("--for takes \(Countdown.form)")
        }
        return n
    }
}

struct On: RelayCommand {
    static let configuration = CommandConfiguration(abstract: "Switch the relay on (with --for, off again after that long).")
    static let request = "on"
    @OptionGroup var connection: Connection
    @Option(name: .customLong("for"), help: ArgumentHelp("Switch it off again after this long: 90s, 30m, 2h, 1d.", valueName: "duration"))
    var duration: String?
}

struct Off: RelayCommand {
    static let configuration = CommandConfiguration(abstract: "Switch the relay off (with --for, on again after that long).")
    static let request = "off"
    @OptionGroup var connection: Connection
    @Option(name: .customLong("for"), help: ArgumentHelp("Switch it on again after this long: 90s, 30m, 2h, 1d.", valueName: "duration"))
    var duration: String?
}

struct ScheduleList: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "schedule", abstract: "List the schedules' next runs ([[schedule]] in the config), in local time.")
    @OptionGroup var connection: Connection

    func run() throws {
        try connection.send(ControlRequestMessage(command: "schedule")) { s in
            (s.schedule ?? ["no schedules: add [[schedule]] entries to /etc/plugd/plugd.toml"]).joined(separator: "\n")
        }
    }
}

struct CancelTimer: SocketCommand {
    static let configuration = CommandConfiguration(
        commandName: "cancel-timer", abstract: "End the countdown (on/off --for) without switching the relay.")
    static let request = "cancel-timer"
    @OptionGroup var connection: Connection
}

struct Toggle: SocketCommand {
    static let configuration = CommandConfiguration(abstract: "Toggle the relay.")
    static let request = "toggle"
    @OptionGroup var connection: Connection
}

struct Identify: SocketCommand {
    static let configuration = CommandConfiguration(abstract: "Blink the LED green for a few seconds, to find the plug.")
    static let request = "identify"
    @OptionGroup var connection: Connection
}

struct Setup: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Complete setup (optionally naming the plug) and leave setup mode.")
    @OptionGroup var connection: Connection
    @Option(help: "The plug's name (1 to 64 characters).") var name: String?
    func validate() throws {
        if let name, name.isEmpty || name.count > 64 { throw ValidationError("--name must be 1 to 64 characters") }
    }
    func run() throws { try connection.send(ControlRequestMessage(command: "setup", name: name)) }
}

struct Reset: SocketCommand {
    static let configuration = CommandConfiguration(abstract: "Simple reset: setup mode; identity and registration kept.")
    static let request = "reset"
    @OptionGroup var connection: Connection
}

struct FactoryReset: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "factory-reset",
        abstract: "Wipe all state and start as a new plug.")
    @OptionGroup var connection: Connection
    @Flag(help: "Confirm: this cannot be undone.") var yes = false
    func validate() throws { guard yes else { throw ValidationError("factory-reset wipes all state; confirm with --yes") } }
    func run() throws { try connection.send(ControlRequestMessage(command: "factory-reset")) }
}

struct Deregister: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Remove the registration, then factory reset.")
    @OptionGroup var connection: Connection
    @Flag(help: "Confirm: this cannot be undone.") var yes = false
    func validate() throws { guard yes else { throw ValidationError("deregister wipes all state; confirm with --yes") } }
    func run() throws { try connection.send(ControlRequestMessage(command: "deregister")) }
}

struct Watch: SocketCommand {
    static let configuration = CommandConfiguration(abstract: "Print events as they happen.")
    static let request = "watch"
    @OptionGroup var connection: Connection
}
