#if canImport(Glibc)
import Glibc
#endif
import PlugCore
import PlugJSON
import PlugProtocol
import PlugWeb
import Synchronization
import Testing

/// A plugd that answers every request with a status, and remembers what it was asked.
final class FakePlugd: Sendable {
    let asked = Mutex<[ControlRequestMessage]>([])
    let reachable = Atomic<Bool>(true)
    let refuse = Mutex<String?>(nil)

    static let status = PlugStatus(
        relay: "off", led: "off", ledPattern: "off", mode: "normal", name: "kettle", identity: "0000", registered: true, fault: nil,
        buttonHeld: false)

    func send(_ request: ControlRequestMessage) throws(ControlClientError) -> ControlReply {
        guard reachable.load(ordering: .relaxed) else { throw .io("cannot connect to", .init(rawValue: 111)) }
        asked.withLock { $0.append(request) }
        if let reason = refuse.withLock({ $0 }) { return .failure(reason) }
        var s = Self.status
        if request.command == "on" { s.relay = "on" }
        var reply = ControlReply.success(s)
        if request.command == "events" { reply.events = [ControlEventMessage(event: "relay", message: "relay on", priority: 6, fields: [:], at: 1)] }
        return reply
    }

    var commands: [String] { asked.withLock { $0.map(\.command) } }
}

/// The password every test logs in with, hashed once (each hash takes 16 MiB for a moment).
let password = "correct horse battery"
let passwordHash = PasswordHash.make(password)!

/// An API over a fake plugd, with a clock the test moves.
struct Harness {
    let plugd = FakePlugd()
    let api: WebAPI
    var unix: Int64 = 1_800_000_000
    var instant = MonotonicInstant(nanoseconds: 1_000_000_000)

    init(hash: String? = passwordHash) {
        let plugd = plugd
        let box = StoredHash(hash)
        api = WebAPI(
            control: { (r: ControlRequestMessage) throws(ControlClientError) -> ControlReply in try plugd.send(r) },
            passwordHash: { box.value }, secret: Array(repeating: 7, count: 32), sessionLifetime: 3600)
        storedHash = box
    }

    let storedHash: StoredHash

    final class StoredHash: Sendable {
        let m: Mutex<String?>
        init(_ value: String?) { m = Mutex(value) }
        var value: String? { m.withLock { $0 } }
        func set(_ v: String?) { m.withLock { $0 = v } }
    }

    func request(
        _ method: String, _ path: String, json: String? = nil, headers: [String: String] = [:], client: String = "192.0.2.1"
    ) -> WebResponse {
        var h = ["Host": "plug.local"]
        if json != nil { h["Content-Type"] = "application/json" }
        for (k, v) in headers { h[k] = v }
        return api.handle(
            WebRequest(method: method, path: path, headers: h, body: Array((json ?? "").utf8), client: client, unixSeconds: unix, instant: instant))
    }

    /// Logs in; the cookie and CSRF headers a page then sends.
    func login() throws -> (cookie: [String: String], token: String) {
        let r = request("POST", "/api/login", json: #"{"password":"\#(password)"}"#)
        #expect(r.status == 200)
        let o = try JSONObject(JSON.parse(r.body))
        let token = try o.string("token")
        #expect(r.header("Set-Cookie")?.hasPrefix("plugd_session=\(token);") == true)
        #expect(r.header("Set-Cookie")?.contains("HttpOnly") == true)
        #expect(r.header("Set-Cookie")?.contains("SameSite=Strict") == true)
        return (["Cookie": "plugd_session=\(token)", "X-CSRF-Token": try o.string("csrf")], token)
    }
}

func error(_ r: WebResponse) -> String { (try? JSONObject(JSON.parse(r.body)).string("error")) ?? "" }

@Suite struct WebAPITests {
    @Test func readingIsOpen() throws {
        let h = Harness()
        let r = h.request("GET", "/api/status")
        #expect(r.status == 200)
        #expect(try PlugStatus(json: JSON.parse(r.body)).name == "kettle")
        #expect(h.request("GET", "/").header("Content-Type") == "text/html; charset=utf-8")
        #expect(h.request("GET", "/app.js").status == 200)
        #expect(h.request("GET", "/api/events").isEventStream)
        let recent = try JSONObject(JSON.parse(h.request("GET", "/api/events/recent").body))
        #expect(recent.members["events"] != nil)
        #expect(h.plugd.commands == ["status", "events"])
    }

    @Test func everyResponseCarriesTheSecurityHeaders() {
        let h = Harness()
        for r in [h.request("GET", "/"), h.request("GET", "/nope"), h.request("POST", "/api/relay", json: "{}")] {
            #expect(r.header("X-Frame-Options") == "DENY")
            #expect(r.header("Content-Security-Policy")?.contains("frame-ancestors 'none'") == true)
            #expect(r.header("Cache-Control") == "no-store")
        }
    }

    @Test func aChangeNeedsALogin() {
        let h = Harness()
        let r = h.request("POST", "/api/relay", json: #"{"state":"on"}"#)
        #expect(r.status == 401)
        #expect(r.header("WWW-Authenticate") != nil)
        #expect(h.plugd.commands.isEmpty)
    }

    @Test func withoutAPasswordNothingChangesAndTheErrorSaysHowToSetOne() {
        let h = Harness(hash: nil)
        for r in [h.request("POST", "/api/relay", json: #"{"state":"on"}"#), h.request("POST", "/api/login", json: #"{"password":"x"}"#)] {
            #expect(r.status == 403)
            #expect(error(r).contains("plugctl web-password"))
        }
        #expect(h.plugd.commands.isEmpty)
    }

    @Test func aLoggedInPageSwitchesWithItsCSRFToken() throws {
        let h = Harness()
        let (page, _) = try h.login()
        let r = h.request("POST", "/api/relay", json: #"{"state":"on"}"#, headers: page)
        #expect(r.status == 200)
        #expect(try PlugStatus(json: JSON.parse(r.body)).relay == "on")
        #expect(h.plugd.commands == ["on"])
        let session = try JSONObject(JSON.parse(h.request("GET", "/api/session", headers: ["Cookie": page["Cookie"]!]).body))
        #expect(try session.bool("loggedIn"))
        #expect(try session.string("csrf") == page["X-CSRF-Token"])
    }

    @Test func theCookieWithoutTheCSRFTokenIsRefused() throws {
        let h = Harness()
        let (page, _) = try h.login()
        for csrf in [nil, "0000", String(page["X-CSRF-Token"]!.reversed())] {
            var headers = ["Cookie": page["Cookie"]!]
            headers["X-CSRF-Token"] = csrf
            let r = h.request("POST", "/api/relay", json: #"{"state":"on"}"#, headers: headers)
            #expect(r.status == 403)
            #expect(error(r).contains("X-CSRF-Token"))
        }
        #expect(h.plugd.commands.isEmpty)
    }

    @Test func aBearerTokenNeedsNoCSRFToken() throws {
        let h = Harness()
        let (_, token) = try h.login()
        #expect(h.request("POST", "/api/identify", json: "{}", headers: ["Authorization": "Bearer \(token)"]).status == 200)
        #expect(h.plugd.commands == ["identify"])
    }

    @Test func crossSiteRequestsAreRefusedEvenLoggedIn() throws {
        let h = Harness()
        let (page, _) = try h.login()
        for extra in [["Origin": "http://evil.example"], ["Sec-Fetch-Site": "cross-site"], ["Origin": "null"]] {
            let r = h.request("POST", "/api/relay", json: #"{"state":"on"}"#, headers: page.merging(extra) { $1 })
            #expect(r.status == 403)
            #expect(error(r).contains("cross-site"))
        }
        #expect(h.request("POST", "/api/relay", json: #"{"state":"on"}"#, headers: page.merging(["Origin": "http://plug.local"]) { $1 }).status == 200)
        #expect(h.plugd.commands == ["on"])
    }

    @Test func aFormPostIsRefused() throws {
        let h = Harness()
        let (page, _) = try h.login()
        let r = h.request("POST", "/api/relay", headers: page.merging(["Content-Type": "application/x-www-form-urlencoded"]) { $1 })
        #expect(r.status == 415)
    }

    @Test func malformedAndOversizedBodiesGetClearErrors() throws {
        let h = Harness()
        let (page, _) = try h.login()
        let malformed = h.request("POST", "/api/relay", json: #"{"state":"on""#, headers: page)
        #expect(malformed.status == 400)
        #expect(error(malformed).hasPrefix("malformed JSON body"))
        let wrongType = h.request("POST", "/api/relay", json: #"{"state":1}"#, headers: page)
        #expect(wrongType.status == 400)
        #expect(error(wrongType).contains("state"))
        let unknown = h.request("POST", "/api/relay", json: #"{"state":"dim"}"#, headers: page)
        #expect(error(unknown).contains("\"toggle\""))
        let big = h.request("POST", "/api/setup", json: #"{"name":"\#(String(repeating: "x", count: 5000))"}"#, headers: page)
        #expect(big.status == 413)
        let countdown = h.request("POST", "/api/relay", json: #"{"state":"on","seconds":0}"#, headers: page)
        #expect(countdown.status == 400)
        #expect(h.plugd.commands.isEmpty)
    }

    @Test func resetsNeedAnExplicitConfirmationAndNeverAGET() throws {
        let h = Harness()
        let (page, _) = try h.login()
        for path in ["/api/reset", "/api/factory-reset", "/api/deregister"] {
            #expect(h.request("GET", path).status == 405)
            #expect(h.request("GET", path).header("Allow") == "POST")
            let bare = h.request("POST", path, json: "{}", headers: page)
            #expect(bare.status == 400)
            #expect(error(bare).contains("\"confirm\": true"))
            #expect(h.request("POST", path, json: #"{"confirm":"yes"}"#, headers: page).status == 400)
        }
        #expect(h.plugd.commands.isEmpty)
        #expect(h.request("POST", "/api/factory-reset", json: #"{"confirm":true}"#, headers: page).status == 200)
        #expect(h.plugd.commands == ["factory-reset"])
    }

    @Test func wrongPasswordsLockTheAddressOutForLonger() throws {
        var h = Harness()
        for _ in 0..<5 { #expect(h.request("POST", "/api/login", json: #"{"password":"guess"}"#).status == 401) }
        #expect(h.request("POST", "/api/login", json: #"{"password":"guess"}"#).status == 401) // the sixth locks
        let locked = h.request("POST", "/api/login", json: #"{"password":"\#(password)"}"#)
        #expect(locked.status == 429)
        #expect(locked.header("Retry-After") == "30")
        // Another address is not locked out.
        #expect(h.request("POST", "/api/login", json: #"{"password":"\#(password)"}"#, client: "192.0.2.2").status == 200)
        h.instant = h.instant.advanced(by: .seconds(30))
        #expect(h.request("POST", "/api/login", json: #"{"password":"guess"}"#).status == 401)
        #expect(h.request("POST", "/api/login", json: #"{"password":"guess"}"#).header("Retry-After") == "60")
        h.instant = h.instant.advanced(by: .seconds(60))
        #expect(h.request("POST", "/api/login", json: #"{"password":"\#(password)"}"#).status == 200)
    }

    @Test func sessionsExpireEndAtLogoutAndAtANewPassword() throws {
        var h = Harness()
        let (page, token) = try h.login()
        let on = { (h: Harness, headers: [String: String]) in h.request("POST", "/api/relay", json: #"{"state":"on"}"#, headers: headers).status }
        #expect(on(h, page) == 200)
        h.unix += 3600
        #expect(on(h, page) == 401)
        h.unix -= 3600
        // A forged token: the expiry moved on.
        let parts = token.split(separator: ".")
        #expect(on(h, ["Authorization": "Bearer \(Int64(parts[0])! + 999).\(parts[1]).\(parts[2])"]) == 401)
        // A new password ends the session.
        h.storedHash.set(PasswordHash.make("another password")!)
        #expect(on(h, page) == 401)
        h.storedHash.set(passwordHash)
        #expect(on(h, page) == 200)
        // A logout ends it even if the cookie is replayed.
        #expect(h.request("POST", "/api/logout", json: "{}", headers: page).header("Set-Cookie")?.contains("Max-Age=0") == true)
        #expect(on(h, page) == 401)
        #expect(on(h, ["Authorization": "Bearer \(token)"]) == 401)
    }

    @Test func plugdDownOrRefusingIsSaidPlainly() throws {
        let h = Harness()
        let (page, _) = try h.login()
        h.plugd.refuse.withLock { $0 = "a factory reset is running" }
        let refused = h.request("POST", "/api/relay", json: #"{"state":"toggle"}"#, headers: page)
        #expect(refused.status == 409)
        #expect(error(refused) == "plugd refused: a factory reset is running")
        h.plugd.reachable.store(false, ordering: .relaxed)
        let down = h.request("GET", "/api/status")
        #expect(down.status == 503)
        #expect(error(down).contains("is it running?"))
    }

    @Test func unknownPathsAndMethodsAreNamed() {
        let h = Harness()
        #expect(h.request("GET", "/admin").status == 404)
        #expect(h.request("DELETE", "/api/status").status == 405)
        #expect(h.request("HEAD", "/api/status").status == 200)
    }
}

@Suite struct LoginLimiterTests {
    @Test func countsAreForgottenAfterAnHourAndTheTableIsBounded() {
        var l = LoginLimiter()
        var t = MonotonicInstant(nanoseconds: 0)
        for _ in 0..<5 { l.failed("a", at: t) }
        #expect(l.wait("a", at: t) == nil)
        t = t.advanced(by: .seconds(3601))
        l.failed("a", at: t)
        #expect(l.wait("a", at: t) == nil) // a new count
        for _ in 0..<30 { l.failed("b", at: t) }
        #expect(l.wait("b", at: t) == .seconds(15 * 60)) // the longest
        l.maxTracked = 3
        for i in 0..<10 { l.failed("c\(i)", at: t.advanced(by: .seconds(Int64(i)))) }
        // "b" was the oldest: forgotten to make room.
        #expect(l.wait("b", at: t.advanced(by: .seconds(10))) == nil)
    }
}

@Suite struct PasswordHashTests {
    @Test func aHashVerifiesItsPasswordOnly() {
        #expect(PasswordHash.isHash(passwordHash))
        #expect(passwordHash.hasPrefix("$argon2id$v=19$m=16384,t=3,p=1$"))
        #expect(PasswordHash.verify(password, hash: passwordHash))
        #expect(!PasswordHash.verify(password + " ", hash: passwordHash))
        #expect(!PasswordHash.verify(password, hash: "$argon2id$garbage"))
        #expect(PasswordHash.make(password) != passwordHash) // salted
    }
}

/// docs/openapi.json, the API's description, and the routes the API serves: the same paths and
/// methods, and a change is secured exactly where the API asks for a login.
@Suite struct OpenAPIDocumentTests {
    static let path = #filePath.split(separator: "/").dropLast(3).joined(separator: "/")

    @Test func theDocumentDescribesEveryRouteAndNoOther() throws {
        let bytes = try #require(readFile("/" + Self.path + "/docs/openapi.json"))
        let doc = try JSONObject(JSON.parse(bytes))
        guard case .object(let paths) = doc.members["paths"] else {
            Issue.record("no paths")
            return
        }
        var described: [String] = []
        for (path, item) in paths {
            guard case .object(let operations) = item else { continue }
            for (method, op) in operations {
                let secured = (try? JSONObject(op).members["security"]) != nil
                described.append("\(method.uppercased()) \(path)\(secured ? " (login)" : "")")
            }
        }
        let served = WebRoute.all.map { "\($0.method) \($0.path)\($0.access == .change ? " (login)" : "")" }
        #expect(described.sorted() == served.sorted())
    }

    func readFile(_ path: String) -> [UInt8]? {
        guard let f = fopen(path, "r") else { return nil }
        defer { fclose(f) }
        var out: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = fread(&buffer, 1, buffer.count, f)
            if n == 0 { break }
            out += buffer[0..<n]
        }
        return out
    }
}

@Suite struct WebBodyTests {
    @Test func anUnknownMemberIsNamedNotIgnored() throws {
        let h = Harness()
        let (page, _) = try h.login()
        let typo = h.request("POST", "/api/relay", json: #"{"stat":"on"}"#, headers: page)
        #expect(typo.status == 400)
        #expect(error(typo) == #"unknown member "stat": it takes "state", "seconds""#)
        let extra = h.request("POST", "/api/identify", json: #"{"now":true}"#, headers: page)
        #expect(error(extra) == #"unknown member "now": it takes no members"#)
        #expect(h.plugd.commands.isEmpty)
    }

    @Test func anEmptyBodyNeedsNoContentType() throws {
        let h = Harness()
        let (page, _) = try h.login()
        #expect(h.api.handle(WebRequest(method: "POST", path: "/api/identify", headers: page, unixSeconds: h.unix, instant: h.instant)).status == 200)
        #expect(h.plugd.commands == ["identify"])
    }

    @Test func aNameWithControlCharactersIsRefused() throws {
        let h = Harness()
        let (page, _) = try h.login()
        #expect(h.request("POST", "/api/setup", json: #"{"name":"a\u0007b"}"#, headers: page).status == 400)
        #expect(h.request("POST", "/api/setup", json: #"{"name":"desk lamp 🫖"}"#, headers: page).status == 200)
    }
}

@Suite struct LoggedOutSessionsTests {
    @Test func aLogoutIsKeptSoAProcessStartedAgainStillRefusesTheToken() throws {
        let kept = Mutex<[String: Int64]>([:])
        let plugd = FakePlugd()
        func api(_ loggedOut: [String: Int64]) -> WebAPI {
            WebAPI(
                control: { (r: ControlRequestMessage) throws(ControlClientError) -> ControlReply in try plugd.send(r) },
                passwordHash: { passwordHash }, secret: Array(repeating: 7, count: 32), loggedOut: loggedOut,
                keepLoggedOut: { l in kept.withLock { $0 = l } })
        }
        func post(_ api: WebAPI, _ path: String, _ json: String, _ headers: [String: String] = [:]) -> WebResponse {
            api.handle(
                WebRequest(
                    method: "POST", path: path, headers: headers.merging(["Content-Type": "application/json"]) { $1 }, body: Array(json.utf8),
                    unixSeconds: 1_800_000_000, instant: MonotonicInstant(nanoseconds: 0)))
        }
        let first = api([:])
        let login = try JSONObject(JSON.parse(post(first, "/api/login", #"{"password":"\#(password)"}"#).body))
        let bearer = ["Authorization": "Bearer \(try login.string("token"))"]
        #expect(post(first, "/api/logout", "{}", bearer).status == 200)
        #expect(kept.withLock { $0.count } == 1)
        // plugd-web exits when idle and starts again with what was kept.
        let again = api(kept.withLock { $0 })
        #expect(post(again, "/api/identify", "{}", bearer).status == 401)
        #expect(plugd.commands.isEmpty)
    }
}
