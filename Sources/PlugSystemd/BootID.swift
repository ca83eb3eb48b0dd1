#if canImport(Glibc)
import Glibc
#endif
import PlugPOSIX

/// Which boot this is (the kernel's boot id), against which a saved countdown is read: the
/// monotonic clock goes on through a restart of plugd, not through a reboot.
///
/// Under systemd the unit passes it (`Environment=PLUGD_BOOT_ID=%b`), because the unit's
/// `ProcSubset=pid` hides /proc/sys; elsewhere (the terminal simulator, a shell) it is read from
/// /proc/sys/kernel/random/boot_id. Empty when neither is there: a countdown then lasts across
/// starts as if they were all one boot.
public enum BootID {
    static let variable = "PLUGD_BOOT_ID"
    static let file = "/proc/sys/kernel/random/boot_id"

    public static var current: String {
        if let value = getenv(variable).map({ String(cString: $0) }), !value.isEmpty { return normalized(value) }
        if let bytes = try? SmallFile.read(file, limit: 64) { return normalized(String(decoding: bytes, as: UTF8.self)) }
        return ""
    }

    /// The id without dashes or surrounding space, in lower case (systemd's `%b` has no dashes,
    /// the /proc file has them).
    static func normalized(_ text: String) -> String {
        String(text.lowercased().filter { $0.isHexDigit })
    }
}
