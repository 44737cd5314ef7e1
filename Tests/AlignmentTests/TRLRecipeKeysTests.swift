import Foundation
import XCTest
@testable import Alignment
import Settings

/// A TRL recipe runs in Charter unchanged: keys about GPUs, precision, loggers and hubs are read with one note each;
/// keys that would change the result are accepted only at the value that means what Charter does; a misspelled key
/// is refused with a suggestion. The keys Charter acts on (train_sampling_strategy, logging_first_step,
/// eval_strategy, save_strategy epoch, report_to) decode into TrainingArguments.
final class TRLRecipeKeysTests: XCTestCase {
    var folder: URL!

    override func setUpWithError() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("charter-trl-keys-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: folder) }

    func recipe(_ yaml: String) throws -> TrainingRecipe {
        let url = folder.appendingPathComponent("recipe.yaml")
        try yaml.write(to: url, atomically: true, encoding: .utf8)
        return try TrainingRecipe(file: url.path, allowedKeys: DPOConfiguration.keys + TrainingRecipe.modelKeys)
    }

    func failure(_ yaml: String) -> String {
        do {
            try recipe(yaml).decode(DPOConfiguration.self).validate()
            return "accepted"
        } catch {
            return "\(error)".replacingOccurrences(of: folder.path + "/", with: "")
        }
    }

    func testGPUAndLoggerKeysAreReadWithANoteEach() throws {
        let read = try recipe("""
            beta: 0.2
            bf16: true
            use_cpu: true
            activation_offloading: true
            optim: adamw_torch
            push_to_hub: false
            dataloader_num_workers: 4
            """)
        let configuration = try read.decode(DPOConfiguration.self)
        XCTAssertEqual(configuration.beta, 0.2)
        XCTAssertEqual(read.notes.map { String($0.prefix(while: { $0 != ":" })) },
                       ["activation_offloading", "bf16", "dataloader_num_workers", "push_to_hub", "use_cpu"],
                       "one note per ignored key; optim at its accepted value needs none")
        XCTAssertEqual(read["bf16"] as? Bool, true, "kept for charter export trl")
        XCTAssertTrue(read.notes[1].contains("fp32"), read.notes[1])
    }

    func testKeysThatWouldChangeTheResultAreRefusedUnlessDefault() {
        XCTAssertEqual(failure("optim: sgd"), #"optim: recipe.yaml: "sgd" is not supported: Charter's optimizer is AdamW as torch.optim.AdamW computes it (accepted: adamw_torch, adamw_torch_fused, adamw_hf)"#)
        XCTAssertTrue(failure("label_smoothing_factor: 0.1").hasPrefix(#"label_smoothing_factor: recipe.yaml: "0.1" is not supported"#))
        XCTAssertEqual(failure("label_smoothing_factor: 0.0\nload_best_model_at_end: false\nuse_dora: false"), "accepted")
        XCTAssertTrue(failure("use_dora: true").contains("not implemented"))
    }

    func testMisspelledKeyGetsASuggestion() {
        let message = failure("learnig_rate: 1.0e-6")
        XCTAssertTrue(message.hasPrefix("learnig_rate: recipe.yaml: unknown key; did you mean 'learning_rate'? known keys:"), message)
        XCTAssertFalse(failure("zzzzzzzz: 1").contains("did you mean"))
    }

    func testKeysCharterActsOnDecode() throws {
        let arguments = try recipe("""
            train_sampling_strategy: sequential
            logging_first_step: true
            eval_strategy: epoch
            save_strategy: epoch
            report_to: tensorboard
            """).decode(DPOConfiguration.self).training
        XCTAssertEqual(arguments.trainSamplingStrategy, "sequential")
        XCTAssertTrue(arguments.loggingFirstStep)
        XCTAssertEqual(arguments.evaluationStrategy, "epoch")
        XCTAssertEqual(arguments.saveStrategy, "epoch")
        XCTAssertEqual(arguments.reportTo, ["tensorboard"])
        XCTAssertTrue(failure("report_to: wandb").contains("need a network"))
    }

    /// transformers' epoch layout (sequential order): batches of the micro-batch size with the epoch's last one short,
    /// the epoch's last step taking what remains — what Benchmarks/trl/export_parity.py --batch-size 4 checks against TRL.
    func testSequentialStepsAreLaidOutAsTransformersEpochs() {
        let order = DataOrder(count: 6, seed: 1, sequential: true)
        XCTAssertEqual((0..<4).map { order.transformersWindow(step: $0, microBatchSize: 4, microBatchesPerStep: 1) },
                       [[0, 1, 2, 3], [4, 5], [0, 1, 2, 3], [4, 5]])
        XCTAssertEqual((0..<3).map { order.transformersWindow(step: $0, microBatchSize: 2, microBatchesPerStep: 2) },
                       [[0, 1, 2, 3], [4, 5], [0, 1, 2, 3]])
        let seven = DataOrder(count: 7, seed: 1, sequential: true)
        XCTAssertEqual((0..<3).map { seven.transformersWindow(step: $0, microBatchSize: 2, microBatchesPerStep: 2) },
                       [[0, 1, 2, 3], [4, 5, 6], [0, 1, 2, 3]], "3 batches of 2, 2, 2 and a short one of 1")
    }

    func testSequentialOrderIsTheFilesOrderEveryEpoch() {
        let sequential = DataOrder(count: 5, seed: 1, sequential: true)
        XCTAssertEqual((0..<12).map(sequential.index), [0, 1, 2, 3, 4, 0, 1, 2, 3, 4, 0, 1])
        let random = DataOrder(count: 5, seed: 1)
        let first = (0..<5).map(random.index), second = (5..<10).map(random.index)
        XCTAssertEqual(first.sorted(), [0, 1, 2, 3, 4])
        XCTAssertEqual(second.sorted(), [0, 1, 2, 3, 4])
        XCTAssertNotEqual(first, second, "a fresh permutation each epoch")
    }
}
