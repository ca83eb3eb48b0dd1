import PlugCore
import PlugGPIO
import PlugMQTT
import PlugPOSIX

/// plugd's configuration (`/etc/plugd/plugd.toml`): wiring, timings, power-on policy, state and
/// control settings. Read-only to the daemon; never wiped by a reset.
///
/// `PlugConfig.load(path:)` reports every invalid value, one `ConfigError` each, naming the file,
/// the key and the reason, before any GPIO line is touched.
public struct PlugConfig: Sendable, Equatable {
    /// Where the relay, button and LED are wired.
    public var wiring: Wiring
    /// Gesture and LED timings.
    public var timings: PlugTimings
    /// The relay at power-on.
    public var powerOn: PowerOnPolicy
    /// Coalescing window for state writes.
    public var writeDelay: Duration
    /// The control socket's path.
    public var controlSocket: String
    /// `state.board_id`: this board's identity, given by hand (boards with no serial number whose
    /// cards are copied after first boot); `nil` = found by plugd (`BoardIdentity`).
    public var boardID: String? = nil
    /// The MQTT broker; `nil` (no `[mqtt]` section) = MQTT off.
    public var mqtt: MQTTSettings?

    /// The default config file.
    public static let defaultPath = "/etc/plugd/plugd.toml"

    /// The state directory when neither `--state-dir` nor `$STATE_DIRECTORY` names one.
    public static let defaultStateDirectory = "/var/lib/plugd"

    /// Why `socket` cannot be the control socket's path, if it cannot: something that is not a
    /// socket is there (plugd would have to delete it), or it lies inside the state directory
    /// (a factory reset wipes that directory, and the socket could take a state file's name).
    public static func controlSocketProblem(_ socket: String, stateDirectory: String) -> String? {
        if let type = FileSystem.type(of: socket, followLinks: false), type != .socket {
            return "\(socket) is \(type.described), not a socket: plugd would have to delete it; name a path of its own, like /run/plugd/control.sock"
        }
        let dir = stateDirectory.hasSuffix("/") ? stateDirectory : stateDirectory + "/"
        if (socket + "/").hasPrefix(dir) {
            return "\(socket) is inside the state directory \(stateDirectory): name a path of its own, like /run/plugd/control.sock"
        }
        return nil
    }

    /// Reads and validates the file at `path`.
    /// - Throws: `ConfigErrors` with one entry per problem.
    public static func load(path: String) throws -> PlugConfig {
        func fail(_ reason: String) -> ConfigErrors { ConfigErrors([ConfigError(file: path, key: nil, reason: reason)]) }
        let data: [UInt8]
        do {
            data = try SmallFile.read(path, limit: sizeLimit)
        } catch .missing {
            throw fail("no such file")
        } catch .notRegular(.directory) {
            throw fail("is a directory, not a config file")
        } catch {
            throw fail("\(error)")
        }
        guard let text = String(validating: data, as: UTF8.self) else { throw fail("is not UTF-8 text") }
        return try parse(text, file: path)
    }

    /// The largest config file read: a full one with comments is about 3 KB.
    public static let sizeLimit = 64 * 1024

    /// Parses and validates TOML `text` (`file` names it in errors).
    public static func parse(_ text: String, file: String) throws -> PlugConfig {
        if let line = headerTOMLCannotParse(text) {
            throw ConfigErrors([ConfigError(file: file, key: nil,
                                            reason: "line \(line): a table header must start with a name, like [relay]")])
        }
        let root: TOMLTable
        do {
            root = try TOMLTable(parsing: text)
        } catch let e as TOMLSyntaxError {
            // toml++ quotes the text it choked on as it is, line breaks included: escape them
            // so the error stays one line.
            let message = e.message.unicodeScalars.map { $0.properties.generalCategory == .control ? $0.escaped(asASCII: true) : String($0) }.joined()
            throw ConfigErrors([ConfigError(file: file, key: nil, reason: "line \(e.line): \(message)")])
        }
        var r = ConfigReader(file: file, root: root)
        let config = r.read()
        if !r.errors.isEmpty { throw ConfigErrors(r.errors) }
        return config!
    }
}

extension PlugConfig {
    /// The first line that is a table header whose name does not start with a key character or
    /// a quote: `[`, `[ # note`, `[.relay]`, `[[`. toml++ (3.3 and 3.4) does not report these;
    /// it fails an assertion and aborts the process, in release builds too. The config fuzzer
    /// (faults/corpus.py) found it. So plugd finds such a line first and reports it as a syntax
    /// error. No config plugd accepts is affected: no key takes an array or a multi-line string,
    /// so in a valid plugd config every line that starts with `[` is a table header.
    static func headerTOMLCannotParse(_ text: String) -> Int? {
        func isBlank(_ c: Character) -> Bool { c == " " || c == "\t" }
        for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            var rest = line.drop(while: isBlank)
            guard rest.first == "[" else { continue }
            rest = rest.dropFirst()
            if rest.first == "[" { rest = rest.dropFirst() }
            rest = rest.drop(while: isBlank)
            guard let c = rest.first, c.isASCII, c.isLetter || c.isNumber || "_-\"']".contains(c) else {
                return index + 1
            }
        }
        return nil
    }
}

/// One problem in a config file.
public struct ConfigError: Error, Equatable, Sendable, CustomStringConvertible {
    public var file: String
    /// The dotted key, e.g. `button.debounce_ms`; `nil` for the file as a whole.
    public var key: String?
    public var reason: String

    public var description: String { key.map { "\(file): \($0): \(reason)" } ?? "\(file): \(reason)" }
}

/// Every problem found in a config file.
public struct ConfigErrors: Error, Equatable, Sendable, CustomStringConvertible {
    public var errors: [ConfigError]
    public init(_ errors: [ConfigError]) { self.errors = errors }
    /// One line per problem, the first `shown` of them, then how many more there are.
    public var description: String {
        let lines = errors.prefix(Self.shown).map(\.description)
        let more = errors.count - lines.count
        return (lines + (more > 0 ? ["\(errors[0].file): and \(more) more problems"] : [])).joined(separator: "\n")
    }

    /// How many problems are listed; a file with thousands lists the first ones and a count.
    public static let shown = 20
}

/// Walks the parsed TOML against the schema, collecting every problem.
struct ConfigReader {
    let file: String
    let root: TOMLTable
    var errors: [ConfigError] = []

    static let schema: [String: Set<String>] = [
        "gpio": ["chip"],
        "relay": ["chip", "line", "active_low", "max_changes", "max_changes_window_s"],
        "button": ["chip", "line", "active_low", "bias", "toggle_on", "debounce_ms"],
        "led": ["chip", "red", "green", "blue", "active_low"],
        "timing": ["setup_hold_s", "factory_hold_s", "stuck_hold_s", "setup_timeout_s", "reset_complete_s"],
        "power": ["on"],
        "state": ["write_delay_ms", "board_id"],
        "control": ["socket"],
        "mqtt": ["host", "port", "ca_file", "username", "password_file", "topic_prefix", "discovery_prefix",
                 "keepalive_s", "reconnect_max_s", "unreachable_led"],
    ]

    init(file: String, root: TOMLTable) {
        self.file = file
        self.root = root
    }

    mutating func fail(_ key: String, _ reason: String) { errors.append(ConfigError(file: file, key: key, reason: reason)) }

    mutating func read() -> PlugConfig? {
        for (name, value) in root {
            guard let keys = Self.schema[name] else { fail(name, "unknown section or key"); continue }
            guard let table = value.table else { fail(name, "must be a table ([\(name)])"); continue }
            for (key, _) in table where !keys.contains(key) { fail("\(name).\(key)", "unknown key") }
        }
        let chip = string("gpio", "chip") ?? RaspberryPiHeader.auto
        if chip.isEmpty { fail("gpio.chip", "must not be empty") }
        let relay = lineSpec("relay", "line", chip: chip, activeLowDefault: false)
        let button = lineSpec("button", "line", chip: chip, activeLowDefault: true)
        let ledLow = bool("led", "active_low") ?? false
        let ledChip = string("led", "chip") ?? chip
        let red = line("led", "red").map { LineSpec(chip: ledChip, line: $0, activeLow: ledLow) }
        let green = line("led", "green").map { LineSpec(chip: ledChip, line: $0, activeLow: ledLow) }
        let blue = line("led", "blue").map { LineSpec(chip: ledChip, line: $0, activeLow: ledLow) }
        let bias = choice("button", "bias", Bias.self) ?? .pullUp

        var t = PlugTimings()
        t.button.toggleOn = choice("button", "toggle_on", ToggleEdge.self) ?? .press
        if let ms = int("button", "debounce_ms", 1...1000) { t.button.debounce = .milliseconds(ms) }
        if let s = seconds("timing", "setup_hold_s", 0.5...600) { t.button.setupHold = s }
        if let s = seconds("timing", "factory_hold_s", 0.5...600) { t.button.factoryHold = s }
        if let s = seconds("timing", "stuck_hold_s", 0.5...3600) { t.button.stuckHold = s }
        if let s = seconds("timing", "setup_timeout_s", 1...86_400) { t.setupTimeout = s }
        if let s = seconds("timing", "reset_complete_s", 0...60) { t.resetCompleteShown = s }
        if let n = int("relay", "max_changes", 1...100) { t.relayMaxChanges = n }
        if let s = seconds("relay", "max_changes_window_s", 0...3600) { t.relayChangeWindow = s }
        if !(t.button.setupHold < t.button.factoryHold) {
            fail("timing.factory_hold_s", "must be longer than timing.setup_hold_s")
        } else if !(t.button.factoryHold < t.button.stuckHold) {
            fail("timing.stuck_hold_s", "must be longer than timing.factory_hold_s")
        }
        if t.button.debounce >= t.button.setupHold {
            fail("button.debounce_ms", "must be shorter than timing.setup_hold_s")
        }
        let powerOn = choice("power", "on", PowerOnPolicy.self) ?? .last
        let writeDelay = Duration.milliseconds(int("state", "write_delay_ms", 0...60_000) ?? 1000)
        let boardID = string("state", "board_id")
        if let boardID, boardID.isEmpty || boardID.utf8.count > 128 || boardID.contains(where: { $0.isWhitespace || $0.isNewline }) {
            fail("state.board_id", "must be 1 to 128 characters without spaces")
        }
        let socket = string("control", "socket") ?? "/run/plugd/control.sock"
        if !socket.hasPrefix("/") { fail("control.socket", "must be an absolute path") }
        if socket.utf8.count > 107 { fail("control.socket", "is longer than a socket path may be (107 bytes)") }
        if let problem = PlugConfig.controlSocketProblem(socket, stateDirectory: PlugConfig.defaultStateDirectory) {
            fail("control.socket", problem)
        }

        let mqtt = root["mqtt"]?.table == nil ? nil : mqttSettings()
        if let show = bool("mqtt", "unreachable_led") { t.showBrokerUnreachable = show }

        if let relay, let button, let red, let green, let blue {
            let all = [("relay.line", relay), ("button.line", button), ("led.red", red), ("led.green", green), ("led.blue", blue)]
            for (i, a) in all.enumerated() {
                if let b = all[..<i].first(where: { $0.1.chip == a.1.chip && $0.1.line == a.1.line }) {
                    fail(a.0, "is the same line as \(b.0)")
                }
            }
        }
        guard errors.isEmpty, let relay, let button, let red, let green, let blue else { return nil }
        return PlugConfig(wiring: Wiring(relay: relay, button: button, buttonBias: bias, red: red, green: green, blue: blue),
                          timings: t, powerOn: powerOn, writeDelay: writeDelay, controlSocket: socket, boardID: boardID, mqtt: mqtt)
    }

    /// The `[mqtt]` section (present): a host is required; files must be readable now, so a typo
    /// is found by `--check-config`, not at the first connection attempt.
    mutating func mqttSettings() -> MQTTSettings? {
        let host = string("mqtt", "host")
        if host == nil, value("mqtt", "host") == nil { fail("mqtt.host", "is required to use MQTT (or remove [mqtt])") }
        if host?.isEmpty == true || host?.contains(where: { $0.isWhitespace }) == true { fail("mqtt.host", "must be a host name or address") }
        let port = int("mqtt", "port", 1...65_535)
        let ca = settingsFile("mqtt", "ca_file", check: MQTTSettings.problem(inCAFile:))
        let user = string("mqtt", "username")
        if user?.isEmpty == true { fail("mqtt.username", "must not be empty") }
        let passwordFile = settingsFile("mqtt", "password_file") {
            if case .failure(let problem) = MQTTSettings.password(inFile: $0) { problem } else { nil }
        }
        if passwordFile != nil, user == nil { fail("mqtt.password_file", "needs mqtt.username") }
        let prefix = topicPrefix("topic_prefix") ?? "plugd"
        let discovery = topicPrefix("discovery_prefix") ?? "homeassistant"
        let keepalive = int("mqtt", "keepalive_s", 5...3600) ?? 60
        let reconnectMax = seconds("mqtt", "reconnect_max_s", 1...3600) ?? .seconds(60)
        guard let host else { return nil }
        return MQTTSettings(host: host, port: port, caFile: ca, username: user, passwordFile: passwordFile,
                            topicPrefix: prefix, discoveryPrefix: discovery, keepalive: keepalive,
                            reconnectMin: min(.seconds(1), reconnectMax), reconnectMax: reconnectMax)
    }

    /// A file the `[mqtt]` section names, read now so that `--check-config` finds what cannot
    /// work: missing, unreadable, not a regular file, or whose contents `check` refuses.
    mutating func settingsFile(_ table: String, _ key: String, check: ([UInt8]) -> SettingsProblem?) -> String? {
        guard let path = string(table, key) else { return nil }
        guard path.hasPrefix("/") else { fail("\(table).\(key)", "must be an absolute path"); return nil }
        do {
            let bytes = try SmallFile.read(path, limit: MQTTSettings.fileLimit)
            if let problem = check(bytes) { fail("\(table).\(key)", "\(path) \(problem)"); return nil }
        } catch {
            fail("\(table).\(key)", "\(path) \(error)")
            return nil
        }
        return path
    }

    /// A topic prefix: levels separated by `/`, nothing the broker refuses.
    mutating func topicPrefix(_ key: String) -> String? {
        guard let p = string("mqtt", key) else { return nil }
        if let problem = MQTTSettings.problem(inTopicPrefix: p) {
            fail("mqtt.\(key)", "\(problem) (got \"\(p.unicodeScalars.map { $0.escaped(asASCII: true) }.joined())\")")
            return nil
        }
        return p
    }

    func value(_ table: String, _ key: String) -> TOMLValue? {
        root[table]?.table?[key]
    }

    mutating func string(_ table: String, _ key: String) -> String? {
        guard let v = value(table, key) else { return nil }
        guard let s = v.string else { fail("\(table).\(key)", "must be a string"); return nil }
        return s
    }

    mutating func bool(_ table: String, _ key: String) -> Bool? {
        guard let v = value(table, key) else { return nil }
        guard let b = v.bool else { fail("\(table).\(key)", "must be true or false"); return nil }
        return b
    }

    mutating func int(_ table: String, _ key: String, _ range: ClosedRange<Int>) -> Int? {
        guard let v = value(table, key) else { return nil }
        guard let i = v.int else { fail("\(table).\(key)", "must be a whole number"); return nil }
        guard range.contains(i) else {
            fail("\(table).\(key)", "must be between \(range.lowerBound) and \(range.upperBound) (got \(i))")
            return nil
        }
        return i
    }

    mutating func seconds(_ table: String, _ key: String, _ range: ClosedRange<Double>) -> Duration? {
        guard let v = value(table, key) else { return nil }
        guard let d = v.double ?? v.int.map(Double.init) else { fail("\(table).\(key)", "must be a number of seconds"); return nil }
        guard range.contains(d) else {
            fail("\(table).\(key)", "must be between \(shown(range.lowerBound)) and \(shown(range.upperBound)) seconds (got \(shown(d)))")
            return nil
        }
        return .milliseconds(Int64((d * 1000).rounded()))
    }

    /// A number as a person writes it: `600`, `0.5`.
    func shown(_ d: Double) -> String {
        if d == d.rounded(), abs(d) < 1e15 { "\(Int64(d))" } else { "\(d)" }
    }

    mutating func choice<T: RawRepresentable & CaseIterable>(_ table: String, _ key: String, _: T.Type) -> T?
    where T.RawValue == String {
        guard let s = string(table, key) else { return nil }
        guard let c = T(rawValue: s) else {
            fail("\(table).\(key)", "must be one of \(T.allCases.map { "\"\($0.rawValue)\"" }.joined(separator: ", ")) (got \"\(s)\")")
            return nil
        }
        return c
    }

    /// A line: an offset (whole number ≥ 0) or a line name (non-empty string). Required.
    mutating func line(_ table: String, _ key: String) -> LineSelector? {
        guard let v = value(table, key) else { fail("\(table).\(key)", "is required (a line offset or line name)"); return nil }
        if let i = v.int {
            guard (0...Int(UInt32.max)).contains(i) else { fail("\(table).\(key)", "must be an offset from 0 to \(UInt32.max) (got \(i))"); return nil }
            return .offset(UInt32(i))
        }
        if let s = v.string, !s.isEmpty { return .name(s) }
        fail("\(table).\(key)", "must be a line offset (number) or a line name (non-empty string)")
        return nil
    }

    mutating func lineSpec(_ table: String, _ key: String, chip: String, activeLowDefault: Bool) -> LineSpec? {
        let chip = string(table, "chip") ?? chip
        let low = bool(table, "active_low") ?? activeLowDefault
        return line(table, key).map { LineSpec(chip: chip, line: $0, activeLow: low) }
    }
}
