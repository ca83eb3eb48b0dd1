import PlugCore
import PlugGPIO
import PlugMQTT

/// Every key of the config file, one row each: section, key, how its value is read (type,
/// range), and where it goes in `ConfigValues`, as systemd's gperf tables list a unit's settings.
/// A key's default is what its destination holds before the file is read: the domain's own
/// default (`PlugTimings`, `MQTTSettings`) or `ConfigValues`'. Adding a key is adding a row (and
/// its line in the example config, which DocsTests checks). The rules that tie keys together
/// (holds in order, no line used twice, `[mqtt]` needs a host) are `ConfigReader.read()`'s.
struct ConfigKey {
    let section: String
    let name: String
    /// Reads the value (`nil` when the file does not set the key) into `values`, or reports why not.
    let apply: (inout ConfigReader, TOMLValue?, inout ConfigValues) -> Void

    var path: String { "\(section).\(name)" }

    static var all: [ConfigKey] {
        [
            .string("gpio", "chip", \.gpioChip, nonEmpty: true),
            .string("relay", "chip", \.relay.chip),
            .bool("relay", "active_low", \.relay.activeLow),
            .line("relay", "line", \.relay.line),
            .int("relay", "max_changes", 1...100, \.timings.relayMaxChanges),
            .seconds("relay", "max_changes_window_s", 0...3600, \.timings.relayChangeWindow),
            .duration("relay", "auto_off", \.timings.autoOff),
            .duration("relay", "auto_on", \.timings.autoOn),
            .string("button", "chip", \.button.chip),
            .bool("button", "active_low", \.button.activeLow),
            .line("button", "line", \.button.line),
            .choice("button", "bias", \.buttonBias),
            .choice("button", "toggle_on", \.timings.button.toggleOn),
            .choice("button", "mode", \.timings.button.mode),
            .milliseconds("button", "multi_press_ms", 0...1000, \.timings.button.multiPressGap),
            .choice("button", "double_press", \.timings.button.doublePress),
            .choice("button", "triple_press", \.timings.button.triplePress),
            .milliseconds("button", "debounce_ms", 1...1000, \.timings.button.debounce),
            .bool("led", "active_low", \.led.activeLow),
            .string("led", "chip", \.led.chip),
            .line("led", "red", \.led.red),
            .line("led", "green", \.led.green),
            .line("led", "blue", \.led.blue),
            .seconds("timing", "setup_hold_s", 0.5...600, \.timings.button.setupHold),
            .seconds("timing", "factory_hold_s", 0.5...600, \.timings.button.factoryHold),
            .seconds("timing", "stuck_hold_s", 0.5...3600, \.timings.button.stuckHold),
            .seconds("timing", "setup_timeout_s", 1...86_400, \.timings.setupTimeout),
            .seconds("timing", "reset_complete_s", 0...60, \.timings.resetCompleteShown),
            .choice("power", "on", \.powerOn),
            .milliseconds("state", "write_delay_ms", 0...60_000, \.writeDelay),
            .checked("state", "board_id", \.boardID, ConfigReader.boardIDProblem),
            .string("control", "socket", \.controlSocket),
            .number("location", "latitude", -90...90, \.latitude),
            .number("location", "longitude", -180...180, \.longitude),
            .checked("mqtt", "host", \.mqtt.host, ConfigReader.hostProblem),
            .int("mqtt", "port", 1...65_535, \.mqtt.port),
            .file("mqtt", "ca_file", \.mqtt.caFile, check: MQTTSettings.problem(inCAFile:)),
            .checked("mqtt", "username", \.mqtt.username) { $0.isEmpty ? "must not be empty" : nil },
            .file("mqtt", "password_file", \.mqtt.passwordFile) {
                if case .failure(let problem) = MQTTSettings.password(inFile: $0) { problem } else { nil }
            },
            .topicPrefix("mqtt", "topic_prefix", \.mqtt.topicPrefix),
            .topicPrefix("mqtt", "discovery_prefix", \.mqtt.discoveryPrefix),
            .int("mqtt", "keepalive_s", 5...3600, \.mqtt.keepalive),
            .seconds("mqtt", "reconnect_max_s", 1...3600, \.mqtt.reconnectMax),
            .bool("mqtt", "unreachable_led", \.timings.showBrokerUnreachable),
        ]
    }
}

/// What the file says, each key's default before it is read: the table's destinations.
struct ConfigValues {
    /// A line's section: its chip (`gpio.chip` when not set), the line, its polarity.
    struct Line {
        var chip: String?
        var line: LineSelector?
        var activeLow: Bool
    }
    struct LED {
        var chip: String?
        var red: LineSelector?
        var green: LineSelector?
        var blue: LineSelector?
        var activeLow = false
    }
    /// `[mqtt]`: `nil` where the file says nothing, so `MQTTSettings` supplies the default.
    struct MQTT {
        var host: String?
        var port: Int?
        var caFile: String?
        var username: String?
        var passwordFile: String?
        var topicPrefix: String?
        var discoveryPrefix: String?
        var keepalive: Int?
        var reconnectMax: Duration?
    }

    var gpioChip = RaspberryPiHeader.auto
    var relay = Line(activeLow: false)
    var button = Line(activeLow: true) // a button to ground, read through a pull-up
    var buttonBias = Bias.pullUp
    var led = LED()
    var timings = PlugTimings()
    var powerOn = PowerOnPolicy.last
    var writeDelay = Duration.milliseconds(1000)
    var boardID: String?
    var controlSocket = "/run/plugd/control.sock"
    var latitude: Double?
    var longitude: Double?
    var mqtt = MQTT()
}

// The kinds of value a key can hold: each reads the TOML value with `ConfigReader` (which
// reports what is wrong, naming the key) and stores what is right at the row's destination.
extension ConfigKey {
    /// A key whose value `read` makes into a `T`, stored at `to`.
    static func key<T>(
        _ section: String, _ name: String, _ to: WritableKeyPath<ConfigValues, T>,
        _ read: @escaping (inout ConfigReader, TOMLValue?, String) -> T?
    ) -> ConfigKey {
        ConfigKey(section: section, name: name) { r, v, values in
            if let x = read(&r, v, "\(section).\(name)") { values[keyPath: to] = x }
        }
    }

    /// The same for an optional destination (no default: `nil` until the file sets it).
    static func key<T>(
        _ section: String, _ name: String, _ to: WritableKeyPath<ConfigValues, T?>,
        _ read: @escaping (inout ConfigReader, TOMLValue?, String) -> T?
    ) -> ConfigKey {
        ConfigKey(section: section, name: name) { r, v, values in
            if let x = read(&r, v, "\(section).\(name)") { values[keyPath: to] = x }
        }
    }

    static func string(_ section: String, _ name: String, _ to: WritableKeyPath<ConfigValues, String>, nonEmpty: Bool = false) -> ConfigKey {
        key(section, name, to) { r, v, k in
            guard let s = r.string(v, k) else { return nil }
            return nonEmpty && s.isEmpty ? r.failed(k, "must not be empty") : s
        }
    }

    static func string(_ section: String, _ name: String, _ to: WritableKeyPath<ConfigValues, String?>) -> ConfigKey {
        key(section, name, to) { r, v, k in r.string(v, k) }
    }

    /// A string that `problem` accepts (it says why not, or `nil`).
    static func checked(
        _ section: String, _ name: String, _ to: WritableKeyPath<ConfigValues, String?>,
        _ problem: @escaping (String) -> String?
    ) -> ConfigKey {
        key(section, name, to) { r, v, k in r.checked(v, k, problem) }
    }

    static func bool(_ section: String, _ name: String, _ to: WritableKeyPath<ConfigValues, Bool>) -> ConfigKey {
        key(section, name, to) { r, v, k in r.bool(v, k) }
    }

    static func int(_ section: String, _ name: String, _ range: ClosedRange<Int>, _ to: WritableKeyPath<ConfigValues, Int>) -> ConfigKey {
        key(section, name, to) { r, v, k in r.int(v, k, range) }
    }

    static func int(_ section: String, _ name: String, _ range: ClosedRange<Int>, _ to: WritableKeyPath<ConfigValues, Int?>) -> ConfigKey {
        key(section, name, to) { r, v, k in r.int(v, k, range) }
    }

    /// A whole number of milliseconds (`…_ms`).
    static func milliseconds(
        _ section: String, _ name: String, _ range: ClosedRange<Int>,
        _ to: WritableKeyPath<ConfigValues, Duration>
    ) -> ConfigKey {
        key(section, name, to) { r, v, k in r.int(v, k, range).map { .milliseconds($0) } }
    }

    /// A number of seconds, fractions allowed (`…_s`).
    static func seconds(
        _ section: String, _ name: String, _ range: ClosedRange<Double>,
        _ to: WritableKeyPath<ConfigValues, Duration>
    ) -> ConfigKey {
        key(section, name, to) { r, v, k in r.seconds(v, k, range) }
    }

    static func seconds(
        _ section: String, _ name: String, _ range: ClosedRange<Double>,
        _ to: WritableKeyPath<ConfigValues, Duration?>
    ) -> ConfigKey {
        key(section, name, to) { r, v, k in r.seconds(v, k, range) }
    }

    /// A duration as people write it, `"90s"`, `"30m"`, `"2h"`, `"1d"` (`Countdown.seconds(in:)`):
    /// 1 s to 7 days.
    static func duration(_ section: String, _ name: String, _ to: WritableKeyPath<ConfigValues, Duration?>) -> ConfigKey {
        key(section, name, to) { r, v, k in
            guard let v else { return nil }
            guard let text = v.string else { return r.failed(k, "must be a duration in quotes, like \"2h\" (units s, m, h, d)") }
            guard let n = Countdown.seconds(in: text), n > 0 else {
                return r.failed(k, "must be \(Countdown.form), like \"2h\" (got \"\(text.unicodeScalars.map { $0.escaped(asASCII: true) }.joined())\")")
            }
            return .seconds(n)
        }
    }

    /// A number (degrees).
    static func number(
        _ section: String, _ name: String, _ range: ClosedRange<Double>, _ to: WritableKeyPath<ConfigValues, Double?>
    ) -> ConfigKey {
        key(section, name, to) { r, v, k in r.number(v, k, range) }
    }

    /// One of an enumeration's raw values.
    static func choice<T: RawRepresentable & CaseIterable>(
        _ section: String, _ name: String,
        _ to: WritableKeyPath<ConfigValues, T>
    ) -> ConfigKey where T.RawValue == String {
        key(section, name, to) { r, v, k in r.choice(v, k, T.self) }
    }

    /// A line: an offset or a line name. Required.
    static func line(_ section: String, _ name: String, _ to: WritableKeyPath<ConfigValues, LineSelector?>) -> ConfigKey {
        key(section, name, to) { r, v, k in r.line(v, k) }
    }

    /// A file read now, so that `--check-config` finds what cannot work: missing, unreadable,
    /// not a regular file, or whose contents `check` refuses.
    static func file(
        _ section: String, _ name: String, _ to: WritableKeyPath<ConfigValues, String?>,
        check: @escaping ([UInt8]) -> SettingsProblem?
    ) -> ConfigKey {
        key(section, name, to) { r, v, k in r.file(v, k, check: check) }
    }

    /// An MQTT topic prefix: levels separated by `/`, nothing the broker refuses.
    static func topicPrefix(_ section: String, _ name: String, _ to: WritableKeyPath<ConfigValues, String?>) -> ConfigKey {
        checked(section, name, to) { p in
            MQTTSettings.problem(inTopicPrefix: p).map { "\($0) (got \"\(p.unicodeScalars.map { $0.escaped(asASCII: true) }.joined())\")" }
        }
    }
}
