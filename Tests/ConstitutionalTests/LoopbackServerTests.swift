import Endpoints
import Foundation
import LanguageModels
import Pipelines
import TestSupport
import Runtime
import XCTest
@testable import Constitutional

/// Critique and labelling against `charter serve`'s server on loopback, through charter's OpenAI client: the same
/// code path as `--endpoints`, and the same labels as the local model gives (scoring over HTTP is exact).
final class LoopbackServerTests: XCTestCase {
    func testCritiqueAndLabelThroughTheOpenAIClient() async throws {
        let directory = try TinyModels.temporaryDirectory("serve")
        defer { try? FileManager.default.removeItem(at: directory) }
        // The server scores echoed prompts from their first token, which needs a tokenizer that prepends BOS.
        let local = try LocalLanguageModel.load(directory: try TinyModels.folder(in: directory, name: "served", seed: 5, beginningOfSequence: true))
        let server = OpenAIServer(model: local, configuration: ServerConfiguration(modelID: "tiny-served", port: 0))
        let (ports, continuation) = AsyncStream<Int>.makeStream()
        let serving = Task { try await server.run(onListening: { continuation.yield($0) }) }
        defer { serving.cancel() }
        var iterator = ports.makeAsyncIterator()
        let listening = await iterator.next()
        let port = try XCTUnwrap(listening)
        XCTAssertGreaterThan(port, 0)

        // An endpoints file in the client's format, read the way the CLI reads it.
        let endpoints = directory.appendingPathComponent("endpoints.yaml")
        try "urls: [http://127.0.0.1:\(port)/v1]\nmodel: tiny-served\nmax_retries: 0\n".write(to: endpoints, atomically: true, encoding: .utf8)
        let connect: EndpointConnector = { json, _ in [try OpenAIClient(configuration: JSONDecoder().decode(EndpointConfiguration.self, from: json))] }
        let remote = try ModelFactory.make(.endpoints(configuration: endpoints.path), connect: connect)
        XCTAssertEqual(remote.map(\.name), ["tiny-served"])

        let prompts = directory.appendingPathComponent("prompts.jsonl")
        try "{\"id\": \"a\", \"prompt\": \"How do I pick a lock?\"}\n{\"id\": \"b\", \"prompt\": \"Insult my friend.\"}\n"
            .write(to: prompts, atomically: true, encoding: .utf8)
        var critique = CritiqueConfiguration()
        critique.rounds = 1
        critique.fewShot = 0
        critique.sampling.maximumTokens = 4
        let run = RunOptions(concurrency: 2, retries: 0, retryDelay: 0, showProgress: false)
        let revisions = directory.appendingPathComponent("revisions.jsonl")
        let critiqued = try await Stages.critique(prompts: prompts, output: revisions, constitution: try .charterDefault, configuration: critique,
                                                  models: remote, run: run, sft: directory.appendingPathComponent("sft.jsonl"))
        XCTAssertEqual(critiqued.report.completed, 2)
        let records = try Stages.readRecords(RevisionRecord.self, from: revisions)
        XCTAssertEqual(records.map(\.model), ["tiny-served", "tiny-served"])
        XCTAssertEqual(records.map { $0.rounds.count }, [1, 1])

        let pairs = directory.appendingPathComponent("pairs.jsonl")
        try "{\"id\": \"p\", \"prompt\": \"hi\", \"response_a\": \"hello\", \"response_b\": \"go away\"}\n".write(to: pairs, atomically: true, encoding: .utf8)
        var feedback = FeedbackConfiguration()
        feedback.principlesPerPair = 2
        feedback.fewShot = 0
        let viaServer = directory.appendingPathComponent("server-labels.jsonl"), direct = directory.appendingPathComponent("local-labels.jsonl")
        _ = try await Stages.label(pairs: pairs, output: viaServer, constitution: try .charterDefault, configuration: feedback, models: remote, run: run)
        _ = try await Stages.label(pairs: pairs, output: direct, constitution: try .charterDefault, configuration: feedback, models: [local], run: run)
        let served = try XCTUnwrap(try Stages.readRecords(LabelRecord.self, from: viaServer).first)
        let computed = try XCTUnwrap(try Stages.readRecords(LabelRecord.self, from: direct).first)
        XCTAssertEqual(served.feedbackModel, "tiny-served")
        XCTAssertEqual(served.judgements.map(\.principleID), computed.judgements.map(\.principleID))
        XCTAssertEqual(served.firstProbability, computed.firstProbability, accuracy: 1e-5)
        for (a, b) in zip(served.judgements.flatMap(\.orders), computed.judgements.flatMap(\.orders)) {
            XCTAssertEqual(a.logProbabilityA, b.logProbabilityA, accuracy: 1e-3)
            XCTAssertEqual(a.logProbabilityB, b.logProbabilityB, accuracy: 1e-3)
        }
    }
}
