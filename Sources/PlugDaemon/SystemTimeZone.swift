#if canImport(Glibc)
import Glibc
#endif
import PlugCore

/// The system's time zone (`TZ`, else /etc/localtime) through the C library: the offset from
/// UTC in force at an instant, which is all `LocalTime` needs. `reload()` reads the zone again
/// (after the clock was set, or at an administrator's change of /etc/localtime).
public struct SystemTimeZone: LocalTime {
    public init() {}

    public func utcOffset(at unix: Int64) -> Int {
        var t = time_t(unix)
        var parts = tm()
        guard localtime_r(&t, &parts) != nil else { return 0 }
        return Int(parts.tm_gmtoff)
    }

    /// Reads the zone again (glibc's `localtime_r` does not look at it after the first call).
    public static func reload() { tzset() }
}
