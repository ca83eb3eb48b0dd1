/// plugd's version: `plugd --version`, `plugctl --version`, and the .deb packages'
/// (scripts/package-deb reads it from this line).
public let plugdVersion = "0.1.0"
