import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A TCP client below HTTP, for what URLSession cannot do: send a request head a byte at a time.
enum RawSocket {
    /// Connects to 127.0.0.1:`port`, starts a request and then sends one more header byte every 0.1 s, for at most
    /// `seconds`. Returns when the server closed the connection (seconds after connecting), or nil if it never did.
    static func trickle(port: Int, for seconds: Double) throws -> Double? {
        #if canImport(Glibc)
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        let noSignal = Int32(MSG_NOSIGNAL)
        #else
        let descriptor = socket(AF_INET, SOCK_STREAM, 0)
        let noSignal: Int32 = 0
        var on: Int32 = 1
        setsockopt(descriptor, SOL_SOCKET, SO_NOSIGPIPE, &on, socklen_t(MemoryLayout<Int32>.size))
        #endif
        guard descriptor >= 0 else { throw POSIXError(.EIO) }
        defer { close(descriptor) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { throw POSIXError(.ECONNREFUSED) }
        let start = Date()
        let head = Array("POST /v1/completions HTTP/1.1\r\nHost: 127.0.0.1\r\n".utf8)
        guard send(descriptor, head, head.count, noSignal) == head.count else { throw POSIXError(.EIO) }
        let trickle = Array("X-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa".utf8)
        var index = 0
        while Date().timeIntervalSince(start) < seconds {
            var poller = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
            if poll(&poller, 1, 100) > 0 {
                var buffer = [UInt8](repeating: 0, count: 512)
                // End of stream (0) or a reset (-1): the server closed the connection.
                if recv(descriptor, &buffer, buffer.count, 0) <= 0 { return Date().timeIntervalSince(start) }
            }
            let byte = [trickle[index % trickle.count]]
            if send(descriptor, byte, 1, noSignal) < 0 { return Date().timeIntervalSince(start) }
            index += 1
        }
        return nil
    }
}
