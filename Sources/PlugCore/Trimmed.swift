extension StringProtocol {
    /// Without white space (new lines included) at either end, as `trimmingCharacters(in:
    /// .whitespacesAndNewlines)` does in full Foundation, which plugd does not load.
    public var trimmed: String {
        let s = self[...].drop(while: \.isWhitespace)
        return String(s[..<(s.lastIndex(where: { !$0.isWhitespace }).map(s.index(after:)) ?? s.startIndex)])
    }
}
