#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import PlugPOSIX
import PlugProtocol
import PlugWeb

/// `plugd-web`: the plug's web page and HTTP API, a process apart from plugd. systemd starts it
/// when someone connects to its port (plugd-web.socket) and it exits when nobody has been
/// connected for `--idle-exit`: a plug nobody browses pays nothing for it. It reaches plugd
/// through the control socket, as plugctl does. This file only wires the parts and waits.
@main
struct PlugdWeb: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plugd-web",
        abstract: "Serve the plug's web page and HTTP API (normally started by plugd-web.socket).",
        discussion: "The API is described in /usr/share/doc/plugd/openapi.json.",
        version: plugdVersion)

    @Option(help: "plugd's control socket.")
    var socket = ControlProtocol.defaultSocket

    @Option(help: ArgumentHelp("Listen on this address when systemd passes no socket.", valueName: "address:port"))
    var listen = "127.0.0.1:8080"

    @Option(help: "The password's hash, as `plugctl web-password` writes it.")
    var passwordFile = WebFiles.defaultPasswordFile

    @Option(help: "Where the session secret and the logged-out sessions are kept (both outlive plugd-web's exits).")
    var stateDir = "/var/lib/plugd-web"

    @Option(help: ArgumentHelp("Exit after this many seconds with no connection open (0: never).", valueName: "seconds"))
    var idleExit = 120

    @Option(help: ArgumentHelp("How long a login lasts.", valueName: "hours"))
    var sessionHours = 12

    func validate() throws {
        guard idleExit >= 0 else { throw ValidationError("--idle-exit takes 0 (never) or more seconds") }
        guard (1...24 * 30).contains(sessionHours) else { throw ValidationError("--session-hours takes 1 to 720") }
    }

    func run() throws {
        signal(SIGPIPE, SIG_IGN)
        let listenFD: Int32
        if let passed = ListenSocket.fromSystemd() {
            listenFD = passed
        } else {
            do { listenFD = try ListenSocket.listen(on: listen) } catch {
                log(3, "\(error)")
                throw ExitCode(ExitStatus.unavailable)
            }
        }
        let secret: [UInt8]
        if let kept = WebFiles.sessionSecret(in: stateDir) {
            secret = kept
        } else {
            log(4, "cannot keep a session secret in \(stateDir): logins end when plugd-web exits")
            secret = SessionSigner.randomBytes(32)
        }
        let passwordFile = passwordFile
        let socket = socket
        let api = WebAPI(
            control: { (request: ControlRequestMessage) throws(ControlClientError) -> ControlReply in
                let connection: ControlConnection
                do { connection = try ControlConnection(socket: socket, timeout: Duration.seconds(10)) } catch let e as Errno {
                    throw .io("cannot connect to", e)
                } catch { throw .unreadable }
                return try connection.send(request).0
            },
            passwordHash: {
                do { return try WebFiles.passwordHash(passwordFile) } catch {
                    log(3, "password file \(passwordFile) \(error): changes are refused")
                    return nil
                }
            },
            secret: secret, sessionLifetime: Int64(sessionHours) * 3600, loggedOut: WebFiles.loggedOut(in: stateDir),
            keepLoggedOut: { [stateDir] sessions in
                do { try WebFiles.keepLoggedOut(sessions, in: stateDir) } catch {
                    log(4, "cannot keep the logged-out sessions in \(stateDir): \(error); they are refused until plugd-web exits")
                }
            })
        let server = HTTPServer(api: api, controlSocket: socket)
        guard server.start(listenFD: listenFD) else {
            log(3, "cannot start the HTTP server")
            throw ExitCode(ExitStatus.unavailable)
        }
        // Wait: for ever while connections are open, then until one opens or the idle time
        // passes with none.
        while true {
            if server.connections > 0 {
                server.changed.wait()
            } else if idleExit == 0 {
                server.changed.wait()
            } else if !server.changed.wait(timeout: .seconds(idleExit)), server.connections == 0 {
                break
            }
        }
        server.stop()
    }
}
