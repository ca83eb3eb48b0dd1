#if canImport(Glibc)
import Glibc
#endif
import CMicroHTTPD
import PlugCore
import PlugPOSIX
import PlugProtocol
import PlugWeb
import Synchronization

/// The HTTP edge: GNU libmicrohttpd parses requests and writes responses; each complete request
/// becomes a `WebRequest` for `WebAPI`, and its answer a libmicrohttpd response. One thread per
/// connection (libmicrohttpd's), so the event stream of one page blocks no one else. It counts
/// open connections, so plugd-web can exit when nobody has one.
final class HTTPServer: @unchecked Sendable {
    let api: WebAPI
    let controlSocket: String
    /// Open connections now.
    var connections: Int { open.load(ordering: .acquiring) }
    private let open = Atomic<Int>(0)
    /// Signalled whenever a connection opens or closes.
    let changed = Semaphore()
    /// The libmicrohttpd daemon: set by `start`, cleared by `stop`, both on the main thread.
    private var daemon: OpaquePointer?
    /// A silent event stream still sends a comment this often, so proxies, browsers and the
    /// server's own idle timeout keep it.
    static let keepAlive: Duration = .seconds(20)

    init(api: WebAPI, controlSocket: String) {
        self.api = api
        self.controlSocket = controlSocket
    }

    /// Starts serving connections on `listenFD`.
    func start(listenFD: Int32) -> Bool {
        let me = Unmanaged.passRetained(self).toOpaque()
        let d = plugd_mhd_start(
            listenFD, Self.access, me, Self.completed, Self.notify, 32, 8, 30, 32 * 1024)
        daemon = d
        return d != nil
    }

    func stop() {
        if let daemon { MHD_stop_daemon(daemon) }
        daemon = nil
    }

    /// A request's body as it arrives, kept between libmicrohttpd's calls for one request.
    final class Upload {
        var bytes: [UInt8] = []
    }

    private static let access: MHD_AccessHandlerCallback = { cls, connection, url, method, _, data, size, context in
        guard let cls, let connection, let url, let method, let size, let context else { return .NO }
        let server = Unmanaged<HTTPServer>.fromOpaque(cls).takeUnretainedValue()
        if context.pointee == nil {
            // The first call, with the headers only: a body announced as too large is refused
            // before it is read.
            context.pointee = Unmanaged.passRetained(Upload()).toOpaque()
            if let length = server.header(connection, "Content-Length").flatMap(Int.init), length > WebAPI.maxBody {
                return server.queue(connection, .error(413, "the body is larger than \(WebAPI.maxBody) bytes"), withCommonHeaders: true)
            }
            // A body of unknown length (chunked) is refused before it is read: libmicrohttpd
            // cannot answer in the middle of one, and every browser and script sends a length.
            if server.header(connection, "Transfer-Encoding") != nil {
                return server.queue(
                    connection, .error(411, "send the body with a Content-Length (at most \(WebAPI.maxBody) bytes), not chunked"),
                    withCommonHeaders: true)
            }
            return .YES
        }
        let upload = Unmanaged<Upload>.fromOpaque(context.pointee!).takeUnretainedValue()
        if size.pointee > 0 {
            if upload.bytes.count + size.pointee > WebAPI.maxBody {
                size.pointee = 0
                return server.queue(connection, .error(413, "the body is larger than \(WebAPI.maxBody) bytes"), withCommonHeaders: true)
            }
            if let data { upload.bytes += UnsafeRawBufferPointer(start: data, count: size.pointee) }
            size.pointee = 0
            return .YES
        }
        var path = String(cString: url)
        if let q = path.firstIndex(of: "?") { path = String(path[..<q]) }
        var address = [CChar](repeating: 0, count: 64)
        plugd_mhd_client_address(connection, &address, address.count)
        let request = WebRequest(
            method: String(cString: method), path: path, headers: server.headers(connection), body: upload.bytes,
            client: String(decoding: address.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self), unixSeconds: WallClockSeconds.now, instant: MonotonicClockNow.now)
        let response = server.api.handle(request)
        if request.path == "/api/login", response.status == 401 || response.status == 429 {
            log(5, "login refused for \(request.client): \(response.status == 401 ? "wrong password" : "too many wrong passwords")")
        }
        if response.isEventStream { return server.queueEvents(connection, response, client: plugd_mhd_connection_fd(connection)) }
        return server.queue(connection, response)
    }

    private static let completed: MHD_RequestCompletedCallback = { _, _, context, _ in
        guard let context, let upload = context.pointee else { return }
        Unmanaged<Upload>.fromOpaque(upload).release()
        context.pointee = nil
    }

    private static let notify: MHD_NotifyConnectionCallback = { cls, _, _, code in
        guard let cls else { return }
        let server = Unmanaged<HTTPServer>.fromOpaque(cls).takeUnretainedValue()
        // MHD_CONNECTION_NOTIFY_STARTED (0) and MHD_CONNECTION_NOTIFY_CLOSED (1).
        if code.rawValue == 0 { server.open.add(1, ordering: .acquiringAndReleasing) }
        if code.rawValue == 1 { server.open.subtract(1, ordering: .acquiringAndReleasing) }
        server.changed.signal()
    }

    private func header(_ connection: OpaquePointer, _ name: String) -> String? {
        MHD_lookup_connection_value(connection, .HEADER_KIND, name).map { String(cString: $0) }
    }

    private final class Headers { var values: [String: String] = [:] }

    private func headers(_ connection: OpaquePointer) -> [String: String] {
        let box = Headers()
        let boxPointer = Unmanaged.passUnretained(box).toOpaque()
        MHD_get_connection_values(
            connection, .HEADER_KIND,
            { cls, _, key, value in
                guard let cls, let key else { return .YES }
                let box = Unmanaged<Headers>.fromOpaque(cls).takeUnretainedValue()
                box.values[String(cString: key).lowercased()] = value.map { String(cString: $0) } ?? ""
                return .YES
            }, boxPointer)
        return box.values
    }

    private func queue(_ connection: OpaquePointer, _ response: WebResponse, withCommonHeaders: Bool = false) -> MHD_Result {
        let r = response.body.withUnsafeBytes {
            MHD_create_response_from_buffer(response.body.count, UnsafeMutableRawPointer(mutating: $0.baseAddress), .RESPMEM_MUST_COPY)
        }
        guard let r else { return .NO }
        for (name, value) in response.headers + (withCommonHeaders ? WebAPI.commonHeaders : []) { MHD_add_response_header(r, name, value) }
        let result = MHD_queue_response(connection, UInt32(response.status), r)
        MHD_destroy_response(r)
        return result
    }

    private func queueEvents(_ connection: OpaquePointer, _ response: WebResponse, client: Int32) -> MHD_Result {
        let stream = Unmanaged.passRetained(EventStream(socket: controlSocket, client: client, keepAlive: Self.keepAlive)).toOpaque()
        let r = MHD_create_response_from_callback(
            plugd_mhd_size_unknown, 4096,
            { cls, _, buffer, max in
                guard let cls, let buffer else { return -2 }
                return Unmanaged<EventStream>.fromOpaque(cls).takeUnretainedValue().read(into: buffer, max: max)
            },
            stream, { cls in if let cls { Unmanaged<EventStream>.fromOpaque(cls).release() } })
        guard let r else {
            Unmanaged<EventStream>.fromOpaque(stream).release()
            return .NO
        }
        // When the stream ends the connection closes, so the browser sees the end and connects
        // again, and plugd-web's count of open connections is right.
        for (name, value) in response.headers + [("Connection", "close")] { MHD_add_response_header(r, name, value) }
        let result = MHD_queue_response(connection, UInt32(response.status), r)
        MHD_destroy_response(r)
        return result
    }
}

/// One line to the journal (through stderr, with its syslog priority prefix).
func log(_ priority: Int, _ message: String) {
    FileDescriptor.standardError.write("<\(priority)>plugd-web: \(message)\n")
}

/// The wall clock in whole seconds (sessions expire by it).
enum WallClockSeconds {
    static var now: Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Int64(ts.tv_sec)
    }
}

/// The monotonic clock (the login limits count by it).
enum MonotonicClockNow {
    static var now: MonotonicInstant {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return MonotonicInstant(nanoseconds: Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec))
    }
}
