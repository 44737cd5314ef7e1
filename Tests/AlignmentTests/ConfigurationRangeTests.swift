import Foundation
import XCTest
@testable import Alignment
import Settings

/// Values a run cannot start with are refused by `validate()`, naming the key and the value (issue 24 item 7).
final class ConfigurationRangeTests: XCTestCase {
    /// The error `validate` throws for `recipe` laid over the defaults of `T`.
    func problem<T: Decodable>(_ type: T.Type, _ recipe: String, _ validate: (T) throws -> Void,
                               file: StaticString = #filePath, line: UInt = #line) throws -> SettingsError? {
        let configuration = try JSONDecoder().decode(T.self, from: Data(recipe.utf8))
        do { try validate(configuration) } catch let error as SettingsError { return error }
        XCTFail("\(recipe) was accepted", file: file, line: line)
        return nil
    }

    func testTrainingArgumentsRanges() throws {
        let cases = [(#"{"per_device_train_batch_size": 0}"#, "per_device_train_batch_size", "must be at least 1 (got 0)"),
                     (#"{"warmup_steps": -1}"#, "warmup_steps", "must be at least 0 (got -1)"),
                     (#"{"weight_decay": -0.5}"#, "weight_decay", "(got -0.5)"),
                     (#"{"max_grad_norm": -1}"#, "max_grad_norm", "(got -1.0)"),
                     (#"{"save_steps": -5}"#, "save_steps", "must be at least 0 (got -5)"),
                     (#"{"learning_rate": 0}"#, "learning_rate", "must be a positive number (got 0.0)"),
                     (#"{"learning_rate": -1e-5}"#, "learning_rate", "must be a positive number"),
                     (#"{"lr_scheduler_type": "step"}"#, "lr_scheduler_type", "(got \"step\")")]
        for (recipe, key, message) in cases {
            for validate in [{ try JSONDecoder().decode(TrainingArguments.self, from: Data(recipe.utf8)).validate() },
                             { try JSONDecoder().decode(SFTConfiguration.self, from: Data(recipe.utf8)).validate() },
                             { try JSONDecoder().decode(DPOConfiguration.self, from: Data(recipe.utf8)).validate() },
                             { try JSONDecoder().decode(RewardConfiguration.self, from: Data(recipe.utf8)).validate() },
                             { try JSONDecoder().decode(PPOConfiguration.self, from: Data(recipe.utf8)).validate() }] {
                XCTAssertThrowsError(try validate(), recipe) { error in
                    XCTAssertEqual((error as? SettingsError)?.key, key, "\(error)")
                    XCTAssertTrue("\(error)".contains(message), "\(error)")
                }
            }
        }
        // JSON has no NaN or infinity: set them directly.
        for rate in [Float.nan, .infinity] {
            var arguments = TrainingArguments()
            arguments.learningRate = rate
            XCTAssertThrowsError(try arguments.validate()) { XCTAssertEqual(($0 as? SettingsError)?.key, "learning_rate") }
        }
        var zero = TrainingArguments()
        zero.warmupSteps = 0
        zero.weightDecay = 0
        zero.maximumGradientNorm = 0
        zero.saveSteps = 0
        XCTAssertNoThrow(try zero.validate(), "0 turns warm-up steps, decay, clipping and saving off")
        XCTAssertEqual(try problem(TrainingArguments.self, #"{"max_steps": 0, "num_train_epochs": 0}"#) { try $0.validate() }?.key, "max_steps")
    }

    /// TRL's TrainingArguments: save_strategy "steps", save_steps 500, so `--resume` has a checkpoint in any run longer
    /// than 500 steps (issue 23: the old default 0 wrote none); save_steps 0 or save_strategy "no" write none.
    func testCheckpointsEvery500StepsByDefaultAsTRL() throws {
        let defaults = TrainingArguments()
        XCTAssertEqual(defaults.saveSteps, 500)
        XCTAssertEqual(defaults.saveStrategy, "steps")
        XCTAssertEqual((1...1500).filter { defaults.savesCheckpoint(after: $0, stepsPerEpoch: 7) }, [500, 1000, 1500])
        var never = defaults
        never.saveStrategy = "no"
        XCTAssertEqual((1...1500).filter { never.savesCheckpoint(after: $0, stepsPerEpoch: 7) }, [])
        never = try JSONDecoder().decode(TrainingArguments.self, from: Data(#"{"save_steps": 0}"#.utf8))
        XCTAssertEqual((1...1500).filter { never.savesCheckpoint(after: $0, stepsPerEpoch: 7) }, [])
        XCTAssertEqual(try problem(TrainingArguments.self, #"{"save_strategy": "hourly"}"#) { try $0.validate() }?.key, "save_strategy")
    }

    /// transformers' save_strategy "epoch" and eval_strategy "steps" | "epoch" | "no"; unset, Charter evaluates every
    /// eval_steps and at the end.
    func testEpochAndStepStrategies() throws {
        let epochs = try JSONDecoder().decode(TrainingArguments.self, from: Data(#"{"save_strategy": "epoch", "eval_strategy": "epoch"}"#.utf8))
        XCTAssertEqual((1...20).filter { epochs.savesCheckpoint(after: $0, stepsPerEpoch: 7) }, [7, 14])
        XCTAssertEqual((1...20).filter { epochs.evaluates(after: $0, totalSteps: 20, stepsPerEpoch: 7) }, [7, 14])
        let steps = try JSONDecoder().decode(TrainingArguments.self, from: Data(#"{"eval_strategy": "steps", "logging_steps": 4}"#.utf8))
        XCTAssertEqual((1...10).filter { steps.evaluates(after: $0, totalSteps: 10, stepsPerEpoch: 3) }, [4, 8], "eval_steps 0 falls back to logging_steps")
        let no = try JSONDecoder().decode(TrainingArguments.self, from: Data(#"{"eval_strategy": "no", "eval_steps": 2}"#.utf8))
        XCTAssertEqual((1...10).filter { no.evaluates(after: $0, totalSteps: 10, stepsPerEpoch: 3) }, [])
        var unset = TrainingArguments()
        unset.evaluationSteps = 4
        XCTAssertEqual((1...10).filter { unset.evaluates(after: $0, totalSteps: 10, stepsPerEpoch: 3) }, [4, 8, 10])
        var first = TrainingArguments()
        first.loggingFirstStep = true
        XCTAssertEqual((1...25).filter { first.logs(step: $0, totalSteps: 25) }, [1, 10, 20, 25])
        XCTAssertEqual(try problem(TrainingArguments.self, #"{"report_to": ["tensorboard", "wandb"]}"#) { try $0.validate() }?.key, "report_to")
        XCTAssertEqual(try problem(TrainingArguments.self, #"{"train_sampling_strategy": "group_by_length"}"#) { try $0.validate() }?.key,
                       "train_sampling_strategy")
    }

    func testMaximumLengthIsAtLeastOne() throws {
        let recipe = #"{"max_length": 0}"#
        XCTAssertEqual(try problem(SFTConfiguration.self, recipe) { try $0.validate() },
                       SettingsError(key: "max_length", message: "must be at least 1 (got 0)"))
        XCTAssertEqual(try problem(DPOConfiguration.self, recipe) { try $0.validate() },
                       SettingsError(key: "max_length", message: "must be at least 1 (got 0)"))
        XCTAssertEqual(try problem(RewardConfiguration.self, recipe) { try $0.validate() },
                       SettingsError(key: "max_length", message: "must be at least 1 (got 0)"))
        XCTAssertNoThrow(try JSONDecoder().decode(DPOConfiguration.self, from: Data(#"{"max_length": null}"#.utf8)).validate(), "null: no limit")
    }

    func testTrainerSpecificRanges() throws {
        XCTAssertEqual(try problem(DPOConfiguration.self, #"{"beta": 0}"#) { try $0.validate() }?.key, "beta")
        XCTAssertEqual(try problem(DPOConfiguration.self, #"{"loss_type": []}"#) { try $0.validate() }?.key, "loss_type")
        XCTAssertEqual(try problem(DPOConfiguration.self, #"{"truncation_mode": "middle"}"#) { try $0.validate() }?.key, "truncation_mode")
        XCTAssertEqual(try problem(RewardConfiguration.self, #"{"center_rewards_coefficient": -1}"#) { try $0.validate() }?.key,
                       "center_rewards_coefficient")
        XCTAssertEqual(try problem(PPOConfiguration.self, #"{"lam": 1.5}"#) { try $0.validate() },
                       SettingsError(key: "lam", message: "must be in [0.0, 1.0] (got 1.5)"))
        XCTAssertEqual(try problem(PPOConfiguration.self, #"{"stop_token": "</s>"}"#) { try $0.validate() },
                       SettingsError(key: "stop_token", message: "must be \"eos\" or absent (got \"</s>\")"))
        XCTAssertEqual(try problem(PPOConfiguration.self, #"{"num_mini_batches": 0}"#) { try $0.validate() }?.key, "num_mini_batches")
        XCTAssertEqual(try problem(PPOConfiguration.self, #"{"stop_token": "eos", "stop_token_id": 2}"#) { try $0.validate() }?.key,
                       "stop_token_id")
    }
}
