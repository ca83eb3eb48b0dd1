import PlugCore

/// One HTTP request as the web API sees it: what the server (libmicrohttpd) parsed, and when it
/// arrived. No I/O: tests build these directly.
public struct WebRequest: Sendable {
    public var method: String
    /// The path, without the query (`/api/status`).
    public var path: String
    /// Header values by lowercased name.
    public var headers: [String: String]
    public var body: [UInt8]
    /// The client's address ("192.168.1.20"), for the login limits.
    public var client: String
    /// The wall clock when it arrived, seconds since the epoch (sessions expire by it).
    public var unixSeconds: Int64
    /// The monotonic clock when it arrived (the login limits count by it).
    public var instant: MonotonicInstant

    public init(
        method: String, path: String, headers: [String: String] = [:], body: [UInt8] = [], client: String = "",
        unixSeconds: Int64, instant: MonotonicInstant
    ) {
        self.method = method
        self.path = path
        self.headers = Dictionary(headers.map { ($0.key.lowercased(), $0.value) }) { _, last in last }
        self.body = body
        self.client = client
        self.unixSeconds = unixSeconds
        self.instant = instant
    }

    /// A header's value (`name` in any case).
    public func header(_ name: String) -> String? { headers[name.lowercased()] }

    /// The value of cookie `name`, if the request carries it.
    public func cookie(_ name: String) -> String? {
        guard let cookies = header("cookie") else { return nil }
        for pair in cookies.split(separator: ";") {
            let parts = pair.split(separator: "=", maxSplits: 1)
            if parts.count == 2, parts[0].trimmingSpaces == name { return String(parts[1].trimmingSpaces) }
        }
        return nil
    }
}

extension Substring {
    var trimmingSpaces: Substring {
        var s = self
        while s.first == " " { s = s.dropFirst() }
        while s.last == " " { s = s.dropLast() }
        return s
    }
}
