#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

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

    /// Encodes a message as one JSON line.
    public static func line<T: Encodable>(_ value: T) -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return Array((try? encoder.encode(value)) ?? Data("{}".utf8)) + [0x0A]
    }
}

/// A request: `{"command": "on"}`, `{"command": "setup", "name": "kettle"}`.
public struct ControlRequestMessage: Codable, Equatable, Sendable {
    /// status, on, off, toggle, identify, setup, reset, factory-reset, deregister or watch.
    public var command: String
    /// The new name, for `setup`.
    public var name: String?

    public init(command: String, name: String? = nil) {
        self.command = command
        self.name = name
    }

    /// The commands the daemon understands.
    public static let commands: Set<String> = ["status", "on", "off", "toggle", "identify", "setup", "reset", "factory-reset", "deregister", "watch"]
}

/// The plug as `plugctl status` shows it.
public struct PlugStatus: Codable, Equatable, Sendable {
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

    public init(
        relay: String, led: String, ledPattern: String, mode: String, name: String, identity: String,
        registered: Bool, fault: String?, buttonHeld: Bool, broker: String? = nil, relayPending: String? = nil
    ) {
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
    }
}

/// The answer to a request: `ok` with the plug's status after the command, or an error.
public struct ControlReply: Codable, Equatable, Sendable {
    public var ok: Bool
    public var error: String?
    public var status: PlugStatus?

    public static func success(_ status: PlugStatus) -> ControlReply { ControlReply(ok: true, error: nil, status: status) }
    public static func failure(_ error: String) -> ControlReply { ControlReply(ok: false, error: error, status: nil) }
}

/// One event, streamed to `watch` clients.
public struct ControlEventMessage: Codable, Equatable, Sendable {
    public var event: String
    public var message: String
    public var priority: Int
    public var fields: [String: String]

    public init(event: String, message: String, priority: Int, fields: [String: String]) {
        self.event = event
        self.message = message
        self.priority = priority
        self.fields = fields
    }
}
