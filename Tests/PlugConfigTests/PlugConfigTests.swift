import Foundation
import PlugCore
import PlugGPIO
import Testing
@testable import PlugConfig

let minimal = """
    [relay]
    line = 17
    [button]
    line = "button"
    [led]
    red = 22
    green = 23
    blue = 24
    """

/// The repository's example config file.
let exampleURL = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .appendingPathComponent("../../config/plugd.toml").standardized

@Suite struct PlugConfigTests {
    @Test func theShippedExampleIsValid() throws {
        let c = try PlugConfig.load(path: exampleURL.path)
        #expect(c.wiring.relay == LineSpec(chip: "auto", line: .offset(17)))
        #expect(c.wiring.button == LineSpec(chip: "auto", line: .offset(27), activeLow: true))
        #expect(c.wiring.buttonBias == .pullUp)
        #expect(c.wiring.blue == LineSpec(chip: "auto", line: .offset(24)))
        #expect(c.timings == PlugTimings())
        #expect(c.powerOn == .last)
        #expect(c.writeDelay == .seconds(1))
    }

    @Test func aMinimalFileGetsTheSpecDefaults() throws {
        let c = try PlugConfig.parse(minimal, file: "m.toml")
        #expect(c.wiring.button == LineSpec(chip: "auto", line: .name("button"), activeLow: true))
        #expect(c.timings == PlugTimings())
        #expect(c.powerOn == .last)
        #expect(c.controlSocket == "/run/plugd/control.sock")
    }

    @Test func valuesAreRead() throws {
        let c = try PlugConfig.parse(
            minimal + """

                [gpio]
                chip = "pinctrl-bcm2711"
                [timing]
                setup_hold_s = 3.5
                [power]
                on = "off"
                [state]
                write_delay_ms = 0
                """, file: "m.toml")
        #expect(c.wiring.relay.chip == "pinctrl-bcm2711")
        #expect(c.timings.button.setupHold == .milliseconds(3500))
        #expect(c.powerOn == .off)
        #expect(c.writeDelay == .zero)
    }

    /// Every key of the table set to a value other than its default lands where it belongs:
    /// a row with the wrong destination fails here.
    @Test func everyKeyReachesItsPlace() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("plugd-keys-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n".write(toFile: "\(dir)/ca.pem", atomically: true, encoding: .utf8)
        try "hunter2\n".write(toFile: "\(dir)/password", atomically: true, encoding: .utf8)
        let text = """
            [gpio]
            chip = "gpiochip9"
            [relay]
            chip = "chip-r"
            line = 3
            active_low = true
            max_changes = 7
            max_changes_window_s = 9
            auto_off = "2h"
            auto_on = "90s"
            [button]
            chip = "chip-b"
            line = "btn"
            active_low = false
            bias = "pull-down"
            toggle_on = "release"
            debounce_ms = 20
            mode = "detached"
            multi_press_ms = 350
            double_press = "on"
            triple_press = "off"
            [led]
            chip = "chip-l"
            red = 5
            green = "g"
            blue = 7
            active_low = true
            [timing]
            setup_hold_s = 4
            factory_hold_s = 10.5
            stuck_hold_s = 40
            setup_timeout_s = 120
            reset_complete_s = 2
            [power]
            on = "on"
            [state]
            write_delay_ms = 250
            board_id = "board-1"
            [control]
            socket = "/run/plugd-keys-test/c.sock"
            [location]
            latitude = 52.52
            longitude = -13
            [mqtt]
            host = "broker.lan"
            port = 1999
            ca_file = "\(dir)/ca.pem"
            username = "u"
            password_file = "\(dir)/password"
            topic_prefix = "t/p"
            discovery_prefix = "ha"
            keepalive_s = 30
            reconnect_max_s = 20
            unreachable_led = false
            """
        let c = try PlugConfig.parse(text, file: "all.toml")
        #expect(c.wiring.relay == LineSpec(chip: "chip-r", line: .offset(3), activeLow: true))
        #expect(c.wiring.button == LineSpec(chip: "chip-b", line: .name("btn"), activeLow: false))
        #expect(c.wiring.buttonBias == .pullDown)
        #expect(c.wiring.red == LineSpec(chip: "chip-l", line: .offset(5), activeLow: true))
        #expect(c.wiring.green == LineSpec(chip: "chip-l", line: .name("g"), activeLow: true))
        #expect(c.wiring.blue == LineSpec(chip: "chip-l", line: .offset(7), activeLow: true))
        #expect(c.timings.relayMaxChanges == 7 && c.timings.relayChangeWindow == .seconds(9))
        #expect(c.timings.autoOff == .seconds(7200) && c.timings.autoOn == .seconds(90))
        #expect(c.timings.button.toggleOn == .release && c.timings.button.debounce == .milliseconds(20))
        #expect(c.timings.button.mode == .detached && c.timings.button.multiPressGap == .milliseconds(350))
        #expect(c.timings.button.doublePress == .on && c.timings.button.triplePress == .off)
        #expect(c.mqtt?.presses == ["single", "double", "triple"])
        #expect(c.timings.button.setupHold == .seconds(4) && c.timings.button.factoryHold == .milliseconds(10_500))
        #expect(c.timings.button.stuckHold == .seconds(40) && c.timings.setupTimeout == .seconds(120))
        #expect(c.timings.resetCompleteShown == .seconds(2) && c.timings.showBrokerUnreachable == false)
        #expect(c.powerOn == .on && c.writeDelay == .milliseconds(250) && c.boardID == "board-1")
        #expect(c.controlSocket == "/run/plugd-keys-test/c.sock")
        #expect(c.schedule.place == Sun.Place(latitude: 52.52, longitude: -13))
        let m = try #require(c.mqtt)
        #expect(m.host == "broker.lan" && m.port == 1999 && m.caFile == "\(dir)/ca.pem")
        #expect(m.username == "u" && m.passwordFile == "\(dir)/password")
        #expect(m.topicPrefix == "t/p" && m.discoveryPrefix == "ha" && m.keepalive == 30)
        #expect(m.reconnectMax == .seconds(20) && m.reconnectMin == .seconds(1))
        // And the one key the file's own chip fills in: a line's section without a chip.
        let inherited = try PlugConfig.parse(text.replacingOccurrences(of: "chip = \"chip-r\"\n", with: ""), file: "all.toml")
        #expect(inherited.wiring.relay.chip == "gpiochip9")
    }

    @Test func scheduleEntriesAreRead() throws {
        let c = try PlugConfig.parse(
            minimal + """

                [location]
                latitude = 69.65
                longitude = 18.96

                [[schedule]]
                at = "07:30"
                action = "on"
                days = "weekdays"

                [[schedule]]
                at = "sunset-15m"
                action = "toggle"
                days = ["sat", "Sun"]
                catch_up = true
                """, file: "s.toml")
        #expect(
            c.schedule.entries == [
                ScheduleEntry(time: .clock(second: 27000), days: Set(1...5), action: .on),
                ScheduleEntry(time: .sunset(offset: -900), days: [6, 0], action: .toggle, catchUp: true),
            ])
        #expect(try PlugConfig.parse(minimal, file: "m.toml").schedule == Schedule())
    }

    /// A corpus of broken files: each gives exactly the expected lines, naming file, key, reason.
    /// (Typed, so that Swift 6.0.3, Debian 13's, type-checks it in time.)
    static let brokenFiles: [(text: String, expected: [String])] = [
        (
            "[relay]\nline = 17\n",
            [
                "bad.toml: led.red: is required (a line offset or line name)",
                "bad.toml: led.green: is required (a line offset or line name)",
                "bad.toml: led.blue: is required (a line offset or line name)",
                "bad.toml: button.line: is required (a line offset or line name)",
            ]
        ),
        (minimal + "\n[button.extra]\n", ["bad.toml: button.extra: unknown key"]),
        (minimal.replacingOccurrences(of: "line = \"button\"", with: "line = 17"), ["bad.toml: button.line: is the same line as relay.line"]),
        (minimal.replacingOccurrences(of: "line = 17", with: "line = -1"), ["bad.toml: relay.line: must be an offset from 0 to 4294967295 (got -1)"]),
        (minimal.replacingOccurrences(of: "line = 17", with: "line = \"\""), ["bad.toml: relay.line: must be a line offset (number) or a line name (non-empty string)"]),
        (minimal.replacingOccurrences(of: "line = 17", with: "line = true"), ["bad.toml: relay.line: must be a line offset"]),
        (minimal + "\n[power]\non = \"sometimes\"\n", ["bad.toml: power.on: must be one of \"off\", \"on\", \"last\" (got \"sometimes\")"]),
        (minimal + "\n[button2]\n", ["bad.toml: button2: unknown section or key"]),
        (minimal + "\n[state]\nwrite_delay = 5\n", ["bad.toml: state.write_delay: unknown key"]),
        (minimal + "\n[state]\nwrite_delay_ms = 99999999\n", ["bad.toml: state.write_delay_ms: must be between 0 and 60000 (got 99999999)"]),
        (minimal + "\n[state]\nwrite_delay_ms = \"1s\"\n", ["bad.toml: state.write_delay_ms: must be a whole number"]),
        (minimal + "\n[timing]\nfactory_hold_s = 4\n", ["bad.toml: timing.factory_hold_s: must be longer than timing.setup_hold_s"]),
        (minimal + "\n[timing]\nstuck_hold_s = 10\n", ["bad.toml: timing.stuck_hold_s: must be longer than timing.factory_hold_s"]),
        (minimal + "\n[timing]\nsetup_hold_s = \"five\"\n", ["bad.toml: timing.setup_hold_s: must be a number of seconds"]),
        (minimal + "\n[button2]\n[state]\nwrite_delay_ms = -1\n", ["bad.toml: button2: unknown section or key", "bad.toml: state.write_delay_ms: must be between 0 and 60000 (got -1)"]),
        (minimal.replacingOccurrences(of: "[led]", with: "[led]\nactive_low = \"yes\""), ["bad.toml: led.active_low: must be true or false"]),
        (minimal + "\n[control]\nsocket = \"control.sock\"\n", ["bad.toml: control.socket: must be an absolute path"]),
        (
            minimal.replacingOccurrences(of: "line = 17", with: "line = 17\nauto_off = \"2 hours\""),
            ["bad.toml: relay.auto_off: must be a whole number and a unit, s, m, h or d (90s, 30m, 2h, 1d), up to 7 days, like \"2h\" (got \"2 hours\")"]
        ),
        (minimal.replacingOccurrences(of: "line = 17", with: "line = 17\nauto_on = \"0m\""), ["bad.toml: relay.auto_on: must be a whole number"]),
        (minimal + "\n[[schedule]]\nat = \"7:30\"\naction = \"on\"\n", ["bad.toml: schedule[1].at: must be a time like \"07:30\""]),
        (minimal + "\n[[schedule]]\nat = \"sunset\"\naction = \"on\"\n", ["bad.toml: schedule[1].at: sunset needs [location] latitude and longitude"]),
        (
            minimal + "\n[[schedule]]\nat = \"07:30\"\naction = \"on\"\n[[schedule]]\nat = \"08:00\"\naction = \"dim\"\ndays = [\"mon\", \"funday\"]\nevery = 2\n",
            [
                "bad.toml: schedule[2].action: must be one of \"on\", \"off\", \"toggle\" (got \"dim\")",
                "bad.toml: schedule[2].days: must be \"daily\", \"weekdays\", \"weekends\", or day names like [\"mon\", \"wed\", \"fri\"] (got \"funday\")",
                "bad.toml: schedule[2].every: unknown key",
            ]
        ),
        (minimal + "\n[[schedule]]\naction = \"on\"\n", ["bad.toml: schedule[1].at: is required"]),
        (minimal.replacingOccurrences(of: "line = \"button\"", with: "line = \"button\"\ndouble_press = \"toggle\""), ["bad.toml: button.double_press: needs button.multi_press_ms"]),
        (minimal.replacingOccurrences(of: "line = \"button\"", with: "line = \"button\"\nmulti_press_ms = 40"), ["bad.toml: button.multi_press_ms: must be 0 (off) or 100 to 1000"]),
        (minimal.replacingOccurrences(of: "line = \"button\"", with: "line = \"button\"\nmode = \"remote\""), ["bad.toml: button.mode: must be one of \"toggle\", \"detached\""]),
        (minimal + "\n[schedule]\nat = \"07:30\"\n", ["bad.toml: schedule: must be [[schedule]] tables, one per entry"]),
        (minimal + "\n[location]\nlatitude = 91\nlongitude = 0\n", ["bad.toml: location.latitude: must be between -90 and 90 (got 91)"]),
        (minimal + "\n[location]\nlatitude = 50\n", ["bad.toml: location.longitude: is needed with the other (both, or neither)"]),
        (minimal.replacingOccurrences(of: "line = 17", with: "line = 17\nauto_off = 7200"), ["bad.toml: relay.auto_off: must be a duration in quotes, like \"2h\" (units s, m, h, d)"]),
        ("gpio = 3\n" + minimal, ["bad.toml: gpio: must be a table ([gpio])"]),
        (minimal.replacingOccurrences(of: "blue = 24", with: "blue = 23"), ["bad.toml: led.blue: is the same line as led.green"]),
        ("[relay\nline = 17", ["bad.toml: line 1: "]),
        ("relay.line = 1\nrelay.line = 2\n", ["bad.toml: line 2: "]),
        // toml++ aborts the process on these instead of reporting them (found by integration/corpus.py)
        ("[\ngpio]\n", ["bad.toml: line 1: a table header must start with a name, like [relay]"]),
        (minimal + "\n[.state]\n", ["bad.toml: line 9: a table header must start with a name"]),
        ("[[ # note\nrelay]]\n", ["bad.toml: line 1: a table header must start with a name"]),
        // toml++ quotes what it saw with its line break; the error must stay one line
        ("[relay]\nactive_low = fa\n", [#"bad.toml: line 2: Error while parsing boolean: expected 'false', saw 'fa\n'"#]),
    ]

    @Test(arguments: brokenFiles)
    func invalidFile(text: String, expected: [String]) {
        do {
            _ = try PlugConfig.parse(text, file: "bad.toml")
            Issue.record("accepted: \(text)")
        } catch let e as ConfigErrors {
            let lines = e.description.split(separator: "\n").map(String.init)
            #expect(lines.count == expected.count, "\(lines)")
            for (line, prefix) in zip(lines.sorted(), expected.sorted()) { #expect(line.hasPrefix(prefix), "\(line)") }
            #expect(lines.allSatisfy { !$0.contains("\n") })
        } catch {
            Issue.record("unexpected error \(error)")
        }
    }

    @Test func unreadableFilesAreOneLine() throws {
        #expect(throws: ConfigErrors([ConfigError(file: "/nonexistent/plugd.toml", key: nil, reason: "no such file")])) {
            try PlugConfig.load(path: "/nonexistent/plugd.toml")
        }
        #expect(throws: ConfigErrors([ConfigError(file: "/tmp", key: nil, reason: "is a directory, not a config file")])) {
            try PlugConfig.load(path: "/tmp")
        }
    }
}
