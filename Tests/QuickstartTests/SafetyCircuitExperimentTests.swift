import Foundation
import XCTest
@testable import Quickstart

/// The safety-circuit experiment at test size: a helpful-only model trained briefly from scratch (250 steps), a prompt
/// probe trained on its training intents, measured on held-out intents it never saw. Measured on 2026-12-04 (seed 1,
/// AVX-512 path): held-out AUROC 0.743 (0.522 after 100 steps: an untrained model's hidden states do not generalise
/// across intents), so 0.6 leaves a margin; 61 s in a debug build (104 s while other jobs loaded the 2 cores).
final class SafetyCircuitExperimentTests: XCTestCase {
    func testPromptProbeSeparatesHeldOutHarmfulIntents() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("charter-safety-circuit-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let started = Date()
        let results = try await SafetyCircuitRun(name: "test", configuration: .test, seeds: [1], directory: directory).run { _ in }
        print("safety circuit at test size: \(Int(Date().timeIntervalSince(started))) s")
        print(SafetyCircuitReport.table(results))
        let seed = try XCTUnwrap(results.seeds.first)
        XCTAssertNil(seed.circuits)
        XCTAssertEqual(Set(seed.promptHeldOutAUROCByPosition.keys), ["last", "mean"])
        XCTAssertGreaterThan(seed.promptHeldOutAUROC, 0.6)
    }
}
