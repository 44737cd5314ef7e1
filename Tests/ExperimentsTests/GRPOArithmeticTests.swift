import Datasets
import Foundation
import Reports
import XCTest
@testable import Experiments

/// The GRPO arithmetic experiment: its generated task and a reduced run's results and report.
final class GRPOArithmeticTests: XCTestCase {
    func testTaskIsSeededDisjointAndKnowsTheAnswers() throws {
        let configuration = GRPOArithmeticConfiguration.reduced
        let (train, heldOut) = GRPOArithmetic.task(configuration, seed: 4)
        XCTAssertEqual(heldOut.count, configuration.heldOutCount)
        XCTAssertEqual(train.count + heldOut.count, configuration.operandLimit * configuration.operandLimit)
        XCTAssertTrue(Set(train).isDisjoint(with: heldOut))
        XCTAssertEqual(GRPOArithmetic.task(configuration, seed: 4).heldOut, heldOut, "same seed, same split")
        XCTAssertNotEqual(GRPOArithmetic.task(configuration, seed: 5).heldOut, heldOut, "another seed, another split")
        for example in train + heldOut {
            guard case .promptOnly(.standard(let prompt)) = example.body else { return XCTFail("\(example)") }
            let operands = prompt.dropLast().split(separator: "+").compactMap { Int($0) }
            XCTAssertEqual(operands.count, 2, prompt)
            XCTAssertEqual(example.extras.first?.key, "answer")
            XCTAssertEqual(example.extras.first?.value.doubleValue, Double(operands.reduce(0, +)), prompt)
        }
    }

    func testReducedRunWritesResultsAndReport() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("charter-grpo-arithmetic-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        let configuration = GRPOArithmeticConfiguration.reduced
        let seed = try GRPOArithmetic.run(configuration, seed: 1, folder: folder.appendingPathComponent("seed-1"))
        XCTAssertEqual(seed.trainingReward.count, configuration.grpoSteps)
        for accuracy in [seed.accuracyAfterSFT, seed.accuracyAfterGRPO, seed.accuracyAfterSFTControl] {
            XCTAssertTrue((0...1).contains(accuracy), "\(accuracy)")
            // An accuracy is a count of held-out sums over their number.
            XCTAssertEqual(accuracy * Double(configuration.heldOutCount), (accuracy * Double(configuration.heldOutCount)).rounded(), accuracy: 1e-9)
        }
        XCTAssertEqual(seed.examples.count, 8)
        let results = GRPOArithmeticResults(configuration: configuration, seeds: [seed, seed])
        XCTAssertEqual(results.gainOverSFT.mean, seed.accuracyAfterGRPO - seed.accuracyAfterSFT, accuracy: 1e-12)
        try GRPOArithmeticReport.write(results, to: folder)
        let decoded = try JSONDecoder().decode(GRPOArithmeticResults.self, from: Data(contentsOf: folder.appendingPathComponent("results.json")))
        XCTAssertEqual(decoded.seeds.first?.accuracyAfterGRPO, seed.accuracyAfterGRPO)
        let html = try String(contentsOf: folder.appendingPathComponent("report.html"), encoding: .utf8)
        XCTAssertTrue(html.contains("Held-out accuracy") && html.contains("GRPO training reward") && html.contains("SFT control"))
    }
}
