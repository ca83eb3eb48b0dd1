import Foundation
import PlugMQTT
import Testing
@testable import PlugConfig

@Suite struct MQTTConfigTests {
    /// The keys `text` (appended to the minimal config) is rejected for.
    func rejectedKeys(_ text: String) -> [String?] {
        do {
            _ = try PlugConfig.parse(minimal + "\n" + text, file: "m.toml")
            return []
        } catch let e as ConfigErrors {
            return e.errors.map(\.key)
        } catch {
            return ["unexpected \(error)"]
        }
    }

    @Test func withoutTheSectionMQTTIsOff() throws {
        #expect(try PlugConfig.parse(minimal, file: "m.toml").mqtt == nil)
    }

    @Test func aHostIsEnoughAndTheRestHasDefaults() throws {
        let c = try PlugConfig.parse(minimal + "\n[mqtt]\nhost = \"broker.lan\"\n", file: "m.toml")
        #expect(c.mqtt == MQTTSettings(host: "broker.lan"))
        #expect(c.mqtt?.port == 1883)
        #expect(c.timings.showBrokerUnreachable)
    }

    @Test func everyKey() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("plugd-mqtt-\(UUID())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let ca = dir.appendingPathComponent("ca.pem").path, pw = dir.appendingPathComponent("password").path
        try Data("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n".utf8).write(to: URL(fileURLWithPath: ca))
        try Data("secret\n".utf8).write(to: URL(fileURLWithPath: pw))
        let c = try PlugConfig.parse(
            minimal + """

                [mqtt]
                host = "10.0.0.2"
                port = 8884
                ca_file = "\(ca)"
                username = "plug"
                password_file = "\(pw)"
                topic_prefix = "home/plugs"
                discovery_prefix = "ha"
                keepalive_s = 30
                reconnect_max_s = 120
                unreachable_led = false
                """, file: "m.toml")
        #expect(
            c.mqtt
                == MQTTSettings(
                    host: "10.0.0.2", port: 8884, caFile: ca, username: "plug", passwordFile: pw,
                    topicPrefix: "home/plugs", discoveryPrefix: "ha", keepalive: 30,
                    reconnectMin: .seconds(1), reconnectMax: .seconds(120)))
        #expect(!c.timings.showBrokerUnreachable)
    }

    @Test(arguments: [
        ("[mqtt]\nport = 1883", "mqtt.host"),
        ("[mqtt]\nhost = \"\"", "mqtt.host"),
        ("[mqtt]\nhost = \"a b\"", "mqtt.host"),
        ("[mqtt]\nhost = \"h\"\nport = 0", "mqtt.port"),
        ("[mqtt]\nhost = \"h\"\nport = 70000", "mqtt.port"),
        ("[mqtt]\nhost = \"h\"\nca_file = \"/nonexistent/ca.pem\"", "mqtt.ca_file"),
        ("[mqtt]\nhost = \"h\"\nca_file = \"ca.pem\"", "mqtt.ca_file"),
        ("[mqtt]\nhost = \"h\"\nusername = \"u\"\npassword_file = \"/nonexistent\"", "mqtt.password_file"),
        ("[mqtt]\nhost = \"h\"\npassword_file = \"/etc/passwd\"", "mqtt.password_file"),
        ("[mqtt]\nhost = \"h\"\ntopic_prefix = \"a/+/b\"", "mqtt.topic_prefix"),
        ("[mqtt]\nhost = \"h\"\ntopic_prefix = \"plugs/\"", "mqtt.topic_prefix"),
        ("[mqtt]\nhost = \"h\"\ndiscovery_prefix = \"#\"", "mqtt.discovery_prefix"),
        ("[mqtt]\nhost = \"h\"\nkeepalive_s = 1", "mqtt.keepalive_s"),
        ("[mqtt]\nhost = \"h\"\nunreachable_led = \"yes\"", "mqtt.unreachable_led"),
        ("[mqtt]\nhost = \"h\"\npassword = \"secret\"", "mqtt.password"),
    ])
    func badValuesAreNamed(text: String, key: String) {
        #expect(rejectedKeys(text) == [key])
    }
}
