import PlugCore
import Testing

@testable import PlugMQTT

/// Countdowns over MQTT: the command topic's forms, the retained report, Home Assistant's
/// number and timestamp sensor.
@Suite struct CountdownOverMQTTTests {
    func connected() -> MQTTBridge {
        var b = MQTTBridge(settings: settings, plug: snapshot())
        _ = b.handle(.connected)
        return b
    }

    @Test(arguments: [
        ("30m", PlugMachine.Command.timed(on: true, for: .seconds(1800))),
        ("ON 90s", .timed(on: true, for: .seconds(90))),
        ("off 2h", .timed(on: false, for: .seconds(7200))),
        ("  OFF   1d ", .timed(on: false, for: .seconds(86400))),
        ("CANCEL", .cancelTimer),
        ("cancel", .cancelTimer),
        ("0m", .cancelTimer), // Home Assistant's number set to 0
        ("7d", .timed(on: true, for: .seconds(604_800))),
    ])
    func commandsUnderstood(payload: String, command: PlugMachine.Command) {
        var b = connected()
        let fx = b.handle(.message(topic: b.topics.countdownCommand, payload: payload, retained: false, at: .zero))
        #expect(fx.commands == [command])
        #expect(fx.logged == ["mqtt_command"])
    }

    @Test(arguments: ["", "30", "8d", "ON", "ON 0m", "TOGGLE 5m", "ON 5m extra", "5 m", "1.5h", "-5m", "30m;rm"])
    func commandsRefusedWithTheFormsAccepted(payload: String) {
        var b = connected()
        let fx = b.handle(.message(topic: b.topics.countdownCommand, payload: payload, retained: false, at: .zero))
        #expect(fx.commands == [])
        #expect(fx.logged == ["mqtt_command_invalid"])
        let message = fx.compactMap { if case .log(let e) = $0 { e.message } else { nil } }.first ?? ""
        #expect(message.contains("ON 30m, OFF 10m, or CANCEL"), "\(message)")
    }

    @Test func aRetainedCountdownCommandIsStaleAndIgnored() {
        var b = connected()
        let fx = b.handle(.message(topic: b.topics.countdownCommand, payload: "30m", retained: true, at: .zero))
        #expect(fx.commands == [] && fx.logged == ["mqtt_command_ignored"])
    }

    @Test func theCountdownIsPublishedRetainedWhenItChangesOnly() {
        var b = connected()
        var plug = snapshot()
        plug.countdown = CountdownReport(level: false, auto: true, ends: 1_795_849_200, minutes: 120)
        let fx = b.handle(.plug(plug))
        #expect(
            fx.published == [
                MQTTMessage(b.topics.countdown, #"{"auto":true,"ends":"2026-11-28T07:00:00Z","minutes":120,"relay":"off"}"#, retain: true)
            ])
        #expect(b.handle(.plug(plug)).published == []) // the same: nothing
        plug.countdown = nil
        #expect(b.handle(.plug(plug)).published == [MQTTMessage(b.topics.countdown, CountdownReport.payload(nil), retain: true)])
    }

    @Test func theReportIsMadeFromTheMonotonicDueAndTheWallClock() {
        let c = Countdown(level: false, due: sec(1801), boot: "b")
        let r = CountdownReport(c, now: sec(1), unixNow: .seconds(1_795_849_200) + .milliseconds(600))
        #expect(r == CountdownReport(level: false, auto: false, ends: 1_795_851_001, minutes: 30))
        // A second short of a minute still counts as the minute; one that ended counts none.
        #expect(CountdownReport(c, now: sec(1741.5), unixNow: .zero).minutes == 1)
        #expect(CountdownReport(c, now: sec(1900), unixNow: .seconds(10)) == CountdownReport(level: false, auto: false, ends: 10, minutes: 0))
    }

    @Test func homeAssistantGetsANumberAndATimestampSensor() throws {
        let t = MQTTTopics(settings: settings, identity: identityA)
        let number = HomeAssistantDiscovery.countdownConfig(t, name: "kettle")
        for member in [
            #""command_topic":"\#(t.countdownCommand)""#, #""state_topic":"\#(t.countdown)""#, #""command_template":"{{ value | int }}m""#,
            #""value_template":"{{ value_json.minutes }}""#, #""min":0"#, #""max":10080"#, #""unit_of_measurement":"min""#,
        ] {
            #expect(number.contains(member), "\(member)")
        }
        let sensor = HomeAssistantDiscovery.countdownEndsConfig(t, name: "kettle")
        #expect(sensor.contains(#""device_class":"timestamp""#) && sensor.contains(#""value_template":"{{ value_json.ends }}""#))
        #expect(!sensor.contains("command_topic"))
    }
}

func sec(_ s: Double) -> MonotonicInstant { MonotonicInstant(nanoseconds: Int64(s * 1e9)) }
