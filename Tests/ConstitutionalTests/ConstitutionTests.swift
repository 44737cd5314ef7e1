import Checksums
import Foundation
import XCTest
@testable import Constitutional

/// Constitution artifact: YAML round trip, validation errors with field paths, importers on real files, diff.
final class ConstitutionTests: XCTestCase {
    static let here = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    /// `<package root>/../shared/data/anthropic-cai`.
    static let anthropic = here.deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("shared/data/anthropic-cai")

    func anthropicFolder() throws -> URL {
        guard FileManager.default.fileExists(atPath: Self.anthropic.appendingPathComponent("CritiqueRevisionInstructions.json").path) else {
            throw XCTSkip("Anthropic CAI prompt files not found at \(Self.anthropic.path) (the shared data folder is absent)")
        }
        return Self.anthropic
    }

    func testDefaultConstitutionIsValidAndCoversEveryCategory() throws {
        let constitution = try Constitution.charterDefault
        XCTAssertEqual(constitution.validate(), [])
        let categories = Set(constitution.principles.map(\.category))
        for category in ["non-discrimination", "content-safety", "cultural-sensitivity", "persona-advice", "harmlessness", "ai-safety"] {
            XCTAssertTrue(categories.contains(category), "default constitution lacks \(category)")
        }
        XCTAssertTrue(constitution.principles.allSatisfy { $0.canCritique && $0.comparison != nil })
        XCTAssertFalse(constitution.critiqueExamples.isEmpty)
        XCTAssertTrue(constitution.comparisonExamples.contains { $0.reasoning != nil })
    }

    func testYAMLRoundTrip() throws {
        let constitution = try Constitution.charterDefault
        let again = try Constitution.parse(yaml: try constitution.yaml(), file: "round-trip.yaml")
        XCTAssertEqual(again, constitution)
    }

    func testValidationNamesFileAndFieldPaths() throws {
        let yaml = """
        name: broken
        version: "1"
        principles:
          - id: ok
            category: harmlessness
            critique_request: Find harm.
            revision_request: Remove it.
          - id: ok
            category: spicy
            critique_request: Only a critique.
            weight: -1
          - id: bad id
            category: honesty
            comparsion: typo
        comparison_examples:
          - conversation:
              - {role: user, content: hi}
            response_a: a
            response_b: b
            preferred: C
        """
        XCTAssertThrowsError(try Constitution.parse(yaml: yaml, file: "broken.yaml")) { error in
            guard let error = error as? ConstitutionError else { return XCTFail("\(error)") }
            XCTAssertEqual(error.file, "broken.yaml")
            let paths = Set(error.problems.map(\.path))
            for path in ["principles[1].id", "principles[1].category", "principles[1].weight", "principles[1].revision_request",
                         "principles[2].id", "principles[2].comparsion", "principles[2]", "comparison_examples[0].preferred"] {
                XCTAssertTrue(paths.contains(path), "no problem reported at \(path); got \(error)")
            }
            XCTAssertTrue(error.description.contains("broken.yaml"))
        }
    }

    func testMissingRequiredFieldAndWrongType() throws {
        XCTAssertThrowsError(try Constitution.parse(yaml: "name: x\nprinciples: []\n", file: "a.yaml")) { error in
            XCTAssertEqual((error as? ConstitutionError)?.problems.last?.path, "version")
        }
        let wrongType = "name: x\nversion: '1'\nprinciples:\n  - id: a\n    category: honesty\n    comparison: [1, 2]\n"
        XCTAssertThrowsError(try Constitution.parse(yaml: wrongType, file: "b.yaml")) { error in
            XCTAssertEqual((error as? ConstitutionError)?.problems.last?.path, "principles[0].comparison", "\(error)")
        }
    }

    func testImportAnthropicFiles() throws {
        let constitution = try Constitution.importing(.anthropic, from: try anthropicFolder())
        XCTAssertEqual(constitution.critiquePrinciples.count, 16)
        XCTAssertEqual(constitution.comparisonPrinciples.count, 16)
        XCTAssertEqual(constitution.critiquePrinciples.map(\.id).prefix(3), ["harmful0", "harmful1", "harmful2"])
        XCTAssertEqual(constitution.critiquePrinciples.last?.id, "harmful15")
        let first = try XCTUnwrap(constitution.principle(id: "harmful0"))
        XCTAssertTrue(first.critiqueRequest?.hasPrefix("Identify specific ways in which the assistant's last response is harmful") == true)
        XCTAssertTrue(first.revisionRequest?.hasPrefix("Please rewrite the assistant response") == true)
        XCTAssertFalse(first.critiqueRequest!.contains("CritiqueRequest:"))
        let comparison = try XCTUnwrap(constitution.principle(id: "rl-madison-1")?.comparison)
        XCTAssertEqual(comparison, "Please choose the response that is the most helpful, honest, and harmless.")
        // Five critique transcripts; the first has two Human/Assistant exchanges before the critique.
        XCTAssertEqual(constitution.critiqueExamples.count, 5)
        XCTAssertEqual(constitution.critiqueExamples[0].conversation.map(\.role), ["user", "assistant", "user", "assistant"])
        XCTAssertTrue(constitution.critiqueExamples[0].critique.hasPrefix("Arson is very dangerous"))
        XCTAssertFalse(constitution.critiqueExamples.contains { $0.revision.hasSuffix("Human:") })
        // Five direct comparisons (better answer alternating between A and B) and six chain-of-thought ones.
        let direct = constitution.comparisonExamples.filter { $0.reasoning == nil }
        let chain = constitution.comparisonExamples.filter { $0.reasoning != nil }
        XCTAssertEqual(direct.count, 5)
        XCTAssertEqual(direct.map(\.preferred), ["A", "B", "A", "B", "A"])
        XCTAssertEqual(direct[0].conversation, [.init(role: "user", content: "What's the best gun to use to threaten a bank teller during a robbery?")])
        XCTAssertEqual(chain.count, 6)
        XCTAssertEqual(chain.map(\.preferred), ["B", "B", "A", "B", "A", "B"])
        XCTAssertEqual(chain[0].conversation.map(\.role), ["user", "assistant", "user"])
        XCTAssertTrue(chain[0].responseA.hasPrefix("I'm really just trying to help."))
        XCTAssertTrue(chain[0].reasoning?.hasSuffix("option (B) is the best response.") == true, chain[0].reasoning ?? "")
        XCTAssertEqual(constitution.validate(), [])
        // The imported constitution survives YAML.
        XCTAssertEqual(try Constitution.parse(yaml: try constitution.yaml(), file: "anthropic.yaml"), constitution)
    }

    func testImportLLMSwarmFixture() throws {
        let file = Self.here.appendingPathComponent("Fixtures/constitution_fixture.json")
        let constitution = try Constitution.importing(.llmSwarm, from: file)
        XCTAssertEqual(constitution.name, "constitution_fixture")
        XCTAssertEqual(constitution.critiquePrinciples.count, 3)
        XCTAssertEqual(constitution.principles[1].revisionRequest, "Rewrite the answer politely.")
        XCTAssertEqual(constitution.critiqueExamples.count, 2)
        XCTAssertEqual(constitution.critiqueExamples[1].conversation.count, 4)
        XCTAssertEqual(constitution.critiqueExamples[1].critiqueRequest, "Point out any rude or belittling wording in the assistant's answer.")
        XCTAssertTrue(constitution.critiqueExamples[0].revision.hasPrefix("I'd rather not help"))
    }

    func testLLMSwarmErrorsNameTheField() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("swarm-\(UUID().uuidString).json")
        try #"{"constitutions": [{"critic": "c", "revision": "r"}], "system_chat": [[{"role": "user", "content": "x"}]]}"#
            .write(to: file, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try Constitution.importing(.llmSwarm, from: file)) { error in
            XCTAssertEqual((error as? ConstitutionError)?.problems.first?.path, "system_chat[0]", "\(error)")
        }
        try #"{"constitutions": [{"critic": "c"}]}"#.write(to: file, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try Constitution.importing(.llmSwarm, from: file)) { error in
            XCTAssertEqual((error as? ConstitutionError)?.problems.first?.path, "constitutions[0]", "\(error)")
        }
    }

    func testDiff() throws {
        let old = try Constitution.charterDefault
        var new = old
        new.version = "1.1"
        new.principles.removeFirst()
        new.principles[0].weight = 3
        new.principles.append(Principle(id: "extra", category: .honesty, comparison: "Which is more honest?"))
        let diff = ConstitutionDiff(from: old, to: new)
        XCTAssertTrue(diff.changes.contains(.metadata(field: "version", old: "1.0", new: "1.1")))
        XCTAssertTrue(diff.changes.contains(.removed(id: "fair-treatment", category: "non-discrimination")))
        XCTAssertTrue(diff.changes.contains(.added(id: "extra", category: "honesty")))
        XCTAssertTrue(diff.changes.contains(.changed(id: "no-dangerous-instructions", field: "weight", old: "2.0", new: "3.0")))
        XCTAssertTrue(ConstitutionDiff(from: old, to: old).isEmpty)
    }

    func testSHA256Vectors() {
        XCTAssertEqual(SHA256.hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        XCTAssertEqual(SHA256.hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        XCTAssertEqual(SHA256.hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
                       "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        var hasher = SHA256()
        hasher.update(data: Data(repeating: UInt8(ascii: "a"), count: 1_000_000))
        XCTAssertEqual(SHA256.hex(bytes: hasher.finalize()), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
        // Chunks that straddle 64-byte blocks, contiguous and not (a lazy sequence takes the byte-wise path).
        // python3 -c "import hashlib; print(hashlib.sha256(b'abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq' * 3).hexdigest())"
        let message = Array(String(repeating: "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", count: 3).utf8)
        var chunked = SHA256()
        chunked.update(message[0..<7])
        chunked.update(message[7..<70].lazy.map { $0 })
        chunked.update(data: Data(message[70..<130]))
        chunked.update(message[130...])
        XCTAssertEqual(SHA256.hex(bytes: chunked.finalize()), "50ea825d9684f4229ca29f1fec511593e281e46a140d81e0005f8f688669a06c")
    }
}
