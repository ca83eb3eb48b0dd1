// swift-tools-version: 6.0
//
// plugd — smart-plug firmware for Linux boards.
//
// The targets are layered so the architecture is visible from this file:
//
//   CLinux      Linux declarations Swift's Glibc module lacks (ppoll, pthread_setname_np,
//               sem_clockwait, the GPIO uAPI v2 ioctls).
//   PlugPOSIX   plugd's one thin POSIX layer, with a typed errno: the one poll() wait (EINTR
//               handled there), the wake-up pipe and stop signals of every thread that sleeps in
//               it, PlugThread and Semaphore (no Foundation Thread, no Dispatch), the state
//               store's file calls, path checks and Unix-socket addresses.
//   PlugCore    pure logic: button gestures, LED patterns, the plug state machine. No I/O.
//   PlugGPIO    the GPIO abstraction and an in-memory simulated backend.
//   CGPIOD      libgpiod's C API (system library, Debian libgpiod-dev).
//   PlugLibgpiod  the real GPIO backend on libgpiod: one skeleton, and an adapter for the v1 or
//               the v2 API, whichever is installed.
//   CTOMLDocument toml++ (Debian libtomlplusplus-dev, header-only) behind a small C interface.
//   PlugConfig  the config file (TOML): parsed by toml++, read through one table of keys (ConfigKeys).
//   CJansson    Jansson's C API (system library, Debian libjansson-dev): a strict JSON parser and writer.
//   PlugJSON    a JSON value read and written by Jansson; JSONObject reads members, naming a wrong one.
//   PlugStore   the state directory: atomic writes, reset-pending marker, corrupt files set aside.
//   PlugProtocol  the control socket's JSON messages (shared by plugd and plugctl).
//   PlugSystemd   sd_notify, the fd store that keeps the relay's line through restarts, the
//                 journal: native entries (libsystemd) or <N> lines on stderr, and the board's
//                 identity the state is bound to.
//   PlugMQTT    the MQTT conversation as pure logic: topics, Home Assistant discovery, commands, backoff.
//   CMosquitto  libmosquitto's C API (Debian libmosquitto-dev's header), the library opened with
//               dlopen only when [mqtt] is set: a plug without MQTT never maps it or libssl.
//   PlugMosquitto the MQTT client on libmosquitto, on its own thread (the edge).
//   PlugDaemon  the runtime that wires core + GPIO + state + clock together (the edges).
//   plugd       the daemon executable (`plugd --simulate` runs it on the simulated backend).
//   plugctl     the control tool.
//   CSodium     libsodium's C API (Debian libsodium-dev): Argon2id password hashes, HMAC, random bytes.
//   PlugWeb     the HTTP API and web page as one function from request to response: routes,
//               sessions, CSRF, login limits. No I/O: plugd is reached through a closure.
//   CMicroHTTPD GNU libmicrohttpd's C API (Debian libmicrohttpd-dev), with wrappers for its
//               variadic calls.
//   plugd-web   the web page's process: libmicrohttpd at the edge, socket-activated, exits when idle.
//   PlugTestSupport  what tests share and nothing ships: ManualClock.
import Foundation
import PackageDescription

/// The libgpiod API to build against, from the installed library's version (pkg-config, which
/// honours PKG_CONFIG_PATH): 2.x (Debian 13, Raspberry Pi OS on Trixie) builds the v2 backend,
/// anything else the v1 backend (Debian 12's 1.6). Nobody edits a file to choose.
func libgpiodMajorVersion() -> Int {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    p.arguments = ["pkg-config", "--modversion", "libgpiod"]
    let out = Pipe()
    p.standardOutput = out
    p.standardError = FileHandle.nullDevice
    guard (try? p.run()) != nil else { return 1 }
    p.waitUntilExit()
    let version = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    return Int(version.split(separator: ".").first ?? "") ?? 1
}
let gpiodV2 = libgpiodMajorVersion() >= 2

/// How the shipped executables are linked (release builds on Linux, whoever builds them:
/// scripts/install, scripts/package-deb, scripts/build-arm64, scripts/bench): by lld, with the
/// relative relocations packed (DT_RELR). A position-independent plugd with the Swift runtime
/// linked in carries 39,000 relative relocations; as RELA entries (940 KB) the dynamic linker
/// reads every page of them at each start, as RELR they are 7.5 KB. Natively that took RSS from
/// 16.6 to 14.1 MiB (docs/benchmarks.md). DT_RELR needs glibc 2.36: Debian 12, Raspberry Pi OS
/// bookworm, and later.
///
/// And libstdc++ (toml++ and the Swift runtime need it) linked statically: only the code plugd
/// uses, 0.5 MB, instead of mapping the shared library's 1.1 MB. SwiftPM and the Swift driver
/// name `-lstdc++` themselves, so packaging/link holds a `libstdc++.so` that is a linker script
/// (`INPUT(-l:libstdc++.a)`) found first on the library path. And no exported symbols
/// (packaging/link/no-exports.map): 0.3 MB less for the dynamic linker to read at start.
let releaseLinking: [LinkerSetting] = [
    .unsafeFlags(
        [
            "-use-ld=lld", "-Xlinker", "-z", "-Xlinker", "pack-relative-relocs",
            "-L\(Context.packageDirectory)/packaging/link",
            "-Xlinker", "--version-script=\(Context.packageDirectory)/packaging/link/no-exports.map",
        ], .when(platforms: [.linux], configuration: .release))
]

let package = Package(
    name: "plugd",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "plugd", targets: ["plugd"]),
        .executable(name: "plugctl", targets: ["plugctl"]),
        .executable(name: "plugd-web", targets: ["plugd-web"]),
        .library(name: "PlugCore", targets: ["PlugCore"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0")
    ],
    targets: [
        .target(name: "PlugCore"),
        .systemLibrary(name: "CLinux"),
        .target(name: "PlugPOSIX", dependencies: ["CLinux"]),
        .target(name: "PlugGPIO", dependencies: ["PlugCore", "PlugPOSIX"]),
        .systemLibrary(name: "CGPIOD", pkgConfig: "libgpiod", providers: [.apt(["libgpiod-dev"])]),
        .target(
            name: "PlugLibgpiod", dependencies: ["CGPIOD", "CLinux", "PlugGPIO", "PlugCore", "PlugPOSIX"],
            swiftSettings: gpiodV2 ? [.define("GPIOD_V2")] : []),
        .target(
            name: "PlugStore",
            dependencies: ["PlugCore", "PlugPOSIX", "PlugJSON"]
        ),
        .systemLibrary(name: "CJansson", pkgConfig: "jansson", providers: [.apt(["libjansson-dev"])]),
        .target(name: "PlugJSON", dependencies: ["CJansson"]),
        .target(name: "PlugProtocol", dependencies: ["PlugCore", "PlugJSON", "PlugPOSIX"]),
        .systemLibrary(name: "CSystemd", pkgConfig: "libsystemd", providers: [.apt(["libsystemd-dev"])]),
        .target(
            name: "PlugSystemd",
            dependencies: ["CSystemd", "PlugCore", "PlugGPIO", "PlugPOSIX"]
        ),
        .target(name: "PlugMQTT", dependencies: ["PlugCore", "PlugJSON"]),
        .target(name: "CMosquitto"),
        .target(name: "PlugMosquitto", dependencies: ["CMosquitto", "PlugMQTT", "PlugCore", "PlugPOSIX"]),
        .target(name: "CTOMLDocument"),
        .target(name: "PlugConfig", dependencies: ["CTOMLDocument", "PlugCore", "PlugGPIO", "PlugMQTT", "PlugPOSIX"]),
        .target(
            name: "PlugDaemon",
            dependencies: [
                "PlugCore", "PlugGPIO", "PlugStore", "PlugProtocol", "PlugMQTT", "PlugPOSIX",
            ]
        ),
        .executableTarget(
            name: "plugd",
            dependencies: [
                "PlugDaemon", "PlugCore", "PlugGPIO", "PlugStore", "PlugLibgpiod", "PlugConfig",
                "PlugSystemd", "PlugProtocol", "PlugMQTT", "PlugMosquitto", "PlugPOSIX",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            linkerSettings: releaseLinking
        ),
        .executableTarget(
            name: "plugctl",
            dependencies: [
                "PlugCore", "PlugPOSIX", "PlugProtocol", "PlugWeb", .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            linkerSettings: releaseLinking
        ),
        .systemLibrary(name: "CSodium", pkgConfig: "libsodium", providers: [.apt(["libsodium-dev"])]),
        .target(name: "PlugWeb", dependencies: ["CSodium", "PlugCore", "PlugJSON", "PlugPOSIX", "PlugProtocol"]),
        .systemLibrary(name: "CMicroHTTPD", pkgConfig: "libmicrohttpd", providers: [.apt(["libmicrohttpd-dev"])]),
        .executableTarget(
            name: "plugd-web",
            dependencies: [
                "CMicroHTTPD", "CSystemd", "PlugWeb", "PlugCore", "PlugJSON", "PlugPOSIX", "PlugProtocol",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            linkerSettings: releaseLinking
        ),
        .target(name: "PlugTestSupport", dependencies: ["PlugCore"]),
        .testTarget(name: "PlugCoreTests", dependencies: ["PlugCore"]),
        .testTarget(name: "PlugConfigTests", dependencies: ["PlugConfig", "PlugCore", "PlugGPIO", "PlugMQTT", "PlugProtocol", "PlugDaemon"]),
        .testTarget(name: "PlugMQTTTests", dependencies: ["PlugMQTT", "PlugCore"]),
        .testTarget(name: "PlugGPIOTests", dependencies: ["PlugGPIO", "PlugCore"]),
        .testTarget(name: "PlugStoreTests", dependencies: ["PlugStore", "PlugCore"]),
        .testTarget(
            name: "PlugLibgpiodTests", dependencies: ["PlugLibgpiod", "PlugGPIO"],
            swiftSettings: gpiodV2 ? [.define("GPIOD_V2")] : []),
        .testTarget(
            name: "PlugDaemonTests",
            dependencies: [
                "PlugDaemon", "PlugCore", "PlugGPIO", "PlugStore", "PlugProtocol", "PlugPOSIX",
                "PlugTestSupport",
            ]),
        .testTarget(name: "PlugSystemdTests", dependencies: ["PlugSystemd", "PlugCore", "PlugPOSIX"]),
        .testTarget(name: "PlugPOSIXTests", dependencies: ["PlugPOSIX"]),
        .testTarget(name: "PlugJSONTests", dependencies: ["PlugJSON", "PlugProtocol", "PlugStore", "PlugCore"]),
        .testTarget(name: "PlugMosquittoTests", dependencies: ["PlugMosquitto", "CMosquitto"]),
        .testTarget(name: "PlugWebTests", dependencies: ["PlugWeb", "PlugCore", "PlugJSON", "PlugProtocol"]),
    ],
    cxxLanguageStandard: .cxx17
)
