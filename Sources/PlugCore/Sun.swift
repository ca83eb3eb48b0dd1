#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Sunrise and sunset for a place and a date: NOAA's solar calculator (Jean Meeus' "Astronomical
/// Algorithms", as NOAA's spreadsheet does it), refined by evaluating the sun's position again at
/// the event itself. Pure: plain arithmetic, no clock, no time zone. Within a minute of
/// published tables at mid and high latitudes (`SunTests`).
public enum Sun {
    /// A place on Earth.
    public struct Place: Equatable, Sendable {
        /// Degrees, north positive (−90…90).
        public var latitude: Double
        /// Degrees, east positive (−180…180).
        public var longitude: Double

        public init(latitude: Double, longitude: Double) {
            self.latitude = latitude
            self.longitude = longitude
        }
    }

    /// Sunrise or sunset on one day.
    public enum Event: Equatable, Sendable {
        /// The instant, in seconds since the Unix epoch (UTC).
        case at(Int64)
        /// The sun stays above the horizon all day (polar day): no sunrise, no sunset.
        case alwaysUp
        /// The sun stays below the horizon all day (polar night).
        case alwaysDown
    }

    /// The sun's centre 0.833° below the horizon: the upper limb on it, with refraction (the
    /// definition almanacs use).
    static let horizon = -0.833

    /// The sunrise (`rising`) or sunset of the solar day around local mean noon of `date` at
    /// `place` (the day that date names there: a sunrise at 00:29 local time belongs to its
    /// date even though it is the evening before in UTC).
    public static func event(rising: Bool, on date: CivilDate, at place: Place) -> Event {
        // Local mean noon of the date, in minutes from 00:00 UTC of that date.
        var minutes = 720 - 4 * place.longitude
        for _ in 0..<3 {
            let p = position(julianCentury: julianCentury(date: date, minutesUTC: minutes))
            let cosH =
                (sin(radians(horizon)) - sin(radians(place.latitude)) * sin(p.declination))
                / (cos(radians(place.latitude)) * cos(p.declination))
            if cosH < -1 { return .alwaysUp }
            if cosH > 1 { return .alwaysDown }
            let hourAngle = degrees(acos(cosH))
            minutes = 720 - 4 * (place.longitude + (rising ? hourAngle : -hourAngle)) - p.equationOfTime
        }
        return .at(Int64(date.daysSinceEpoch) * 86400 + Int64((minutes * 60).rounded()))
    }

    /// Julian centuries since J2000.0 at `minutesUTC` after 00:00 UTC of `date`.
    static func julianCentury(date: CivilDate, minutesUTC: Double) -> Double {
        let julianDay = Double(date.daysSinceEpoch) + 2_440_587.5 + minutesUTC / 1440
        return (julianDay - 2_451_545) / 36525
    }

    /// The sun's declination (radians) and the equation of time (minutes) at `t`.
    static func position(julianCentury t: Double) -> (declination: Double, equationOfTime: Double) {
        let meanLongitude = (280.46646 + t * (36000.76983 + t * 0.0003032)).truncatingRemainder(dividingBy: 360)
        let meanAnomaly = 357.52911 + t * (35999.05029 - 0.0001537 * t)
        let eccentricity = 0.016708634 - t * (0.000042037 + 0.0000001267 * t)
        let m = radians(meanAnomaly)
        let center =
            sin(m) * (1.914602 - t * (0.004817 + 0.000014 * t)) + sin(2 * m) * (0.019993 - 0.000101 * t)
            + sin(3 * m) * 0.000289
        let trueLongitude = meanLongitude + center
        let omega = radians(125.04 - 1934.136 * t)
        let apparentLongitude = trueLongitude - 0.00569 - 0.00478 * sin(omega)
        let meanObliquity = 23 + (26 + (21.448 - t * (46.815 + t * (0.00059 - t * 0.001813))) / 60) / 60
        let obliquity = radians(meanObliquity + 0.00256 * cos(omega))
        let declination = asin(sin(obliquity) * sin(radians(apparentLongitude)))
        let y = pow(tan(obliquity / 2), 2)
        let l0 = radians(meanLongitude)
        let equationOfTime =
            4
            * degrees(
                y * sin(2 * l0) - 2 * eccentricity * sin(m) + 4 * eccentricity * y * sin(m) * cos(2 * l0)
                    - 0.5 * y * y * sin(4 * l0) - 1.25 * eccentricity * eccentricity * sin(2 * m))
        return (declination, equationOfTime)
    }

    static func radians(_ d: Double) -> Double { d * .pi / 180 }
    static func degrees(_ r: Double) -> Double { r * 180 / .pi }
}
