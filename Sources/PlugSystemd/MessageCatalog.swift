/// `MESSAGE_ID`s of plugd's key events, matching `systemd/plugd.catalog` (for `journalctl -x`).
/// These identifiers are stable: never change one, add new ones.
public enum MessageCatalog {
    public static let ids: [String: String] = [
        "started": "670d187110394391b7e555448f684f4c",
        "simple_reset": "8cec77fd43e74e0fb2858c628f82ecc4",
        "factory_reset_started": "a729d6a2f0a04608b185d9243ec87f4e",
        "factory_reset_complete": "9d94f66632324c17a18ead208b6867b8",
        "factory_reset_failed": "6ba536b2ffa54200afd4bb1aea5ba93b",
        "stuck_button": "b126dbd571ca478eb71a4b96ec80e0fc",
        "fault": "074e0106c1bb428b95bec4f6e0e2c955",
        "state_corrupt": "aa99c35ef1bf4461ad530027cf1d70da",
        "deregistered": "af4937b583ee41df9ed62b1806f3c7c6",
        "mqtt_unreachable": "ab56170a1ce54097824139f62b8e3f8f",
        "mqtt_disconnected": "5ed737809d974dc794bca694ff2cb809",
        "mqtt_forget_pending": "ba42dadecba54cf495cf7022ce7fc494",
        "relay_adopted": "80991dcb43624f80aa8ea60ce62e8f0e",
        "relay_flood": "4f1ea31bd6bd459a82778a5f23646795",
        "relay_not_adopted": "bb486f2c2a08434a9686b00490f05b55",
        "state_cloned": "1106b6037fac47c9874fe6493cf76001",
        "mqtt_identity_conflict": "ce9cb58cdf884fbd855d8d1d3485a7ca",
        "mqtt_publish_refused": "f2ff8a651af94c11ab0dc37422de28cb",
        "mqtt_payload_too_large": "b90ca9716a9847ba9ea3ddf408cc3a36",
        "log_suppressed": "76ea51d962374719a054f4af5cae7ed2",
    ]
}
