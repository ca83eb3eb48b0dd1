import PlugJSON

/// Home Assistant's MQTT discovery configs for a plug: a switch for the relay and a button that
/// identifies the plug. Published retained; an empty retained config removes the entity.
public enum HomeAssistantDiscovery {
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
