#if canImport(Glibc)
import Glibc
#endif
import PlugPOSIX
import PlugGPIO

extension LibgpiodBackend {
    static func requestError(_ e: Int32, _ spec: LineSpec) -> GPIOError { requestError(e, spec.description) }

    /// The error for a failed line request's errno.
    static func requestError(_ e: Int32, _ lines: String) -> GPIOError {
        switch e {
        case EBUSY: .lineBusy(lines)
        case EACCES, EPERM: .permissionDenied(lines)
        default: .io("requesting \(lines): \(Errno(rawValue: e).description)")
        }
    }
}
