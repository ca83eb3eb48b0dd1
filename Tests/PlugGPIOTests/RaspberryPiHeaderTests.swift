import PlugCore
import PlugGPIO
import Testing

/// `gpio.chip = "auto"`: the header's chip is found by its label on every Pi model, beside other
/// chips, and every way of not finding exactly one is a clear error.
@Suite struct RaspberryPiHeaderTests {
    // What gpiodetect shows on each model (Raspberry Pi OS kernels): the header controller beside
    // the firmware's expander (and, on a Pi 5, the SoC's own GPIO blocks).
    static let pi5 = [
        GPIOChipInfo(name: "gpiochip0", label: "pinctrl-rp1", lines: 54),
        GPIOChipInfo(name: "gpiochip10", label: "gpio-brcmstb@107d508500", lines: 32),
        GPIOChipInfo(name: "gpiochip11", label: "gpio-brcmstb@107d508520", lines: 4),
    ]
    static let pi5OldKernel = [
        GPIOChipInfo(name: "gpiochip0", label: "gpio-brcmstb@107d508500", lines: 32),
        GPIOChipInfo(name: "gpiochip4", label: "pinctrl-rp1", lines: 54),
    ]
    static let pi4 = [
        GPIOChipInfo(name: "gpiochip0", label: "pinctrl-bcm2711", lines: 58),
        GPIOChipInfo(name: "gpiochip1", label: "raspberrypi-exp-gpio", lines: 8),
    ]
    static let pi3 = [
        GPIOChipInfo(name: "gpiochip0", label: "pinctrl-bcm2835", lines: 54),
        GPIOChipInfo(name: "gpiochip1", label: "raspberrypi-exp-gpio", lines: 8),
    ]

    @Test(arguments: [
        (pi5, "gpiochip0", "Raspberry Pi 5"), (pi5OldKernel, "gpiochip4", "Raspberry Pi 5"),
        (pi4, "gpiochip0", "Raspberry Pi 4"), (pi3, "gpiochip0", "Raspberry Pi 3"),
    ])
    func eachModelsHeaderIsFoundByLabel(chips: [GPIOChipInfo], name: String, model: String) throws {
        let choice = try RaspberryPiHeader.choose(from: GPIOChipListing(chips: chips))
        #expect(choice.chip.name == name)
        #expect(choice.models.hasPrefix(model))
    }

    @Test func aHATsExpanderBesideTheHeaderIsPassedOver() throws {
        // An expander that comes first (lower number) must not win.
        let chips =
            [GPIOChipInfo(name: "gpiochip0", label: "mcp23017", lines: 16)] + Self.pi4
            + [GPIOChipInfo(name: "gpiochip3", label: "pca9555", lines: 16)]
        #expect(try RaspberryPiHeader.choose(from: GPIOChipListing(chips: chips)).chip.label == "pinctrl-bcm2711")
    }

    @Test func noHeaderNamesEveryChipSeen() {
        let chips = [
            GPIOChipInfo(name: "gpiochip0", label: "gpio-sim-vm", lines: 5),
            GPIOChipInfo(name: "gpiochip1", label: "pca9555", lines: 16),
        ]
        let expected = GPIOError.headerChipNotFound(["gpiochip0 [gpio-sim-vm]", "gpiochip1 [pca9555]"])
        #expect(throws: expected) { try RaspberryPiHeader.choose(from: GPIOChipListing(chips: chips)) }
        let text = "\(expected)"
        #expect(text.contains("pinctrl-rp1, pinctrl-bcm2711, pinctrl-bcm2835"))
        #expect(text.contains("gpiochip1 [pca9555]") && text.contains("Set gpio.chip"))
        #expect("\(GPIOError.headerChipNotFound([]))".contains("chips present: none"))
    }

    @Test func chipsThatCouldNotBeOpenedMakeItAPermissionProblem() throws {
        let listing = GPIOChipListing(
            chips: [GPIOChipInfo(name: "gpiochip1", label: "pca9555", lines: 16)],
            unreadable: ["gpiochip0"])
        #expect(throws: GPIOError.permissionDenied("GPIO chips gpiochip0 (to find the header's chip)")) {
            try RaspberryPiHeader.choose(from: listing)
        }
        // ...but an unreadable chip does not matter once the header is found.
        let found = GPIOChipListing(chips: Self.pi3, unreadable: ["gpiochip2"])
        #expect(try RaspberryPiHeader.choose(from: found).chip.label == "pinctrl-bcm2835")
    }

    @Test func twoHeaderControllersAreAmbiguous() {
        let chips = Self.pi4 + [GPIOChipInfo(name: "gpiochip2", label: "pinctrl-bcm2835", lines: 54)]
        #expect(throws: GPIOError.headerChipAmbiguous(["gpiochip0 [pinctrl-bcm2711]", "gpiochip2 [pinctrl-bcm2835]"])) {
            try RaspberryPiHeader.choose(from: GPIOChipListing(chips: chips))
        }
    }

    @Test func theWiringsAutoChipsAreReplacedAndExplicitOnesKept() throws {
        var wiring = Wiring.named(chip: RaspberryPiHeader.auto)
        wiring.red.chip = "pca9555"
        #expect(wiring.usesHeaderChip)
        let (chosen, choice) = try wiring.choosingHeaderChip(GPIOChipListing(chips: Self.pi5OldKernel))
        #expect(choice?.chip.name == "gpiochip4")
        #expect([chosen.relay, chosen.button, chosen.green, chosen.blue].allSatisfy { $0.chip == "gpiochip4" })
        #expect(chosen.red.chip == "pca9555")
        #expect(chosen.button.activeLow && chosen.button.line == .name("button"))
        #expect(!chosen.usesHeaderChip)
    }

    @Test func anExplicitChipNeedsNoSearch() throws {
        let wiring = Wiring.named(chip: "gpiochip0")
        // Not even a listing with no header chip in it is an error.
        let (same, choice) = try wiring.choosingHeaderChip(GPIOChipListing(chips: []))
        #expect(same == wiring && choice == nil)
    }

    @Test func theSimulatedChipListsItselfWithItsNameAsLabel() {
        let gpio = SimulatedGPIO(chips: ["pinctrl-bcm2711": ["relay"], "pca9555": ["a", "b"]], now: { .zero })
        #expect(
            gpio.chips()
                == GPIOChipListing(chips: [
                    GPIOChipInfo(name: "pca9555", label: "pca9555", lines: 2),
                    GPIOChipInfo(name: "pinctrl-bcm2711", label: "pinctrl-bcm2711", lines: 1),
                ]))
    }
}
