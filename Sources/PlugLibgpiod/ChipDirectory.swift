#if canImport(Glibc)
import Glibc
#endif
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import PlugGPIO
import PlugPOSIX

/// The GPIO chip devices in `/dev`, for both libgpiod backends: each chip once (Raspberry Pi OS
/// adds a `/dev/gpiochip4` symlink to the Pi 5's `gpiochip0`), in number order.
enum ChipDirectory {
    /// Lists `gpiochip*` entries of `directory` and asks `probe` about each real device path:
    /// a chip, or the errno of opening it. Chips that cannot be opened for lack of permission
    /// are listed as unreadable; other failures (not a GPIO chip) are skipped.
    static func list(_ directory: String = "/dev", probe: (String) -> Result<GPIOChipInfo, Errno>) -> GPIOChipListing {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        var seen = Set<String>()
        var listing = GPIOChipListing(chips: [])
        for entry in entries.filter({ $0.hasPrefix("gpiochip") }).sorted(by: numberOrder) {
            guard let real = realpath(directory + "/" + entry, nil) else { continue }
            let path = String(cString: real)
            free(real)
            guard seen.insert(path).inserted else { continue }
            switch probe(path) {
            case .success(let chip): listing.chips.append(chip)
            case .failure(let e) where e.rawValue == EACCES || e.rawValue == EPERM: listing.unreadable.append(entry)
            case .failure: continue
            }
        }
        return listing
    }

    /// gpiochip2 before gpiochip10.
    static func numberOrder(_ a: String, _ b: String) -> Bool {
        let (na, nb) = (Int(a.dropFirst(8)) ?? Int.max, Int(b.dropFirst(8)) ?? Int.max)
        return na != nb ? na < nb : a < b
    }
}
