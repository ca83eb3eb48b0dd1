import PlugCore
import PlugJSON

/// The control socket's protocol, shared by plugd and plugctl.
///
/// A client connects to the Unix socket, writes one JSON request on one line (at most
/// `maxRequestBytes`), and reads JSON lines back: one `ControlReply`, then, for `watch` only,
/// one `ControlEventMessage` per event until it disconnects.
public enum ControlProtocol {
    /// Requests longer than this are refused.
    public static let maxRequestBytes = 4096
    /// The default socket path.
    public static let defaultSocket = "/run/plugd/control.sock"

    /// A message as one JSON line.
    public static func line(_ message: some JSONMessage) -> [UInt8] {
        message.json.bytes() + [0x0A]
    }
}

/// A message of the control protocol: what it is as JSON, and how it is read from JSON (the
/// error names the field that is wrong).
public protocol JSONMessage {
    var json: JSON { get }
    init(json: JSON) throws(JSONError)
}

extension JSONMessage {
    /// The message in one line of JSON text.
    public init(line: some Collection<UInt8>) throws(JSONError) {
        try self.init(json: try JSON.parse(line))
    }
}

/// A request: `{"command": "on"}`, `{"command": "setup", "name": "kettle"}`,
/// `{"command": "on", "seconds": 1800}` (on now, off after half an hour).
public struct ControlRequestMessage: JSONMessage, Equatable, Sendable {
    /// status, on, off, toggle, identify, setup, reset, factory-reset, deregister, watch,
    /// cancel-timer, schedule (the status, shown as the schedules' next runs) or events (the
    /// status and the most recent events).
    public var command: String
    /// The new name, for `setup`.
    public var name: String?
    /// For `on` and `off`: switch back after this many seconds (a countdown).
    public var seconds: Int?
    /// The countdowns the daemon takes, in seconds: 1 s to `Countdown.longest` (7 days; plugctl
    /// checks the same).
    public static let secondsRange = 1...Int(Countdown.longest.components.seconds)

    public init(command: String, name: String? = nil, seconds: Int? = nil) {
        self.command = command
        self.name = name
        self.seconds = seconds
    }

    public var json: JSON {
        .object(dropping: ["command": .string(command), "name": name.map(JSON.string), "seconds": seconds.map { .int(Int64($0)) }])
    }

    public init(json: JSON) throws(JSONError) {
        let o = try JSONObject(json)
        self.init(command: try o.string("command"), name: try o.optionalString("name"), seconds: try o.optionalInt("seconds"))
    }

    /// The commands the daemon understands.
    public static let commands: Set<String> = [
        "status", "on", "off", "toggle", "identify", "setup", "reset", "factory-reset", "deregister", "watch", "cancel-timer",
        "schedule", "events",
    ]
}

/// The plug as `plugctl status` shows it.
public struct PlugStatus: JSONMessage, Equatable, Sendable {
    public var relay: String
    public var led: String
    public var ledPattern: String
    public var mode: String
    public var name: String
    public var identity: String
    public var registered: Bool
    public var fault: String?
    public var buttonHeld: Bool
    /// The MQTT link: `connected` or `unreachable`; absent without MQTT.
    public var broker: String?
    /// A relay change the flood guard holds back ("off in 1.2 s"); absent when none.
    public var relayPending: String?
    /// The countdown that runs ("off in 29 min 58 s"); absent when none.
    public var timer: String?
    /// The schedules' next runs, soonest first ("2026-11-29 07:30  on   schedule 1 (07:30,
    /// weekdays)"), or why none runs ("waiting for the system clock to be synchronised");
    /// absent without schedules.
    public var schedule: [String]?

    public init(
        relay: String, led: String, ledPattern: String, mode: String, name: String, identity: String,
        registered: Bool, fault: String?, buttonHeld: Bool, broker: String? = nil, relayPending: String? = nil,
        timer: String? = nil, schedule: [String]? = nil
    ) {
        self.schedule = schedule
        self.relay = relay
        self.led = led
        self.ledPattern = ledPattern
        self.mode = mode
        self.name = name
        self.identity = identity
        self.registered = registered
        self.fault = fault
        self.buttonHeld = buttonHeld
        self.broker = broker
        self.relayPending = relayPending
        self.timer = timer
    }

    public var json: JSON {
        .object(dropping: [
            "relay": .string(relay), "led": .string(led), "ledPattern": .string(ledPattern), "mode": .string(mode),
            "name": .string(name), "identity": .string(identity), "registered": .bool(registered),
            "fault": fault.map(JSON.string), "buttonHeld": .bool(buttonHeld), "broker": broker.map(JSON.string),
            "relayPending": relayPending.map(JSON.string), "timer": timer.map(JSON.string),
            "schedule": schedule.map { .array($0.map(JSON.string)) },
        ])
    }

    public init(json: JSON) throws(JSONError) {
        let o = try JSONObject(json)
        self.init(
            relay: try o.string("relay"), led: try o.string("led"), ledPattern: try o.string("ledPattern"),
            mode: try o.string("mode"), name: try o.string("name"), identity: try o.string("identity"),
            registered: try o.bool("registered"), fault: try o.optionalString("fault"), buttonHeld: try o.bool("buttonHeld"),
            broker: try o.optionalString("broker"), relayPending: try o.optionalString("relayPending"),
            timer: try o.optionalString("timer"), schedule: try o.optionalStrings("schedule"))
    }
}

/// The answer to a request: `ok` with the plug's status after the command, or an error; for
/// `events`, also the most recent events, oldest first.
public struct ControlReply: JSONMessage, Equatable, Sendable {
    public var ok: Bool
    public var error: String?
    public var status: PlugStatus?
    public var events: [ControlEventMessage]?

    public static func success(_ status: PlugStatus) -> ControlReply { ControlReply(ok: true, error: nil, status: status) }
    public static func failure(_ error: String) -> ControlReply { ControlReply(ok: false, error: error, status: nil) }

    public init(ok: Bool, error: String?, status: PlugStatus?, events: [ControlEventMessage]? = nil) {
        self.ok = ok
        self.error = error
        self.status = status
        self.events = events
    }

    public var json: JSON {
        .object(dropping: [
            "ok": .bool(ok), "error": error.map(JSON.string), "status": status?.json, "events": events.map { .array($0.map(\.json)) },
        ])
    }

    public init(json: JSON) throws(JSONError) {
        let o = try JSONObject(json)
        self.init(
            ok: try o.bool("ok"), error: try o.optionalString("error"),
            status: try o.optional("status") { (j: JSON) throws(JSONError) in try PlugStatus(json: j) },
            events: try o.optional("events") { (j: JSON) throws(JSONError) in
                guard case .array(let items) = j else { throw JSONError("events: expected an array") }
                var events: [ControlEventMessage] = []
                for item in items { events.append(try ControlEventMessage(json: item)) }
                return events
            })
    }
}

/// One event, streamed to `watch` clients and listed by `events`; `at` is when it happened, in
/// milliseconds since the Unix epoch (absent from a plugd without the web page).
public struct ControlEventMessage: JSONMessage, Equatable, Sendable {
    public var event: String
    public var message: String
    public var priority: Int
    public var fields: [String: String]
    public var at: Int64?

    public init(event: String, message: String, priority: Int, fields: [String: String], at: Int64? = nil) {
        self.event = event
        self.message = message
        self.priority = priority
        self.fields = fields
        self.at = at
    }

    public var json: JSON {
        .object(dropping: [
            "event": .string(event), "message": .string(message), "priority": .int(Int64(priority)),
            "fields": .object(fields.mapValues(JSON.string)), "at": at.map(JSON.int),
        ])
    }

    public init(json: JSON) throws(JSONError) {
        let o = try JSONObject(json)
        self.init(
            event: try o.string("event"), message: try o.string("message"), priority: try o.int("priority"), fields: try o.strings("fields"),
            at: try o.optionalInt("at").map(Int64.init))
    }
}
