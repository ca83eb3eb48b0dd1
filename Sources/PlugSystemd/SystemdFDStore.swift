#if canImport(Glibc)
import Glibc
#endif
import CSystemd
import PlugGPIO

/// systemd's file-descriptor store as a `LineKeeper`: plugd hands the relay's line request to
/// systemd (`FDSTORE=1`, `FDNAME=relay`; the unit needs `FileDescriptorStoreMax=`), and systemd
/// passes it back on the next start (`LISTEN_FDS`, `LISTEN_FDNAMES`). systemd keeps the store
/// while the unit restarts (`systemctl restart`, a crash or watchdog kill with `Restart=`, a
/// package upgrade's restart) and closes it when the unit stops, which releases the line.
///
/// Not started by systemd (`$NOTIFY_SOCKET` unset), nothing is handed back or kept.
public final class SystemdFDStore: LineKeeper {
    private var handedBack: [String: Int32]

    /// Takes the descriptors systemd passed to this start, by name; descriptors nobody asks
    /// for are closed by `closeUnclaimed()`.
    public init() {
        var names: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?
        let n = sd_listen_fds_with_names(1, &names)
        var passed: [String: Int32] = [:]
        if n > 0 {
            for i in 0..<Int(n) {
                let name = names?[i].map { String(cString: $0) } ?? "unknown"
                passed[name] = SD_LISTEN_FDS_START + Int32(i)
                free(names?[i])
            }
        }
        free(names)
        handedBack = passed
    }

    /// The names of the descriptors systemd passed that have not been taken back yet.
    public var unclaimed: [String] { handedBack.keys.sorted() }

    public func takeBack(_ name: String) -> KeptRequest? {
        handedBack.removeValue(forKey: name).map { KeptRequest(fd: $0) }
    }

    @discardableResult public func keep(_ request: KeptRequest, as name: String) -> Bool {
        var fd = request.fd
        return sd_pid_notify_with_fds(0, 0, "FDSTORE=1\nFDNAME=\(name)", &fd, 1) > 0
    }

    public func forget(_ name: String) {
        _ = sd_notify(0, "FDSTOREREMOVE=1\nFDNAME=\(name)")
    }

    /// Closes and removes from the store what this run did not ask for (a name an older plugd
    /// kept), so nothing stays held by mistake.
    public func closeUnclaimed() {
        for (name, fd) in handedBack {
            close(fd)
            forget(name)
        }
        handedBack = [:]
    }
}
