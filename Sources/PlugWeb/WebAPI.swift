import PlugCore
import PlugJSON
import PlugPOSIX
import PlugProtocol
import Synchronization

/// The HTTP API and the page, as one function from a request to a response (`handle`): routes,
/// sessions, CSRF and login limits. It does no I/O of its own: plugd is reached through
/// `control`, the password's hash read through `passwordHash`, and every request carries its
/// instants, so the whole of it is tested without a socket or a clock.
public final class WebAPI: Sendable {
    /// Sends one request to plugd and returns its reply.
    public typealias Control = @Sendable (ControlRequestMessage) throws(ControlClientError) -> ControlReply

    /// The largest request body taken (larger ones: 413).
    public static let maxBody = 4096
    /// The session cookie's name.
    public static let cookie = "plugd_session"
    /// The header the page sends its CSRF token in.
    public static let csrfHeader = "X-CSRF-Token"

    private let control: Control
    private let passwordHash: @Sendable () -> String?
    private let secret: [UInt8]
    /// How long a session lasts, in seconds, from its login.
    public let sessionLifetime: Int64
    private let limiter = Mutex(LoginLimiter())
    /// Sessions logged out before they expired: nonce → expiry (forgotten once expired). Kept
    /// on disk through `keepLoggedOut`, so a logged-out token stays refused after plugd-web
    /// exits when idle and starts again.
    private let loggedOut: Mutex<[String: Int64]>
    private let keepLoggedOut: @Sendable ([String: Int64]) -> Void
    /// The most logged-out sessions remembered; past it the soonest to expire is forgotten
    /// first (a flood of logins and logouts cannot grow it).
    public static let maxLoggedOut = 1000
    /// One password check at a time: each takes 16 MiB (PasswordHash.memory) for a moment.
    private let checking = Mutex(())

    public init(
        control: @escaping Control, passwordHash: @escaping @Sendable () -> String?, secret: [UInt8],
        sessionLifetime: Int64 = 12 * 3600, loggedOut: [String: Int64] = [:],
        keepLoggedOut: @escaping @Sendable ([String: Int64]) -> Void = { _ in }
    ) {
        self.loggedOut = Mutex(loggedOut)
        self.keepLoggedOut = keepLoggedOut
        self.control = control
        self.passwordHash = passwordHash
        self.secret = secret
        self.sessionLifetime = sessionLifetime
    }

    /// The answer to `request`.
    public func handle(_ request: WebRequest) -> WebResponse {
        var response = route(request)
        response.headers += Self.commonHeaders
        return response
    }

    /// The headers every response carries (the page may not be framed, sniffed or cached).
    public static let commonHeaders: [(String, String)] = [
        ("Cache-Control", "no-store"), ("X-Content-Type-Options", "nosniff"), ("X-Frame-Options", "DENY"),
        ("Referrer-Policy", "no-referrer"),
        (
            "Content-Security-Policy",
            "default-src 'none'; script-src 'self'; style-src 'unsafe-inline'; connect-src 'self'; img-src 'self' data:; frame-ancestors 'none'; form-action 'none'; base-uri 'none'"
        ),
    ]

    private func route(_ r: WebRequest) -> WebResponse {
        let methods = WebRoute.all.filter { $0.path == r.path }
        guard !methods.isEmpty else { return .error(404, "no such path: \(r.path.prefix(100)); the API is described in /usr/share/doc/plugd/openapi.json") }
        let method = r.method == "HEAD" ? "GET" : r.method
        guard let route = methods.first(where: { $0.method == method }) else {
            return .error(405, "\(r.method.prefix(20)) is not allowed on \(r.path)", headers: [("Allow", methods.map(\.method).joined(separator: ", "))])
        }
        if route.method == "POST" {
            if let refused = crossSite(r) { return refused }
            guard r.body.count <= Self.maxBody else { return .error(413, "the body is larger than \(Self.maxBody) bytes") }
            // A body must be JSON (a cross-site form cannot send that without the browser asking
            // first); an empty one needs no type.
            let type = r.header("content-type")?.split(separator: ";").first.map { String($0.trimmingSpaces).lowercased() }
            guard type == "application/json" || (type == nil && r.body.isEmpty) else {
                return .error(415, "send the body as JSON, with Content-Type: application/json")
            }
        }
        let body: JSONObject
        do {
            body = try JSONObject(r.body.allSatisfy { $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 } ? .object([:]) : JSON.parse(r.body))
        } catch {
            return .error(400, "malformed JSON body: \(error)")
        }
        if route.access == .change, let refused = authorize(r) { return refused }
        let taken = Self.members[route.path] ?? []
        if route.method == "POST", let unknown = body.members.keys.sorted().first(where: { !taken.contains($0) }) {
            let known = taken.isEmpty ? "it takes no members" : "it takes \(taken.map { "\"\($0)\"" }.joined(separator: ", "))"
            return .error(400, "unknown member \"\(unknown.prefix(40))\": \(known)")
        }
        do {
            return try dispatch(route, r, body)
        } catch {
            return .error(400, "\(error)")
        }
    }

    private func dispatch(_ route: WebRoute, _ r: WebRequest, _ body: JSONObject) throws(JSONError) -> WebResponse {
        switch route.path {
        case "/": return WebResponse(status: 200, headers: [("Content-Type", "text/html; charset=utf-8")], body: WebPage.html)
        case "/app.js": return WebResponse(status: 200, headers: [("Content-Type", "text/javascript; charset=utf-8")], body: WebPage.script)
        case "/api/status": return send(ControlRequestMessage(command: "status"))
        case "/api/events/recent":
            return send(ControlRequestMessage(command: "events")) { reply in
                ["events": .array((reply.events ?? []).map(\.json))]
            }
        case "/api/events": return WebResponse(status: 200, headers: [("Content-Type", "text/event-stream")], isEventStream: true)
        case "/api/session": return session(r)
        case "/api/login": return login(r, password: try body.string("password"))
        case "/api/logout": return logout(r)
        case "/api/relay":
            let seconds = try body.optionalInt("seconds")
            let state = try body.string("state")
            switch state {
            case "on", "off":
                if let seconds, !ControlRequestMessage.secondsRange.contains(seconds) {
                    throw JSONError("seconds: a countdown must be 1 s to 7 days (1 to \(ControlRequestMessage.secondsRange.upperBound))")
                }
                return send(ControlRequestMessage(command: state, seconds: seconds))
            case "toggle":
                if seconds != nil { throw JSONError("seconds: only \"on\" and \"off\" take a countdown") }
                return send(ControlRequestMessage(command: "toggle"))
            default: throw JSONError("state: expected \"on\", \"off\" or \"toggle\"")
            }
        case "/api/setup":
            let name = try body.optionalString("name")
            if let name, name.isEmpty || name.unicodeScalars.count > 64 || name.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) {
                throw JSONError("name: 1 to 64 characters, no control characters")
            }
            return send(ControlRequestMessage(command: "setup", name: name))
        case "/api/reset", "/api/factory-reset", "/api/deregister":
            guard try body.optionalBool("confirm") == true else {
                throw JSONError("confirm: send {\"confirm\": true}: \(Self.consequence[route.path] ?? "")")
            }
            return send(ControlRequestMessage(command: route.command ?? ""))
        default:
            return send(ControlRequestMessage(command: route.command ?? ""))
        }
    }

    /// The members each body may have: any other is refused, so a typo is named, not ignored.
    static let members: [String: [String]] = [
        "/api/login": ["password"], "/api/relay": ["state", "seconds"], "/api/setup": ["name"],
        "/api/reset": ["confirm"], "/api/factory-reset": ["confirm"], "/api/deregister": ["confirm"],
    ]

    static let consequence = [
        "/api/reset": "a simple reset puts the plug in setup mode (name and identity kept)",
        "/api/factory-reset": "a factory reset wipes all state and cannot be undone",
        "/api/deregister": "deregistering removes the registration and wipes all state; it cannot be undone",
    ]

    /// Sends `request` to plugd: its status (or what `body` makes of the reply) on success, 409
    /// with plugd's reason when it refuses, 503 when it cannot be reached.
    private func send(_ request: ControlRequestMessage, body: (ControlReply) -> JSON = { $0.status?.json ?? .null }) -> WebResponse {
        let reply: ControlReply
        do {
            reply = try control(request)
        } catch {
            return .error(503, "plugd cannot be reached: \(error) (is it running?)", headers: [("Retry-After", "5")])
        }
        guard reply.ok else { return .error(409, "plugd refused: \(reply.error ?? "no reason given")") }
        return .json(body(reply))
    }

    // MARK: Sessions

    /// A POST whose Origin (or Sec-Fetch-Site) says another site sent it: refused.
    private func crossSite(_ r: WebRequest) -> WebResponse? {
        if let site = r.header("sec-fetch-site"), site == "cross-site" || site == "same-site" {
            return .error(403, "cross-site request refused")
        }
        if let origin = r.header("origin") {
            let host = r.header("host") ?? ""
            guard origin == "http://\(host)" || origin == "https://\(host)" else {
                return .error(403, "cross-site request refused (Origin \(origin.prefix(100)) is not this plug)")
            }
        }
        return nil
    }

    /// The session a request carries: its bearer token, or its cookie (then `viaCookie`).
    private func session(of r: WebRequest, signer: SessionSigner) -> (nonce: String, expiry: Int64, viaCookie: Bool)? {
        let bearer = r.header("authorization").flatMap { a -> String? in
            a.lowercased().hasPrefix("bearer ") ? String(a.dropFirst(7).trimmingSpaces) : nil
        }
        guard let token = bearer ?? r.cookie(Self.cookie), let (expiry, nonce) = signer.check(token, now: r.unixSeconds) else { return nil }
        let out = loggedOut.withLock { l in
            l = l.filter { $0.value > r.unixSeconds }
            return l[nonce] != nil
        }
        return out ? nil : (nonce, expiry, bearer == nil)
    }

    private func signer() -> SessionSigner? {
        guard let hash = passwordHash(), PasswordHash.isHash(hash) else { return nil }
        return SessionSigner(secret: secret, passwordHash: hash)
    }

    static let noPassword = "no password is set, so the plug cannot be changed from the web: run `sudo plugctl web-password` on the plug"

    private func authorize(_ r: WebRequest) -> WebResponse? {
        guard let signer = signer() else { return .error(403, Self.noPassword) }
        guard let s = session(of: r, signer: signer) else {
            return .error(401, "log in first (POST /api/login), or the session has expired", headers: [("WWW-Authenticate", "Bearer realm=\"plugd\"")])
        }
        if s.viaCookie {
            guard let given = r.header(Self.csrfHeader), signer.checkCSRF(given, nonce: s.nonce) else {
                return .error(403, "missing or wrong \(Self.csrfHeader) header (reload the page)")
            }
        }
        return nil
    }

    private func session(_ r: WebRequest) -> WebResponse {
        let signer = signer()
        let s = signer.flatMap { session(of: r, signer: $0) }
        return .json(
            .object(dropping: [
                "passwordSet": .bool(signer != nil), "loggedIn": .bool(s != nil),
                "csrf": s.flatMap { s in signer.map { .string($0.csrf(nonce: s.nonce)) } },
                "expires": s.map { .int($0.expiry) },
            ]))
    }

    private func login(_ r: WebRequest, password: String) -> WebResponse {
        guard let hash = passwordHash(), PasswordHash.isHash(hash) else { return .error(403, Self.noPassword) }
        if let wait = limiter.withLock({ $0.wait(r.client, at: r.instant) }) {
            let seconds = max(1, wait.components.seconds + (wait.components.attoseconds > 0 ? 1 : 0))
            return .error(429, "too many wrong passwords: try again in \(seconds) s", headers: [("Retry-After", "\(seconds)")])
        }
        let right = checking.withLock { _ in PasswordHash.verify(password, hash: hash) }
        guard right else {
            limiter.withLock { $0.failed(r.client, at: r.instant) }
            return .error(401, "wrong password", headers: [("WWW-Authenticate", "Bearer realm=\"plugd\"")])
        }
        limiter.withLock { $0.succeeded(r.client) }
        let signer = SessionSigner(secret: secret, passwordHash: hash)
        let expiry = r.unixSeconds + sessionLifetime
        let token = signer.token(expiry: expiry)
        let nonce = String(token.split(separator: ".")[1])
        return .json(
            ["token": .string(token), "csrf": .string(signer.csrf(nonce: nonce)), "expires": .int(expiry)],
            headers: [("Set-Cookie", "\(Self.cookie)=\(token); Path=/; Max-Age=\(sessionLifetime); HttpOnly; SameSite=Strict")])
    }

    private func logout(_ r: WebRequest) -> WebResponse {
        if let signer = signer(), let s = session(of: r, signer: signer) {
            let kept = loggedOut.withLock { l in
                l = l.filter { $0.value > r.unixSeconds }
                l[s.nonce] = s.expiry
                while l.count > Self.maxLoggedOut, let soonest = l.min(by: { $0.value < $1.value })?.key { l.removeValue(forKey: soonest) }
                return l
            }
            keepLoggedOut(kept)
        }
        return .json(["loggedIn": false], headers: [("Set-Cookie", "\(Self.cookie)=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict")])
    }
}
