import PlugCore
import PlugGPIO
import PlugMQTT
import PlugPOSIX

/// Reads the parsed TOML through the table of keys (`ConfigKey.all`), then checks the rules that
/// tie keys together, collecting every problem, each naming its key.
struct ConfigReader {
    let file: String
    let root: TOMLTable
    var errors: [ConfigError] = []

    init(file: String, root: TOMLTable) {
        self.file = file
        self.root = root
    }

    mutating func fail(_ key: String, _ reason: String) { errors.append(ConfigError(file: file, key: key, reason: reason)) }

    /// `fail`, for readers that then have no value.
    mutating func failed<T>(_ key: String, _ reason: String) -> T? {
        fail(key, reason)
        return nil
    }

    mutating func read() -> PlugConfig? {
        let all = ConfigKey.all
        let sections = Dictionary(all.map { ($0.section, Set([$0.name])) }, uniquingKeysWith: { $0.union($1) })
        for (name, value) in root where name != ScheduleReader.section {
            guard let keys = sections[name] else { fail(name, "unknown section or key"); continue }
            guard let table = value.table else { fail(name, "must be a table ([\(name)])"); continue }
            for (key, _) in table where !keys.contains(key) { fail("\(name).\(key)", "unknown key") }
        }
        var v = ConfigValues()
        for key in all { key.apply(&self, raw(key.section, key.name), &v) }

        let t = v.timings
        if !(t.button.setupHold < t.button.factoryHold) {
            fail("timing.factory_hold_s", "must be longer than timing.setup_hold_s")
        } else if !(t.button.factoryHold < t.button.stuckHold) {
            fail("timing.stuck_hold_s", "must be longer than timing.factory_hold_s")
        }
        if t.button.debounce >= t.button.setupHold {
            fail("button.debounce_ms", "must be shorter than timing.setup_hold_s")
        }
        // The socket's path is checked whether the file names it or not: something may be in
        // the way of the default one too.
        for problem in Self.controlSocketProblems(v.controlSocket) { fail("control.socket", problem) }
        if t.button.multiPressGap > .zero, t.button.multiPressGap < .milliseconds(100) {
            fail("button.multi_press_ms", "must be 0 (off) or 100 to 1000: a shorter gap leaves no time to press again")
        }
        for key in ["double_press", "triple_press"] where raw("button", key) != nil && t.button.multiPressGap == .zero {
            fail("button.\(key)", "needs button.multi_press_ms (the gap between the presses of a double or triple press, like 400)")
        }
        var mqtt = root["mqtt"]?.table == nil ? nil : mqttSettings(v.mqtt)
        if t.button.multiPressGap > .zero { mqtt?.presses = ["single", "double", "triple"] }
        if (raw("location", "latitude") == nil) != (raw("location", "longitude") == nil) {
            fail(raw("location", "latitude") == nil ? "location.latitude" : "location.longitude", "is needed with the other (both, or neither)")
        }
        let place = v.latitude.flatMap { lat in v.longitude.map { Sun.Place(latitude: lat, longitude: $0) } }
        let entries = ScheduleReader.read(root[ScheduleReader.section], place: place, &self)

        func spec(_ chip: String?, _ line: LineSelector?, _ activeLow: Bool) -> LineSpec? {
            line.map { LineSpec(chip: chip ?? v.gpioChip, line: $0, activeLow: activeLow) }
        }
        let relay = spec(v.relay.chip, v.relay.line, v.relay.activeLow)
        let button = spec(v.button.chip, v.button.line, v.button.activeLow)
        let red = spec(v.led.chip, v.led.red, v.led.activeLow)
        let green = spec(v.led.chip, v.led.green, v.led.activeLow)
        let blue = spec(v.led.chip, v.led.blue, v.led.activeLow)
        if let relay, let button, let red, let green, let blue {
            let all = [("relay.line", relay), ("button.line", button), ("led.red", red), ("led.green", green), ("led.blue", blue)]
            for (i, a) in all.enumerated() {
                if let b = all[..<i].first(where: { $0.1.chip == a.1.chip && $0.1.line == a.1.line }) {
                    fail(a.0, "is the same line as \(b.0)")
                }
            }
        }
        guard errors.isEmpty, let relay, let button, let red, let green, let blue else { return nil }
        return PlugConfig(
            wiring: Wiring(relay: relay, button: button, buttonBias: v.buttonBias, red: red, green: green, blue: blue),
            timings: t, powerOn: v.powerOn, writeDelay: v.writeDelay, controlSocket: v.controlSocket,
            boardID: v.boardID, mqtt: mqtt, schedule: Schedule(entries: entries, place: place))
    }

    /// The `[mqtt]` section (present): a host is required, a password needs a user name.
    mutating func mqttSettings(_ m: ConfigValues.MQTT) -> MQTTSettings? {
        if raw("mqtt", "host") == nil { fail("mqtt.host", "is required to use MQTT (or remove [mqtt])") }
        if raw("mqtt", "password_file") != nil, raw("mqtt", "username") == nil { fail("mqtt.password_file", "needs mqtt.username") }
        guard let host = m.host else { return nil }
        var s = MQTTSettings(host: host, port: m.port, caFile: m.caFile, username: m.username, passwordFile: m.passwordFile)
        if let p = m.topicPrefix { s.topicPrefix = p }
        if let p = m.discoveryPrefix { s.discoveryPrefix = p }
        if let k = m.keepalive { s.keepalive = k }
        if let r = m.reconnectMax { s.reconnectMax = r }
        s.reconnectMin = min(s.reconnectMin, s.reconnectMax)
        return s
    }

    /// The value the file gives `section.key`, if any.
    func raw(_ section: String, _ key: String) -> TOMLValue? {
        root[section]?.table?[key]
    }

    // The rules of single keys that are more than a type and a range.

    static func boardIDProblem(_ id: String) -> String? {
        id.isEmpty || id.utf8.count > 128 || id.contains(where: { $0.isWhitespace || $0.isNewline })
            ? "must be 1 to 128 characters without spaces" : nil
    }

    static func hostProblem(_ host: String) -> String? {
        host.isEmpty || host.contains(where: { $0.isWhitespace }) ? "must be a host name or address" : nil
    }

    static func controlSocketProblems(_ socket: String) -> [String] {
        var problems: [String] = []
        if !socket.hasPrefix("/") { problems.append("must be an absolute path") }
        if socket.utf8.count > 107 { problems.append("is longer than a socket path may be (107 bytes)") }
        if let problem = PlugConfig.controlSocketProblem(socket, stateDirectory: PlugConfig.defaultStateDirectory) {
            problems.append(problem)
        }
        return problems
    }

    // Reading one value of a kind: `nil` when the file does not set the key or the value is wrong
    // (then the problem is recorded).

    mutating func string(_ v: TOMLValue?, _ key: String) -> String? {
        guard let v else { return nil }
        guard let s = v.string else { return failed(key, "must be a string") }
        return s
    }

    mutating func checked(_ v: TOMLValue?, _ key: String, _ problem: (String) -> String?) -> String? {
        guard let s = string(v, key) else { return nil }
        if let why = problem(s) { return failed(key, why) }
        return s
    }

    mutating func bool(_ v: TOMLValue?, _ key: String) -> Bool? {
        guard let v else { return nil }
        guard let b = v.bool else { return failed(key, "must be true or false") }
        return b
    }

    mutating func int(_ v: TOMLValue?, _ key: String, _ range: ClosedRange<Int>) -> Int? {
        guard let v else { return nil }
        guard let i = v.int else { return failed(key, "must be a whole number") }
        guard range.contains(i) else { return failed(key, "must be between \(range.lowerBound) and \(range.upperBound) (got \(i))") }
        return i
    }

    mutating func seconds(_ v: TOMLValue?, _ key: String, _ range: ClosedRange<Double>) -> Duration? {
        guard let v else { return nil }
        guard let d = v.double ?? v.int.map(Double.init) else { return failed(key, "must be a number of seconds") }
        guard range.contains(d) else {
            return failed(key, "must be between \(shown(range.lowerBound)) and \(shown(range.upperBound)) seconds (got \(shown(d)))")
        }
        return .milliseconds(Int64((d * 1000).rounded()))
    }

    /// A number, whole or not, in `range` (degrees of latitude).
    mutating func number(_ v: TOMLValue?, _ key: String, _ range: ClosedRange<Double>) -> Double? {
        guard let v else { return nil }
        guard let d = v.double ?? v.int.map(Double.init) else { return failed(key, "must be a number") }
        guard range.contains(d) else {
            return failed(key, "must be between \(shown(range.lowerBound)) and \(shown(range.upperBound)) (got \(shown(d)))")
        }
        return d
    }

    /// A number as a person writes it: `600`, `0.5`.
    func shown(_ d: Double) -> String {
        if d == d.rounded(), abs(d) < 1e15 { "\(Int64(d))" } else { "\(d)" }
    }

    mutating func choice<T: RawRepresentable & CaseIterable>(_ v: TOMLValue?, _ key: String, _: T.Type) -> T?
    where T.RawValue == String {
        guard let s = string(v, key) else { return nil }
        guard let c = T(rawValue: s) else {
            return failed(key, "must be one of \(T.allCases.map { "\"\($0.rawValue)\"" }.joined(separator: ", ")) (got \"\(s)\")")
        }
        return c
    }

    /// A line: an offset (whole number ≥ 0) or a line name (non-empty string). Required.
    mutating func line(_ v: TOMLValue?, _ key: String) -> LineSelector? {
        guard let v else { return failed(key, "is required (a line offset or line name)") }
        if let i = v.int {
            guard (0...Int(UInt32.max)).contains(i) else { return failed(key, "must be an offset from 0 to \(UInt32.max) (got \(i))") }
            return .offset(UInt32(i))
        }
        if let s = v.string, !s.isEmpty { return .name(s) }
        return failed(key, "must be a line offset (number) or a line name (non-empty string)")
    }

    /// A file named by an absolute path, read now; `check` says what is wrong with its contents.
    mutating func file(_ v: TOMLValue?, _ key: String, check: ([UInt8]) -> SettingsProblem?) -> String? {
        guard let path = string(v, key) else { return nil }
        guard path.hasPrefix("/") else { return failed(key, "must be an absolute path") }
        do {
            let bytes = try SmallFile.read(path, limit: MQTTSettings.fileLimit)
            if let problem = check(bytes) { return failed(key, "\(path) \(problem)") }
        } catch {
            return failed(key, "\(path) \(error)")
        }
        return path
    }
}
