import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A minimal HTTP/1.1 client for the web-app tests (collective constitutions, annotation) over a loopback socket, so tests see exactly what a browser would get: no redirects
/// followed, no cookie store, every header sent as written.
public struct TestHTTPClient {
    public let port: Int

    public init(port: Int) { self.port = port }

    public struct Reply {
        public var status: Int
        /// Header values by lowercased name (the last of repeated names).
        public var headers: [String: String]
        public var body: String
        public func header(_ name: String) -> String? { headers[name.lowercased()] }
        /// The value a `Set-Cookie` header gives `name`.
        public func cookie(_ name: String) -> String? {
            guard let header = header("set-cookie"), header.hasPrefix("\(name)=") else { return nil }
            return String(header.dropFirst(name.count + 1).prefix { $0 != ";" })
        }
    }

    public func send(_ method: String, _ path: String, headers: [(String, String)] = [], body: String? = nil) throws -> Reply {
        var head = "\(method) \(path) HTTP/1.1\r\nConnection: close\r\n"
        if !headers.contains(where: { $0.0.lowercased() == "host" }) { head += "Host: 127.0.0.1:\(port)\r\n" }
        for (name, value) in headers { head += "\(name): \(value)\r\n" }
        if let body { head += "Content-Length: \(body.utf8.count)\r\n" }
        let request = Array((head + "\r\n" + (body ?? "")).utf8)

        let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard socket >= 0 else { throw POSIXError(.EIO) }
        defer { close(socket) }
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(socket, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { throw POSIXError(.ECONNREFUSED) }
        var sent = 0
        while sent < request.count {
            let written = request[sent...].withUnsafeBytes { write(socket, $0.baseAddress, $0.count) }
            // The server may answer (413) and close before reading everything; stop sending then.
            if written <= 0 { break }
            sent += written
        }
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = read(socket, &buffer, buffer.count)
            if count <= 0 { break }
            received += buffer[0..<count]
        }
        let text = String(decoding: received, as: UTF8.self)
        guard let split = text.range(of: "\r\n\r\n") else { throw POSIXError(.EBADMSG) }
        let lines = text[..<split.lowerBound].components(separatedBy: "\r\n")
        let status = Int(lines[0].split(separator: " ")[1]) ?? 0
        var headers: [String: String] = [:]
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        return Reply(status: status, headers: headers, body: String(text[split.upperBound...]))
    }

    /// A form post as a browser on this origin sends it.
    public func post(_ path: String, _ fields: [(String, String)], cookie: String?, origin: String? = nil) throws -> Reply {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        let body = fields.map { "\($0.0)=\($0.1.addingPercentEncoding(withAllowedCharacters: allowed) ?? "")" }.joined(separator: "&")
        var headers = [("Content-Type", "application/x-www-form-urlencoded"), ("Origin", origin ?? "http://127.0.0.1:\(port)")]
        if let cookie { headers.append(("Cookie", cookie)) }
        return try send("POST", path, headers: headers, body: body)
    }

    public func get(_ path: String, cookie: String? = nil) throws -> Reply {
        try send("GET", path, headers: cookie.map { [("Cookie", $0)] } ?? [])
    }
}
