import Testing
@testable import PlugCore

@Suite struct CivilDateTests {
    @Test func knownDates() {
        #expect(CivilDate(daysSinceEpoch: 0) == CivilDate(year: 1970, month: 1, day: 1))
        #expect(CivilDate(year: 2000, month: 3, day: 1).daysSinceEpoch == 11_017)
        #expect(CivilDate(year: 2024, month: 2, day: 29).daysSinceEpoch == 19_782)
        #expect(CivilDate(daysSinceEpoch: -1) == CivilDate(year: 1969, month: 12, day: 31))
        #expect(CivilDate(year: 2026, month: 11, day: 29).weekday == 0) // a Sunday
        #expect(CivilDate(year: 1970, month: 1, day: 1).weekday == 4) // a Thursday
        #expect(CivilDate(year: 1969, month: 12, day: 28).weekday == 0)
        #expect(CivilDate(year: 2024, month: 12, day: 31).ordinal == 366)
        #expect(CivilDate(year: 2026, month: 3, day: 1).ordinal == 60)
    }

    @Test func everyDayOfFourCenturiesRoundTrips() {
        var previous = CivilDate(daysSinceEpoch: -73_049)
        for d in -73_048...73_048 {
            let c = CivilDate(daysSinceEpoch: d)
            #expect(c.daysSinceEpoch == d)
            #expect(c > previous && (c.weekday == (previous.weekday + 1) % 7))
            previous = c
            if c.daysSinceEpoch != d { return }
        }
    }

    @Test func iso8601() {
        #expect(CivilDate.iso8601(unixSeconds: 0) == "1970-01-01T00:00:00Z")
        #expect(CivilDate.iso8601(unixSeconds: 1_795_849_200) == "2026-11-28T07:00:00Z")
        #expect(CivilDate.iso8601(unixSeconds: -1) == "1969-12-31T23:59:59Z")
        #expect(CivilDate.iso8601(unixSeconds: 951_782_400) == "2000-02-29T00:00:00Z")
    }
}
