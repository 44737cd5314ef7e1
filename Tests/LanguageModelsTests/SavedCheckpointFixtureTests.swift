import Foundation
import XCTest
@testable import LanguageModels
import SafeTensors
import Tensors

/// Folders written by Charter that transformers must load with identical logits. The folders and Charter's
/// logits are committed in Fixtures/charter_saved; Fixtures/charter_saved/verify_with_transformers.py loads them
/// with transformers and compares. This test checks that Charter still writes exactly those files.
/// Regenerate with CHARTER_WRITE_FIXTURES=1 swift test --filter SavedCheckpointFixtureTests.
final class SavedCheckpointFixtureTests: XCTestCase {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")
    static let cases: [(source: String, name: String, dtype: SafeTensorsDType, shard: Int)] = [
        ("llama_gqa", "llama_gqa_f32", .float32, 5_000_000_000),
        ("llama_tied_bf16", "llama_tied_bf16", .bfloat16, 5_000_000_000),
        ("qwen2", "qwen2_sharded", .float32, 60_000),
        ("gpt2", "gpt2_f32", .float32, 5_000_000_000),
    ]
    static let ids: [Int32] = [1, 17, 42, 5, 88, 23, 61, 9]

    func testCharterWritesTheCommittedFolders() throws {
        let regenerate = ProcessInfo.processInfo.environment["CHARTER_WRITE_FIXTURES"] == "1"
        for item in Self.cases {
            var model = try PretrainedModel.load(directory: Self.fixtures.appendingPathComponent("checkpoints/\(item.source)"))
            let temporary = FileManager.default.temporaryDirectory.appendingPathComponent("charter-saved-\(UUID().uuidString)")
            defer { try? FileManager.default.removeItem(at: temporary) }
            if item.dtype == .bfloat16 {
                // Reload the BF16 save so the recorded logits are those of the weights as stored.
                try PretrainedModel.save(model, to: temporary, dtype: .bfloat16)
                model = try PretrainedModel.load(directory: temporary)
            }
            let written = temporary.appendingPathComponent(item.name)
            try PretrainedModel.save(model, to: written, dtype: item.dtype, maximumShardSize: item.shard)
            let logits = withoutGradients { model.forward(ModelInput(ids: Self.ids, batch: 1, time: Self.ids.count), cache: nil).logits }
            let record = try JSONSerialization.data(withJSONObject: ["ids": Self.ids.map(Int.init), "shape": logits.shape, "logits": logits.scalars.map(Double.init)])
            try record.write(to: written.appendingPathComponent("charter_logits.json"))
            let committed = Self.fixtures.appendingPathComponent("charter_saved/\(item.name)")
            if regenerate {
                try? FileManager.default.removeItem(at: committed)
                try FileManager.default.copyItem(at: written, to: committed)
                continue
            }
            let names = try FileManager.default.contentsOfDirectory(atPath: written.path).sorted()
            XCTAssertEqual(names, try FileManager.default.contentsOfDirectory(atPath: committed.path).sorted(), item.name)
            for name in names where name != "charter_logits.json" {
                XCTAssertEqual(try Data(contentsOf: written.appendingPathComponent(name)), try Data(contentsOf: committed.appendingPathComponent(name)),
                               "\(item.name)/\(name) differs from the committed file that transformers was checked against")
            }
        }
    }
}
