import Testing
@testable import PlugCore

/// The schedules by the wall clock: waiting for a synchronised clock, runs on time, clock steps
/// both ways, runs missed while off (skipped, or caught up once), and the machine's side.
@Suite struct SchedulerTests {
    let utcZone = FixedOffset(seconds: 0)
    /// On at 08:00, off at 22:00, every day (UTC).
    func scheduler(seen: Int64? = nil, catchUp: Bool = false) -> Scheduler {
        Scheduler(
            schedule: Schedule(entries: [
                ScheduleEntry(time: .clock(second: 8 * 3600), action: .on, catchUp: catchUp),
                ScheduleEntry(time: .clock(second: 22 * 3600), action: .off, catchUp: catchUp),
            ]), seen: seen)
    }
    let day = utc(2026, 11, 28, 0, 0)

    @Test func nothingToDoWithoutSchedules() {
        var s = Scheduler(schedule: Schedule(), seen: nil)
        #expect(s.update(now: day, synchronized: false, zone: utcZone) == Scheduler.Outcome())
    }

    @Test func anUnsynchronisedClockRunsNothingAndSaysSoOnce() {
        var s = scheduler()
        let first = s.update(now: day + 8 * 3600, synchronized: false, zone: utcZone)
        #expect(first.runs == [] && first.logs.map(\.name) == ["schedule_waiting"])
        #expect(first.wake == day + 8 * 3600 + Scheduler.unsyncedRecheck)
        let again = s.update(now: day + 8 * 3600 + 60, synchronized: false, zone: utcZone)
        #expect(again.logs == [] && again.runs == [])
        // Synchronised (no earlier run of plugd to compare with: nothing counts as missed).
        let synced = s.update(now: day + 9 * 3600, synchronized: true, zone: utcZone)
        #expect(synced.logs.map(\.name) == ["schedule_clock_synchronized"] && synced.runs == [])
        #expect(synced.wake == day + 22 * 3600 && synced.seen == day + 9 * 3600)
        #expect(s.nextRuns.map(\.entry) == [1])
    }

    @Test func runsOnTimeAndArmsForTheNext() {
        var s = scheduler()
        #expect(s.update(now: day + 7 * 3600, synchronized: true, zone: utcZone).wake == day + 8 * 3600)
        let at8 = s.update(now: day + 8 * 3600, synchronized: true, zone: utcZone)
        #expect(at8.runs.map(\.entry.action) == [.on] && at8.runs.allSatisfy { !$0.late })
        #expect(at8.wake == day + 22 * 3600 && at8.seen == day + 8 * 3600)
        // A timer a little late (a busy machine) still runs it as on time.
        let late = s.update(now: day + 22 * 3600 + Scheduler.lateness, synchronized: true, zone: utcZone)
        #expect(late.runs.map(\.entry.action) == [.off] && late.logs == [])
    }

    @Test func aRunJustOverTheLatenessIsMissed() {
        var s = scheduler()
        _ = s.update(now: day + 7 * 3600, synchronized: true, zone: utcZone)
        let out = s.update(now: day + 8 * 3600 + Scheduler.lateness + 1, synchronized: true, zone: utcZone)
        #expect(out.runs == [] && out.logs.map(\.name) == ["schedule_missed"])
    }

    @Test func aClockSetForwardPastARunSkipsIt() {
        var s = scheduler()
        _ = s.update(now: day + 7 * 3600, synchronized: true, zone: utcZone)
        // Set forward to 09:00: 08:00 was jumped over.
        let out = s.update(now: day + 9 * 3600, synchronized: true, zone: utcZone)
        #expect(out.runs == [] && out.logs.map(\.name) == ["schedule_missed"])
        #expect(out.wake == day + 22 * 3600)
    }

    @Test func aClockSetBackDoesNotRunATimeTwice() {
        var s = scheduler()
        _ = s.update(now: day + 8 * 3600, synchronized: true, zone: utcZone) // ran 08:00
        let back = s.update(now: day + 7 * 3600 + 30 * 60, synchronized: true, zone: utcZone)
        #expect(back.runs == [] && back.wake == day + 22 * 3600)
        let at8Again = s.update(now: day + 8 * 3600, synchronized: true, zone: utcZone)
        #expect(at8Again.runs == [])
    }

    @Test func runsMissedWhileOffAreSkippedUnlessCaughtUp() {
        // plugd last ran at 07:00; it starts again at 23:00: 08:00 (on) and 22:00 (off) missed.
        var plain = scheduler(seen: day + 7 * 3600)
        let out = plain.update(now: day + 23 * 3600, synchronized: true, zone: utcZone)
        #expect(out.runs == [] && out.logs.map(\.name) == ["schedule_missed"])
        #expect(out.logs.first?.fields[.missed] == "2")
        var caughtUp = scheduler(seen: day + 7 * 3600, catchUp: true)
        let late = caughtUp.update(now: day + 23 * 3600, synchronized: true, zone: utcZone)
        // Only the last missed run, once: the relay ends as it would have.
        #expect(late.runs.map(\.entry.action) == [.off] && late.runs.allSatisfy(\.late))
        #expect(late.logs.first?.fields[.missed] == "1")
        #expect(caughtUp.update(now: day + 23 * 3600 + 10, synchronized: true, zone: utcZone).runs == [])
    }

    @Test func aRunOnTimeMakesACatchUpNeedless() {
        var s = scheduler(seen: day + 7 * 3600, catchUp: true)
        let out = s.update(now: day + 22 * 3600 + 5, synchronized: true, zone: utcZone)
        #expect(out.runs.map(\.entry.action) == [.off] && out.runs.allSatisfy { !$0.late })
    }

    @Test func theMachineSwitchesAndRemembersUpToWhen() {
        var h = Harness()
        var s = scheduler()
        _ = s.update(now: day + 7 * 3600, synchronized: true, zone: utcZone)
        let out = s.update(now: day + 8 * 3600, synchronized: true, zone: utcZone)
        h.effects += h.machine.handle(.schedule(runs: out.runs, seen: out.seen), at: sec(1))
        #expect(h.machine.relayOn && h.machine.state.scheduleSeen == day + 8 * 3600)
        #expect(h.eventNames.contains("schedule_fired"))
        #expect(h.effects.contains(.save(h.machine.state)))
        let fired = h.effects.compactMap { if case .log(let e) = $0, e.name == "schedule_fired" { e } else { nil } }.first
        #expect(fired?.fields[.schedule] == "schedule 1 (08:00, daily)" && fired?.fields[.source] == "schedule")
    }

    @Test func aScheduleDuringAFactoryResetIsRefused() {
        var h = Harness(state: registeredState(relayOn: true))
        h.command(.factoryReset, at: sec(1))
        let run = ScheduleRun(
            occurrence: Schedule.Occurrence(at: day, entry: 0, date: CivilDate(daysSinceEpoch: Int(day / 86400))),
            entry: ScheduleEntry(time: .clock(second: 0), action: .on), late: false)
        h.effects += h.machine.handle(.schedule(runs: [run], seen: day), at: sec(1.1))
        #expect(!h.machine.relayOn && h.eventNames.contains("command_rejected"))
    }

    @Test func aScheduleEndsACountdownAndStartsAutoOff() {
        var t = PlugTimings()
        t.autoOff = .seconds(3600)
        var h = Harness(timings: t)
        h.command(.timed(on: false, for: .seconds(600)), at: sec(1)) // nothing to switch, a countdown to on
        let run = ScheduleRun(
            occurrence: Schedule.Occurrence(at: day, entry: 0, date: CivilDate(daysSinceEpoch: Int(day / 86400))),
            entry: ScheduleEntry(time: .clock(second: 0), action: .on), late: false)
        h.effects += h.machine.handle(.schedule(runs: [run], seen: day), at: sec(5))
        #expect(h.machine.relayOn && h.machine.countdown?.auto == true)
        #expect(h.eventNames.contains("timer_cancelled"))
    }
}
