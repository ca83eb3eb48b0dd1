/// Finds the chip behind a Raspberry Pi's 40-pin header by its label, so one config serves every
/// model: the chip's number differs between models and kernels (a Pi 5's header was gpiochip4
/// before it became gpiochip0), its label does not.
///
/// The labels are the `gpio_chip` labels of the kernel drivers: `pinctrl-bcm2835` and
/// `pinctrl-bcm2711` in `drivers/pinctrl/bcm/pinctrl-bcm2835.c`, `pinctrl-rp1` in the RP1 driver
/// (`drivers/pinctrl/pinctrl-rp1.c`). On each of them the header's BCM GPIO numbers are the line
/// offsets.
public enum RaspberryPiHeader {
    /// The config value (`gpio.chip`, the default) that asks for this search.
    public static let auto = "auto"

    /// The header controllers' labels and the models that have them, newest first.
    public static let controllers: [(label: String, models: String)] = [
        ("pinctrl-rp1", "Raspberry Pi 5, 500, CM5"),
        ("pinctrl-bcm2711", "Raspberry Pi 4, 400, CM4"),
        ("pinctrl-bcm2835", "Raspberry Pi 3, Zero 2 W, Zero, 2, 1"),
    ]

    /// The chip chosen and the models its label belongs to.
    public struct Choice: Sendable, Equatable {
        public var chip: GPIOChipInfo
        public var models: String
    }

    /// The one chip whose label is a header controller's. Other chips (a HAT's expander, the
    /// firmware's GPIO) are passed over. Throws `GPIOError.headerChipNotFound` (naming every chip
    /// seen) when there is none, `.permissionDenied` when there is none but some chips could not
    /// be opened, and `.headerChipAmbiguous` when there are several.
    public static func choose(from listing: GPIOChipListing) throws -> Choice {
        let found = listing.chips.compactMap { chip in
            controllers.first { $0.label == chip.label }.map { Choice(chip: chip, models: $0.models) }
        }
        if found.count == 1 { return found[0] }
        if found.count > 1 { throw GPIOError.headerChipAmbiguous(found.map(\.chip.description)) }
        if !listing.unreadable.isEmpty {
            throw GPIOError.permissionDenied("GPIO chips \(listing.unreadable.joined(separator: ", ")) (to find the header's chip)")
        }
        throw GPIOError.headerChipNotFound(listing.chips.map(\.description))
    }

    /// The labels searched for, for messages.
    public static var labels: String { controllers.map(\.label).joined(separator: ", ") }
}
