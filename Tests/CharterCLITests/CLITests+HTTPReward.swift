import Foundation
#if canImport(Glibc)
import Glibc
#endif
import XCTest

/// `--reward http://…`: a loopback server (plain sockets, in this process) answers each POST {"rollouts": [...]}
/// with {"rewards": [...]} (a conversational prompt's rollouts carry its messages, as TRL passes them); a server
/// that answers HTTP 500 stops training with an error naming the URL and status.
extension CLITests {
    /// Serves `count` connections on 127.0.0.1 with `respond` (request body → status and response body); returns the
    /// port. Each request's parsed body is appended to `bodies`.
    final class LoopbackServer: @unchecked Sendable {
        let socket: Int32
        let port: UInt16
        private let lock = NSLock()
        private var received: [[String: Any]] = []
        var bodies: [[String: Any]] { lock.lock(); defer { lock.unlock() }; return received }

        init(respond: @escaping @Sendable ([String: Any]) -> (Int, String)) throws {
            let descriptor = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            address.sin_port = 0
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            let bound = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, length) } }
            guard bound == 0, listen(descriptor, 8) == 0 else { throw NSError(domain: "LoopbackServer", code: Int(errno)) }
            _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) } }
            port = UInt16(bigEndian: address.sin_port)
            socket = descriptor
            let listening = descriptor
            Thread.detachNewThread { [self] in
                while true {
                    let connection = accept(listening, nil, nil)
                    guard connection >= 0 else { return }
                    var data = Data()
                    var buffer = [UInt8](repeating: 0, count: 65_536)
                    while true {
                        let count = read(connection, &buffer, buffer.count)
                        if count <= 0 { break }
                        data.append(contentsOf: buffer[0..<count])
                        if let headerEnd = data.range(of: Data("\r\n\r\n".utf8)) {
                            let header = String(decoding: data[..<headerEnd.lowerBound], as: UTF8.self).lowercased()
                            let length = header.split(separator: "\r\n").first { $0.hasPrefix("content-length:") }
                                .flatMap { Int($0.dropFirst("content-length:".count).trimmingCharacters(in: .whitespaces)) } ?? 0
                            if data.count - headerEnd.upperBound >= length {
                                let body = (try? JSONSerialization.jsonObject(with: data[headerEnd.upperBound...])) as? [String: Any] ?? [:]
                                lock.lock(); received.append(body); lock.unlock()
                                let (status, text) = respond(body)
                                let reply = "HTTP/1.1 \(status) X\r\nContent-Type: application/json\r\nContent-Length: \(text.utf8.count)\r\nConnection: close\r\n\r\n\(text)"
                                _ = reply.withCString { Glibc.write(connection, $0, strlen($0)) }
                                break
                            }
                        }
                    }
                    close(connection)
                }
            }
        }

        deinit { shutdown(socket, Int32(SHUT_RDWR)); close(socket) }
    }

    func testHTTPRewardPostsRolloutsAndReadsRewards() throws {
        let policy = Self.repository.appendingPathComponent("Tests/AlignmentTests/Fixtures/trl/policy").path
        let prompts = try write((0..<2).map { #"{"prompt": "\#($0)+1=", "answer": \#($0 + 1)}"# }, to: "sums.jsonl")
        let server = try LoopbackServer { body in
            let count = (body["rollouts"] as? [Any])?.count ?? 0
            return (200, #"{"rewards": ["# + Array(repeating: "0.25", count: count).joined(separator: ",") + "]}")
        }
        let (status, printed, errors) = try charter(["grpo", "--model", policy, "--dataset", prompts, "--reward", "http://127.0.0.1:\(server.port)/score",
                                                    "--num-generations", "2", "--batch-size", "4", "--max-completion-length", "2",
                                                    "--max-steps", "1", "--output-dir", folder.appendingPathComponent("http").path])
        XCTAssertEqual(status, 0, errors)
        let metrics = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(printed.utf8)) as? [String: Double], printed)
        XCTAssertEqual(metrics["rewards/http/mean"], 0.25, printed)
        let rollouts = try XCTUnwrap(server.bodies.first?["rollouts"] as? [[String: Any]])
        XCTAssertEqual(rollouts.count, 4, "one generation batch: 2 prompts × 2 completions")
        XCTAssertNotNil(rollouts.first?["completion_ids"] as? [Int])
        XCTAssertEqual(rollouts.first?["answer"] as? Int, rollouts.first?["prompt"] as? String == "0+1=" ? 1 : 2, "the row's columns travel along")

        // Conversational prompts arrive as TRL passes them to reward functions: messages in, an assistant message out.
        let chats = try write((0..<2).map { #"{"prompt": [{"role": "user", "content": "\#($0)+1="}], "answer": \#($0 + 1)}"# }, to: "chats.jsonl")
        let (chatStatus, _, chatErrors) = try charter(["grpo", "--model", policy, "--dataset", chats, "--reward", "http://127.0.0.1:\(server.port)/score",
                                                       "--num-generations", "2", "--batch-size", "4", "--max-completion-length", "2",
                                                       "--max-steps", "1", "--output-dir", folder.appendingPathComponent("http-chat").path])
        XCTAssertEqual(chatStatus, 0, chatErrors)
        let chatRollouts = try XCTUnwrap(server.bodies.last?["rollouts"] as? [[String: Any]])
        let prompt = try XCTUnwrap(chatRollouts.first?["prompt"] as? [[String: String]], "\(chatRollouts)")
        XCTAssertEqual(prompt.count, 1)
        XCTAssertEqual(prompt.first?["role"], "user")
        XCTAssertTrue(["0+1=", "1+1="].contains(prompt.first?["content"] ?? ""), "\(prompt)")
        let completion = try XCTUnwrap(chatRollouts.first?["completion"] as? [[String: String]], "\(chatRollouts)")
        XCTAssertEqual(completion.map { $0["role"] }, ["assistant"])

        let failing = try LoopbackServer { _ in (500, "{}") }
        let (failed, _, failure) = try charter(["grpo", "--model", policy, "--dataset", prompts, "--reward", "http://127.0.0.1:\(failing.port)/score",
                                                "--num-generations", "2", "--batch-size", "4", "--max-completion-length", "2",
                                                "--max-steps", "1", "--output-dir", folder.appendingPathComponent("http-500").path])
        XCTAssertNotEqual(failed, 0)
        XCTAssertTrue(failure.contains("answered HTTP 500"), failure)
    }
}
