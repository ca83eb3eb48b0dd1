#if canImport(Glibc)
import Glibc
#endif
import CMicroHTTPD
import PlugJSON
import PlugPOSIX
import PlugProtocol

/// One page's live events (`GET /api/events`, Server-Sent Events): a `watch` connection to
/// plugd, turned into `event: plug` messages (each event) and `event: status` messages (the
/// plug's status at the start and after each event), with a comment every `keepAlive` of
/// silence. When plugd closes the connection (it stopped or restarted) the stream ends, and the
/// browser connects again after `retry` (3 s); when the browser hangs up (the page closed), the
/// stream ends at once, not at the next event, so plugd-web can exit when idle.
final class EventStream {
    let socket: String
    /// The browser's connection, watched for it hanging up.
    let client: Int32
    let keepAlive: Duration
    private var watch: ControlConnection?
    private var pending: [UInt8] = []
    private var ended = false

    init(socket: String, client: Int32, keepAlive: Duration) {
        self.socket = socket
        self.client = client
        self.keepAlive = keepAlive
    }

    /// libmicrohttpd's content reader: up to `max` bytes into `buffer`; -1 at the end.
    func read(into buffer: UnsafeMutablePointer<CChar>, max: Int) -> Int {
        if pending.isEmpty { fill() }
        if pending.isEmpty { return -1 }
        let n = min(max, pending.count)
        pending.withUnsafeBytes { UnsafeMutableRawPointer(buffer).copyMemory(from: $0.baseAddress!, byteCount: n) }
        pending.removeFirst(n)
        return n
    }

    private func fill() {
        guard !ended else { return }
        guard let watch else {
            guard let connection = try? ControlConnection(socket: socket, timeout: keepAlive),
                let (reply, _) = try? connection.send(ControlRequestMessage(command: "watch")), reply.ok, let status = reply.status
            else {
                ended = true
                return
            }
            self.watch = connection
            pending = Array("retry: 3000\n".utf8) + Self.message("status", status.json.text())
            return
        }
        if !watch.hasBufferedLine {
            // Wait for plugd's next event, the browser hanging up, or the keep-alive time.
            var fds = [
                pollfd(fd: watch.fd, events: Int16(POLLIN), revents: 0),
                pollfd(fd: client, events: plugd_pollrdhup, revents: 0),
            ]
            guard let n = try? Poll.wait(&fds, timeout: keepAlive), fds[1].revents == 0 else {
                ended = true
                return
            }
            if n == 0 {
                pending = Array(": keep-alive\n\n".utf8)
                return
            }
        }
        if let line = watch.nextLine() {
            pending = Self.message("plug", String(decoding: line, as: UTF8.self))
            if let connection = try? ControlConnection(socket: socket, timeout: .seconds(5)),
                let (reply, _) = try? connection.send(ControlRequestMessage(command: "status")), let status = reply.status
            {
                pending += Self.message("status", status.json.text())
            }
        } else if watch.timedOut {
            pending = Array(": keep-alive\n\n".utf8)
        } else {
            ended = true
        }
    }

    static func message(_ event: String, _ data: String) -> [UInt8] {
        Array("event: \(event)\ndata: \(data)\n\n".utf8)
    }
}
