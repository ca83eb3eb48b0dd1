import Testing
@testable import PlugCore

@Suite struct DebouncerTests {
    let window = Duration.milliseconds(50)

    @Test func levelStableForTheWholeWindowIsAcceptedWithTheEdgeTimestamp() {
        var d = Debouncer(initial: false, at: .zero, window: window)
        #expect(d.edge(true, at: ms(100)) == nil)
        #expect(d.deadline == ms(150))
        #expect(d.advance(to: ms(149.999)) == nil)
        #expect(d.advance(to: ms(150)) == DebouncedChange(pressed: true, at: ms(100)))
        #expect(d.level == true)
        #expect(d.deadline == nil)
    }

    @Test func glitchShorterThanTheWindowIsIgnored() {
        var d = Debouncer(initial: false, at: .zero, window: window)
        _ = d.edge(true, at: ms(100))
        #expect(d.edge(false, at: ms(149.999)) == nil)
        #expect(d.advance(to: ms(1000)) == nil)
        #expect(d.level == false)
    }

    @Test func levelAcceptedByTheNextEdgeWhenNobodyAdvancedTime() {
        var d = Debouncer(initial: false, at: .zero, window: window)
        _ = d.edge(true, at: ms(100))
        #expect(d.edge(false, at: ms(400)) == DebouncedChange(pressed: true, at: ms(100)))
        #expect(d.advance(to: ms(450)) == DebouncedChange(pressed: false, at: ms(400)))
    }

    @Test func contactBounceGivesOnePressTimedFromTheLastBounce() {
        var d = Debouncer(initial: false, at: .zero, window: window)
        var changes: [DebouncedChange] = []
        for (i, t) in [0.0, 1.5, 3, 4.2, 6, 9].enumerated() {
            if let c = d.edge(i % 2 == 0, at: ms(100 + t)) { changes.append(c) }
        }
        _ = d.edge(true, at: ms(112))
        if let c = d.advance(to: ms(1000)) { changes.append(c) }
        #expect(changes == [DebouncedChange(pressed: true, at: ms(112))])
    }

    @Test func repeatedSameLevelEventsDoNotRestartTheWindow() {
        var d = Debouncer(initial: false, at: .zero, window: window)
        _ = d.edge(true, at: ms(100))
        _ = d.edge(true, at: ms(140))
        #expect(d.advance(to: ms(150)) == DebouncedChange(pressed: true, at: ms(100)))
    }
}
