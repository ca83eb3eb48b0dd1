import Foundation
import PlugCore
import Testing
@testable import PlugMQTT

let identityA = UUID(uuidString: "0A1B2C3D-4E5F-4061-8293-A4B5C6D7E8F9")!
let identityB = UUID(uuidString: "11111111-2222-4333-8444-555555555555")!
let settings = MQTTSettings(host: "broker.lan", topicPrefix: "home/plugs")

func snapshot(_ identity: UUID = identityA, name: String = "kettle", registered: Bool = true, relayOn: Bool = false) -> PlugSnapshot {
    PlugSnapshot(identity: identity, name: name, registered: registered, relayOn: relayOn)
}

extension [MQTTBridge.Action] {
    var published: [MQTTMessage] { compactMap { if case .publish(let m) = $0 { m } else { nil } } }
    var commands: [PlugMachine.Command] { compactMap { if case .command(let c) = $0 { c } else { nil } } }
    var logged: [String] {
        compactMap {
            switch $0 {
            case .log(let e), .logWhenAcknowledged(let e): e.name
            default: nil
            }
        }
    }
}

@Suite struct MQTTTopicsTests {
    @Test func topicsAndClientIDComeFromTheIdentity() {
        let t = MQTTTopics(settings: settings, identity: identityA)
        #expect(t.deviceID == "plugd-0a1b2c3d4e5f")
        #expect(t.deviceID.utf8.count <= 23)
        #expect(t.state == "home/plugs/plugd-0a1b2c3d4e5f/state")
        #expect(t.command == "home/plugs/plugd-0a1b2c3d4e5f/set")
        #expect(t.availability == "home/plugs/plugd-0a1b2c3d4e5f/availability")
        #expect(t.switchConfig == "homeassistant/switch/plugd-0a1b2c3d4e5f/relay/config")
        #expect(t.buttonConfig == "homeassistant/button/plugd-0a1b2c3d4e5f/identify/config")
        #expect(t.uniqueID == "plugd_0a1b2c3d4e5f40618293a4b5c6d7e8f9")
        #expect(MQTTTopics(settings: settings, identity: identityB).deviceID != t.deviceID)
    }

    @Test func portDefaultsFollowTLS() {
        #expect(MQTTSettings(host: "h").port == 1883)
        #expect(MQTTSettings(host: "h", caFile: "/etc/ca.pem").port == 8883)
        #expect(MQTTSettings(host: "h", port: 1884, caFile: "/etc/ca.pem").port == 1884)
        #expect(MQTTSettings(host: "::1").broker == "[::1]:1883")
    }
}

@Suite struct HomeAssistantDiscoveryTests {
    func object(_ json: String) throws -> [String: Any] {
        try #require(JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
    }

    @Test func switchConfigPointsAtThePlugsTopics() throws {
        let t = MQTTTopics(settings: settings, identity: identityA)
        let c = try object(HomeAssistantDiscovery.switchConfig(t, name: "kettle"))
        #expect(c["command_topic"] as? String == t.command)
        #expect(c["state_topic"] as? String == t.state)
        #expect(c["availability_topic"] as? String == t.availability)
        #expect(c["unique_id"] as? String == t.uniqueID + "_relay")
        #expect(c["payload_on"] as? String == "ON" && c["payload_off"] as? String == "OFF")
        #expect(c["name"] is NSNull) // the entity is named after the device
        let device = try #require(c["device"] as? [String: Any])
        #expect(device["name"] as? String == "kettle")
        #expect(device["identifiers"] as? [String] == [t.uniqueID])
    }

    @Test func buttonConfigIdentifies() throws {
        let t = MQTTTopics(settings: settings, identity: identityA)
        let c = try object(HomeAssistantDiscovery.buttonConfig(t, name: "kettle"))
        #expect(c["command_topic"] as? String == t.identify)
        #expect(c["device_class"] as? String == "identify")
        #expect((c["device"] as? [String: Any])?["identifiers"] as? [String] == [t.uniqueID])
    }
}

@Suite struct MQTTBridgeTests {
    @Test func connectingAnnouncesAvailabilityStateAndDiscoveryThenSubscribes() {
        var b = MQTTBridge(settings: settings, plug: snapshot(relayOn: true))
        let fx = b.handle(.connected)
        let t = b.topics
        #expect(fx.first == .reachable(true))
        #expect(fx.published.map(\.topic) == [t.availability, t.state, t.countdown] + t.discoveryConfigs)
        #expect(
            t.discoveryConfigs == [t.switchConfig, t.buttonConfig, t.countdownConfig, t.countdownEndsConfig] + ["single", "double", "triple"].map(t.triggerConfig))
        #expect(fx.published.allSatisfy { $0.retain })
        #expect(fx.published[0].payload == "online")
        #expect(fx.published[1].payload == "ON")
        #expect(fx.published[2].payload == #"{"auto":false,"ends":null,"minutes":0,"relay":null}"#)
        #expect(fx.contains(.subscribe([t.command, t.identify, t.countdownCommand, t.homeAssistantStatus])))
        #expect(fx.logged == ["mqtt_connected", "mqtt_discovery"])
        #expect(b.will == MQTTMessage(t.availability, "offline", retain: true))
    }

    @Test func anUnregisteredPlugIsNotAnnouncedToHomeAssistant() {
        var b = MQTTBridge(settings: settings, plug: snapshot(registered: false))
        let fx = b.handle(.connected)
        #expect(!fx.published.map(\.topic).contains(b.topics.switchConfig))
        // Setup registers it: now it is announced.
        let setup = b.handle(.plug(snapshot(registered: true)))
        #expect(setup.published.map(\.topic) == b.topics.discoveryConfigs)
    }

    @Test func relayChangesArePublishedOnceEach() {
        var b = MQTTBridge(settings: settings, plug: snapshot())
        _ = b.handle(.connected)
        #expect(b.handle(.plug(snapshot(relayOn: true))).published == [MQTTMessage(b.topics.state, "ON", retain: true)])
        #expect(b.handle(.plug(snapshot(relayOn: true))).published == [])
        #expect(b.handle(.plug(snapshot(relayOn: false))).published == [MQTTMessage(b.topics.state, "OFF", retain: true)])
    }

    @Test func whileDisconnectedNothingIsPublishedAndTheLatestStateFollowsOnConnect() {
        var b = MQTTBridge(settings: settings, plug: snapshot())
        #expect(b.handle(.plug(snapshot(relayOn: true))).published == [])
        let fx = b.handle(.connected)
        #expect(fx.published.contains(MQTTMessage(b.topics.state, "ON", retain: true)))
    }

    @Test func renamingRepublishesDiscovery() {
        var b = MQTTBridge(settings: settings, plug: snapshot())
        _ = b.handle(.connected)
        let fx = b.handle(.plug(snapshot(name: "lamp")))
        #expect(fx.published.map(\.topic) == b.topics.discoveryConfigs)
        #expect(fx.published.filter { !$0.payload.isEmpty }.allSatisfy { $0.payload.contains("\"name\":\"lamp\"") })
    }

    @Test(arguments: [("ON", PlugMachine.Command.on), ("off", .off), (" Toggle\n", .toggle)])
    func liveCommandsReachThePlug(payload: String, command: PlugMachine.Command) {
        var b = MQTTBridge(settings: settings, plug: snapshot())
        _ = b.handle(.connected)
        let fx = b.handle(.message(topic: b.topics.command, payload: payload, retained: false, at: .zero))
        #expect(fx.commands == [command])
        #expect(fx.logged == ["mqtt_command"])
    }

    @Test func retainedCommandsAreIgnored() {
        var b = MQTTBridge(settings: settings, plug: snapshot())
        _ = b.handle(.connected)
        for topic in [b.topics.command, b.topics.identify] {
            let fx = b.handle(.message(topic: topic, payload: "ON", retained: true, at: .zero))
            #expect(fx.commands == [])
            #expect(fx.logged == ["mqtt_command_ignored"])
        }
    }

    @Test func unknownCommandsAreReportedNotObeyed() {
        var b = MQTTBridge(settings: settings, plug: snapshot())
        _ = b.handle(.connected)
        let fx = b.handle(.message(topic: b.topics.command, payload: "explode", retained: false, at: .zero))
        #expect(fx.commands == [])
        #expect(fx.logged == ["mqtt_command_invalid"])
        #expect(b.handle(.message(topic: "other/topic", payload: "ON", retained: false, at: .zero)).isEmpty)
    }

    @Test func identifyButton() {
        var b = MQTTBridge(settings: settings, plug: snapshot())
        _ = b.handle(.connected)
        #expect(b.handle(.message(topic: b.topics.identify, payload: "PRESS", retained: false, at: .zero)).commands == [.identify])
    }

    @Test func homeAssistantComingOnlineGetsDiscoveryAgain() {
        var b = MQTTBridge(settings: settings, plug: snapshot())
        _ = b.handle(.connected)
        let fx = b.handle(.message(topic: "homeassistant/status", payload: "online", retained: false, at: .zero))
        #expect(fx.published.map(\.topic) == [b.topics.availability] + b.topics.discoveryConfigs)
        // Its retained birth message, seen at every subscribe, does not repeat what was just sent.
        #expect(b.handle(.message(topic: "homeassistant/status", payload: "online", retained: true, at: .zero)).published == [])
        #expect(b.handle(.message(topic: "homeassistant/status", payload: "offline", retained: false, at: .zero)).published == [])
    }

    @Test func failuresAreLoggedOncePerReasonAndShownOnce() {
        var b = MQTTBridge(settings: settings, plug: snapshot())
        let first = b.handle(.connectFailed(reason: "Connection refused"))
        #expect(first.logged == ["mqtt_unreachable"])
        #expect(first.contains(.reachable(false)))
        #expect(b.handle(.connectFailed(reason: "Connection refused")).isEmpty)
        #expect(b.handle(.connectFailed(reason: "No route to host")).logged == ["mqtt_unreachable"])
        #expect(b.handle(.connected).first == .reachable(true))
        let lost = b.handle(.connectionLost(reason: "Connection lost"))
        #expect(lost == [.reachable(false), lost[1]])
        #expect(lost.logged == ["mqtt_disconnected"])
        #expect(!b.connected)
        // Reconnecting publishes everything again (the broker may have lost it).
        #expect(b.handle(.connected).published.count == 10)
    }

    @Test func aNewIdentityReconnectsAsANewDevice() {
        var b = MQTTBridge(settings: settings, plug: snapshot())
        _ = b.handle(.connected)
        let fx = b.handle(.plug(snapshot(identityB, registered: false)))
        #expect(fx == [.reconnect])
        #expect(b.topics == MQTTTopics(settings: settings, identity: identityB))
        #expect(b.will.topic == b.topics.availability)
    }

    @Test func forgettingClearsDiscoveryStateAndAvailability() {
        let t = MQTTTopics(settings: settings, identity: identityA)
        let m = MQTTBridge.forgetting(snapshot(identityA), settings: settings)
        #expect(m.map(\.topic) == t.discoveryConfigs + [t.state, t.countdown, t.availability])
        #expect(m.allSatisfy { $0.retain && $0.payload.isEmpty })
    }

    @Test func losingTheRegistrationRemovesTheDevice() {
        var b = MQTTBridge(settings: settings, plug: snapshot())
        _ = b.handle(.connected)
        let fx = b.handle(.plug(snapshot(registered: false)))
        #expect(fx.published == b.topics.discoveryConfigs.map { MQTTMessage($0, "", retain: true) })
    }

    @Test func discoveryIsLoggedOnlyOnceTheBrokerAcknowledgesIt() {
        var b = MQTTBridge(settings: settings, plug: snapshot())
        let fx = b.handle(.connected)
        let configs = fx.lastIndex { if case .publish(let m) = $0 { m.topic == b.topics.buttonConfig } else { false } }
        let log = fx.firstIndex { if case .logWhenAcknowledged(let e) = $0 { e.name == "mqtt_discovery" } else { false } }
        #expect(configs != nil && log != nil && log! > configs!)
        #expect(!fx.contains { if case .log(let e) = $0 { e.name == "mqtt_discovery" } else { false } })
    }

    @Test func homeAssistantOnlineStormsRepublishAtMostOncePerInterval() {
        var b = MQTTBridge(settings: settings, plug: snapshot())
        _ = b.handle(.connected)
        let t0 = MonotonicInstant.zero.advanced(by: .seconds(100))
        var republished = 0
        for i in 0..<1000 { // 1000 `online` in 2 s
            let at = t0.advanced(by: .milliseconds(i * 2))
            let fx = b.handle(.message(topic: b.topics.homeAssistantStatus, payload: "online", retained: false, at: at))
            if fx.published.contains(where: { $0.topic == b.topics.switchConfig }) { republished += 1 }
        }
        #expect(republished == 1)
        let later = b.handle(
            .message(
                topic: b.topics.homeAssistantStatus, payload: "online", retained: false,
                at: t0.advanced(by: MQTTBridge.announceInterval + .seconds(2))))
        #expect(later.published.map(\.topic).contains(b.topics.switchConfig))
    }

    @Test func oversizedPayloadsAreLoggedWithTheirSizeAndNeverObeyed() {
        var b = MQTTBridge(settings: settings, plug: snapshot())
        _ = b.handle(.connected)
        let fx = b.handle(.oversized(topic: b.topics.command, bytes: 64 << 20))
        #expect(fx.commands.isEmpty && fx.logged == ["mqtt_payload_too_large"])
        guard case .log(let e) = fx.first else { Issue.record("no log"); return }
        #expect(e.fields[.bytes] == "67108864")
        #expect(b.handle(.oversized(topic: "elsewhere", bytes: 1000)).isEmpty)
    }

    @Test func payloadExcerptsAreBoundedInBytes() {
        var b = MQTTBridge(settings: settings, plug: snapshot())
        _ = b.handle(.connected)
        let payload = String(repeating: "é", count: 200) + "\u{1}"
        let fx = b.handle(.message(topic: b.topics.command, payload: payload, retained: false, at: .zero))
        guard case .log(let e) = fx.first else { Issue.record("no log"); return }
        #expect(e.fields[.payload]!.utf8.count <= 64 + 3)
        #expect(MQTTBridge.excerpt("a\u{1}b\nc") == "a\\u{01}b\\nc")
    }

    /// `n` connections, each closed by the broker 2 s after it accepted it: what was logged.
    func closes(_ b: inout MQTTBridge, _ n: Int, takenOver: Bool) -> [String] {
        (0..<n).flatMap { _ in
            _ = b.handle(.connected)
            return b.handle(.closedByBroker(after: .seconds(2), takenOver: takenOver)).logged
        }
    }

    @Test func takeoversAreReportedAsAnIdentityConflictOnce() {
        var b = MQTTBridge(settings: settings, plug: snapshot())
        #expect(closes(&b, 6, takenOver: true) == ["mqtt_taken_over", "mqtt_identity_conflict"])
        #expect(b.takeovers == 6)
        _ = b.handle(.connected)
        #expect(b.handle(.closedByBroker(after: .seconds(3600), takenOver: true)).logged == ["mqtt_taken_over"])
        #expect(b.takeovers == 1)
        _ = b.handle(.connected)
        _ = b.handle(.connectionLost(reason: "Connection reset by peer"))
        #expect(b.takeovers == 0)
    }

    @Test func aBrokerThatClosesSoonAfterAcceptingWithoutSayingWhyCountsAsATakeover() {
        var b = MQTTBridge(settings: settings, plug: snapshot())
        _ = b.handle(.connected)
        // A broker restarting closes an old connection: an ordinary loss.
        #expect(b.handle(.closedByBroker(after: .seconds(3600), takenOver: false)).logged == ["mqtt_disconnected"])
        #expect(b.takeovers == 0)
        #expect(closes(&b, 3, takenOver: false) == ["mqtt_disconnected", "mqtt_identity_conflict"])
        #expect(b.takeovers == 3)
        // A broker stopped soon after a connect: the close counts, but the refused reconnect
        // shows it was a broker going away, not a conflict.
        _ = b.handle(.connectFailed(reason: "Connection refused"))
        #expect(b.takeovers == 0)
        _ = b.handle(.connected)
        #expect(b.handle(.closedByBroker(after: .seconds(2), takenOver: false)).logged == ["mqtt_disconnected"])
        _ = b.handle(.connectFailed(reason: "Connection refused"))
        _ = b.handle(.connected)
        #expect(!b.handle(.closedByBroker(after: .seconds(2), takenOver: false)).logged.contains("mqtt_identity_conflict"))
    }
}

@Suite struct ReconnectBackoffTests {
    @Test func doublesUpToTheMaximumAndResets() {
        var b = ReconnectBackoff(min: .seconds(1), max: .seconds(60))
        let delays = (0..<9).map { _ in b.nextDelay(random: 0.5) }
        #expect(delays == [1, 2, 4, 8, 16, 32, 60, 60, 60].map { Duration.seconds($0) })
        b.reset()
        #expect(b.nextDelay(random: 0.5) == .seconds(1))
    }

    @Test func jitterStaysWithinTwentyPercent() {
        var low = ReconnectBackoff(min: .seconds(10), max: .seconds(60))
        var high = low
        #expect(low.nextDelay(random: 0) == .seconds(8))
        #expect(high.nextDelay(random: 0.999_999) < .seconds(12))
        #expect(high.nextDelay(random: 0.999_999) > .seconds(23))
    }
}
