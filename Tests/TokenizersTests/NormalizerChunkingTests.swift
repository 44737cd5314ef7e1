import Foundation
import Runtime
import XCTest

@testable import Tokenizers

/// Unicode normalization of long texts runs a few kilobytes at a time (Foundation's is quadratic on Linux);
/// the result must be exactly Foundation's on the whole text.
final class NormalizerChunkingTests: XCTestCase {
    static let forms: [(String, (String) -> String)] = [
        ("NFC", { $0.precomposedStringWithCanonicalMapping }), ("NFD", { $0.decomposedStringWithCanonicalMapping }),
        ("NFKC", { $0.precomposedStringWithCompatibilityMapping }), ("NFKD", { $0.decomposedStringWithCompatibilityMapping }),
    ]

    /// Checks the boundary rule against Foundation for every scalar: a boundary's canonical and compatibility
    /// decompositions start with a starter that is never the second part of a canonical composition.
    func testBoundaryRuleHoldsForEveryScalar() {
        // Starters that appear after the first position of a decomposition combine backward.
        var backward = Set<UInt32>((0x1161...0x1175).map { $0 } + (0x11A8...0x11C2).map { $0 })
        for value in 0...0x10FFFF where !(0xAC00...0xD7A3).contains(value) {
            guard let scalar = Unicode.Scalar(value), scalar.properties.generalCategory != .unassigned else { continue }
            for part in String(scalar).decomposedStringWithCanonicalMapping.unicodeScalars.dropFirst()
            where part.properties.canonicalCombiningClass == .notReordered {
                backward.insert(part.value)
            }
        }
        var wrong: [String] = []
        for value in 0...0x10FFFF {
            guard let scalar = Unicode.Scalar(value), ![.unassigned, .privateUse].contains(scalar.properties.generalCategory),
                Normalizer.isNormalizationBoundary(scalar)
            else { continue }
            for form in [String(scalar).decomposedStringWithCanonicalMapping, String(scalar).decomposedStringWithCompatibilityMapping] {
                guard let first = form.unicodeScalars.first else { continue }
                if first.properties.canonicalCombiningClass != .notReordered || backward.contains(first.value) {
                    wrong.append(String(value, radix: 16))
                }
            }
        }
        XCTAssertEqual(wrong, [], "scalars wrongly treated as normalization boundaries")
    }

    func testChunkedNormalizationEqualsWholeText() {
        // Starters, combining marks in non-canonical order, Hangul jamo, Tibetan, halfwidth kana and compatibility forms.
        let pool: [String] = ["a", "e\u{301}", "\u{301}", "\u{323}", "\u{301}\u{323}", "é", "ﬁ", "Å", "\u{212B}", " ", "\u{1100}",
                              "\u{1161}", "\u{11A8}", "각", "\u{3131}", "\u{314F}", "\u{FFA1}", "\u{FFC2}", "\u{0F40}", "\u{0F71}",
                              "\u{0F73}", "\u{0FB5}", "ｶ", "\u{FF9E}", "\u{0B47}", "\u{0B3E}", "\u{0DD9}", "\u{0DCF}", "①", "日本"]
        var generator = SplitMix64(seed: 17)
        for trial in 0..<6 {
            // Long runs without ASCII too, so the cuts fall on non-ASCII boundaries.
            let source = trial % 2 == 0 ? pool : pool.filter { !$0.unicodeScalars.contains { $0.isASCII } }
            let text = (0..<6_000).map { _ in source.randomElement(using: &generator) ?? "" }.joined()
            XCTAssertGreaterThan(text.utf8.count, 4 * Normalizer.normalizationChunkLength)
            for (name, form) in NormalizerChunkingTests.forms {
                let chunked = Normalizer.normalizeInChunks(text, form)
                XCTAssertTrue(chunked.utf8.elementsEqual(form(text).utf8), "\(name), trial \(trial)")
            }
        }
    }

    /// 1 M "é" (2 MB) without an ASCII character. Whole-text NFD in a debug build: 1.35 s for 256 K "é", 5.5 s for 512 K.
    func testTwoMegabytesNormalizeQuickly() {
        let precomposed = String(repeating: "é", count: 1 << 20)
        let decomposed = String(repeating: "e\u{301}", count: 1 << 20)
        for (name, normalizer, text) in [("NFD", Normalizer.nfd, precomposed), ("NFKD", .nfkd, precomposed),
                                         ("NFC", .nfc, decomposed), ("NFKC", .nfkc, decomposed)] {
            let started = Date()
            let output = normalizer(text)
            let seconds = Date().timeIntervalSince(started)
            XCTAssertLessThan(seconds, 8, "\(name) of 2 MB took \(seconds) s")
            XCTAssertEqual(output.unicodeScalars.count, name.hasSuffix("D") ? 2 << 20 : 1 << 20, name)
        }
    }
}
