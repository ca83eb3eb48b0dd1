#if canImport(Glibc)
import Glibc
#endif
import PlugCore
import Testing
import PlugPOSIX
@testable import PlugGPIO

@Suite struct SimulatedGPIOTests {
    let gpio = SimulatedGPIO(now: { .zero })

    @Test func outputStartsAtTheRequestedLevelAndAppliesActiveLow() throws {
        let relay = try gpio.requestOutput(
            LineSpec(chip: "gpiosim", line: .name("relay"), activeLow: true),
            initial: true, consumer: "t")
        #expect(gpio.level(line: "relay") == false) // active-low: on = low
        try relay.set(false)
        #expect(gpio.level(line: "relay") == true)
    }

    @Test func linesAreFoundByOffsetOrName() throws {
        _ = try gpio.requestOutput(LineSpec(chip: "gpiosim", line: .offset(2)), initial: true, consumer: "t")
        #expect(gpio.level(line: "led_r"))
        #expect(gpio.isHeld(line: "led_r"))
    }

    @Test func errorsNameTheChipOrLine() {
        #expect(throws: GPIOError.chipNotFound("gpiochip9")) {
            try gpio.requestOutput(LineSpec(chip: "gpiochip9", line: .offset(0)), initial: false, consumer: "t")
        }
        #expect(throws: GPIOError.lineNotFound(chip: "gpiosim", line: "\"fan\"")) {
            try gpio.requestOutput(LineSpec(chip: "gpiosim", line: .name("fan")), initial: false, consumer: "t")
        }
        #expect(throws: GPIOError.lineNotFound(chip: "gpiosim", line: "8")) {
            try gpio.requestOutput(LineSpec(chip: "gpiosim", line: .offset(8)), initial: false, consumer: "t")
        }
    }

    @Test func aHeldLineIsBusyUntilReleased() throws {
        let spec = LineSpec(chip: "gpiosim", line: .name("relay"))
        let line = try gpio.requestOutput(spec, initial: false, consumer: "a")
        #expect(throws: GPIOError.lineBusy(spec.description)) {
            try gpio.requestOutput(spec, initial: false, consumer: "b")
        }
        line.release()
        _ = try gpio.requestOutput(spec, initial: false, consumer: "b")
    }

    @Test func buttonWithPullUpReadsReleasedAndReportsEdges() throws {
        let button = try gpio.requestButton(
            LineSpec(chip: "gpiosim", line: .name("button"), activeLow: true),
            bias: .pullUp, consumer: "t")
        #expect(gpio.level(line: "button") == true)
        #expect(try !button.isPressed())
        gpio.press(at: MonotonicInstant(nanoseconds: 5))
        #expect(gpio.level(line: "button") == false)
        #expect(try button.isPressed())
        gpio.release(at: MonotonicInstant(nanoseconds: 9))
        // Queued behind the event descriptor, read as the run loop reads them; then the end.
        var fds = [pollfd(fd: button.eventFD, events: Int16(POLLIN), revents: 0)]
        #expect(try Poll.wait(&fds, timeout: .zero) == 1)
        let edges = button.readEdges() ?? []
        button.release()
        #expect(button.readEdges() == nil)
        #expect(
            edges == [
                ButtonEdge(pressed: true, timestamp: MonotonicInstant(nanoseconds: 5)),
                ButtonEdge(pressed: false, timestamp: MonotonicInstant(nanoseconds: 9)),
            ])
    }

    @Test func buttonHeldBeforeTheRequestReadsPressed() throws {
        gpio.preset(line: "button", physical: false)
        let button = try gpio.requestButton(
            LineSpec(chip: "gpiosim", line: .name("button"), activeLow: true),
            bias: .pullUp, consumer: "t")
        #expect(try button.isPressed())
    }

    @Test func plugLinesReleaseWhatTheyTookWhenALaterRequestFails() {
        gpio.holdElsewhere(line: "button")
        #expect(throws: GPIOError.self) {
            try PlugLines(backend: gpio, wiring: .named(chip: "gpiosim"), relayOn: true)
        }
        for line in ["relay", "led_r", "led_g", "led_b"] { #expect(!gpio.isHeld(line: line)) }
    }

    @Test func plugLinesShowColours() throws {
        let lines = try PlugLines(backend: gpio, wiring: .named(chip: "gpiosim"), relayOn: false)
        for color in LEDColor.allCases {
            try lines.show(color)
            #expect(gpio.ledColor() == color)
        }
    }
}
