import Foundation
import XCTest
@testable import Alignment
import LanguageModels
import Settings

/// Every key of every trainer configuration and of PEFT's adapter config has a type and a range: each value in
/// `bad` is refused (by decoding or `validate()`) with an error naming the key and the value, and `good` is accepted
/// (issue 24 item 7: `max_length: -1` crashed, `per_device_train_batch_size: 1e12` aborted, `lora_r: 100000`
/// allocated gigabytes, negative `warmup_steps`/`weight_decay`/`max_grad_norm`/`save_steps` were accepted).
final class RecipeKeyRangeTests: XCTestCase {
    /// One key: a value it accepts, values it refuses as (JSON, text the error must show), and the key the error
    /// names when it is not the key itself (older aliases are checked under the key they set).
    struct Row {
        let key: String
        let good: String
        let bad: [(json: String, shows: String)]
        var reportedAs: String?
        /// Other members of the recipe the key only makes sense with (`"reward_aggregation": "weighted", `).
        var context = ""
    }

    static func row(_ key: String, good: String, _ bad: [(String, String)], reportedAs: String? = nil, context: String = "") -> Row {
        Row(key: key, good: good, bad: bad.map { (json: $0.0, shows: $0.1) }, reportedAs: reportedAs, context: context)
    }

    static let text = (#""x""#, #""x""#)
    static let fraction = ("1.5", "1.5")

    /// The table: every key of TrainingArguments, SFT/DPO/Reward/PPO configurations and LoRAConfiguration.
    static let rows: [Row] = [
        // TrainingArguments
        row("output_dir", good: #""runs/x""#, [(#""""#, #""""#), ("3", "3.0"),
                                                (#""runs/\#(String(repeating: "a", count: 300))""#, "a part of 300 bytes")]),
        row("learning_rate", good: "1e-4", [("0", "0.0"), ("-1", "-1.0"), ("11", "11.0"), text]),
        row("lr_scheduler_type", good: #""cosine""#, [(#""step""#, #""step""#), ("3", "3.0")]),
        row("warmup_steps", good: "10", [("-5", "-5"), ("2000000000", "2000000000"), fraction]),
        row("warmup_ratio", good: "0.1", [("1", "1.0"), ("-0.1", "-0.1"), text]),
        row("max_steps", good: "10", [("-2", "-2"), ("2000000000", "2000000000"), fraction, text]),
        row("num_train_epochs", good: "2", [("-1", "-1.0"), ("1000000", "1000000.0"), text]),
        row("per_device_train_batch_size", good: "4", [("0", "0"), ("1025", "1025"), ("1e12", "1000000000000"), fraction, text]),
        row("gradient_accumulation_steps", good: "2", [("0", "0"), ("70000", "70000"), fraction]),
        row("max_grad_norm", good: "0", [("-1", "-1.0"), text]),
        row("weight_decay", good: "0.01", [("-1", "-1.0"), ("2", "2.0"), text]),
        row("adam_beta1", good: "0.8", [("1", "1.0"), ("-0.1", "-0.1"), text]),
        row("adam_beta2", good: "0.99", [("1", "1.0"), text]),
        row("adam_epsilon", good: "1e-6", [("0", "0.0"), ("2", "2.0"), text]),
        row("seed", good: "7", [("-1", "-1.0"), fraction, text]),
        row("logging_steps", good: "5", [("0", "0"), fraction]),
        row("eval_steps", good: "5", [("-1", "-1"), text]),
        row("save_steps", good: "5", [("-1", "-1"), ("2000000000", "2000000000"), text]),
        row("save_strategy", good: #""epoch""#, [(#""hourly""#, #""hourly""#), ("3", "3.0")]),
        row("gradient_checkpointing", good: "true", [text]),
        row("save_total_limit", good: "2", [("-1", "-1"), text]),
        row("train_sampling_strategy", good: #""sequential""#, [(#""group_by_length""#, #""group_by_length""#), ("3", "3.0")]),
        row("logging_first_step", good: "true", [text, ("1", "1.0")]),
        row("eval_strategy", good: #""epoch""#, [(#""hourly""#, #""hourly""#), ("3", "3.0")]),
        row("report_to", good: #"["tensorboard"]"#, [(#""wandb""#, #""wandb""#), (#"["none", "trackio"]"#, #""trackio""#), ("3", "3.0")]),
        // SFT
        row("max_length", good: "512", [("-1", "-1"), ("0", "0"), ("200000", "200000"), fraction]),
        row("completion_only_loss", good: "false", [text, ("1", "1.0")]),
        row("assistant_only_loss", good: "false", [text]),
        row("packing", good: "true", [text]),
        row("packing_strategy", good: #""bfd_split""#, [(#""ffd""#, #""ffd""#), ("3", "3.0")]),
        row("padding_free", good: "true", [text]),
        // DPO
        row("beta", good: "0.5", [("0", "0.0"), ("101", "101.0"), text]),
        row("loss_type", good: #""ipo""#, [(#""dpo""#, #""dpo""#), ("[]", "[]"), ("3", "3.0")]),
        row("loss_weights", good: "[1]", [("[-1]", "[-1.0]"), text]),
        row("label_smoothing", good: "0.1", [("0.5", "0.5"), ("-0.1", "-0.1"), text]),
        row("rpo_alpha", good: "0.5", [("-1", "-1.0"), ("101", "101.0"), text]),
        row("simpo_gamma", good: "1", [("-1", "-1.0"), text]),
        row("max_prompt_length", good: "128", [("0", "0"), ("200000", "200000"), fraction]),
        row("truncation_mode", good: #""keep_end""#, [(#""middle""#, #""middle""#), ("3", "3.0")]),
        row("precompute_ref_log_probs", good: "true", [text]),
        row("precompute_ref_batch_size", good: "4", [("0", "0"), ("2000", "2000"), text]),
        row("per_device_eval_batch_size", good: "4", [("0", "0"), ("1025", "1025"), fraction]),
        row("disable_dropout", good: "false", [text]),
        // Reward
        row("center_rewards_coefficient", good: "0.01", [("-1", "-1.0"), ("101", "101.0"), text]),
        // PPO
        row("num_ppo_epochs", good: "2", [("0", "0"), ("101", "101"), fraction]),
        row("num_mini_batches", good: "2", [("0", "0"), ("3", "got 3"), text]),
        row("cliprange", good: "0.2", [("0", "0.0"), ("11", "11.0"), text]),
        row("cliprange_value", good: "0.2", [("0", "0.0"), text]),
        row("vf_coef", good: "0.5", [("-1", "-1.0"), text]),
        row("gamma", good: "0.9", [("1.5", "1.5"), ("-0.1", "-0.1"), text]),
        row("lam", good: "0.9", [("1.5", "1.5"), text]),
        row("kl_coef", good: "0.1", [("-1", "-1.0"), text]),
        row("kl_target", good: "6", [("0", "0.0"), ("-1", "-1.0"), text]),
        row("kl_horizon", good: "1000", [("0", "0.0"), text]),
        row("kl_estimator", good: #""k3""#, [(#""k2""#, #""k2""#), ("3", "3.0")]),
        row("whiten_rewards", good: "true", [text]),
        row("whiten_advantages", good: "false", [text]),
        row("missing_eos_penalty", good: "1", [("-1", "-1.0"), text]),
        row("response_length", good: "16", [("0", "0"), ("200000", "200000"), fraction]),
        row("temperature", good: "0.9", [("0", "0.0"), ("-1", "-1.0"), ("1000", "1000.0"), text]),
        row("stop_token", good: #""eos""#, [(#""</s>""#, #""</s>""#), ("3", "3.0")]),
        row("stop_token_id", good: "2", [("-1", "-1"), ("3000000000", "3000000000"), fraction, text]),
        row("local_rollout_forward_batch_size", good: "8", [("0", "0"), ("1025", "1025"), text]),
        row("total_episodes", good: "100", [("0", "0"), fraction]),
        row("num_sample_generations", good: "0", [("-1", "-1"), text]),
        row("reward_aggregation", good: #""min""#, [(#""median""#, #""median""#), ("3", "3.0")]),
        row("reward_uncertainty_penalty", good: "0.5", [("-1", "-1.0"), text]),
        row("principle_weights", good: #""harmless=0.7,helpful=0.3""#, [(#""harmless""#, #""harmless""#), (#""a=0""#, #""a=0""#), (#""a=-1""#, #""a=-1""#)],
            context: #""reward_aggregation": "weighted", "#),
        row("principle_groups", good: #""harmless+honest,helpful""#, [(#""a,,b""#, #""a,,b""#), (#""a,a""#, #""a,a""#)],
            context: #""reward_aggregation": "maxmin", "#),
        row("monitor_reward_model", good: #""runs/rm2""#, [("\"\"", "\"\"")]),
        row("monitor_steps", good: "2", [("0", "0"), fraction, text]),
        row("monitor_samples", good: "4", [("0", "0"), fraction, text]),
        row("monitor_tolerance", good: "0.3", [("-1", "-1.0"), text]),
        row("monitor_smoothing", good: "0.1", [("0", "0.0"), ("1.5", "1.5"), text]),
        row("stop_on_divergence", good: "true", [text]),
        row("target_kl", good: "6", [("-1", "-1.0")], reportedAs: "kl_target"),
        row("horizon", good: "100", [("0", "0.0")], reportedAs: "kl_horizon"),
        row("init_kl_coef", good: "0.2", [("-1", "-1.0")], reportedAs: "kl_coef"),
        // LoRAConfiguration (PEFT's adapter_config.json)
        row("r", good: "4", [("0", "0"), ("100000", "100000"), fraction, text]),
        row("lora_alpha", good: "16", [("0", "0.0"), ("-1", "-1.0"), ("1000000", "1000000.0"), text]),
        row("lora_dropout", good: "0.1", [("1", "1.0"), ("-0.1", "-0.1"), text]),
        row("target_modules", good: #"["q_proj"]"#, [("3", "3.0")]),
        row("exclude_modules", good: "null", [("3", "3.0")]),
        row("bias", good: #""none""#, [(#""all""#, #""all""#), ("3", "3.0")]),
        row("fan_in_fan_out", good: "false", [text]),
        row("use_rslora", good: "true", [text]),
        row("init_lora_weights", good: #""gaussian""#, [(#""pissa""#, "pissa"), ("3", "3.0")]),
        row("task_type", good: #""CAUSAL_LM""#, [(#""SEQ_CLS""#, #""SEQ_CLS""#), ("3", "3.0")]),
        row("peft_type", good: #""LORA""#, [(#""IA3""#, #""IA3""#), ("3", "3.0")]),
        row("base_model_name_or_path", good: #""base""#, [("3", "3.0")]),
        row("inference_mode", good: "true", [text]),
        row("modules_to_save", good: "null", [(#"["lm_head"]"#, "lm_head"), ("3", "3.0")]),
        row("rank_pattern", good: "{}", [(#"{"q_proj": 8}"#, "q_proj"), text]),
        row("alpha_pattern", good: "{}", [(#"{"q_proj": 8}"#, "q_proj"), text]),
        row("layers_to_transform", good: "null", [("[0]", "[0]"), text]),
    ]

    /// Each configuration type: its keys and how a recipe of them is read and checked.
    static let types: [(name: String, keys: [String], check: (Data) throws -> Void)] = [
        ("TrainingArguments", TrainingArguments.keys, { try JSONDecoder().decode(TrainingArguments.self, from: $0).validate() }),
        ("SFTConfiguration", SFTConfiguration.keys, { try JSONDecoder().decode(SFTConfiguration.self, from: $0).validate() }),
        ("DPOConfiguration", DPOConfiguration.keys, { try JSONDecoder().decode(DPOConfiguration.self, from: $0).validate() }),
        ("ORPOConfiguration", ORPOConfiguration.keys, { try JSONDecoder().decode(ORPOConfiguration.self, from: $0).validate() }),
        ("RewardConfiguration", RewardConfiguration.keys, { try JSONDecoder().decode(RewardConfiguration.self, from: $0).validate() }),
        ("PPOConfiguration", PPOConfiguration.keys, { try JSONDecoder().decode(PPOConfiguration.self, from: $0).validate() }),
        ("LoRAConfiguration", LoRAConfiguration.keys, { try JSONDecoder().decode(LoRAConfiguration.self, from: $0).validate() }),
    ]

    func testEveryKeyHasATypeAndARange() throws {
        let table = Dictionary(uniqueKeysWithValues: Self.rows.map { ($0.key, $0) })
        let allKeys = Set(Self.types.flatMap(\.keys))
        XCTAssertEqual(allKeys.subtracting(table.keys).sorted(), [], "keys without a row: give each a type check and a range")
        XCTAssertEqual(Set(table.keys).subtracting(allKeys).sorted(), [], "rows for keys no configuration has")
        var checked = 0
        for (name, keys, check) in Self.types {
            for key in keys {
                let row = try XCTUnwrap(table[key])
                XCTAssertNoThrow(try check(Data(#"{\#(row.context)"\#(key)": \#(row.good)}"#.utf8)), "\(name).\(key): \(row.good) should be accepted")
                XCTAssertFalse(row.bad.isEmpty, "\(key) has no refused value")
                for (json, shows) in row.bad {
                    XCTAssertThrowsError(try check(Data(#"{\#(row.context)"\#(key)": \#(json)}"#.utf8)), "\(name).\(key): \(json) was accepted") { error in
                        let message = "\(error)"
                        XCTAssertTrue(message.contains(row.reportedAs ?? key), "\(name).\(key) = \(json): \(message) does not name the key")
                        XCTAssertTrue(message.contains(shows), "\(name).\(key) = \(json): \(message) does not show \(shows)")
                    }
                    checked += 1
                }
            }
        }
        XCTAssertGreaterThan(checked, 300)
    }
}
