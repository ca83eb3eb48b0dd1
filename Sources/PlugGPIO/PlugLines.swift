#if canImport(Glibc)
import Glibc
#endif
import PlugCore

/// Where the plug's relay, button and LED are wired.
public struct Wiring: Sendable, Equatable {
    public var relay: LineSpec
    public var button: LineSpec
    public var buttonBias: Bias
    public var red: LineSpec
    public var green: LineSpec
    public var blue: LineSpec

    public init(
        relay: LineSpec, button: LineSpec, buttonBias: Bias = .pullUp,
        red: LineSpec, green: LineSpec, blue: LineSpec
    ) {
        self.relay = relay
        self.button = button
        self.buttonBias = buttonBias
        self.red = red
        self.green = green
        self.blue = blue
    }

    /// Every line, relay first.
    var lines: [LineSpec] { [relay, button, red, green, blue] }

    /// True when some line's chip is `RaspberryPiHeader.auto`.
    public var usesHeaderChip: Bool { lines.contains { $0.chip == RaspberryPiHeader.auto } }

    /// The wiring with every `auto` chip replaced by the header chip found in `listing`
    /// (`RaspberryPiHeader.choose(from:)`), and that choice; nil when no line asks for it.
    public func choosingHeaderChip(_ listing: GPIOChipListing) throws -> (Wiring, RaspberryPiHeader.Choice?) {
        guard usesHeaderChip else { return (self, nil) }
        let choice = try RaspberryPiHeader.choose(from: listing)
        var w = self
        for path in [\Wiring.relay, \.button, \.red, \.green, \.blue] where w[keyPath: path].chip == RaspberryPiHeader.auto {
            w[keyPath: path].chip = choice.chip.name
        }
        return (w, choice)
    }

    /// The wiring of the simulated chip (`SimulatedGPIO.standardChip`) and of the VM's gpio-sim
    /// chip, by line name: relay, button (active-low, pull-up), led_r, led_g, led_b.
    public static func named(chip: String) -> Wiring {
        Wiring(
            relay: LineSpec(chip: chip, line: .name("relay")),
            button: LineSpec(chip: chip, line: .name("button"), activeLow: true),
            red: LineSpec(chip: chip, line: .name("led_r")),
            green: LineSpec(chip: chip, line: .name("led_g")),
            blue: LineSpec(chip: chip, line: .name("led_b")))
    }
}

/// How the relay's line was had at start-up.
public enum RelayStart: Sendable, Equatable {
    /// Requested anew, at the power-on level.
    case requested
    /// Taken over from the request a `LineKeeper` kept through a restart; the line kept `level`.
    case adopted(level: Bool)
    /// A kept request was there but is not the configured line (the reason says why): it was
    /// given up and the line requested anew.
    case refused(reason: String)
}

/// The plug's lines, all requested (and so held) together.
public final class PlugLines: Sendable {
    /// The name the relay's request is kept under (systemd's `FDNAME=`).
    public static let relayKeptName = "relay"
    public let relay: any OutputLine
    /// The LED's red, green and blue lines, set together.
    public let led: any OutputGroup
    public let button: any ButtonLine
    /// Whether the relay was requested anew or taken over from a kept request.
    public let relayStart: RelayStart

    /// Requests every line of `wiring`: the relay, the LED dark, the button as an input. If any
    /// request fails, the lines already taken are released.
    ///
    /// With a `keeper`, the relay's request kept by the previous run is taken over when it is
    /// the configured line (the relay keeps its level: no click, no power cut), and a relay
    /// requested anew is handed to the keeper. Otherwise the relay starts at `relayOn`.
    public init(
        backend: any GPIOBackend, wiring: Wiring, relayOn: Bool, keeper: (any LineKeeper)? = nil,
        consumer: String = "plugd"
    ) throws {
        var start = RelayStart.requested
        var adopted: (any OutputLine)?
        if let keeper, let kept = keeper.takeBack(Self.relayKeptName) {
            do {
                let a = try backend.adoptOutput(wiring.relay, from: kept)
                (adopted, start) = (a.line, .adopted(level: a.level))
            } catch {
                backend.discard(kept)
                keeper.forget(Self.relayKeptName)
                start = .refused(reason: "\(error)")
            }
        }
        relayStart = start
        // After a refused kept request, systemd may still hold the old line for a moment (it
        // closes its copy asynchronously), and the config may give that line to the LED or the
        // button now: a busy line is then asked again for up to 2 s.
        let retry = start != .requested
        if let adopted {
            relay = adopted
        } else {
            relay = try Self.busyRetrying(retry) { try backend.requestOutput(wiring.relay, initial: relayOn, consumer: consumer) }
            if let keeper, let k = relay.keepable { keeper.keep(k, as: Self.relayKeptName) }
        }
        do {
            led = try Self.busyRetrying(retry) {
                try backend.requestOutputs([wiring.red, wiring.green, wiring.blue], initial: [false, false, false], consumer: consumer)
            }
        } catch {
            relay.release()
            throw error
        }
        do {
            button = try Self.busyRetrying(retry) { try backend.requestButton(wiring.button, bias: wiring.buttonBias, consumer: consumer) }
        } catch {
            relay.release()
            led.release()
            throw error
        }
    }

    /// `request()`, asked again every 20 ms for up to 2 s while the line is busy, if `retry`.
    private static func busyRetrying<T>(_ retry: Bool, _ request: () throws -> T) throws -> T {
        var attempts = retry ? 100 : 1
        while true {
            do {
                return try request()
            } catch GPIOError.lineBusy(let line) {
                attempts -= 1
                if attempts == 0 { throw GPIOError.lineBusy(line) }
                usleep(20_000)
            }
        }
    }

    /// Shows `color` on the LED lines.
    public func show(_ color: LEDColor) throws {
        let l = color.lines
        try led.set([l.red, l.green, l.blue])
    }

    /// Releases every line.
    public func release() {
        button.release()
        led.release()
        relay.release()
    }
}
