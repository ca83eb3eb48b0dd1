import Foundation
import PlugCore
import PlugMQTT
import PlugProtocol
import Testing
@testable import PlugConfig
@testable import PlugDaemon

/// What the README and docs/behaviour.md say must be what the code does: defaults, config keys,
/// exit codes and plugctl's subcommands. A reader decides on these without reading the source.
@Suite struct DocsTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../..").standardized

    static func text(_ path: String) throws -> String {
        try String(contentsOf: root.appendingPathComponent(path), encoding: .utf8)
    }

    /// Table rows of `markdown` whose first cell is one backticked token: token → the other cells.
    static func rows(_ markdown: String) -> [String: [String]] {
        var rows: [String: [String]] = [:]
        for line in markdown.split(separator: "\n") where line.hasPrefix("| `") {
            let cells = line.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
            rows[cells[0].trimmingCharacters(in: CharacterSet(charactersIn: "`"))] = Array(cells.dropFirst())
        }
        return rows
    }

    /// The first backticked token of a cell, or the cell itself.
    static func token(_ cell: String) -> String {
        let parts = cell.split(separator: "`", omittingEmptySubsequences: false)
        return parts.count >= 3 ? String(parts[1]) : cell
    }

    static func seconds(_ d: Duration) -> String {
        let ms = d.components.seconds * 1000 + d.components.attoseconds / 1_000_000_000_000_000
        return ms % 1000 == 0 ? "\(ms / 1000)" : "\(Double(ms) / 1000)"
    }

    /// The smallest valid config (with MQTT on), by section.
    static let minimalSections: [(section: String, lines: [String])] = [
        ("relay", ["line = 1"]), ("button", ["line = 2"]), ("led", ["red = 3", "green = 4", "blue = 5"]),
        ("mqtt", ["host = \"broker\""]),
    ]

    /// The minimal config, less one `section.key`.
    static func minimal(without key: String = "") -> String {
        minimalSections.map { s in
            (["[\(s.section)]"] + s.lines.filter { "\(s.section).\($0.prefix { $0 != " " })" != key }).joined(separator: "\n")
        }.joined(separator: "\n")
    }

    /// Every key's default as the code has it, in the words of the docs' "default" column.
    static func codeDefaults() throws -> [String: String] {
        let c = try PlugConfig.parse(minimal(), file: "minimal.toml")
        let m = try #require(c.mqtt)
        let b = c.timings.button
        return [
            "gpio.chip": c.wiring.relay.chip,
            "relay.chip": "gpio.chip", "button.chip": "gpio.chip", "led.chip": "gpio.chip",
            "relay.line": "required", "button.line": "required",
            "led.red": "required", "led.green": "required", "led.blue": "required", "mqtt.host": "required",
            "relay.active_low": "\(c.wiring.relay.activeLow)",
            "relay.max_changes": "\(c.timings.relayMaxChanges)",
            "relay.max_changes_window_s": seconds(c.timings.relayChangeWindow),
            "relay.auto_off": c.timings.autoOff.map(seconds) ?? "none", "relay.auto_on": c.timings.autoOn.map(seconds) ?? "none",
            "location.latitude": c.schedule.place.map { "\($0.latitude)" } ?? "none",
            "location.longitude": c.schedule.place.map { "\($0.longitude)" } ?? "none",
            "button.active_low": "\(c.wiring.button.activeLow)",
            "button.bias": c.wiring.buttonBias.rawValue,
            "button.toggle_on": b.toggleOn.rawValue,
            "button.mode": b.mode.rawValue,
            "button.multi_press_ms": "\(b.multiPressGap.milliseconds)",
            "button.double_press": b.doublePress.rawValue, "button.triple_press": b.triplePress.rawValue,
            "button.debounce_ms": "\(b.debounce.components.seconds * 1000 + b.debounce.components.attoseconds / 1_000_000_000_000_000)",
            "led.active_low": "\(c.wiring.red.activeLow)",
            "timing.setup_hold_s": seconds(b.setupHold),
            "timing.factory_hold_s": seconds(b.factoryHold),
            "timing.stuck_hold_s": seconds(b.stuckHold),
            "timing.setup_timeout_s": seconds(c.timings.setupTimeout),
            "timing.reset_complete_s": seconds(c.timings.resetCompleteShown),
            "power.on": c.powerOn.rawValue,
            "state.write_delay_ms": "\(c.writeDelay.components.seconds * 1000 + c.writeDelay.components.attoseconds / 1_000_000_000_000_000)",
            "state.board_id": c.boardID ?? "auto",
            "control.socket": c.controlSocket,
            "mqtt.port": "\(m.port)",
            "mqtt.ca_file": m.caFile ?? "none", "mqtt.username": m.username ?? "none", "mqtt.password_file": m.passwordFile ?? "none",
            "mqtt.topic_prefix": m.topicPrefix,
            "mqtt.discovery_prefix": m.discoveryPrefix,
            "mqtt.keepalive_s": "\(m.keepalive)",
            "mqtt.reconnect_max_s": seconds(m.reconnectMax),
            "mqtt.unreachable_led": "\(c.timings.showBrokerUnreachable)",
        ]
    }

    static var schemaKeys: Set<String> {
        Set(ConfigKey.all.map(\.path))
    }

    @Test func behaviourDocStatesEveryConfigKeyWithTheCodesDefault() throws {
        let rows = Self.rows(try Self.text("docs/behaviour.md")).filter { $0.key.contains(".") && !$0.key.contains("/") }
        let defaults = try Self.codeDefaults()
        #expect(Set(rows.keys) == Self.schemaKeys)
        #expect(Set(defaults.keys) == Self.schemaKeys) // this test itself covers every key
        for (key, cells) in rows {
            #expect(Self.token(cells[0]) == defaults[key], "\(key): docs say \(cells[0])")
        }
    }

    @Test func keysTheDocCallsRequiredAreRequired() throws {
        for key in try Self.codeDefaults().filter({ $0.value == "required" }).keys {
            #expect(Self.minimal(without: key) != Self.minimal(), "\(key) is not in the minimal config")
            #expect(throws: ConfigErrors.self, "\(key)") { try PlugConfig.parse(Self.minimal(without: key), file: "t.toml") }
            do { _ = try PlugConfig.parse(Self.minimal(without: key), file: "t.toml") } catch let e as ConfigErrors {
                #expect(e.errors.contains { $0.key == key }, "\(key): \(e)")
            }
        }
    }

    @Test func chipKeysInheritTheGPIOChip() throws {
        let c = try PlugConfig.parse("[gpio]\nchip = \"pinctrl\"\n" + Self.minimal(), file: "t.toml")
        #expect([c.wiring.relay.chip, c.wiring.button.chip, c.wiring.red.chip] == ["pinctrl", "pinctrl", "pinctrl"])
    }

    @Test func behaviourDocStatesTheFixedValuesTheCodeUses() throws {
        let doc = try Self.text("docs/behaviour.md")
        let t = PlugTimings()
        let fixed: [(String, String)] = [
            ("shortest orange flashing of a factory reset", "`\(Self.seconds(t.factoryResetMinimumShown))` s"),
            ("identify blinking", "`\(Self.seconds(t.identifyShown))` s"),
            ("start-up flashes", "`\(LEDEngine.startupFlashCount)` red flashes of `\(LEDEngine.startupFlash.components.attoseconds / 1_000_000_000_000_000)` ms"),
            ("first retry of a failed state write", "`\(Self.seconds(WriteRetry.first))` s"),
            ("longest wait between retries", "`\(Self.seconds(WriteRetry.longest))` s"),
            ("waiting for the broker to confirm the removal from Home Assistant before a factory reset", "`\(Self.seconds(MQTTSettings.removalWait))` s"),
            ("a control request's size limit", "`\(ControlProtocol.maxRequestBytes)` bytes"),
        ]
        for (what, value) in fixed {
            #expect(doc.contains("| \(what) | \(value) |"), "docs/behaviour.md: \(what) should be \(value)")
        }
    }

    @Test func theDocsExitCodesAreTheCodes() throws {
        let doc = try Self.text("docs/behaviour.md")
        let codes = doc.split(separator: "\n").compactMap { line -> Int32? in
            let cells = line.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
            return line.hasPrefix("| ") && cells.count == 2 ? Int32(cells[0]) : nil
        }
        #expect(codes == ExitStatus.plugd.map(\.code))
        let readme = try Self.text("README.md")
        #expect(readme.contains("- `plugd`: " + ExitStatus.plugd.map { "\($0.code) \($0.meaning)" }.joined(separator: ", ") + ".\n"))
        #expect(readme.contains("- `plugctl`: " + ExitStatus.plugctl.map { "\($0.code) \($0.meaning)" }.joined(separator: ", ") + ".\n"))
    }

    @Test func theReadmeListsEveryConfigKey() throws {
        var keys: Set<String> = []
        for line in try Self.text("README.md").split(separator: "\n") where line.hasPrefix("- `[") {
            let section = line.dropFirst(4).prefix { $0 != "]" } // - `[gpio]` chip
            let names = line.split(separator: "`", omittingEmptySubsequences: false).last ?? ""
            for name in names.split(separator: ",") { keys.insert("\(section).\(name.trimmingCharacters(in: .whitespaces))") }
        }
        #expect(keys == Self.schemaKeys)
    }

    /// The `plugctl …` lines of the README's "Day to day" block: their subcommands.
    static func readmeSubcommands() throws -> Set<String> {
        var commands: Set<String> = []
        for line in try text("README.md").split(separator: "\n") where line.hasPrefix("plugctl ") {
            let words = line.split(separator: "#")[0].split(separator: " ").dropFirst()
            var alternatives = [words.first.map(String.init) ?? ""]
            var rest = words.dropFirst()
            while rest.first == "|", let next = rest.dropFirst().first { // on | off | toggle
                alternatives.append(String(next))
                rest = rest.dropFirst(2)
            }
            commands.formUnion(alternatives)
        }
        return commands
    }

    /// plugctl's subcommands: one per control command, and `web-password`, which writes a file
    /// and asks plugd nothing.
    static let subcommands = ControlRequestMessage.commands.union(["web-password"])

    @Test func theReadmeShowsEveryPlugctlSubcommandAndNoOther() throws {
        #expect(try Self.readmeSubcommands() == Self.subcommands)
    }

    /// plugctl's own `--help`, from the binary built beside this test bundle (run through
    /// `$PLUGD_TEST_EXEC_WRAPPER`, e.g. qemu-aarch64-static, when the tests run emulated).
    @Test func plugctlHelpListsTheSameSubcommands() throws {
        let dir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        let binary = dir.appendingPathComponent("plugctl")
        try #require(FileManager.default.isExecutableFile(atPath: binary.path), "no plugctl beside \(dir.path): build it first")
        let p = Process()
        if let wrapper = ProcessInfo.processInfo.environment["PLUGD_TEST_EXEC_WRAPPER"] {
            p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            p.arguments = [wrapper, binary.path, "--help"]
        } else {
            p.executableURL = binary
            p.arguments = ["--help"]
        }
        let out = Pipe()
        p.standardOutput = out
        try p.run()
        let help = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        // "  name    abstract" rows up to the first empty line; wrapped abstracts are indented further.
        let section = (help.components(separatedBy: "SUBCOMMANDS:\n").last ?? "").components(separatedBy: "\n\n")[0]
        let listed = Set(
            section.split(separator: "\n").compactMap { line -> String? in
                line.hasPrefix("  ") && !line.hasPrefix("   ") ? line.split(separator: " ").first.map(String.init) : nil
            })
        #expect(listed == Self.subcommands, "\(help)")
        let unwrapped = help.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        #expect(unwrapped.contains(ExitStatus.summary(ExitStatus.plugctl)))
    }
}
