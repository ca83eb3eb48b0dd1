/// The exit codes of `plugd` and `plugctl` (sysexits.h where one fits) and what each means: the
/// one table that their `--help` text is made from and that the README and docs/behaviour.md
/// are checked against.
public enum ExitStatus {
    /// plugd: stopped by SIGTERM or SIGINT, the pending state written.
    public static let stopped: Int32 = 0
    /// A command line that does not parse (ArgumentParser's validation error).
    public static let usage: Int32 = 64
    /// plugd: a GPIO chip or line cannot be had. plugctl: plugd cannot be reached.
    public static let unavailable: Int32 = 69
    /// plugd: the state directory or the control socket cannot be created.
    public static let cannotCreate: Int32 = 73
    /// plugd: the config file is invalid.
    public static let config: Int32 = 78
    /// plugctl: the daemon refused the request.
    public static let refused: Int32 = 1

    /// plugd's codes, in order, with their meaning.
    public static let plugd: [(code: Int32, meaning: String)] = [
        (stopped, "stopped"), (usage, "usage"),
        (unavailable, "GPIO unavailable (chip missing, line busy, permission)"),
        (cannotCreate, "state directory or control socket cannot be created"), (config, "bad config"),
    ]

    /// plugctl's codes, in order, with their meaning.
    public static let plugctl: [(code: Int32, meaning: String)] = [
        (0, "done"), (refused, "the daemon refused (the reason is printed)"),
        (unavailable, "cannot reach plugd, or it closed the connection (for watch: plugd stopped)"),
    ]

    /// "Exit codes: 0 stopped, 64 usage, …" for a `--help` text.
    public static func summary(_ table: [(code: Int32, meaning: String)]) -> String {
        "Exit codes: " + table.map { "\($0.code) \($0.meaning)" }.joined(separator: ", ") + "."
    }
}
