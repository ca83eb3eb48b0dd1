import PlugJSON

/// What the web API answers: a status, headers and a body, or the live event stream (which the
/// server produces itself, as it lasts).
public struct WebResponse: Sendable, Equatable {
    public var status: Int
    public var headers: [(String, String)]
    public var body: [UInt8]
    /// The response is the Server-Sent Events stream of the plug's events (`GET /api/events`).
    public var isEventStream: Bool

    public init(status: Int, headers: [(String, String)] = [], body: [UInt8] = [], isEventStream: Bool = false) {
        self.status = status
        self.headers = headers
        self.body = body
        self.isEventStream = isEventStream
    }

    public static func == (a: WebResponse, b: WebResponse) -> Bool {
        a.status == b.status && a.body == b.body && a.isEventStream == b.isEventStream
            && a.headers.map { "\($0.0): \($0.1)" } == b.headers.map { "\($0.0): \($0.1)" }
    }

    /// A JSON body.
    public static func json(_ value: JSON, status: Int = 200, headers: [(String, String)] = []) -> WebResponse {
        WebResponse(status: status, headers: [("Content-Type", "application/json")] + headers, body: Array(value.text().utf8) + [0x0A])
    }

    /// An error: `{"error": "…"}` with `status`.
    public static func error(_ status: Int, _ message: String, headers: [(String, String)] = []) -> WebResponse {
        json(["error": .string(message)], status: status, headers: headers)
    }

    /// A header's value (`name` in any case), for tests.
    public func header(_ name: String) -> String? {
        headers.first { $0.0.lowercased() == name.lowercased() }?.1
    }
}
