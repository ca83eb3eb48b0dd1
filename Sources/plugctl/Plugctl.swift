import ArgumentParser
import PlugCore
import PlugPOSIX
import PlugProtocol
import PlugWeb
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
            CancelTimer.self, ScheduleList.self, Reset.self, FactoryReset.self, Deregister.self, Watch.self, Events.self,
            WebPassword.self,
        ]
    )
}

struct Connection: ParsableArguments {
    @Option(help: "The daemon's control socket.")
    var socket = ControlProtocol.defaultSocket

    @Flag(help: "Print the daemon's JSON reply instead of text.")
    var json = false

    /// Sends `request`; prints the reply as `show` writes it (and, for watch, events until
    /// interrupted).
    func send(_ request: ControlRequestMessage, show: (ControlReply, PlugStatus) -> String = { Connection.text($1) }) throws {
        let connection: ControlConnection
        do { connection = try ControlConnection(socket: socket) } catch { throw failure("cannot connect to", error) }
        let reply: ControlReply
        do {
            let (r, line) = try connection.send(request)
            reply = r
            if json { print(String(decoding: line, as: UTF8.self)) }
        } catch {
            switch error {
            case .io(let what, let e): throw failure(what, e)
            case .unreadable:
                printError("plugctl: unreadable reply from \(socket)")
                throw ExitCode(ExitStatus.unavailable)
            }
        }
        guard reply.ok, let status = reply.status else {
            if !json { printError("plugctl: plugd refused: \(reply.error ?? "unknown error")") }
            throw ExitCode(ExitStatus.refused)
        }
        if request.command == "watch" {
            if !json { print("watching plugd \(status.name) (\(status.identity)); Ctrl-C to stop") }
            while let line = connection.nextLine() {
                if json { print(String(decoding: line, as: UTF8.self)); continue }
                guard let e = try? ControlEventMessage(line: line) else { continue }
                print(Self.eventText(e, at: Self.timestamp()))
                // Whoever reads the output has gone (`plugctl watch | head`): stop quietly.
                if fflush(nil) != 0 { return }
            }
            // The daemon ended the stream: it stopped (or restarted). Say so, and fail, so a
            // script that follows the events knows they ended.
            printError("plugctl: plugd closed the connection (stopped or restarted)")
            throw ExitCode(ExitStatus.unavailable)
        }
        if !json { print(show(reply, status)) }
    }

    /// One event as a line: when, name, message, fields.
    static func eventText(_ e: ControlEventMessage, at time: String) -> String {
        let fields = e.fields.sorted { $0.key < $1.key }.map { " \($0.key)=\($0.value)" }.joined()
        return "\(time) \(e.event): \(e.message)\(fields)"
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
        return timestamp(milliseconds: Int64(now.tv_sec) * 1000 + Int64(now.tv_nsec / 1_000_000))
    }

    /// A time given in milliseconds since the epoch, as local `HH:mm:ss.SSS`.
    static func timestamp(milliseconds: Int64) -> String {
        var seconds = time_t(milliseconds / 1000)
        var t = tm()
        localtime_r(&seconds, &t)
        func two(_ n: Int32) -> String { n < 10 ? "0\(n)" : "\(n)" }
        let ms = Int(milliseconds % 1000)
        return "\(two(t.tm_hour)):\(two(t.tm_min)):\(two(t.tm_sec)).\(ms < 10 ? "00" : ms < 100 ? "0" : "")\(ms)"
    }

    private func failure(_ what: String, _ e: Errno) -> ExitCode {
        var hint = ""
        if e.rawValue == ENOENT || e.rawValue == ECONNREFUSED { hint = " (is plugd running?)" }
        if e.rawValue == EACCES { hint = " (are you in group plugd?)" }
        if e.rawValue == EPIPE || e.rawValue == ECONNRESET { hint = " (plugd closed the connection: busy, or stopping; try again)" }
        printError("plugctl: \(what) \(socket): \(e.description)\(hint)")
        return ExitCode(ExitStatus.unavailable)
    }
}

func printError(_ message: String) {
    FileDescriptor.standardError.write(message + "\n")
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
        try connection.send(ControlRequestMessage(command: "schedule")) { _, s in
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

struct Events: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List the most recent events (the last 30), oldest first.")
    @OptionGroup var connection: Connection

    func run() throws {
        try connection.send(ControlRequestMessage(command: "events")) { reply, _ in
            let events = reply.events ?? []
            guard !events.isEmpty else { return "no events since plugd started" }
            return events.map { Connection.eventText($0, at: $0.at.map { Connection.timestamp(milliseconds: $0) } ?? "--:--:--.---") }
                .joined(separator: "\n")
        }
    }
}

struct WebPassword: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "web-password",
        abstract: "Set the password the web page asks before any change (run as root).",
        discussion: """
            Reads the new password twice from the terminal (or once from standard input with --stdin) \
            and stores its Argon2id hash, readable by root and group plugd only. Every web session ends. \
            --remove deletes it: the page is then read only.
            """)
    @Option(help: "Where the hash is kept (plugd-web's --password-file).") var file = WebFiles.defaultPasswordFile
    @Flag(help: "Read the password from standard input (one line) instead of the terminal.") var stdin = false
    @Flag(help: "Remove the password: nobody can change the plug from the web.") var remove = false

    func run() throws {
        if remove {
            guard unlink(file) == 0 || errno == ENOENT else {
                printError("plugctl: cannot remove \(file): \(Errno.current)\(errno == EACCES ? " (run it as root)" : "")")
                throw ExitCode(ExitStatus.cannotCreate)
            }
            print("web password removed: the page is read only")
            return
        }
        let password: String
        if stdin {
            password = readLine(strippingNewline: true) ?? ""
        } else {
            guard let first = Self.ask("New web password: "), let second = Self.ask("Again: ") else {
                printError("plugctl: no terminal to ask on; use --stdin")
                throw ExitCode(ExitStatus.usage)
            }
            guard first == second else {
                printError("plugctl: the two passwords differ; nothing changed")
                throw ExitCode(ExitStatus.refused)
            }
            password = first
        }
        guard (PasswordHash.shortest...PasswordHash.longest).contains(password.count) else {
            printError("plugctl: a web password must be \(PasswordHash.shortest) to \(PasswordHash.longest) characters; nothing changed")
            throw ExitCode(ExitStatus.refused)
        }
        guard let hash = PasswordHash.make(password) else {
            printError("plugctl: cannot hash the password (out of memory?)")
            throw ExitCode(ExitStatus.unavailable)
        }
        do {
            try WebFiles.replace(file, with: Array((hash + "\n").utf8), mode: 0o640, group: "plugd")
        } catch {
            printError("plugctl: cannot write \(file): \(error)\(error.rawValue == EACCES ? " (run it as root)" : "")")
            throw ExitCode(ExitStatus.cannotCreate)
        }
        print("web password set; every web session has ended")
    }

    /// One line read from the terminal with echo off; `nil` without a terminal.
    static func ask(_ prompt: String) -> String? {
        let tty = open("/dev/tty", O_RDWR | O_CLOEXEC)
        guard tty >= 0 else { return nil }
        defer { close(tty) }
        var saved = termios()
        guard tcgetattr(tty, &saved) == 0 else { return nil }
        var quiet = saved
        quiet.c_lflag &= ~tcflag_t(ECHO)
        tcsetattr(tty, TCSAFLUSH, &quiet)
        defer {
            tcsetattr(tty, TCSAFLUSH, &saved)
            _ = write(tty, "\n", 1)
        }
        _ = prompt.withCString { write(tty, $0, strlen($0)) }
        var line: [UInt8] = []
        var byte: UInt8 = 0
        while read(tty, &byte, 1) == 1, byte != 0x0A { line.append(byte) }
        return String(decoding: line, as: UTF8.self)
    }
}
