import Testing

@testable import PlugMQTT

/// Button presses over MQTT: the non-retained press topic and Home Assistant's device triggers.
@Suite struct PressTriggerTests {
    @Test func aPressIsPublishedNotRetainedAndNotWhileAway() {
        var b = MQTTBridge(settings: settings, plug: snapshot())
        #expect(b.handle(.pressed("single")) == []) // not connected: dropped, not queued
        _ = b.handle(.connected)
        #expect(b.handle(.pressed("double")) == [.publish(MQTTMessage(b.topics.button, "double", retain: false))])
    }

    @Test func triggersAreAnnouncedForThePressesThatCanHappen() throws {
        var only = settings
        only.presses = ["single"]
        var b = MQTTBridge(settings: only, plug: snapshot())
        let fx = b.handle(.connected)
        let t = b.topics
        let single = try #require(fx.published.first { $0.topic == t.triggerConfig("single") })
        for member in [
            #""automation_type":"trigger""#, #""topic":"\#(t.button)""#, #""payload":"single""#, #""type":"button_short_press""#,
            #""subtype":"button_1""#,
        ] {
            #expect(single.payload.contains(member), "\(member)")
        }
        #expect(!single.payload.contains("availability"))
        // Multi-press off: no double or triple trigger (an empty config removes one announced before).
        #expect(fx.published.filter { $0.topic == t.triggerConfig("double") || $0.topic == t.triggerConfig("triple") }.allSatisfy { $0.payload.isEmpty })
        var all = settings
        all.presses = ["single", "double", "triple"]
        var c = MQTTBridge(settings: all, plug: snapshot())
        let triple = try #require(c.handle(.connected).published.first { $0.topic == t.triggerConfig("triple") })
        #expect(triple.payload.contains(#""type":"button_triple_press""#))
        #expect(t.triggerConfig("double") == "homeassistant/device_automation/plugd-0a1b2c3d4e5f/button_double/config")
    }
}
