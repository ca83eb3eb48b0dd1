import ArgumentParser
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `plugctl`: talks to plugd over its control socket.
///
/// The command set is final; the daemon's side of the socket lands with the service work
/// (issue 4). Until then every command reports that it cannot reach the daemon.
@main
struct Plugctl: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plugctl",
        abstract: "Control a running plugd.",
        subcommands: [Status.self, On.self, Off.self, Toggle.self, Setup.self, Reset.self,
                      FactoryReset.self, Deregister.self, Watch.self]
    )
}

struct SocketOption: ParsableArguments {
    @Option(help: "The daemon's control socket.")
    var socket = "/run/plugd/control.sock"
}

/// Sends one request line and prints the reply lines until the daemon closes the connection.
func send(_ request: String, to path: String) throws {
    let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw failure("socket", path) }
    defer { close(fd) }
    var address = sockaddr_un()
    address.sun_family = sa_family_t(AF_UNIX)
    let bytes = Array(path.utf8)
    guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else {
        throw ValidationError("socket path too long: \(path)")
    }
    withUnsafeMutableBytes(of: &address.sun_path) { raw in
        for (i, b) in bytes.enumerated() { raw[i] = b }
    }
    let connected = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
        }
    }
    guard connected == 0 else { throw failure("cannot connect to", path) }
    let line = Array((request + "\n").utf8)
    guard write(fd, line, line.count) == line.count else { throw failure("cannot write to", path) }
    var buffer = [UInt8](repeating: 0, count: 4096)
    while true {
        let n = read(fd, &buffer, buffer.count)
        if n <= 0 { break }
        print(String(decoding: buffer[0..<n], as: UTF8.self), terminator: "")
    }
}

func failure(_ what: String, _ path: String) -> ExitCode {
    let reason = String(cString: strerror(errno))
    var hint = ""
    if errno == ENOENT || errno == ECONNREFUSED { hint = " (is plugd running?)" }
    if errno == EACCES { hint = " (are you in group plugd?)" }
    let message = Array("plugctl: \(what) \(path): \(reason)\(hint)\n".utf8)
    _ = write(STDERR_FILENO, message, message.count)
    return ExitCode(69)
}

struct Status: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Show relay, LED, mode, name and identity.")
    @OptionGroup var options: SocketOption
    @Flag(help: "Print JSON.") var json = false
    func run() throws { try send(#"{"command":"status","json":\#(json)}"#, to: options.socket) }
}

struct On: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Switch the relay on.")
    @OptionGroup var options: SocketOption
    func run() throws { try send(#"{"command":"on"}"#, to: options.socket) }
}

struct Off: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Switch the relay off.")
    @OptionGroup var options: SocketOption
    func run() throws { try send(#"{"command":"off"}"#, to: options.socket) }
}

struct Toggle: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Toggle the relay.")
    @OptionGroup var options: SocketOption
    func run() throws { try send(#"{"command":"toggle"}"#, to: options.socket) }
}

struct Setup: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Complete setup (optionally naming the plug).")
    @OptionGroup var options: SocketOption
    @Option(help: "The plug's new name.") var name: String?
    func run() throws {
        var request = #"{"command":"setup""#
        if let name {
            let escaped = name.unicodeScalars.map { s -> String in
                switch s {
                case "\"": return "\\\""
                case "\\": return "\\\\"
                default:
                    guard s.value < 0x20 else { return String(s) }
                    let hex = String(s.value, radix: 16)
                    return "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                }
            }.joined()
            request += #","name":"\#(escaped)""#
        }
        try send(request + "}", to: options.socket)
    }
}

struct Reset: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Simple reset: setup mode, registration kept.")
    @OptionGroup var options: SocketOption
    func run() throws { try send(#"{"command":"reset"}"#, to: options.socket) }
}

struct FactoryReset: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "factory-reset",
                                                    abstract: "Wipe all state and start as a new plug.")
    @OptionGroup var options: SocketOption
    @Flag(help: "Confirm: this cannot be undone.") var yes = false
    func validate() throws { guard yes else { throw ValidationError("factory-reset wipes all state; confirm with --yes") } }
    func run() throws { try send(#"{"command":"factory-reset"}"#, to: options.socket) }
}

struct Deregister: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Remove the registration, then factory reset.")
    @OptionGroup var options: SocketOption
    @Flag(help: "Confirm: this cannot be undone.") var yes = false
    func validate() throws { guard yes else { throw ValidationError("deregister wipes all state; confirm with --yes") } }
    func run() throws { try send(#"{"command":"deregister"}"#, to: options.socket) }
}

struct Watch: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print events as they happen.")
    @OptionGroup var options: SocketOption
    func run() throws { try send(#"{"command":"watch"}"#, to: options.socket) }
}
