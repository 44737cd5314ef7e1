import Foundation
import JSON
import XCTest
@testable import Annotation

/// Krippendorff's alpha and Cohen's kappa against Krippendorff's published worked example and an independent Python
/// implementation (Fixtures/make_agreement_fixture.py computes alpha from pairable values, not coincidences).
final class AgreementTests: XCTestCase {
    struct Fixture: Decodable {
        var krippendorff_units: [[Int]]
        var krippendorff_nominal: Double
        var krippendorff_ordinal: Double
        var random_units: [[Int]]
        var random_nominal: Double
        var random_ordinal: Double
        var wikipedia_kappa: Double
        var random_pairs: [[String]]
        var random_kappa: Double
    }

    func fixture() throws -> Fixture {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/agreement.json")
        return try JSONDecoder().decode(Fixture.self, from: Data(contentsOf: url))
    }

    func testKrippendorffsPublishedExample() throws {
        let fixture = try fixture()
        // Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability": nominal 0.743, ordinal 0.815.
        let nominal = try XCTUnwrap(Agreement.krippendorffAlpha(fixture.krippendorff_units, metric: .nominal))
        let ordinal = try XCTUnwrap(Agreement.krippendorffAlpha(fixture.krippendorff_units, metric: .ordinal))
        XCTAssertEqual(nominal, 0.743, accuracy: 0.0005)
        XCTAssertEqual(ordinal, 0.815, accuracy: 0.0005)
        XCTAssertEqual(nominal, fixture.krippendorff_nominal, accuracy: 1e-12)
        XCTAssertEqual(ordinal, fixture.krippendorff_ordinal, accuracy: 1e-12)
    }

    func testAlphaMatchesTheReferenceOnRandomUnits() throws {
        let fixture = try fixture()
        XCTAssertEqual(try XCTUnwrap(Agreement.krippendorffAlpha(fixture.random_units, metric: .nominal)), fixture.random_nominal, accuracy: 1e-12)
        XCTAssertEqual(try XCTUnwrap(Agreement.krippendorffAlpha(fixture.random_units, metric: .ordinal)), fixture.random_ordinal, accuracy: 1e-12)
    }

    func testAlphaEdgeCases() {
        XCTAssertEqual(Agreement.krippendorffAlpha([[1, 1], [2, 2, 2], [-2, -2]], metric: .ordinal), 1)
        XCTAssertNil(Agreement.krippendorffAlpha([[1], [2]], metric: .nominal), "no unit has two values")
        XCTAssertNil(Agreement.krippendorffAlpha([[1, 1], [1, 1]], metric: .nominal), "no expected disagreement")
        // Ordinal alpha punishes a distant disagreement more than a near one; nominal does not tell them apart.
        let near = [[2, 1], [1, 1], [-1, -1], [-2, -2], [0, 0]], far = [[2, -2], [1, 1], [-1, -1], [-2, -2], [0, 0]]
        XCTAssertGreaterThan(Agreement.krippendorffAlpha(near, metric: .ordinal) ?? 0, Agreement.krippendorffAlpha(far, metric: .ordinal) ?? 1)
    }

    func testCohenKappa() throws {
        let fixture = try fixture()
        let wikipedia = Array(repeating: ("yes", "yes"), count: 20) + Array(repeating: ("yes", "no"), count: 5)
            + Array(repeating: ("no", "yes"), count: 10) + Array(repeating: ("no", "no"), count: 15)
        XCTAssertEqual(try XCTUnwrap(Agreement.cohenKappa(wikipedia)), 0.4, accuracy: 1e-12)
        XCTAssertEqual(fixture.wikipedia_kappa, 0.4, accuracy: 1e-12)
        let pairs = fixture.random_pairs.map { ($0[0], $0[1]) }
        XCTAssertEqual(try XCTUnwrap(Agreement.cohenKappa(pairs)), fixture.random_kappa, accuracy: 1e-12)
        XCTAssertNil(Agreement.cohenKappa([("a", "a"), ("a", "a")]))
        XCTAssertNil(Agreement.cohenKappa([(String, String)]()))
    }
}
