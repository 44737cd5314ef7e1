import Hummingbird
import Logging
import NIOCore

/// How every Charter web app serves its router: HTTP/1.1 on `host:port` (port 0: any free port), a 30-second idle
/// timeout, warnings-only logging, and the bound port reported once listening.
public enum WebServer {
    /// - Parameters:
    ///   - label: the logger's label (`charter.annotate`, `charter.collect`).
    ///   - onListening: called with the port the server listens on.
    public static func application(router: Router<BasicRequestContext>, host: String, port: Int, label: String,
                                   onListening: @escaping @Sendable (Int) async -> Void) -> some ApplicationProtocol {
        var logger = Logger(label: label)
        logger.logLevel = .warning
        return Application(
            router: router,
            server: .http1(configuration: .init(idleTimeout: .seconds(30))),
            configuration: .init(address: .hostname(host, port: port), serverName: "charter"),
            onServerRunning: { channel in await onListening(channel.localAddress?.port ?? -1) },
            logger: logger)
    }
}
