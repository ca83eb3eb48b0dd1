import PlugCore

/// Where the plug's relay, button and LED are wired.
public struct Wiring: Sendable, Equatable {
    public var relay: LineSpec
    public var button: LineSpec
    public var buttonBias: Bias
    public var red: LineSpec
    public var green: LineSpec
    public var blue: LineSpec

    public init(relay: LineSpec, button: LineSpec, buttonBias: Bias = .pullUp,
                red: LineSpec, green: LineSpec, blue: LineSpec) {
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
        Wiring(relay: LineSpec(chip: chip, line: .name("relay")),
               button: LineSpec(chip: chip, line: .name("button"), activeLow: true),
               red: LineSpec(chip: chip, line: .name("led_r")),
               green: LineSpec(chip: chip, line: .name("led_g")),
               blue: LineSpec(chip: chip, line: .name("led_b")))
    }
}

/// The plug's lines, all requested (and so held) together.
public final class PlugLines: Sendable {
    public let relay: any OutputLine
    /// The LED's red, green and blue lines, set together.
    public let led: any OutputGroup
    public let button: any ButtonLine

    /// Requests every line of `wiring`: the relay with `relayOn` as its initial level, the LED
    /// dark, the button as an input. If any request fails, the lines already taken are released.
    public init(backend: any GPIOBackend, wiring: Wiring, relayOn: Bool, consumer: String = "plugd") throws {
        relay = try backend.requestOutput(wiring.relay, initial: relayOn, consumer: consumer)
        do {
            led = try backend.requestOutputs([wiring.red, wiring.green, wiring.blue], initial: [false, false, false],
                                             consumer: consumer)
        } catch {
            relay.release()
            throw error
        }
        do {
            button = try backend.requestButton(wiring.button, bias: wiring.buttonBias, consumer: consumer)
        } catch {
            relay.release()
            led.release()
            throw error
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
