import Foundation
import XCTest
@testable import Alignment
import LanguageModels
import Tensors

/// The one reference-policy resolver of `charter dpo`, `charter ppo` and the pipeline's stages: which rule applies,
/// and that every separate reference model it loads is frozen (the pipeline's DPO stage once loaded a trainable copy
/// while the CLI froze its own).
final class ReferencePolicyTests: XCTestCase {
    static func assertFrozenCopy(_ reference: any CausalLanguageModel, of folder: URL, policy: TrainableModel,
                                 file: StaticString = #filePath, line: UInt = #line) throws {
        XCTAssertTrue(reference.trainableParameters().isEmpty, "a reference must have no trainable parameter", file: file, line: line)
        XCTAssertFalse(policy.trainableParameters.isEmpty, "freezing the reference must leave the policy trainable", file: file, line: line)
        let expected = try PretrainedModel.load(directory: folder).namedParameters()
        XCTAssertEqual(reference.namedParameters().map(\.name), expected.map(\.name), file: file, line: line)
        XCTAssertEqual(reference.namedParameters().map(\.tensor.scalars), expected.map(\.tensor.scalars), file: file, line: line)
        for (referenceTensor, policyTensor) in zip(reference.parameters(), policy.model.parameters()) {
            XCTAssertFalse(referenceTensor === policyTensor, "the reference shares no tensor with the policy", file: file, line: line)
        }
    }

    func testDPOReferenceIsAFrozenCopyOrTheRuleTheConfigurationAsksFor() throws {
        let folder = try TrainingFixtures.modelFolder()
        let other = try TrainingFixtures.modelFolder(seed: 7)
        defer { for url in [folder, other] { try? FileManager.default.removeItem(at: url) } }
        var configuration = DPOConfiguration()

        // The pipeline's path (full fine-tuning, no ref_model): a frozen copy of the initial policy.
        let policy = try TrainableModel(directory: folder)
        guard case .model(let copy) = try ReferencePolicy.dpo(configuration: configuration, policy: policy, policyFolder: folder,
                                                              referenceModel: nil) else { return XCTFail("expected a reference model") }
        try Self.assertFrozenCopy(copy, of: folder, policy: policy)

        // ref_model: that folder, frozen.
        guard case .model(let named) = try ReferencePolicy.dpo(configuration: configuration, policy: policy, policyFolder: folder,
                                                               referenceModel: other) else { return XCTFail("expected a reference model") }
        try Self.assertFrozenCopy(named, of: other, policy: policy)

        // LoRA adapters being trained: the base model, by switching them off.
        var generator = SeededGenerator(seed: 5)
        var lora = LoRAConfiguration()
        lora.targetModules = .names(["q_proj", "v_proj"])
        let adapted = try PretrainedModel.load(directory: folder)
        try LoRA.apply(lora, to: adapted, generator: &generator)
        let loraPolicy = TrainableModel(model: adapted, sourceDirectory: folder, adapterConfiguration: lora)
        guard case .adaptersDisabled = try ReferencePolicy.dpo(configuration: configuration, policy: loraPolicy, policyFolder: folder,
                                                               referenceModel: nil) else { return XCTFail("expected the LoRA base") }

        // precompute_ref_log_probs: the initial policy, read once; reference-free losses: none.
        configuration.precomputeReferenceLogProbabilities = true
        guard case .initialPolicy = try ReferencePolicy.dpo(configuration: configuration, policy: policy, policyFolder: folder,
                                                            referenceModel: nil) else { return XCTFail("expected the initial policy") }
        configuration.lossTypes = [.simpo]
        guard case .referenceFree = try ReferencePolicy.dpo(configuration: configuration, policy: policy, policyFolder: folder,
                                                            referenceModel: other) else { return XCTFail("expected no reference") }
    }

    /// Re-training an existing adapter: the reference is a frozen copy of the policy with that adapter (TRL's "ref"
    /// adapter), not the base model.
    func testDPOReferenceOfARetrainedAdapterIsAFrozenCopyOfIt() throws {
        let folder = try TrainingFixtures.modelFolder()
        let adapterFolder = folder.appendingPathComponent("adapter")
        defer { try? FileManager.default.removeItem(at: folder) }
        var generator = SeededGenerator(seed: 5)
        var lora = LoRAConfiguration()
        lora.targetModules = .names(["q_proj", "v_proj"])
        let trained = try PretrainedModel.load(directory: folder)
        try LoRA.apply(lora, to: trained, generator: &generator)
        for adapter in LoRA.adapters(in: trained) { adapter.loraB.assign(Tensor(shape: adapter.loraB.shape, scalars: adapter.loraB.scalars.indices.map { Float($0 % 7) * 0.01 })) }
        try LoRA.save(trained, configuration: lora, to: adapterFolder)

        let model = try PretrainedModel.load(directory: folder)
        let configuration = try LoRA.load(from: adapterFolder, into: model, trainable: true)
        let policy = TrainableModel(model: model, sourceDirectory: folder, adapterConfiguration: configuration)
        guard case .model(let reference) = try ReferencePolicy.dpo(configuration: DPOConfiguration(), policy: policy, policyFolder: folder,
                                                                   referenceModel: nil, adapter: adapterFolder) else {
            return XCTFail("expected a reference model")
        }
        XCTAssertTrue(reference.trainableParameters().isEmpty)
        XCTAssertFalse(policy.trainableParameters.isEmpty)
        XCTAssertEqual(LoRA.adapters(in: reference).map(\.loraB.scalars), LoRA.adapters(in: trained).map(\.loraB.scalars))
    }

    func testPPOReferenceFollowsTheSameRules() throws {
        let folder = try TrainingFixtures.modelFolder()
        let other = try TrainingFixtures.modelFolder(seed: 7)
        defer { for url in [folder, other] { try? FileManager.default.removeItem(at: url) } }
        let policy = try TrainableModel(directory: folder)
        guard case .model(let copy) = try ReferencePolicy.ppo(policy: policy, policyFolder: folder, referenceModel: nil) else {
            return XCTFail("expected a reference model")
        }
        try Self.assertFrozenCopy(copy, of: folder, policy: policy)
        guard case .model(let named) = try ReferencePolicy.ppo(policy: policy, policyFolder: folder, referenceModel: other) else {
            return XCTFail("expected a reference model")
        }
        try Self.assertFrozenCopy(named, of: other, policy: policy)
        var generator = SeededGenerator(seed: 5)
        var lora = LoRAConfiguration()
        lora.targetModules = .names(["q_proj", "v_proj"])
        let adapted = try PretrainedModel.load(directory: folder)
        try LoRA.apply(lora, to: adapted, generator: &generator)
        guard case .adaptersDisabled = try ReferencePolicy.ppo(policy: TrainableModel(model: adapted, sourceDirectory: folder, adapterConfiguration: lora),
                                                               policyFolder: folder, referenceModel: nil) else {
            return XCTFail("expected the LoRA base")
        }
    }
}
