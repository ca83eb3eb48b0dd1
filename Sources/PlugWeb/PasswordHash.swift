import CSodium

/// The web page's password, stored as an Argon2id hash in libsodium's string form
/// (`$argon2id$v=19$m=16384,t=3,p=1$…`): what `plugctl web-password` writes and plugd-web checks.
/// 16 MiB and three passes: 24 ms on the x86_64 build machine (docs/benchmarks.md), several
/// times that on a Pi's cores, and memory a 512 MB board can spare for the moment of a login
/// (plugd-web checks one login at a time).
public enum PasswordHash {
    /// Passes over memory (libsodium's opslimit).
    public static let passes = 3
    /// Memory per hash, in bytes (libsodium's memlimit).
    public static let memory = 16 << 20
    /// The shortest password `plugctl web-password` takes.
    public static let shortest = 8
    /// The longest: a request body is at most 4 KiB, and no one types more.
    public static let longest = 256

    /// `password` hashed with a fresh random salt; `nil` if libsodium cannot (out of memory).
    public static func make(_ password: String) -> String? {
        guard sodium_init() >= 0 else { return nil }
        var out = [CChar](repeating: 0, count: Int(crypto_pwhash_STRBYTES))
        let r = password.withCString { crypto_pwhash_str(&out, $0, UInt64(password.utf8.count), UInt64(passes), memory) }
        guard r == 0 else { return nil }
        return String(decoding: out.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Whether `password` is the one `hash` was made from (in constant time).
    public static func verify(_ password: String, hash: String) -> Bool {
        guard sodium_init() >= 0, password.utf8.count <= longest else { return false }
        return password.withCString { crypto_pwhash_str_verify(hash, $0, UInt64(password.utf8.count)) == 0 }
    }

    /// Whether `text` looks like a hash this type makes (a password file that is not one is
    /// refused, not compared).
    public static func isHash(_ text: String) -> Bool { text.hasPrefix("$argon2id$") && text.utf8.count < Int(crypto_pwhash_STRBYTES) }
}
