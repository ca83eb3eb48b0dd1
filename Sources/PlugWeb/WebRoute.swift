/// One operation of the HTTP API: what docs/openapi.json describes, path for path (a unit test
/// holds the two to each other).
public struct WebRoute: Sendable, Equatable {
    /// Who may call it.
    public enum Access: Sendable, Equatable {
        /// Anyone on the network: reading the plug's state.
        case open
        /// A logged-in session with its CSRF token, or a bearer token.
        case change
    }

    public var method: String
    public var path: String
    public var access: Access
    /// The control command it sends plugd, if it is one command.
    public var command: String?

    /// Every route, as the API serves them.
    public static let all: [WebRoute] = [
        WebRoute(method: "GET", path: "/", access: .open),
        WebRoute(method: "GET", path: "/app.js", access: .open),
        WebRoute(method: "GET", path: "/api/status", access: .open, command: "status"),
        WebRoute(method: "GET", path: "/api/events/recent", access: .open, command: "events"),
        WebRoute(method: "GET", path: "/api/events", access: .open, command: "watch"),
        WebRoute(method: "GET", path: "/api/session", access: .open),
        WebRoute(method: "POST", path: "/api/login", access: .open),
        WebRoute(method: "POST", path: "/api/logout", access: .open),
        WebRoute(method: "POST", path: "/api/relay", access: .change),
        WebRoute(method: "POST", path: "/api/countdown/cancel", access: .change, command: "cancel-timer"),
        WebRoute(method: "POST", path: "/api/identify", access: .change, command: "identify"),
        WebRoute(method: "POST", path: "/api/setup", access: .change, command: "setup"),
        WebRoute(method: "POST", path: "/api/reset", access: .change, command: "reset"),
        WebRoute(method: "POST", path: "/api/factory-reset", access: .change, command: "factory-reset"),
        WebRoute(method: "POST", path: "/api/deregister", access: .change, command: "deregister"),
    ]

    public init(method: String, path: String, access: Access, command: String? = nil) {
        self.method = method
        self.path = path
        self.access = access
        self.command = command
    }
}
