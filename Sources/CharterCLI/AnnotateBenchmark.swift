import Annotation
import ArgumentParser
import Datasets
import Foundation
import JSON
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// `charter bench annotate`: the labelling app at scale. Imports N synthetic pairs, records M judgements (three
/// annotators per task), then times the comparison page over loopback HTTP for a new annotator who judges between
/// requests (so every page runs the queue query and an assignment write), the dashboard once, and the export of all
/// judgements.
struct AnnotateBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "annotate",
        abstract: "Time the labelling page with N tasks in the database and the export of M judgements.")

    @Option(help: "Tasks in the database.") var tasks = 100_000
    @Option(help: "Judgements recorded before timing (three annotators per task).") var judgements = 100_000
    @Option(help: "Timed page requests.") var requests = 200
    @Option(help: "Working folder (default: a new temporary folder, removed afterwards).") var folder: String?

    func validate() throws {
        guard tasks > 0, judgements >= 0, requests > 0 else { throw ValidationError("counts must be positive") }
        guard judgements <= tasks * 3 else { throw ValidationError("--judgements can be at most 3 × --tasks (three annotators per task)") }
    }

    func run() async throws {
        guard #available(macOS 14, iOS 17, tvOS 17, *) else { throw CommandError("charter bench annotate needs macOS 14 or newer (Hummingbird 2)") }
        let directory = URL(fileURLWithPath: folder ?? NSTemporaryDirectory() + "charter-bench-annotate-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { if folder == nil { try? FileManager.default.removeItem(at: directory) } }

        // Pairs about 600 characters long, all distinct.
        let pairs = directory.appendingPathComponent("pairs.jsonl")
        let writer = try JSONLWriter(url: pairs)
        let filler = String(repeating: "The assistant explains the answer step by step with care. ", count: 4)
        for index in 0..<tasks {
            try writer.write(JSONValue.object([
                JSONValue.Member("prompt", .string("Question \(index): how should I store \(index % 97) kilograms of flour?")),
                JSONValue.Member("chosen", .string("Answer \(index), helpful. " + filler)),
                JSONValue.Member("rejected", .string("Answer \(index), curt. " + filler.prefix(120))),
            ]))
        }
        try writer.finish()
        let store = try AnnotationStore(path: directory.appendingPathComponent("labels.sqlite").path)
        var clock = ContinuousClock.now
        let imported = try store.importTasks(from: pairs)
        let importSeconds = Self.seconds(since: clock)

        // Judgements: task t by annotators t, t+1, t+2 (mod 10), strengths cycling through the scale.
        var annotators: [Int64] = []
        for index in 0..<10 { annotators.append(try store.invite("annotator \(index)").annotator.id) }
        let ids = try store.taskIDs(limit: tasks)
        var batch: [(annotator: Int64, judgement: Judgement)] = []
        for index in 0..<judgements {
            let task = index / 3, annotator = annotators[(task + index % 3) % 10]
            let strength = [2, 1, 0, -1, 1, 2, -2][(index * 7 + task) % 7]
            let judgement = index % 11 == 5
                ? Judgement(taskID: ids[task], verdict: .bothBad, reasons: [.unhelpful])
                : Judgement(taskID: ids[task], verdict: strength == 0 ? .tie : .prefer, strength: strength, rationale: "bench")
            batch.append((annotator, judgement))
        }
        clock = .now
        try store.recordInBulk(batch)
        let recordSeconds = Self.seconds(since: clock)

        // The page, over HTTP, for a new annotator judging between requests.
        let (token, reader) = try store.invite("timed reader")
        let (ports, continuation) = AsyncStream<Int>.makeStream()
        var configuration = AnnotationServer.Configuration()
        configuration.port = 0
        configuration.overlap = 3
        let server = AnnotationServer(store: store, configuration: configuration)
        Task { try await server.application { continuation.yield($0) }.run() }
        var iterator = ports.makeAsyncIterator()
        guard let port = await iterator.next() else { throw CommandError("the in-process server did not start") }
        let session = URLSession(configuration: .ephemeral)
        guard let labelURL = URL(string: "http://127.0.0.1:\(port)/label"), let adminURL = URL(string: "http://127.0.0.1:\(port)/admin") else {
            throw CommandError("no URL for port \(port)")
        }
        var request = URLRequest(url: labelURL)
        request.setValue("charter_annotate=\(token)", forHTTPHeaderField: "Cookie")
        var latencies: [Double] = []
        for index in 0...requests {
            clock = .now
            let (data, response) = try await session.data(for: request)
            let elapsed = Self.seconds(since: clock)
            guard (response as? HTTPURLResponse)?.statusCode == 200, let page = String(data: data, encoding: .utf8),
                  let start = page.range(of: "name=\"task\" value=\"") else {
                throw CommandError("the page request failed: \(response)")
            }
            if index > 0 { latencies.append(elapsed) }  // the first warms the connection and the caches
            let task = String(page[start.upperBound...].prefix { $0 != "\"" })
            _ = try store.record(Judgement(taskID: task, verdict: .prefer, strength: 1), annotator: reader.id)
        }
        latencies.sort()

        // The dashboard computes its statistics from every judgement on each request.
        let (adminToken, _) = try store.invite("timed admin", role: .admin)
        var dashboard = URLRequest(url: adminURL)
        dashboard.setValue("charter_annotate=\(adminToken)", forHTTPHeaderField: "Cookie")
        clock = .now
        let (_, dashboardResponse) = try await session.data(for: dashboard)
        let dashboardSeconds = Self.seconds(since: clock)
        guard (dashboardResponse as? HTTPURLResponse)?.statusCode == 200 else { throw CommandError("the dashboard request failed: \(dashboardResponse)") }

        clock = .now
        let aggregated = try LabelExport().write(store, to: directory.appendingPathComponent("prefs.jsonl"))
        let exportSeconds = Self.seconds(since: clock)
        clock = .now
        let perAnnotator = try LabelExport(perAnnotator: true).write(store, to: directory.appendingPathComponent("labels.jsonl"))
        let perAnnotatorSeconds = Self.seconds(since: clock)

        print("tasks \(imported.added) (import \(String(format: "%.2f", importSeconds)) s), judgements \(judgements) (bulk insert \(String(format: "%.2f", recordSeconds)) s)")
        print(String(format: "GET /label (%d requests, a judgement between each): median %.1f ms, p95 %.1f ms, max %.1f ms",
                     latencies.count, latencies[latencies.count / 2] * 1000, latencies[min(latencies.count - 1, latencies.count * 95 / 100)] * 1000,
                     (latencies.last ?? 0) * 1000))
        print(String(format: "GET /admin (dashboard statistics over all judgements, once): %.2f s", dashboardSeconds))
        print(String(format: "export of %d judgements: %d task lines in %.2f s; per-annotator %d lines in %.2f s",
                     judgements + requests + 1, aggregated.written, exportSeconds, perAnnotator.written, perAnnotatorSeconds))
    }

    static func seconds(since start: ContinuousClock.Instant) -> Double {
        let duration = ContinuousClock.now - start
        return Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }
}
