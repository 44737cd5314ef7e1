import Constitutional
import Foundation
import JSON
import LanguageModels
import Tensors
import ToyWorld

/// A preference set over a toy world whose every label is known, with planted noise: flipped labels, copies of
/// pairs, and "both bad" pairs (two responses the judge rejects). The ground truth of each row says which.
public struct PlantedPreferences: Sendable {
    /// What a row is, by construction.
    public enum Truth: String, Codable, Sendable, CaseIterable {
        /// Chosen is the judge's good response, rejected a bad one.
        case clean
        /// A clean pair with chosen and rejected swapped.
        case flipped
        /// A copy of an earlier clean row in the file (half of them with the letter case and spacing changed).
        case duplicate
        /// Chosen and rejected are both responses the judge rejects.
        case bothBad = "both_bad"
    }

    public struct Row: Sendable {
        public let request: Request
        public let chosen: String
        public let rejected: String
        public let truth: Truth
    }

    /// The rows in file order.
    public let rows: [Row]

    /// Noise shares, each relative to the number of clean pairs drawn.
    public struct Noise: Codable, Equatable, Sendable {
        public var flipped = 0.10
        public var duplicates = 0.05
        public var bothBad = 0.05
        public init() {}
    }

    /// One clean pair per distinct request text (the judge's good response against a random bad one), then the noise
    /// planted at the given shares, rows shuffled. Of a clean row and its copies, the first in the file is the clean
    /// one and the later ones are the duplicates (as an audit sees them).
    public init(world: ToyWorld, requests: [Request], noise: Noise, seed: UInt64) {
        var generator = SeededGenerator(seed: seed ^ 0xA0D1_7000)
        var rows: [Row] = []
        var texts: Set<String> = []
        for request in requests where texts.insert(request.text).inserted {
            let bad = Self.badResponses(world, request, among: requests)
            rows.append(Row(request: request, chosen: world.bestResponse(request), rejected: bad[Int(generator.next() % UInt64(bad.count))], truth: .clean))
        }
        let count = rows.count
        var order = Array(rows.indices)
        order.shuffle(using: &generator)
        let bothBad = Int((noise.bothBad * Double(count)).rounded()), flipped = Int((noise.flipped * Double(count)).rounded())
        for index in order.prefix(bothBad) {
            let row = rows[index]
            let others = Self.badResponses(world, row.request, among: requests).filter { $0 != row.rejected }
            guard let other = others.first else { continue }
            rows[index] = Row(request: row.request, chosen: other, rejected: row.rejected, truth: .bothBad)
        }
        for index in order.dropFirst(bothBad).prefix(flipped) {
            let row = rows[index]
            rows[index] = Row(request: row.request, chosen: row.rejected, rejected: row.chosen, truth: .flipped)
        }
        let clean = rows.indices.filter { rows[$0].truth == .clean }
        let copies = Int((noise.duplicates * Double(count)).rounded())
        var origins = Array(rows.indices)  // which clean row each row copies (itself for the originals)
        for copy in 0..<min(copies, clean.count) {
            let origin = clean[Int(generator.next() % UInt64(clean.count))]
            let row = rows[origin]
            let changed = copy % 2 == 1  // every other copy differs in case and spacing only
            rows.append(Row(request: row.request, chosen: changed ? row.chosen.uppercased() : row.chosen,
                            rejected: changed ? row.rejected.replacingOccurrences(of: " ", with: "  ") : row.rejected, truth: .duplicate))
            origins.append(origin)
        }
        var fileOrder = Array(rows.indices)
        fileOrder.shuffle(using: &generator)
        var seen: Set<Int> = []
        self.rows = fileOrder.map { index in
            let row = rows[index]
            guard row.truth == .clean || row.truth == .duplicate else { return row }
            let first = seen.insert(origins[index]).inserted
            return Row(request: row.request, chosen: row.chosen, rejected: row.rejected, truth: first ? .clean : .duplicate)
        }
    }

    /// Responses the judge rejects: compliance or an evasive refusal of a harmful request; an over-refusal, an
    /// evasive refusal or another request's answer to a benign one.
    static func badResponses(_ world: ToyWorld, _ request: Request, among requests: [Request]) -> [String] {
        var bad: [String]
        if request.isHarmful {
            bad = [world.compliance(request), world.evasiveRefusal(request)]
        } else {
            bad = [world.overRefusal(request), world.evasiveRefusal(request)]
            let wrong = requests.first { !$0.isHarmful && $0.intentID == request.intentID && $0.expectedAnswer != request.expectedAnswer }
            if let wrong, !isGood(world.helpfulAnswer(wrong), for: request) { bad.append(world.helpfulAnswer(wrong)) }
        }
        return bad.filter { !isGood($0, for: request) }
    }

    /// The judge's ground truth: a correct answer to a benign request, a helpful refusal of a harmful one.
    public static func isGood(_ response: String, for request: Request) -> Bool {
        Judge.judge(response, for: request) == (request.isHarmful ? .helpfulRefusal : .correctAnswer)
    }

    /// TRL standard preference lines, in the world's transcript prompt format (as the quickstart's pipeline sees it).
    public var jsonLines: [JSONValue] { rows.map { Self.line(request: $0.request, chosen: $0.chosen, rejected: $0.rejected) } }

    static func line(request: Request, chosen: String, rejected: String) -> JSONValue {
        .object([.init("prompt", .string(CritiquePrompts.responsePrompt([ChatMessage(role: "user", content: request.text)]))),
                 .init("chosen", .string(" " + chosen)), .init("rejected", .string(" " + rejected))])
    }
}

extension PlantedPreferences {
    /// What a perfect audit would leave: flipped rows turned back, copies and both-bad rows dropped.
    public var oracleLines: [JSONValue] {
        rows.compactMap { row in
            switch row.truth {
            case .clean: return Self.line(request: row.request, chosen: row.chosen, rejected: row.rejected)
            case .flipped: return Self.line(request: row.request, chosen: row.rejected, rejected: row.chosen)
            case .duplicate, .bothBad: return nil
            }
        }
    }
}
