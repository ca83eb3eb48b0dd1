#if canImport(Glibc)
import Glibc
#endif
import PlugPOSIX

/// A client's connection to plugd's control socket (plugctl's and plugd-web's): one request,
/// its reply, then, for `watch`, one event per line.
public final class ControlConnection {
    public let fd: Int32
    private var reader: LineReader

    /// Connects to `socket`; with a `timeout`, every read and write waits at most that long.
    /// Throws the connection's errno.
    public init(socket: String, timeout: Duration? = nil) throws(Errno) {
        // A daemon that closes the connection first must be an error, not a death by SIGPIPE.
        signal(SIGPIPE, SIG_IGN)
        let fd = UnixSocket.connect(to: socket)
        guard fd >= 0 else { throw Errno(rawValue: errno) }
        if let timeout { Self.setTimeout(fd, timeout) }
        self.fd = fd
        reader = LineReader(fd: fd)
    }

    deinit { close(fd) }

    /// Sends `request` and reads the reply line (both as bytes, so `--json` can print it as sent).
    public func send(_ request: ControlRequestMessage) throws(ControlClientError) -> (ControlReply, line: [UInt8]) {
        let line = ControlProtocol.line(request)
        let written = line.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        guard written == line.count else { throw .io("cannot write to", Errno(rawValue: errno)) }
        guard let first = reader.next() else { throw .io("no reply from", Errno(rawValue: errno)) }
        guard let reply = try? ControlReply(line: first) else { throw .unreadable }
        return (reply, first)
    }

    /// The next line the daemon sends (a `watch` event), or `nil` when it closes the connection
    /// (or, with a timeout, when none came in time: `timedOut` then says so).
    public func nextLine() -> [UInt8]? { reader.next() }

    /// Whether a whole line has been read already (`nextLine()` returns it without reading).
    public var hasBufferedLine: Bool { reader.buffer.contains(0x0A) }

    /// Whether the last `nextLine()` that returned `nil` did so because the timeout passed.
    public var timedOut: Bool { reader.timedOut }

    static func setTimeout(_ fd: Int32, _ timeout: Duration) {
        let (seconds, atto) = timeout.components
        var tv = timeval(tv_sec: Int(seconds), tv_usec: Int(atto / 1_000_000_000_000))
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
    }
}

/// Why a request over the control socket failed.
public enum ControlClientError: Error, CustomStringConvertible {
    /// A read or write failed (`what` the socket, with the errno).
    case io(String, Errno)
    /// The reply was not a `ControlReply`.
    case unreadable

    public var description: String {
        switch self {
        case .io(let what, let e): "\(what) the control socket: \(e.description)"
        case .unreadable: "unreadable reply from the control socket"
        }
    }
}

/// Reads newline-terminated lines from a socket.
struct LineReader {
    let fd: Int32
    var buffer: [UInt8] = []
    var timedOut = false

    mutating func next() -> [UInt8]? {
        var chunk = [UInt8](repeating: 0, count: 4096)
        timedOut = false
        while true {
            if let newline = buffer.firstIndex(of: 0x0A) {
                let line = Array(buffer[..<newline])
                buffer.removeSubrange(...newline)
                return line
            }
            let n = read(fd, &chunk, chunk.count)
            if n < 0, errno == EINTR { continue }
            if n < 0, errno == EAGAIN { timedOut = true }
            if n <= 0 { return nil }
            buffer += chunk[0..<n]
        }
    }
}
