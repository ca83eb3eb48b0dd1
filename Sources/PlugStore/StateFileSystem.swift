/// The primitive operations the state store performs on its directory, one durable step each.
///
/// `PosixStateFileSystem` does them for real; tests substitute a disk model that loses whatever
/// was not synced at a simulated power cut, to prove that every sequence of steps the store
/// performs leaves old-or-new state behind.
public protocol StateFileSystem: AnyObject {
    /// The file's contents, or `nil` if it does not exist.
    func read(_ name: String) throws -> [UInt8]?
    /// Creates (or truncates) the file and writes `bytes` to it, without syncing.
    func write(_ name: String, _ bytes: [UInt8]) throws
    /// Flushes the file's data to stable storage (`fsync`).
    func syncFile(_ name: String) throws
    /// Atomically replaces `to` with `from` (`rename`).
    func rename(_ from: String, to: String) throws
    /// Removes the file if it exists.
    func remove(_ name: String) throws
    /// Flushes the directory's entries (creations, renames, removals) to stable storage.
    func syncDirectory() throws
    /// The names in the directory (no `.` or `..`).
    func list() throws -> [String]
}

/// A failure of the state directory, naming the file and the system's reason.
public struct StateStoreError: Error, CustomStringConvertible, Equatable {
    public var operation: String
    public var path: String
    public var reason: String

    public init(_ operation: String, _ path: String, _ reason: String) {
        self.operation = operation
        self.path = path
        self.reason = reason
    }

    public var description: String { "\(operation) \(path): \(reason)" }
}
