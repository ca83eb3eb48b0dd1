/// A GPIO chip as the kernel describes it: its device name and its label (the driver's name for
/// the controller, which stays the same when the chip's number changes between kernels).
public struct GPIOChipInfo: Sendable, Equatable, CustomStringConvertible {
    /// The device name, e.g. `gpiochip0`.
    public var name: String
    /// The label, e.g. `pinctrl-bcm2711`.
    public var label: String
    /// The number of lines.
    public var lines: Int

    public init(name: String, label: String, lines: Int) {
        self.name = name
        self.label = label
        self.lines = lines
    }

    public var description: String { "\(name) [\(label)]" }
}

/// The GPIO chips a backend found: those it could read, and those it could not open
/// (permission denied), by device name.
public struct GPIOChipListing: Sendable, Equatable {
    public var chips: [GPIOChipInfo]
    public var unreadable: [String]

    public init(chips: [GPIOChipInfo], unreadable: [String] = []) {
        self.chips = chips
        self.unreadable = unreadable
    }
}
