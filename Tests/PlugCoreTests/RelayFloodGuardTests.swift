import Testing
@testable import PlugCore

/// The relay flood guard: at most 5 changes in any 3 s by default, from any source; requests
/// beyond are collapsed into the last one, applied when the window has room, logged once per
/// window.
@Suite struct RelayFloodGuardTests {
    /// Alternating on/off commands every `gap`, starting at `start`, `n` of them.
    func alternate(_ h: inout Harness, n: Int, every gap: Duration, from start: MonotonicInstant = sec(10)) {
        for i in 0..<n { h.command(i % 2 == 0 ? .on : .off, at: start.advanced(by: gap * i)) }
    }

    /// The relay's changes (setRelay effects) as instants cannot be seen in effects, so they are
    /// counted by feeding one command at a time and watching the machine's level.
    @Test func fiveChangesPassTheSixthWaitsForTheWindowToTheNanosecond() {
        var h = Harness()
        alternate(&h, n: 5, every: .milliseconds(100))
        #expect(h.relaySets == [true, false, true, false, true])
        h.command(.off, at: sec(10.5))
        #expect(h.relaySets.count == 5)
        #expect(h.machine.flood.pending?.level == false)
        #expect(h.machine.nextDeadline == sec(13)) // the first change (10.0) leaves the window
        h.advance(to: sec(13).advanced(by: .nanoseconds(-1)))
        #expect(h.relaySets.count == 5)
        h.advance(to: sec(13))
        #expect(h.relaySets == [true, false, true, false, true, false])
        #expect(h.machine.flood.pending == nil)
    }

    @Test func aFloodCollapsesIntoTheLastRequestAndLogsOncePerWindow() {
        var h = Harness()
        alternate(&h, n: 200, every: .milliseconds(5)) // 200 in one second, the last is off
        #expect(h.relaySets.count == 5)
        h.advance(to: sec(30))
        #expect(h.relaySets.last == false)
        #expect(!h.machine.relayOn)
        #expect(h.relaySets.count <= 7) // 5, then what the collapsed requests come to
        let floods = h.effects.compactMap { if case .log(let e) = $0, e.name == "relay_flood" { e } else { nil } }
        #expect(floods.count == 1)
        #expect(floods.first?.fields[.collapsed] == "195")
        #expect(h.machine.nextDeadline == nil) // settled: no timer
    }

    @Test func noWindowEverHoldsMoreThanTheLimit() {
        var h = Harness()
        var changes: [MonotonicInstant] = []
        var level = h.machine.relayOn
        for i in 0..<600 { // a toggle every 50 ms for 30 s
            let t = sec(10).advanced(by: .milliseconds(50 * i))
            h.advance(to: t)
            if h.machine.relayOn != level { changes.append(t); level = h.machine.relayOn }
            h.command(.toggle, at: t)
            if h.machine.relayOn != level { changes.append(t); level = h.machine.relayOn }
        }
        #expect(changes.count > 10)
        for (i, t) in changes.enumerated() where i >= 5 {
            #expect(changes[i - 5].advanced(by: .seconds(3)) <= t)
        }
        let floods = h.effects.filter { if case .log(let e) = $0 { e.name == "relay_flood" } else { false } }.count
        #expect(floods >= 9 && floods <= 11) // once per 3 s window over 30 s
    }

    @Test func askingForTheCurrentLevelDropsThePendingChange() {
        var h = Harness()
        alternate(&h, n: 6, every: .milliseconds(100)) // on off on off on | off pending
        #expect(h.machine.flood.pending?.level == false)
        h.command(.on, at: sec(11)) // the relay is on: nothing left to do
        #expect(h.machine.flood.pending?.level == true)
        h.advance(to: sec(20))
        #expect(h.relaySets.count == 5)
        #expect(h.machine.relayOn)
        #expect(h.eventNames.filter { $0 == "relay_flood" }.count == 1)
        #expect(h.machine.nextDeadline == nil)
    }

    @Test func aToggleTogglesThePendingLevel() {
        var h = Harness()
        alternate(&h, n: 5, every: .milliseconds(100)) // ends on
        h.command(.toggle, at: sec(11)) // → off, pending
        h.command(.toggle, at: sec(11.1)) // → on: the level it has
        h.command(.toggle, at: sec(11.2)) // → off, pending again
        #expect(h.machine.flood.pending?.level == false)
        h.advance(to: sec(14))
        #expect(!h.machine.relayOn)
    }

    @Test func theButtonIsGuardedToo() {
        var h = Harness()
        for i in 0..<7 { h.hold(for: .milliseconds(100), from: sec(10).advanced(by: .milliseconds(300 * i))) }
        #expect(h.relaySets.count == 5)
        h.advance(to: sec(20))
        #expect(h.machine.relayOn) // seven toggles from off
    }

    @Test func aFactoryResetDropsThePendingChange() {
        var h = Harness()
        alternate(&h, n: 6, every: .milliseconds(100)) // ends on, off pending
        h.command(.on, at: sec(10.6)) // pending on? no: the relay is on, so nothing pending
        h.command(.off, at: sec(10.7))
        h.command(.on, at: sec(10.8))
        h.command(.off, at: sec(10.9))
        #expect(h.machine.flood.pending?.level == false)
        h.command(.factoryReset, at: sec(11))
        #expect(h.machine.flood.pending == nil)
        #expect(!h.machine.relayOn)
    }

    @Test func aZeroWindowTurnsTheGuardOff() {
        var t = PlugTimings()
        t.relayChangeWindow = .zero
        var h = Harness(timings: t)
        alternate(&h, n: 50, every: .milliseconds(1))
        #expect(h.relaySets.count == 50)
        #expect(!h.eventNames.contains("relay_flood"))
    }

    @Test func theRuleOnItsOwn() {
        var g = RelayFloodGuard(limit: 2, window: .seconds(1))
        var admitted: [Bool] = []
        admitted.append(g.admit(at: ms(0)))
        admitted.append(g.admit(at: ms(999)))
        admitted.append(g.admit(at: ms(999)))
        #expect(admitted == [true, true, false])
        g.collapse(true, source: .mqtt, at: ms(999))
        #expect(g.roomAt == ms(1000))
        let early = g.report(at: ms(999))
        #expect(early == nil) // still pending, window not over
        let stillFull = g.admit(at: ms(999.999))
        let room = g.admit(at: ms(1000)) // the change at 0 leaves the window exactly at 1000
        #expect(!stillFull && room)
        g.clearPending()
        #expect(g.deadline == ms(1999)) // the report, a window after the first collapse
        let early2 = g.report(at: ms(1998.999))
        let first = g.report(at: ms(1999)), again = g.report(at: ms(1999))
        #expect(early2 == nil && first == 1 && again == nil)
        #expect(g.deadline == nil)
    }
}
