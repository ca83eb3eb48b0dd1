import Testing
@testable import PlugCore

/// Europe/Berlin's rules since 1996: CET (+1), CEST (+2) from 01:00 UTC on the last Sunday of
/// March to 01:00 UTC on the last Sunday of October. Written out here so the tests need no
/// time zone database.
struct Berlin: LocalTime {
    static func lastSunday(_ year: Int, _ month: Int) -> Int64 {
        var d = CivilDate(year: year, month: month, day: 31)
        while d.weekday != 0 { d = CivilDate(daysSinceEpoch: d.daysSinceEpoch - 1) }
        return Int64(d.daysSinceEpoch) * 86400 + 3600
    }
    func utcOffset(at unix: Int64) -> Int {
        let year = CivilDate(daysSinceEpoch: Int(unix / 86400)).year
        return unix >= Self.lastSunday(year, 3) && unix < Self.lastSunday(year, 10) ? 7200 : 3600
    }
}

/// America/New_York since 2007: EST (−5), EDT (−4) from 2:00 EST on the second Sunday of March
/// to 2:00 EDT on the first Sunday of November.
struct NewYork: LocalTime {
    static func nthSunday(_ year: Int, _ month: Int, _ n: Int) -> CivilDate {
        var d = CivilDate(year: year, month: month, day: 1)
        while d.weekday != 0 { d = CivilDate(daysSinceEpoch: d.daysSinceEpoch + 1) }
        return CivilDate(daysSinceEpoch: d.daysSinceEpoch + 7 * (n - 1))
    }
    func utcOffset(at unix: Int64) -> Int {
        let year = CivilDate(daysSinceEpoch: Int(unix / 86400)).year
        let start = Int64(Self.nthSunday(year, 3, 2).daysSinceEpoch) * 86400 + 7 * 3600
        let end = Int64(Self.nthSunday(year, 11, 1).daysSinceEpoch) * 86400 + 6 * 3600
        return unix >= start && unix < end ? -4 * 3600 : -5 * 3600
    }
}

/// `y-m-d h:m:s` UTC as seconds since the epoch.
func utc(_ y: Int, _ mo: Int, _ d: Int, _ h: Int, _ mi: Int, _ s: Int = 0) -> Int64 {
    Int64(CivilDate(year: y, month: mo, day: d).daysSinceEpoch) * 86400 + Int64(h * 3600 + mi * 60 + s)
}

@Suite struct ScheduleTests {
    func schedule(_ entries: ScheduleEntry..., place: Sun.Place? = nil) -> Schedule { Schedule(entries: entries, place: place) }
    let berlin = Berlin()

    @Test func aDailyTimeRunsAtThatLocalTimeEachDayNotBefore() {
        let s = schedule(ScheduleEntry(time: .clock(second: 7 * 3600 + 30 * 60), action: .on))
        // 28 Nov 2026, CET: 07:30 local is 06:30 UTC.
        #expect(s.next(after: utc(2026, 11, 28, 6, 0), in: berlin).map(\.at) == [utc(2026, 11, 28, 6, 30)])
        // At that second it is not "next" any more: tomorrow's is.
        #expect(s.next(after: utc(2026, 11, 28, 6, 30), in: berlin).map(\.at) == [utc(2026, 11, 29, 6, 30)])
        #expect(s.next(after: utc(2026, 11, 28, 6, 30) - 1, in: berlin).map(\.at) == [utc(2026, 11, 28, 6, 30)])
    }

    @Test func springForwardKeepsTheLocalTimeAndRunsASkippedTimeAtTheJump() {
        let morning = schedule(ScheduleEntry(time: .clock(second: 7 * 3600 + 30 * 60), action: .on))
        // 29 March 2026: clocks go from 02:00 CET to 03:00 CEST. 07:30 is 06:30 UTC the day
        // before and 05:30 UTC that day.
        #expect(
            morning.occurrences(after: utc(2026, 3, 28, 0, 0), through: utc(2026, 3, 30, 0, 0), in: berlin).map(\.at) == [
                utc(2026, 3, 28, 6, 30), utc(2026, 3, 29, 5, 30),
            ])
        // 02:30 does not exist that night: it runs when the clock jumps, 03:00 CEST (01:00 UTC),
        // once.
        let night = schedule(ScheduleEntry(time: .clock(second: 2 * 3600 + 30 * 60), action: .off))
        #expect(
            night.occurrences(after: utc(2026, 3, 28, 12, 0), through: utc(2026, 3, 30, 12, 0), in: berlin).map(\.at) == [
                utc(2026, 3, 29, 1, 0), utc(2026, 3, 30, 0, 30),
            ])
    }

    @Test func fallBackRunsATimeShownTwiceOnlyOnce() {
        // 25 October 2026: clocks go from 03:00 CEST back to 02:00 CET; 02:30 is shown twice
        // (00:30 and 01:30 UTC). It runs at the first.
        let night = schedule(ScheduleEntry(time: .clock(second: 2 * 3600 + 30 * 60), action: .off))
        #expect(
            night.occurrences(after: utc(2026, 10, 24, 12, 0), through: utc(2026, 10, 26, 12, 0), in: berlin).map(\.at) == [
                utc(2026, 10, 25, 0, 30), utc(2026, 10, 26, 1, 30),
            ])
        let morning = schedule(ScheduleEntry(time: .clock(second: 7 * 3600), action: .on))
        #expect(
            morning.occurrences(after: utc(2026, 10, 24, 12, 0), through: utc(2026, 10, 26, 12, 0), in: berlin).map(\.at) == [
                utc(2026, 10, 25, 6, 0), utc(2026, 10, 26, 6, 0),
            ])
    }

    @Test func newYorksChangesBothWays() {
        let zone = NewYork()
        let s = schedule(ScheduleEntry(time: .clock(second: 2 * 3600 + 30 * 60), action: .toggle))
        // 8 March 2026: 02:00 EST jumps to 03:00 EDT (07:00 UTC); 02:30 runs at the jump.
        #expect(s.next(after: utc(2026, 3, 8, 0, 0), in: zone).map(\.at) == [utc(2026, 3, 8, 7, 0)])
        // 1 November 2026: 02:00 EDT falls back to 01:00 EST; 02:30 EST is 07:30 UTC, once.
        #expect(
            s.occurrences(after: utc(2026, 10, 31, 12, 0), through: utc(2026, 11, 2, 12, 0), in: zone).map(\.at) == [
                utc(2026, 11, 1, 7, 30), utc(2026, 11, 2, 7, 30),
            ])
    }

    @Test func daysOfTheWeekAreTheLocalDates() {
        // 27 Nov 2026 is a Friday. Weekdays at 23:30 Berlin (22:30 UTC): Friday, then Monday.
        let s = schedule(ScheduleEntry(time: .clock(second: 23 * 3600 + 30 * 60), days: Set(1...5), action: .off))
        #expect(
            s.occurrences(after: utc(2026, 11, 27, 0, 0), through: utc(2026, 12, 1, 0, 0), in: berlin).map(\.date) == [
                CivilDate(year: 2026, month: 11, day: 27), CivilDate(year: 2026, month: 11, day: 30),
            ])
    }

    @Test func sunsetWithAnOffsetFollowsTheSun() throws {
        let berlinPlace = Sun.Place(latitude: 52.52, longitude: 13.40)
        let s = schedule(ScheduleEntry(time: .sunset(offset: -15 * 60), action: .on), place: berlinPlace)
        let date = CivilDate(year: 2026, month: 6, day: 21)
        guard case .at(let sunset) = Sun.event(rising: false, on: date, at: berlinPlace) else { return #expect(Bool(false)) }
        #expect(s.next(after: utc(2026, 6, 21, 0, 0), in: berlin).map(\.at) == [sunset - 900])
        // Berlin's midsummer sunset is about 21:33 CEST (19:33 UTC).
        #expect(abs(sunset - utc(2026, 6, 21, 19, 33)) < 120)
    }

    @Test func aSunriseEntryWaitsOutThePolarNight() {
        let tromso = Sun.Place(latitude: 69.65, longitude: 18.96)
        let s = schedule(ScheduleEntry(time: .sunrise(offset: 0), action: .off), place: tromso)
        let next = s.next(after: utc(2026, 12, 1, 12, 0), in: FixedOffset(seconds: 3600))
        // No sunrise in Tromsø from late November to mid January.
        #expect(next.count == 1)
        #expect(next.first.map { $0.date > CivilDate(year: 2027, month: 1, day: 10) && $0.date < CivilDate(year: 2027, month: 1, day: 20) } == true)
    }

    @Test func entriesAtTheSameInstantAllRunInTheirOrder() {
        let s = schedule(
            ScheduleEntry(time: .clock(second: 8 * 3600), action: .off), ScheduleEntry(time: .clock(second: 9 * 3600), action: .on),
            ScheduleEntry(time: .clock(second: 8 * 3600), action: .on))
        #expect(s.next(after: utc(2026, 11, 28, 0, 0), in: FixedOffset(seconds: 0)).map(\.entry) == [0, 2])
    }

    @Test func nothingWithoutEntries() {
        #expect(Schedule().next(after: 0, in: FixedOffset(seconds: 0)) == [])
    }

    @Test func theTimeFormsOfTheConfig() {
        #expect(ScheduleEntry.Time("07:30") == .clock(second: 27000))
        #expect(ScheduleEntry.Time("00:00") == .clock(second: 0))
        #expect(ScheduleEntry.Time("23:59") == .clock(second: 86340))
        #expect(ScheduleEntry.Time("07:30:15") == .clock(second: 27015))
        #expect(ScheduleEntry.Time("sunrise") == .sunrise(offset: 0))
        #expect(ScheduleEntry.Time("Sunset+30m") == .sunset(offset: 1800))
        #expect(ScheduleEntry.Time("sunrise-1h") == .sunrise(offset: -3600))
        #expect(ScheduleEntry.Time("sunset-6h") == .sunset(offset: -21600))
        for bad in ["24:00", "7:30", "07:60", "07:30:60", "07:30:0", "noon", "sunset+", "sunset+7h", "sunset 30m", "sunrise*2m", "", "٠٧:٣٠"] {
            #expect(ScheduleEntry.Time(bad) == nil, "\(bad)")
        }
        for text in ["07:30", "00:05", "07:30:15", "sunrise", "sunset-15m", "sunrise+1h", "sunset+90s"] {
            #expect(ScheduleEntry.Time(text)?.description == text)
        }
        #expect(ScheduleEntry.days(named: "weekdays") == Set(1...5))
        #expect(ScheduleEntry.days(named: "Sat") == [6])
        #expect(ScheduleEntry.days(named: "someday") == nil)
        #expect(ScheduleEntry(time: .clock(second: 0), days: [1, 3, 0], action: .on).daysText == "mon,wed,sun")
    }
}
