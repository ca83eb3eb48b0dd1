import CSystemd
import PlugPOSIX

/// Which board plugd runs on, so that a state directory copied to another board (a cloned SD
/// card, the usual way makers build their next plug) is recognised: that plug becomes a new
/// device instead of fighting the original for its identity on the MQTT broker.
///
/// In order: the board's serial number from the device tree (every Raspberry Pi has one, burnt
/// into the SoC, and it survives a copied card), else `/etc/machine-id` (set at first boot; a
/// card copied after its first boot shares it, so set `state.board_id` on such boards). The
/// machine id is not stored as it is (machine-id(5) asks to keep it private) but as plugd's
/// application-specific id derived from it (`sd_id128_get_machine_app_specific`).
public enum BoardIdentity {
    /// The device-tree serial-number files, the first that exists is used.
    /// (/sys first: the unit's ProcSubset=pid hides /proc/device-tree.)
    static let serialFiles = ["/sys/firmware/devicetree/base/serial-number", "/proc/device-tree/serial-number"]
    /// plugd's application id for `sd_id128_get_machine_app_specific` (never change it).
    static let applicationID: [UInt8] = [
        0xf4, 0xcc, 0x74, 0x39, 0xb9, 0x32, 0x4d, 0x0c,
        0xac, 0x45, 0x54, 0xe1, 0x9d, 0x91, 0x6a, 0x31,
    ]

    /// `serial:<serial>`, `machine-id:<32 hex digits>`, or `nil` when the board has neither.
    /// - Parameter configured: `state.board_id` from the config, which wins (`config:<value>`).
    public static func current(configured: String? = nil) -> String? {
        if let configured { return "config:" + configured }
        for file in serialFiles {
            if let bytes = try? SmallFile.read(file, limit: 256), let serial = printable(bytes) { return "serial:" + serial }
        }
        return machineAppSpecific().map { "machine-id:" + $0 }
    }

    /// A device-tree string property: NUL-terminated; `nil` if empty or not plain ASCII.
    static func printable(_ bytes: [UInt8]) -> String? {
        let text = bytes.prefix { $0 != 0 }
        guard !text.isEmpty, text.allSatisfy({ (0x21...0x7e).contains($0) }) else { return nil }
        return String(decoding: text, as: UTF8.self)
    }

    static func machineAppSpecific() -> String? {
        var app = sd_id128_t()
        withUnsafeMutableBytes(of: &app.bytes) { $0.copyBytes(from: applicationID) }
        var id = sd_id128_t()
        guard sd_id128_get_machine_app_specific(app, &id) == 0 else { return nil }
        return withUnsafeBytes(of: id.bytes) { $0.map { String($0, radix: 16).leftPadded(to: 2) }.joined() }
    }
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
