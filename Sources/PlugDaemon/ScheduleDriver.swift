#if canImport(Glibc)
import Glibc
#endif
import PlugCore
import PlugPOSIX

/// The schedules' edge: the wall clock, whether it is synchronised, the system's time zone, and
/// the timer that wakes the run loop for the next run or when the clock is set. The decisions
/// are `Scheduler`'s; this only reads and arms.
public final class ScheduleDriver {
    public private(set) var scheduler: Scheduler
    let timer: RealtimeTimer
    let zone = SystemTimeZone()
    /// The file systemd-timesyncd creates once it has synchronised the clock.
    let syncFile: String
    /// Only `syncFile` counts, not the kernel's word (tests name a file of their own).
    let fileOnly: Bool

    /// The descriptor the run loop polls.
    public var fd: Int32 { timer.fd }

    public static let timesyncFile = "/run/systemd/timesync/synchronized"

    /// - Parameters:
    ///   - seen: `PlugState.scheduleSeen`.
    ///   - syncFile: `PLUGD_TIMESYNC_FILE` if set (then only it counts), else timesyncd's file.
    public init(schedule: Schedule, seen: Int64?, syncFile: String? = nil) throws(Errno) {
        scheduler = Scheduler(schedule: schedule, seen: seen)
        timer = try RealtimeTimer()
        self.syncFile = syncFile ?? Self.timesyncFile
        fileOnly = syncFile != nil
    }

    /// Whether the clock can be trusted: timesyncd's file, or the kernel's synchronised flag
    /// (chrony, ntpd; not readable under the unit's `ProtectClock=`).
    public var synchronized: Bool {
        access(syncFile, F_OK) == 0 || (!fileOnly && RealtimeTimer.kernelSynchronized() == true)
    }

    /// Works the schedules out at the wall clock's time now, arms the timer for the next
    /// update, and returns the machine's input (if anything runs or moved) and the entries to log.
    public func update() -> (input: PlugMachine.Input?, logs: [PlugEvent]) {
        let out = scheduler.update(now: Int64(WallClock.unixNow.components.seconds), synchronized: synchronized, zone: zone)
        var logs = out.logs
        do {
            try timer.arm(at: out.wake)
        } catch {
            logs.append(PlugEvent(.scheduleWaiting, "Cannot arm the schedules' timer: \(error)", priority: .error))
        }
        let input: PlugMachine.Input? = out.runs.isEmpty && out.seen == nil ? nil : .schedule(runs: out.runs, seen: out.seen)
        return (input, logs)
    }

    /// The timer's descriptor is readable: its instant came, or the clock was set.
    public func woke() -> (input: PlugMachine.Input?, logs: [PlugEvent]) {
        if timer.read() == .clockSet { SystemTimeZone.reload() }
        return update()
    }

    /// The next runs for `plugctl status` and `plugctl schedule`.
    public func upcoming(_ count: Int) -> [String] { scheduler.upcoming(count, zone: zone) }
}
