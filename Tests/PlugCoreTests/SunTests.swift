import Testing
@testable import PlugCore

/// Sunrise and sunset against published tables, within a minute (the tables are rounded to the
/// minute, so a computed time within 60 s of the printed minute).
@Suite struct SunTests {
    /// One row of a published table: the place, the local date, the local times printed
    /// (hours, minutes), and the table's offset from UTC.
    struct Row: Sendable, CustomTestStringConvertible {
        var source: String
        var place: Sun.Place
        var date: CivilDate
        var utcOffsetMinutes: Int
        var rise: (Int, Int)
        /// `nil` where the table gives only sunrise.
        var set: (Int, Int)?
        /// The set is printed past midnight, on the next date.
        var setNextDay = false
        var testDescription: String { "\(source) \(date)" }
    }

    static let tromso = Sun.Place(latitude: 69.5, longitude: 19.0) // as the table gives it
    static let rows: [Row] =
        [
            // U.S. Naval Observatory, "Sun and Moon Data for One Day", Tromsø (E19.0, N69.5), UT+1.
            Row(source: "USNO Tromsø", place: tromso, date: CivilDate(year: 2014, month: 4, day: 1), utcOffsetMinutes: 60, rise: (4, 50), set: (18, 49)),
            Row(source: "USNO Tromsø", place: tromso, date: CivilDate(year: 2014, month: 4, day: 30), utcOffsetMinutes: 60, rise: (2, 29), set: (20, 58)),
            // The sun sets for less than an hour: rise at 00:29 local (the evening before in UTC).
            Row(source: "USNO Tromsø", place: tromso, date: CivilDate(year: 2014, month: 5, day: 17), utcOffsetMinutes: 60, rise: (0, 29), set: (23, 6)),
            // Astronomy Answers (aa.quae.nl), "Time of Sunrise for Days and Latitudes", 2002-01-01, on
            // the prime meridian (local time = UTC): from a northern winter to a southern summer.
        ]
        + [(50.0, (7, 59)), (40, (7, 22)), (0, (6, 0)), (-40, (4, 35)), (-64, (1, 43))].map { latitude, rise in
            Row(
                source: "Astronomy Answers, latitude \(latitude)", place: Sun.Place(latitude: latitude, longitude: 0),
                date: CivilDate(year: 2002, month: 1, day: 1), utcOffsetMinutes: 0, rise: rise, set: nil)
        }

    @Test(arguments: rows)
    func withinAMinuteOfThePublishedTable(row: Row) {
        func expected(_ hm: (Int, Int), nextDay: Bool) -> Int64 {
            Int64(row.date.daysSinceEpoch + (nextDay ? 1 : 0)) * 86400 + Int64(hm.0 * 3600 + hm.1 * 60 - row.utcOffsetMinutes * 60)
        }
        for (rising, hm, nextDay) in [(true, row.rise, false)] + (row.set.map { [(false, $0, row.setNextDay)] } ?? []) {
            guard case .at(let t) = Sun.event(rising: rising, on: row.date, at: row.place) else {
                Issue.record("\(rising ? "sunrise" : "sunset"): none computed")
                continue
            }
            let error = t - expected(hm, nextDay: nextDay)
            #expect(abs(error) <= 60, "\(rising ? "sunrise" : "sunset") off by \(error) s")
        }
    }

    @Test func polarDayAndPolarNight() {
        // Tromsø: the sun does not set from 19 May to 24 July, nor rise from late November to
        // mid January (USNO: it rises at 00:13 on 18 May and sets again at 23:20 on 25 July).
        let midsummer = CivilDate(year: 2014, month: 6, day: 21), midwinter = CivilDate(year: 2014, month: 12, day: 21)
        #expect(Sun.event(rising: true, on: midsummer, at: Self.tromso) == .alwaysUp)
        #expect(Sun.event(rising: false, on: midsummer, at: Self.tromso) == .alwaysUp)
        #expect(Sun.event(rising: true, on: midwinter, at: Self.tromso) == .alwaysDown)
        #expect(Sun.event(rising: false, on: midwinter, at: Self.tromso) == .alwaysDown)
        // The poles and the equator do not break it.
        #expect(Sun.event(rising: true, on: midsummer, at: Sun.Place(latitude: 90, longitude: 0)) == .alwaysUp)
        #expect(Sun.event(rising: true, on: midsummer, at: Sun.Place(latitude: -90, longitude: 0)) == .alwaysDown)
        guard case .at(let rise) = Sun.event(rising: true, on: midsummer, at: Sun.Place(latitude: 0, longitude: 0)),
            case .at(let set) = Sun.event(rising: false, on: midsummer, at: Sun.Place(latitude: 0, longitude: 0))
        else { return #expect(Bool(false)) }
        #expect(abs((set - rise) - 12 * 3600 - 7 * 60) < 120) // about 12 h 7 min at the equator
    }

    @Test func theSouthernHemisphereHasItsLongDayInDecember() {
        let sydney = Sun.Place(latitude: -33.87, longitude: 151.21)
        func length(_ d: CivilDate) -> Int64 {
            guard case .at(let r) = Sun.event(rising: true, on: d, at: sydney), case .at(let s) = Sun.event(rising: false, on: d, at: sydney) else { return 0 }
            return s - r
        }
        #expect(length(CivilDate(year: 2026, month: 12, day: 21)) > length(CivilDate(year: 2026, month: 6, day: 21)) + 4 * 3600)
    }
}
