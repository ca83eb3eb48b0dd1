#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import PlugCore

/// What the MQTT side knows of the plug: enough to name it, announce it and report the relay.
public struct PlugSnapshot: Sendable, Equatable {
    public var identity: UUID
    public var name: String
    public var registered: Bool
    public var relayOn: Bool
    /// The countdown that runs, if any.
    public var countdown: CountdownReport?

    public init(identity: UUID, name: String, registered: Bool, relayOn: Bool, countdown: CountdownReport? = nil) {
        self.identity = identity
        self.name = name
        self.registered = registered
        self.relayOn = relayOn
        self.countdown = countdown
    }

    /// The snapshot of a persisted state with the relay at `relayOn`.
    public init(_ state: PlugState, relayOn: Bool, countdown: CountdownReport? = nil) {
        self.init(identity: state.identity, name: state.name, registered: state.registered, relayOn: relayOn, countdown: countdown)
    }
}

/// The plug's side of the MQTT conversation as a pure state machine: given what happened on the
/// connection (connected, lost, a message) or to the plug (a snapshot), it answers with what to
/// publish and subscribe, which commands to give the plug, and what to log. No I/O, no clock:
/// the client (`PlugMosquitto`) carries out the actions.
///
/// - The relay state is published retained whenever it differs from the last one published on
///   this connection; availability is retained `online`, with `offline` as the last will.
/// - Home Assistant discovery is published while the plug is registered (set up), again when the
///   name changes and when Home Assistant announces `online`; a plug that stops being
///   registered is removed from Home Assistant (empty retained configs).
/// - The countdown is published retained on its topic whenever it changes (`CountdownReport`).
/// - Commands (`ON`, `OFF`, `TOGGLE`, identify, countdowns) are obeyed only when live: a retained command is
///   stale by definition and is ignored, so connecting never moves the relay.
public struct MQTTBridge: Sendable {
    /// Something that happened.
    public enum Input: Equatable, Sendable {
        /// The broker accepted the connection.
        case connected
        /// A connection attempt failed (no route, refused, bad credentials, TLS).
        case connectFailed(reason: String)
        /// An established connection was lost.
        case connectionLost(reason: String)
        /// A message arrived on a subscribed topic at `at`; `retained` if the broker kept it from
        /// before.
        case message(topic: String, payload: String, retained: Bool, at: MonotonicInstant)
        /// A message longer than `maxPayload` arrived: discarded unread (`bytes` long).
        case oversized(topic: String, bytes: Int)
        /// The broker ended an established connection `after` it had lasted that long: saying
        /// that another client connected with this plug's client id (MQTT 5's "session taken
        /// over"), or simply closing it, as brokers that do not say why (mosquitto 2.0) do then.
        case closedByBroker(after: Duration, takenOver: Bool)
        /// The plug changed (relay, name, registration or identity).
        case plug(PlugSnapshot)
        /// The button was pressed: `single`, `double` or `triple` (`button_press` events).
        case pressed(String)
    }

    /// What the client must do.
    public enum Action: Equatable, Sendable {
        case publish(MQTTMessage)
        case subscribe([String])
        /// Give the plug a command (source: MQTT).
        case command(PlugMachine.Command)
        /// The broker became reachable (`true`) or not: the plug's LED shows it.
        case reachable(Bool)
        /// The identity changed: disconnect cleanly, then connect as the new device.
        case reconnect
        case log(PlugEvent)
        /// Log `event` once the broker has acknowledged every message published before it among
        /// these actions; if it refuses one or the connection drops first, that is logged instead.
        case logWhenAcknowledged(PlugEvent)
    }

    public let settings: MQTTSettings
    /// The plug as last reported.
    public private(set) var plug: PlugSnapshot
    /// The current identity's topics.
    public private(set) var topics: MQTTTopics
    /// Whether the broker has accepted the connection.
    public private(set) var connected = false
    private var publishedRelay: Bool?
    /// The countdown last published on this connection (`.none` = nothing published yet).
    private var publishedCountdown: CountdownReport??
    /// The name Home Assistant was last given on this connection (`nil` = not announced).
    private var announcedName: String?
    private var lastFailure: String?
    /// When discovery was last republished for Home Assistant's `online`.
    private var lastAnnouncement: MonotonicInstant?
    /// How many connections in a row the broker closed for another client with this client id.
    public private(set) var takeovers = 0

    /// The longest command payload read: commands are a few bytes. A longer message is
    /// discarded before it is decoded, and the broker is asked (MQTT 5's Maximum Packet Size,
    /// `maxPacket`) not to send anything much longer at all.
    public static let maxPayload = 256
    /// The largest MQTT packet plugd accepts from the broker: a command with a long topic.
    public static let maxPacket: UInt32 = 4096
    /// Home Assistant's `online` republishes discovery at most this often (the configs are
    /// retained, so a Home Assistant that came online in between has them anyway).
    public static let announceInterval: Duration = .seconds(5)
    /// After this many takeovers in a row (one can be a plug restarted elsewhere by hand; two
    /// are a conflict), plugd says another client uses its identity.
    public static let takeoversReported = 2
    /// A connection that lasts this long before it is taken over starts the count again.
    public static let conflictForgotten: Duration = .seconds(600)
    /// A broker that closes a connection this soon after accepting it, without saying why, is
    /// counted as a takeover, until a connection attempt fails: a broker restarting closes
    /// connections of any age, then refuses new ones for a while, while one handing the identity
    /// back and forth accepts at once.
    public static let quickClose: Duration = .seconds(60)

    public init(settings: MQTTSettings, plug: PlugSnapshot) {
        self.settings = settings
        self.plug = plug
        topics = MQTTTopics(settings: settings, identity: plug.identity)
    }

    /// The last will: the broker publishes it if the plug vanishes without saying goodbye.
    public var will: MQTTMessage { MQTTMessage(topics.availability, "offline", retain: true) }

    /// What to publish before a clean disconnect.
    public var goodbye: MQTTMessage { will }

    /// Empty retained messages that remove `plug`'s device from Home Assistant and its retained
    /// state and availability from the broker (factory reset, deregister).
    public static func forgetting(_ plug: PlugSnapshot, settings: MQTTSettings) -> [MQTTMessage] {
        let t = MQTTTopics(settings: settings, identity: plug.identity)
        return (t.discoveryConfigs + [t.state, t.countdown, t.availability]).map { MQTTMessage($0, "", retain: true) }
    }

    /// Feeds one input and returns what to do, in order.
    public mutating func handle(_ input: Input) -> [Action] {
        var fx: [Action] = []
        switch input {
        case .connected:
            connected = true
            lastFailure = nil
            lastAnnouncement = nil
            publishedRelay = nil
            publishedCountdown = nil
            announcedName = nil
            fx.append(.reachable(true))
            fx.append(
                .log(
                    PlugEvent(
                        .mqttConnected, "Connected to the MQTT broker \(settings.broker) as \(topics.deviceID)",
                        priority: .notice, fields: [.broker: settings.broker, .clientId: topics.deviceID])))
            fx.append(.publish(MQTTMessage(topics.availability, "online", retain: true)))
            fx.append(.subscribe(topics.subscriptions))
            sync(&fx)
        case .connectionLost(let reason):
            let was = connected
            connected = false
            takeovers = 0
            guard was else { return handle(.connectFailed(reason: reason)) }
            lastFailure = reason
            fx.append(.reachable(false))
            fx.append(
                .log(
                    PlugEvent(
                        .mqttDisconnected, "Lost the MQTT broker \(settings.broker): \(reason); reconnecting",
                        priority: .warning, fields: [.broker: settings.broker, .reason: reason])))
        case .connectFailed(let reason):
            connected = false
            // A broker that refuses new connections was stopping, not handing this identity to
            // another client (which it would accept again at once).
            takeovers = 0
            // Log a failure once, not at every retry: again only when the reason changes.
            if reason != lastFailure {
                fx.append(
                    .log(
                        PlugEvent(
                            .mqttUnreachable, "Cannot connect to the MQTT broker \(settings.broker): \(reason); retrying",
                            priority: .warning, fields: [.broker: settings.broker, .reason: reason])))
            }
            if lastFailure == nil { fx.append(.reachable(false)) }
            lastFailure = reason
        case .message(let topic, let payload, let retained, let at):
            received(topic: topic, payload: payload, retained: retained, at: at, &fx)
        case .oversized(let topic, let bytes):
            guard topics.subscriptions.contains(topic) else { break }
            fx.append(
                .log(
                    PlugEvent(
                        .mqttPayloadTooLarge, "MQTT message of \(bytes) bytes on \(topic) discarded unread: plugd reads at most \(Self.maxPayload) bytes",
                        priority: .warning, fields: [.topic: topic, .bytes: "\(bytes)"])))
        case .closedByBroker(let lasted, let takenOver):
            guard takenOver || lasted < Self.quickClose else {
                return handle(.connectionLost(reason: "the broker closed the connection"))
            }
            connected = false
            // A connection that lasted is a new conflict, not the same one going on.
            takeovers = lasted >= Self.conflictForgotten ? 1 : takeovers + 1
            lastFailure = "taken over"
            fx.append(.reachable(false))
            let id = topics.deviceID
            let fields: [EventField: String] = [.broker: settings.broker, .clientId: id, .takeovers: "\(takeovers)"]
            if takeovers < Self.takeoversReported {
                // Without the broker's word, one early close is an ordinary loss (it may be the
                // broker stopping); only a second in a row is called a conflict.
                let reason = "the broker closed the connection \(lasted.components.seconds) s after accepting it"
                fx.append(
                    takenOver
                        ? .log(
                            PlugEvent(
                                .mqttTakenOver, "The MQTT broker \(settings.broker) closed the connection: another client connected as \(id); reconnecting",
                                priority: .warning, fields: fields))
                        : .log(
                            PlugEvent(
                                .mqttDisconnected, "Lost the MQTT broker \(settings.broker): \(reason); reconnecting",
                                priority: .warning, fields: [.broker: settings.broker, .reason: reason])))
            } else if takeovers == Self.takeoversReported {
                let how =
                    takenOver
                    ? "each takes the connection from the other"
                    : "the broker closed the connection within seconds of accepting it"
                fx.append(
                    .log(
                        PlugEvent(
                            .mqttIdentityConflict,
                            """
                            Another client \(takenOver ? "uses" : "most likely uses") this plug's identity (\(id)) on the MQTT broker \
                            \(settings.broker): \(how), \(takeovers) times in a row. Two plugs with one identity (a copied SD card?) \
                            or a client with this id; reconnecting ever more slowly (up to 5 minutes)
                            """, priority: .error, fields: fields)))
            }
        case .plug(let new):
            let old = plug
            plug = new
            if new.identity != old.identity {
                topics = MQTTTopics(settings: settings, identity: new.identity)
                if connected {
                    connected = false
                    fx.append(.reconnect)
                }
                return fx
            }
            if connected { sync(&fx) }
        case .pressed(let kind):
            // An event, not a state: not retained, and lost while the broker is away (a press
            // reported minutes late would trigger an automation at the wrong time).
            if connected { fx.append(.publish(MQTTMessage(topics.button, kind, retain: false))) }
        }
        return fx
    }

    /// Publishes what differs from what the broker has from this connection.
    private mutating func sync(_ fx: inout [Action]) {
        if publishedRelay != plug.relayOn {
            publishedRelay = plug.relayOn
            fx.append(.publish(MQTTMessage(topics.state, plug.relayOn ? "ON" : "OFF", retain: true)))
        }
        if publishedCountdown != .some(plug.countdown) {
            publishedCountdown = .some(plug.countdown)
            fx.append(.publish(MQTTMessage(topics.countdown, CountdownReport.payload(plug.countdown), retain: true)))
        }
        if plug.registered, announcedName != plug.name {
            announcedName = plug.name
            for (topic, config) in HomeAssistantDiscovery.configs(topics, name: plug.name, presses: settings.presses) {
                fx.append(.publish(MQTTMessage(topic, config, retain: true)))
            }
            fx.append(
                .logWhenAcknowledged(
                    PlugEvent(
                        .mqttDiscovery, "Home Assistant discovery published for \"\(plug.name)\"",
                        fields: [.topic: topics.switchConfig])))
        } else if !plug.registered, announcedName != nil {
            announcedName = nil
            for topic in topics.discoveryConfigs { fx.append(.publish(MQTTMessage(topic, "", retain: true))) }
            fx.append(
                .log(
                    PlugEvent(
                        .mqttDiscoveryRemoved, "Not registered: removed from Home Assistant",
                        priority: .notice, fields: [.topic: topics.switchConfig])))
        }
    }

    private mutating func received(topic: String, payload: String, retained: Bool, at now: MonotonicInstant, _ fx: inout [Action]) {
        let text = payload.trimmed
        if topic == topics.homeAssistantStatus {
            // Home Assistant restarted: it forgot non-retained state, so announce again. A retained
            // `online` arrives on every subscribe, right after plugd announced itself anyway. A
            // storm of `online` republishes at most once per `announceInterval`.
            if text.lowercased() == "online", !retained, connected {
                if let last = lastAnnouncement, now < last.advanced(by: Self.announceInterval) { return }
                lastAnnouncement = now
                announcedName = nil
                fx.append(.publish(MQTTMessage(topics.availability, "online", retain: true)))
                sync(&fx)
            }
            return
        }
        let command: PlugMachine.Command?
        let accepted: String
        switch topic {
        case topics.command:
            accepted = "send ON, OFF or TOGGLE"
            switch text.uppercased() {
            case "ON": command = .on
            case "OFF": command = .off
            case "TOGGLE": command = .toggle
            default: command = nil
            }
        case topics.identify:
            accepted = ""
            command = .identify
        case topics.countdownCommand:
            accepted = "send a duration (30m: on now, off after), ON 30m, OFF 10m, or CANCEL (or 0m)"
            command = Self.countdownCommand(text)
        default: return
        }
        let excerpt = Self.excerpt(text)
        let fields: [EventField: String] = [.source: EventSource.mqtt.rawValue, .topic: topic, .payload: excerpt]
        guard let command else {
            fx.append(
                .log(
                    PlugEvent(
                        .mqttCommandInvalid, "MQTT command \"\(excerpt)\" on \(topic) not understood: \(accepted)",
                        priority: .warning, fields: fields)))
            return
        }
        if retained {
            fx.append(
                .log(
                    PlugEvent(
                        .mqttCommandIgnored, "Retained MQTT command \"\(excerpt)\" on \(topic) ignored: a stale command never moves the relay",
                        priority: .notice, fields: fields)))
            return
        }
        fx.append(.log(PlugEvent(.mqttCommand, "MQTT command \"\(excerpt)\" received on \(topic)", fields: fields)))
        fx.append(.command(command))
    }

    /// A countdown command: `30m` (on now, off after; units s, m, h, d, up to 7 days), `ON 30m`,
    /// `OFF 10m`, `CANCEL` or a zero duration (`0m`, what Home Assistant's number sends for 0)
    /// to end the countdown; `nil` if it is none of these.
    static func countdownCommand(_ text: String) -> PlugMachine.Command? {
        if text.uppercased() == "CANCEL" { return .cancelTimer }
        let words = text.split(separator: " ", omittingEmptySubsequences: true)
        let on: Bool
        switch words.count == 2 ? words[0].uppercased() : nil {
        case "ON"?: on = true
        case "OFF"?: on = false
        case nil where words.count == 1: on = true
        default: return nil
        }
        guard let seconds = Countdown.seconds(in: String(words[words.count - 1])) else { return nil }
        return seconds == 0 ? (words.count == 1 ? .cancelTimer : nil) : .timed(on: on, for: .seconds(seconds))
    }

    /// At most the first 64 bytes of a payload for the log (cut at a character boundary), with
    /// control characters escaped so that an entry stays one readable line.
    static func excerpt(_ text: String) -> String {
        var out = ""
        var bytes = 0
        for scalar in text.unicodeScalars {
            let piece = scalar.properties.generalCategory == .control ? scalar.escaped(asASCII: true) : String(scalar)
            bytes += piece.utf8.count
            if bytes > 64 { return out + "…" }
            out += piece
        }
        return out
    }
}
