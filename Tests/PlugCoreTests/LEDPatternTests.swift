import Testing
@testable import PlugCore

@Suite struct LEDPatternTests {
    @Test func solidNeverChangesSoNeedsNoTimer() {
        let p = LEDPattern.solid(.blue)
        #expect(p.color(at: sec(1000)) == .blue)
        #expect(p.nextChange(after: sec(1000)) == nil)
    }

    @Test func blinkingOneHertzIsHalfOnHalfOff() {
        let p = LEDPattern.blinking(.blue, hertz: 1, since: sec(10))
        #expect(p.color(at: sec(10)) == .blue)
        #expect(p.color(at: ms(10_499)) == .blue)
        #expect(p.color(at: ms(10_500)) == .off)
        #expect(p.color(at: ms(10_999)) == .off)
        #expect(p.color(at: sec(11)) == .blue)
        #expect(p.nextChange(after: sec(10)) == ms(10_500))
        #expect(p.nextChange(after: ms(10_500)) == sec(11))
        #expect(p.nextChange(after: ms(10_700)) == sec(11))
    }

    @Test func fourHertzFlashesEvery125ms() {
        let p = LEDPattern.blinking(.orange, hertz: 4, since: .zero)
        #expect(p.color(at: ms(124)) == .orange)
        #expect(p.color(at: ms(125)) == .off)
        #expect(p.color(at: ms(250)) == .orange)
        #expect(p.nextChange(after: ms(0)) == ms(125))
    }

    @Test func finiteFlashesEndAndThenNeedNoTimer() {
        let p = LEDPattern.flashes(.red, count: 3, on: .milliseconds(150), off: .milliseconds(150), since: .zero)
        let lit = stride(from: 0.0, to: 1000, by: 10).filter { p.color(at: ms($0)) == .red }.count
        #expect(lit == 45) // 3 × 150 ms in 10 ms steps
        #expect(p.end == ms(900))
        #expect(p.nextChange(after: ms(800)) == ms(900))
        #expect(p.nextChange(after: ms(900)) == nil)
        #expect(p.color(at: ms(900)) == .off)
    }

    @Test func colorsMapToTheRightLines() {
        #expect(LEDColor.orange.lines == (true, true, false))
        #expect(LEDColor.white.lines == (true, true, true))
        #expect(LEDColor(red: false, green: false, blue: true) == .blue)
        for c in LEDColor.allCases { #expect(LEDColor(red: c.lines.red, green: c.lines.green, blue: c.lines.blue) == c) }
    }
}

@Suite struct LEDEngineTests {
    /// Every condition active at once; removing the winner each time walks down the table.
    @Test func prioritiesFollowTheSpecTableTopToBottom() {
        var c = LEDConditions()
        c.factoryResetRunning = sec(1)
        c.resetComplete = sec(1)
        c.startupHoldArmed = true
        c.factoryResetArmed = true
        c.setupArmed = true
        c.identify = sec(1)
        c.setupMode = sec(1)
        c.fault = sec(1)
        c.started = sec(2)
        c.brokerUnreachable = sec(1)
        c.relayOn = true
        let t = ms(2_010) // inside the first start-up flash
        var seen: [String] = []
        func take(_ p: LEDPattern) { seen.append(p.description) }
        take(LEDEngine.pattern(for: c, at: t)); c.factoryResetRunning = nil
        take(LEDEngine.pattern(for: c, at: t)); c.resetComplete = nil
        take(LEDEngine.pattern(for: c, at: t)); c.startupHoldArmed = false
        take(LEDEngine.pattern(for: c, at: t)); c.factoryResetArmed = false
        take(LEDEngine.pattern(for: c, at: t)); c.setupArmed = false
        take(LEDEngine.pattern(for: c, at: t)); c.identify = nil
        take(LEDEngine.pattern(for: c, at: t)); c.setupMode = nil
        take(LEDEngine.pattern(for: c, at: t)); c.fault = nil
        take(LEDEngine.pattern(for: c, at: t)); c.started = nil
        take(LEDEngine.pattern(for: c, at: t)); c.brokerUnreachable = nil
        take(LEDEngine.pattern(for: c, at: t)); c.relayOn = false
        take(LEDEngine.pattern(for: c, at: t))
        #expect(
            seen == [
                "orange blinking 4 Hz", "solid blue", "solid off", "solid orange", "solid red", "green blinking 2 Hz",
                "blue blinking 1 Hz", "red blinking 2 Hz", "3× red flashes", "red blinking 1 Hz", "solid blue", "solid off",
            ])
    }

    @Test func startupFlashesGiveWayToNormalAfterwards() {
        var c = LEDConditions()
        c.started = .zero
        c.relayOn = true
        #expect(LEDEngine.pattern(for: c, at: ms(100)).description == "3× red flashes")
        #expect(LEDEngine.pattern(for: c, at: ms(900)) == .solid(.blue))
    }
}
