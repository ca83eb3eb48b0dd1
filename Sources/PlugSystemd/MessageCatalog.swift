import PlugCore

/// `MESSAGE_ID`s of plugd's key events, by event name, as `EventName` lists them (matching
/// `systemd/plugd.catalog`, for `journalctl -x`).
public enum MessageCatalog {
    public static let ids: [String: String] = Dictionary(
        uniqueKeysWithValues: EventName.allCases.compactMap { event in
            event.messageID.map { (event.rawValue, $0) }
        })
}
