import XCTest
@testable import LanguageModels
import Tensors

/// Activation steering: addition moves the steered hidden state by exactly α·d, ablation leaves no component along d,
/// other layers and unselected rows are untouched, and generation steers every sequence or only triggered ones.
final class ActivationSteeringTests: XCTestCase {
    let ids = SmallModels.ids  // (B 2, T 6)

    /// A fixed direction that is not axis-aligned, before normalisation.
    let raw: [Float] = (0..<16).map { Float($0 % 5) - 1.5 }
    var unit: [Float] {
        let norm = raw.reduce(0) { $0 + $1 * $1 }.squareRoot()
        return raw.map { $0 / norm }
    }

    func hidden(_ model: any CausalLanguageModel, steering: ActivationSteering?) -> [[Float]] {
        withoutGradients {
            model.forward(ModelInput(ids: ids, batch: 2, time: 6, outputHiddenStates: true, steering: steering), cache: nil).hiddenStates.map(\.scalars)
        }
    }

    func testAdditionMovesTheSteeredStateByAlphaTimesTheUnitDirection() throws {
        for model in [SmallModels.llama(), SmallModels.gpt()] as [any CausalLanguageModel] {
            let plain = hidden(model, steering: nil)
            let steering = try ActivationSteering(direction: raw, layers: [1], operation: .add(2.5))
            let steered = hidden(model, steering: steering)
            XCTAssertEqual(steered[0], plain[0], "the embeddings are before the steered layer")
            for (index, (value, base)) in zip(steered[1], plain[1]).enumerated() {
                XCTAssertEqual(value, base + 2.5 * unit[index % 16], accuracy: 1e-5, "\(type(of: model)) element \(index)")
            }
            XCTAssertNotEqual(steered[2], plain[2], "later layers see the edit")
            let zero = try ActivationSteering(direction: raw, layers: [1], operation: .add(0))
            XCTAssertEqual(hidden(model, steering: zero), plain, "α = 0 changes nothing")
        }
    }

    func testAblationLeavesNoComponentAndOnlySelectedRowsChange() throws {
        let model = SmallModels.llama()
        let plain = hidden(model, steering: nil)
        let steering = try ActivationSteering(direction: raw, layers: [0, 2], operation: .ablate, rows: [false, true])
        let steered = hidden(model, steering: steering)
        for layer in [0, 2] {
            let size = 16 * 6
            XCTAssertEqual(Array(steered[layer].prefix(size)), Array(plain[layer].prefix(size)), "row 0 is not steered")
            for t in 0..<6 {
                let row = steered[layer][(size + t * 16)..<(size + t * 16 + 16)]
                let projection = zip(row, unit).reduce(Float(0)) { $0 + $1.0 * $1.1 }
                XCTAssertEqual(projection, 0, accuracy: 1e-5, "layer \(layer) position \(t)")
            }
            let before = plain[layer][size..<(size + 16)]
            XCTAssertGreaterThan(abs(zip(before, unit).reduce(Float(0)) { $0 + $1.0 * $1.1 }), 1e-3, "the test needs a component to remove")
        }
    }

    func testBadSettingsAreRefused() throws {
        XCTAssertThrowsError(try ActivationSteering(direction: [0, 0], layers: [1], operation: .ablate)) { XCTAssertTrue("\($0)".contains("zero")) }
        XCTAssertThrowsError(try ActivationSteering(direction: [1, .nan], layers: [1], operation: .ablate))
        XCTAssertThrowsError(try ActivationSteering(direction: [1, 0], layers: [], operation: .ablate)) { XCTAssertTrue("\($0)".contains("layer")) }
        XCTAssertThrowsError(try ActivationSteering(direction: [1, 0], layers: [1], operation: .add(.infinity)))
        let steering = try ActivationSteering(direction: raw, layers: [4], operation: .add(1))
        XCTAssertThrowsError(try steering.check(hiddenSize: 16, layerCount: 3)) { XCTAssertTrue("\($0)".contains("layer 4"), "\($0)") }
        XCTAssertThrowsError(try steering.check(hiddenSize: 32, layerCount: 4)) { XCTAssertTrue("\($0)".contains("hidden size is 32"), "\($0)") }
    }

    /// Triggers once on sequence 0 at a given generated token.
    final class OneTrigger: GenerationMonitor {
        let layer = 1
        let at: Int
        init(at: Int) { self.at = at }
        func observe(sequence: Int, tokenIndex: Int?, hiddenStates: UnsafeBufferPointer<Float>, count: Int, hiddenSize: Int) -> Bool {
            sequence == 0 && tokenIndex == at
        }
    }

    func testGenerationSteersEverySequenceOrOnlyFromItsTrigger() throws {
        let model = SmallModels.llama()
        let prompts: [[Int32]] = [[5, 9, 14, 3], [7, 2]]
        let configuration = GenerationConfiguration(sampling: SamplingOptions(maximumTokens: 8, temperature: 0))
        let plain = Generator(model: model).generate(prompts: prompts, configuration: configuration)
        let strong = try ActivationSteering(direction: raw, layers: [1, 2], operation: .add(40))
        var always = Generator(model: model)
        always.steering = strong
        let steered = always.generate(prompts: prompts, configuration: configuration)
        XCTAssertNotEqual(steered.map(\.tokens), plain.map(\.tokens), "a strong push changes greedy decoding")
        // On a trigger at generated token 2 of sequence 0: its tokens 0…3 stand (token 3 was sampled in the step that
        // triggered), the rest is steered; sequence 1 never triggers and is untouched.
        var onTrigger = Generator(model: model, monitor: OneTrigger(at: 2))
        onTrigger.steeringOnTrigger = strong
        let triggered = onTrigger.generate(prompts: prompts, configuration: configuration)
        XCTAssertEqual(triggered[1], plain[1])
        XCTAssertNotEqual(triggered[0].finishReason, .contentFilter, "steering goes on instead of halting")
        XCTAssertEqual(Array(triggered[0].tokens.prefix(4)), Array(plain[0].tokens.prefix(4)))
        XCTAssertNotEqual(triggered[0].tokens, plain[0].tokens, "the steered continuation differs")
    }
}
