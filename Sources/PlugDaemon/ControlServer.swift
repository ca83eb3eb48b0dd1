#if canImport(Glibc)
import Glibc
#endif
import PlugCore
import PlugPOSIX
import PlugProtocol
import Synchronization

/// Serves the control socket (`/run/plugd/control.sock`, mode 0660): one JSON request line per
/// connection, answered by the run loop; `watch` then streams events.
///
/// Each client has its own thread with receive/send timeouts and a bounded request size, so a
/// malformed, oversized, silent or slow client gets an error or is dropped, never stalls the
/// plug, and never crashes the daemon. At most `maxClients` are served at once (so threads and
/// memory stay bounded); when all are taken, the client that has waited longest without sending
/// its request is dropped to make room, so idle or slow connections (any member of group plugd
/// can open hundreds) cannot lock a well-behaved `plugctl` out. Only when every slot is busy with
/// a request or a `watch` is a new client told to try again.
public final class ControlServer: Sendable {
    public let path: String
    private let submit: @Sendable (ControlRequest) -> Void
    private let events: EventBroadcaster
    private let listener = Atomic<Int32>(-1)
    private let active = Atomic<Int>(0)
    /// Clients still waiting to send their request, by descriptor, with when they connected
    /// (`MonotonicClock`): the oldest is dropped when a new client needs its slot.
    private let idle = Mutex<[Int32: MonotonicInstant]>([:])
    /// How long a client may sit without sending its request before it can be dropped for a
    /// newcomer: a burst of well-behaved clients is not dropped, it is told to try again.
    public let idleGrace: Duration
    /// How many clients are being served now (each has a thread).
    public var activeClients: Int { active.load(ordering: .relaxed) }
    /// How many idle clients were dropped to make room (for tests and the log).
    public var dropped: Int { droppedCount.load(ordering: .relaxed) }
    private let droppedCount = Atomic<Int>(0)
    /// The most clients served at once; more get an error reply.
    public let maxClients: Int
    /// How long a client may take to send its request, or to take a reply.
    public let timeout: Duration

    /// Serves `path`; every well-formed request is handed to `submit` (the run loop's inbox),
    /// which must answer it through the request's `reply`.
    public init(
        path: String, submit: @escaping @Sendable (ControlRequest) -> Void, events: EventBroadcaster,
        maxClients: Int = 32, timeout: Duration = .seconds(5), idleGrace: Duration = .milliseconds(200)
    ) {
        self.idleGrace = idleGrace
        self.path = path
        self.submit = submit
        self.events = events
        self.maxClients = maxClients
        self.timeout = timeout
    }

    /// Creates the socket (replacing a stale socket, never anything else), makes it 0660, and starts accepting.
    public func start() throws {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw ControlServerError("socket", path, errno) }
        // Only a socket is ever replaced (one left by a plugd that died): anything else at the
        // path, a state or config file given by mistake, is kept and refused.
        if let type = FileSystem.type(of: path, followLinks: false) {
            guard type == .socket else {
                close(fd)
                throw ControlServerError(refusing: path, "it is \(type.described), not a socket; control.socket must name a path of its own")
            }
            let other = UnixSocket.connect(to: path)
            if other >= 0 {
                close(other)
                close(fd)
                throw ControlServerError(refusing: path, "another process (another plugd?) is serving it")
            }
            unlink(path)
        }
        let bound = UnixSocket.withAddress(path) { bind(fd, $0, $1) } ?? -1
        guard bound == 0, chmod(path, 0o660) == 0, listen(fd, 16) == 0 else {
            let e = errno
            close(fd)
            throw ControlServerError("bind", path, e)
        }
        listener.store(fd, ordering: .releasing)
        PlugThread.detach(name: "control") { [self] in acceptLoop(fd) }
    }

    /// Stops accepting and removes the socket.
    public func stop() {
        let fd = listener.exchange(-1, ordering: .acquiringAndReleasing)
        guard fd >= 0 else { return }
        shutdown(fd, Int32(SHUT_RDWR))
        close(fd)
        unlink(path)
    }

    private func acceptLoop(_ fd: Int32) {
        while listener.load(ordering: .acquiring) == fd {
            let client = accept(fd, nil, nil)
            if client < 0 {
                if errno == EINTR || errno == ECONNABORTED || errno == EMFILE || errno == ENFILE {
                    if errno == EMFILE || errno == ENFILE { usleep(100_000) }
                    continue
                }
                return
            }
            _ = fcntl(client, F_SETFD, FD_CLOEXEC)
            if active.load(ordering: .relaxed) >= maxClients, !dropOldestIdle() {
                send(client, ControlProtocol.line(ControlReply.failure("too many clients; try again")))
                close(client)
                continue
            }
            active.add(1, ordering: .relaxed)
            idle.withLock { $0[client] = MonotonicClock().now }
            PlugThread.detach(name: "control client") { [self] in
                serve(client)
                idle.withLock { _ = $0.removeValue(forKey: client) }
                close(client)
                active.subtract(1, ordering: .relaxed)
            }
        }
    }

    /// Ends the connection of the client that has waited longest without sending a request: its
    /// thread sees the end of input, and its slot is free once that thread has closed it (a
    /// slot may be over-used by one meanwhile). The descriptor stays open until then: it is
    /// closed only after its thread has left `idle`, which this holds while shutting it down.
    private func dropOldestIdle() -> Bool {
        let now = MonotonicClock().now
        return idle.withLock { i in
            guard let (fd, since) = i.min(by: { $0.value < $1.value }), since.duration(to: now) >= idleGrace else { return false }
            i.removeValue(forKey: fd)
            let bye = ControlProtocol.line(ControlReply.failure("dropped: too many idle clients"))
            _ = bye.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL) | Int32(MSG_DONTWAIT)) }
            shutdown(fd, Int32(SHUT_RDWR))
            droppedCount.add(1, ordering: .relaxed)
            return true
        }
    }

    private func serve(_ fd: Int32) {
        var tv = timeval(tv_sec: Int(timeout.components.seconds), tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        let request: ControlRequestMessage
        switch readRequest(fd) {
        case .failure(let refused):
            send(fd, ControlProtocol.line(ControlReply.failure(refused.reason)))
            return
        case .success(let r):
            request = r
        }
        idle.withLock { _ = $0.removeValue(forKey: fd) } // busy now: not to be dropped
        let input: PlugMachine.Input?
        switch request.command {
        case "status", "watch", "schedule", "events": input = nil
        case "on", "off":
            let on = request.command == "on"
            guard let seconds = request.seconds else {
                input = .command(on ? .on : .off, source: .control)
                break
            }
            let range = ControlRequestMessage.secondsRange
            guard range.contains(seconds) else {
                send(
                    fd,
                    ControlProtocol.line(
                        ControlReply.failure("a countdown must be 1 s to 7 days (seconds: \(range.lowerBound) to \(range.upperBound))")))
                return
            }
            input = .command(.timed(on: on, for: .seconds(seconds)), source: .control)
        case "cancel-timer": input = .command(.cancelTimer, source: .control)
        case "toggle": input = .command(.toggle, source: .control)
        case "identify": input = .command(.identify, source: .control)
        case "setup":
            if let name = request.name, name.isEmpty || name.count > 64 || name.contains(where: { $0.isNewline }) {
                send(fd, ControlProtocol.line(ControlReply.failure("a name must be 1 to 64 characters on one line")))
                return
            }
            input = .command(.setup(name: request.name), source: .control)
        case "reset": input = .command(.simpleReset, source: .control)
        case "factory-reset": input = .command(.factoryReset, source: .control)
        case "deregister": input = .command(.deregister, source: .control)
        default:
            send(
                fd,
                ControlProtocol.line(
                    ControlReply.failure(
                        "unknown command \"\(request.command)\"; known: \(ControlRequestMessage.commands.sorted().joined(separator: ", "))")))
            return
        }
        let reply = Mutex<ControlReply?>(nil)
        let done = Semaphore()
        submit(
            ControlRequest(input: input) { r in
                reply.withLock { $0 = r }
                done.signal()
            })
        guard done.wait(timeout: timeout),
            var answer = reply.withLock({ $0 })
        else {
            send(fd, ControlProtocol.line(ControlReply.failure("the daemon did not answer in time")))
            return
        }
        if request.command == "events", answer.ok {
            answer.events = events.recent().map { Self.message($0.event, at: $0.at) }
        }
        guard send(fd, ControlProtocol.line(answer)), request.command == "watch", answer.ok else { return }
        watch(fd)
    }

    /// Streams events to the client until it disconnects or falls behind.
    private func watch(_ fd: Int32) {
        let subscription = events.subscribe()
        // Another thread waits for the client to hang up (read returns 0) and ends the stream.
        var tv = timeval(tv_sec: 0, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        PlugThread.detach(name: "watch hangup") {
            var byte: UInt8 = 0
            while recv(fd, &byte, 1, 0) > 0 {}
            subscription.close()
        }
        while let event = subscription.next() {
            let message = Self.message(event, at: Int64(WallClock.unixNow.milliseconds))
            if !send(fd, ControlProtocol.line(message)) { break }
        }
        events.unsubscribe(subscription)
        shutdown(fd, Int32(SHUT_RDWR))
    }

    /// `event` as the protocol sends it.
    static func message(_ event: PlugEvent, at: Int64) -> ControlEventMessage {
        ControlEventMessage(
            event: event.name, message: event.message, priority: event.priority.rawValue,
            fields: Dictionary(uniqueKeysWithValues: event.fields.map { ($0.key.rawValue, $0.value) }), at: at)
    }

    private struct Refused: Error { let reason: String }

    private func readRequest(_ fd: Int32) -> Result<ControlRequestMessage, Refused> {
        let tooLarge = Refused(reason: "request too large (at most \(ControlProtocol.maxRequestBytes) bytes)")
        var data: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 1024)
        while !data.contains(0x0A) {
            let n = recv(fd, &buffer, buffer.count, 0)
            if n < 0 { return .failure(Refused(reason: errno == EAGAIN ? "timed out waiting for a request" : "read error")) }
            if n == 0 { break }
            data += buffer[0..<n]
            if data.count > ControlProtocol.maxRequestBytes, !data.contains(0x0A) { return .failure(tooLarge) }
        }
        if let newline = data.firstIndex(of: 0x0A) { data = Array(data[..<newline]) }
        if data.count > ControlProtocol.maxRequestBytes { return .failure(tooLarge) }
        guard !data.isEmpty else { return .failure(Refused(reason: "empty request")) }
        do {
            return .success(try ControlRequestMessage(line: data))
        } catch {
            return .failure(Refused(reason: "malformed request (\(error)): expected one JSON object like {\"command\":\"status\"}"))
        }
    }

    @discardableResult
    private func send(_ fd: Int32, _ bytes: [UInt8]) -> Bool {
        var sent = 0
        while sent < bytes.count {
            let n = bytes[sent...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { return false }
            sent += n
        }
        return true
    }
}

/// The control socket could not be created.
public struct ControlServerError: Error, CustomStringConvertible {
    public var description: String

    init(_ op: String, _ path: String, _ e: Int32) {
        description = "cannot \(op) control socket \(path): \(Errno(rawValue: e).description)"
    }

    init(refusing path: String, _ reason: String) {
        description = "control socket \(path): not replaced: \(reason)"
    }
}
