import PlugCore
import PlugJSON

/// Home Assistant's MQTT discovery configs for a plug: a switch for the relay, a button that
/// identifies the plug, a number that starts a countdown ("Switch off in", minutes; 0 ends it)
/// and a timestamp sensor for when the countdown ends. Published retained; an empty retained
/// config removes the entity.
public enum HomeAssistantDiscovery {
    /// The kinds of press, and Home Assistant's trigger type for each.
    public static let pressKinds = ["single", "double", "triple"]
    static let triggerTypes = ["single": "button_short_press", "double": "button_double_press", "triple": "button_triple_press"]

    /// Every config, with its topic, in `MQTTTopics.discoveryConfigs`' order: a press that
    /// cannot happen (`presses`) gets an empty config, which removes its trigger.
    public static func configs(_ topics: MQTTTopics, name: String, presses: [String]) -> [(topic: String, config: String)] {
        [
            (topics.switchConfig, switchConfig(topics, name: name)),
            (topics.buttonConfig, buttonConfig(topics, name: name)),
            (topics.countdownConfig, countdownConfig(topics, name: name)),
            (topics.countdownEndsConfig, countdownEndsConfig(topics, name: name)),
        ] + pressKinds.map { (topics.triggerConfig($0), presses.contains($0) ? triggerConfig(topics, name: name, press: $0) : "") }
    }

    /// A device trigger (MQTT device automation): Home Assistant offers "button: single press"
    /// (double, triple) as an automation trigger of the device.
    public static func triggerConfig(_ topics: MQTTTopics, name: String, press: String) -> String {
        var common = common(topics, name: name)
        for key in ["availability_topic", "payload_available", "payload_not_available"] { common[key] = nil } // not for triggers
        return json(
            [
                "automation_type": "trigger",
                "topic": .string(topics.button),
                "payload": .string(press),
                "type": .string(triggerTypes[press] ?? "button_short_press"),
                "subtype": "button_1",
                "qos": 1,
            ].merging(common) { a, _ in a })
    }

    /// The switch's config.
    public static func switchConfig(_ topics: MQTTTopics, name: String) -> String {
        json(
            [
                "name": .null, // the entity takes the device's name
                "unique_id": .string(topics.uniqueID + "_relay"),
                "device_class": "outlet",
                "command_topic": .string(topics.command),
                "state_topic": .string(topics.state),
                "payload_on": "ON",
                "payload_off": "OFF",
                "state_on": "ON",
                "state_off": "OFF",
                "qos": 1,
                "retain": false,
                "optimistic": false,
            ].merging(common(topics, name: name)) { a, _ in a })
    }

    /// The identify button's config.
    public static func buttonConfig(_ topics: MQTTTopics, name: String) -> String {
        json(
            [
                "name": "Identify",
                "unique_id": .string(topics.uniqueID + "_identify"),
                "device_class": "identify",
                "entity_category": "config",
                "command_topic": .string(topics.identify),
                "payload_press": "PRESS",
                "qos": 1,
                "retain": false,
            ].merging(common(topics, name: name)) { a, _ in a })
    }

    /// The countdown's number: setting it to N switches the relay on now and off in N minutes
    /// (`N m` on the countdown command topic), 0 ends the countdown; it shows the minutes the
    /// running countdown had when it was set (0 when none runs).
    public static func countdownConfig(_ topics: MQTTTopics, name: String) -> String {
        json(
            [
                "name": "Switch off in",
                "unique_id": .string(topics.uniqueID + "_countdown"),
                "icon": "mdi:timer-outline",
                "command_topic": .string(topics.countdownCommand),
                "command_template": "{{ value | int }}m",
                "state_topic": .string(topics.countdown),
                "value_template": "{{ value_json.minutes }}",
                "min": 0,
                "max": .int(Int64(Countdown.longest.components.seconds / 60)),
                "step": 1,
                "mode": "box",
                "unit_of_measurement": "min",
                "qos": 1,
                "retain": false,
            ].merging(common(topics, name: name)) { a, _ in a })
    }

    /// When the countdown ends (unknown when none runs).
    public static func countdownEndsConfig(_ topics: MQTTTopics, name: String) -> String {
        json(
            [
                "name": "Countdown ends",
                "unique_id": .string(topics.uniqueID + "_countdown_ends"),
                "device_class": "timestamp",
                "state_topic": .string(topics.countdown),
                "value_template": "{{ value_json.ends }}",
                "json_attributes_topic": .string(topics.countdown),
                "qos": 1,
            ].merging(common(topics, name: name)) { a, _ in a })
    }

    private static func common(_ topics: MQTTTopics, name: String) -> [String: JSON] {
        [
            "availability_topic": .string(topics.availability),
            "payload_available": "online",
            "payload_not_available": "offline",
            "device": [
                "identifiers": [.string(topics.uniqueID)],
                "name": .string(name),
                "manufacturer": "plugd",
                "model": "plugd smart plug",
            ],
            "origin": ["name": "plugd", "url": "https://github.com/plugd/plugd"],
        ]
    }

    private static func json(_ object: [String: JSON]) -> String {
        JSON.object(object).text()
    }
}
