#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The topics of one plug, all derived from its identity, so a factory reset (a new identity)
/// makes a new device on the broker and in Home Assistant.
public struct MQTTTopics: Sendable, Equatable {
    /// `plugd-` and the identity's first 12 hex digits: the MQTT client id and the topic level.
    /// 18 characters, within MQTT 3.1's 23-character limit for client ids.
    public let deviceID: String
    /// The full identity in lower case, for Home Assistant's unique ids.
    public let uniqueID: String
    /// Retained `ON`/`OFF`, published on every relay change.
    public let state: String
    /// Commands: `ON`, `OFF`, `TOGGLE`.
    public let command: String
    /// Retained `online`/`offline`; `offline` is also the last will.
    public let availability: String
    /// Any message blinks the LED (Home Assistant's identify button).
    public let identify: String
    /// Not retained: `single`, `double` or `triple` at each button press (Home Assistant's
    /// device triggers listen here).
    public let button: String
    /// Retained: the countdown that runs (`CountdownReport.payload`).
    public let countdown: String
    /// Countdown commands: `30m`, `ON 30m`, `OFF 10m`, `CANCEL`.
    public let countdownCommand: String
    /// Home Assistant discovery configs: the switch, the identify button, the countdown's
    /// number (minutes to switch off in) and its end (a timestamp sensor).
    public let switchConfig: String
    public let buttonConfig: String
    public let countdownConfig: String
    public let countdownEndsConfig: String
    /// A device trigger's config, one per kind of press (`single`, `double`, `triple`).
    public func triggerConfig(_ press: String) -> String { "\(discoveryPrefix)/device_automation/\(deviceID)/button_\(press)/config" }
    private let discoveryPrefix: String
    /// Home Assistant's birth and last will (`online`/`offline`).
    public let homeAssistantStatus: String

    public init(settings: MQTTSettings, identity: UUID) {
        let hex = identity.uuidString.lowercased().filter { $0 != "-" }
        deviceID = "plugd-" + hex.prefix(12)
        uniqueID = "plugd_" + hex
        let base = "\(settings.topicPrefix)/\(deviceID)"
        state = base + "/state"
        command = base + "/set"
        availability = base + "/availability"
        identify = base + "/identify"
        countdown = base + "/countdown"
        button = base + "/button"
        countdownCommand = base + "/countdown/set"
        discoveryPrefix = settings.discoveryPrefix
        switchConfig = "\(settings.discoveryPrefix)/switch/\(deviceID)/relay/config"
        buttonConfig = "\(settings.discoveryPrefix)/button/\(deviceID)/identify/config"
        countdownConfig = "\(settings.discoveryPrefix)/number/\(deviceID)/countdown/config"
        countdownEndsConfig = "\(settings.discoveryPrefix)/sensor/\(deviceID)/countdown_ends/config"
        homeAssistantStatus = "\(settings.discoveryPrefix)/status"
    }

    /// The topics the plug subscribes to.
    public var subscriptions: [String] { [command, identify, countdownCommand, homeAssistantStatus] }

    /// Every Home Assistant discovery config of the plug: the entities, and a device trigger
    /// for every kind of press (all three, so that one announced before a config change is
    /// removed too).
    public var discoveryConfigs: [String] {
        [switchConfig, buttonConfig, countdownConfig, countdownEndsConfig] + HomeAssistantDiscovery.pressKinds.map(triggerConfig)
    }
}

/// One message to publish.
public struct MQTTMessage: Sendable, Equatable, CustomStringConvertible {
    public var topic: String
    public var payload: String
    public var retain: Bool
    /// Every message plugd publishes is QoS 1: the broker acknowledges it.
    public var qos: Int32 { 1 }

    public init(_ topic: String, _ payload: String, retain: Bool) {
        self.topic = topic
        self.payload = payload
        self.retain = retain
    }

    public var description: String { "\(topic) \(retain ? "(retained) " : "")\"\(payload)\"" }
}
