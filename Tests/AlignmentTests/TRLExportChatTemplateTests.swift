import Datasets
import Foundation
import LanguageModels
import XCTest
@testable import Alignment

/// A recipe's chat template crosses to TRL and back: a built-in `chat_template_name` is exported as its Jinja source
/// (`chat_template_path` where TRL's config has it, the exported model folder's chat_template.jinja where it does
/// not), and a TRL `chat_template_path` is read by Charter (a built-in's source as that built-in).
final class TRLExportChatTemplateTests: XCTestCase {
    var folder: URL!

    override func setUpWithError() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("charter-export-template-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: folder) }

    func recipe(_ yaml: String, keys: [String]) throws -> TrainingRecipe {
        let url = folder.appendingPathComponent("recipe-\(UUID().uuidString).yaml")
        try yaml.write(to: url, atomically: true, encoding: .utf8)
        return try TrainingRecipe(file: url.path, allowedKeys: keys + TrainingRecipe.modelKeys)
    }

    func examples() throws -> [Example] {
        let url = folder.appendingPathComponent("chats.jsonl")
        try #"{"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello."}]}"#.write(to: url, atomically: true, encoding: .utf8)
        return try Dataset.load(url).examples
    }

    func testBuiltInTemplateBecomesChatTemplatePath() throws {
        let recipe = try recipe("chat_template_name: llama3", keys: SFTConfiguration.keys)
        let effective = try TRLExport.effective(SFTConfiguration.self, recipe: recipe)
        let export = try TRLExport(trainer: "sft", effective: effective, hasEvaluation: false, conversational: true, cpu: true)
        XCTAssertEqual(export.config["chat_template_path"] as? String, "chat_template.jinja")
        XCTAssertNil(export.config["chat_template_name"])
        XCTAssertEqual(export.chatTemplate?.inModelFolder, false)
        try export.write(to: folder.appendingPathComponent("out"), model: "/models/base", train: try examples(), evaluation: nil)
        let written = try String(contentsOf: folder.appendingPathComponent("out/chat_template.jinja"), encoding: .utf8)
        XCTAssertEqual(export.config["assistant_only_loss"] as? Bool, true, "Charter's SFT default on conversations")
        XCTAssertEqual(written, try ChatTemplate(named: "llama3").selfContainedJinjaSource(generationMarks: true),
                       "TRL's assistant_only_loss needs {% generation %} spans: the training copy")
        // Without assistant_only_loss, the family's template as it is (plus the bos_token fallback).
        let full = try TRLExport(trainer: "sft", effective: try TRLExport.effective(SFTConfiguration.self, recipe: try self.recipe("chat_template_name: llama3\nassistant_only_loss: false", keys: SFTConfiguration.keys)),
                                 hasEvaluation: false, conversational: true, cpu: false)
        XCTAssertEqual(full.chatTemplate?.source, try ChatTemplate(named: "llama3").selfContainedJinjaSource())
        XCTAssertEqual(try ChatTemplate(recognizing: try XCTUnwrap(full.chatTemplate?.source)).name, "llama3")
    }

    func testTrainersWithoutChatTemplatePathGetAModelFolderWithTheTemplate() throws {
        let model = folder.appendingPathComponent("base")
        try FileManager.default.createDirectory(at: model, withIntermediateDirectories: true)
        for file in ["config.json", "tokenizer_config.json", "chat_template.jinja"] {
            try "{}".write(to: model.appendingPathComponent(file), atomically: true, encoding: .utf8)
        }
        let recipe = try recipe("chat_template_name: gemma", keys: DPOConfiguration.keys)
        let export = try TRLExport(trainer: "dpo", effective: try TRLExport.effective(DPOConfiguration.self, recipe: recipe),
                                   hasEvaluation: false, conversational: true, cpu: false)
        XCTAssertNil(export.config["chat_template_path"], "TRL's DPOConfig has no chat_template_path")
        XCTAssertEqual(export.chatTemplate?.inModelFolder, true)
        let out = folder.appendingPathComponent("out")
        try export.write(to: out, model: model.path, train: try examples(), evaluation: nil)
        let config = try String(contentsOf: out.appendingPathComponent("config.yaml"), encoding: .utf8)
        XCTAssertTrue(config.contains("\nmodel_name_or_path: \"model\"\n"), config)
        let manager = FileManager.default
        XCTAssertEqual(try manager.destinationOfSymbolicLink(atPath: out.appendingPathComponent("model/config.json").path),
                       model.appendingPathComponent("config.json").standardizedFileURL.path)
        XCTAssertThrowsError(try manager.destinationOfSymbolicLink(atPath: out.appendingPathComponent("model/chat_template.jinja").path),
                             "the model's own template is replaced, not linked")
        XCTAssertEqual(try String(contentsOf: out.appendingPathComponent("model/chat_template.jinja"), encoding: .utf8),
                       try ChatTemplate(named: "gemma").selfContainedJinjaSource())
        // A model that is not a local folder cannot carry the template.
        XCTAssertThrowsError(try export.write(to: out, model: "org/hub-model", train: try examples(), evaluation: nil)) { error in
            XCTAssertTrue("\(error)".contains("org/hub-model is not a local folder"), "\(error)")
        }
    }

    func testChatTemplatePathIsReadAsTheRecipesTemplate() throws {
        let file = folder.appendingPathComponent("template.jinja")
        try XCTUnwrap(try ChatTemplate(named: "qwen2.5").jinjaSource).write(to: file, atomically: true, encoding: .utf8)
        let recipe = try recipe("chat_template_path: \(file.path)", keys: DPOConfiguration.keys)
        XCTAssertEqual(recipe["chat_template_name"] as? String, file.path)
        XCTAssertTrue(recipe.notes.contains { $0.hasPrefix("chat_template_path: ") }, "\(recipe.notes)")
        XCTAssertThrowsError(try self.recipe("chat_template_path: some/tokenizer-folder", keys: DPOConfiguration.keys)) { error in
            XCTAssertTrue("\(error)".contains("a .jinja or .j2 template file"), "\(error)")
        }
        XCTAssertThrowsError(try self.recipe("chat_template_name: chatml\nchat_template_path: \(file.path)", keys: DPOConfiguration.keys)) { error in
            XCTAssertTrue("\(error)".contains("give one of them"), "\(error)")
        }
        XCTAssertNoThrow(try self.recipe("chat_template_path: null", keys: DPOConfiguration.keys))
        // Imported, a built-in's source is that built-in; exported again, TRL gets the same file.
        let imported = try TRLImport(trainer: "sft", config: try self.recipe("chat_template_path: \(file.path)", keys: SFTConfiguration.keys), charterDefaults: [:])
        XCTAssertEqual(imported.values["chat_template_name"] as? String, "qwen2.5")
        let other = folder.appendingPathComponent("other.jinja")
        try "{% for message in messages %}{{ message['content'] }}{% endfor %}".write(to: other, atomically: true, encoding: .utf8)
        let kept = try TRLImport(trainer: "sft", config: try self.recipe("chat_template_path: \(other.path)", keys: SFTConfiguration.keys), charterDefaults: [:])
        XCTAssertEqual(kept.values["chat_template_name"] as? String, other.path, "a template of its own stays a file")
        let export = try TRLExport(trainer: "sft", effective: try TRLExport.effective(SFTConfiguration.self, recipe: try self.recipe("chat_template_path: \(other.path)", keys: SFTConfiguration.keys)),
                                   hasEvaluation: false, conversational: true, cpu: false)
        XCTAssertEqual(export.chatTemplate?.source, "{% for message in messages %}{{ message['content'] }}{% endfor %}")
    }

    /// Conversational SFT trains on the same tokens in both: Charter's native formats encode the fixture's
    /// conversations with the policy's tokenizer (none of the formats' special tokens, so text like `"\n\n"` before
    /// a turn tokenizes differently at a boundary) into transformers' ids and `return_assistant_tokens_mask` with the
    /// exported training template (Fixtures/trl/chat_masks, make_chat_mask_fixtures.py).
    func testAssistantMasksMatchTransformersWithTheExportedTemplate() throws {
        struct Case: Decodable { let format: String; let conversation: Int; let ids: [Int32]; let mask: String }
        struct Expected: Decodable { let conversations: [[ChatMessage]]; let cases: [Case] }
        let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/trl")
        let expected = try JSONDecoder().decode(Expected.self, from: Data(contentsOf: fixtures.appendingPathComponent("chat_masks/expected_masks.json")))
        // As Charter's trainers load it (ExampleEncoder.load): tokenizer_config.json gives the eos_token the formats use.
        let tokenizer = try PretrainedModel.tokenizer(at: fixtures.appendingPathComponent("policy"))
        XCTAssertGreaterThan(expected.cases.count, 20)
        for item in expected.cases {
            let template = try ChatTemplate(named: item.format, bosToken: tokenizer.bosToken, eosToken: tokenizer.eosToken)
            let (ids, mask) = try template.encode(expected.conversations[item.conversation], tokenizer: tokenizer, addGenerationPrompt: false)
            XCTAssertEqual(ids, item.ids, "\(item.format) conversation \(item.conversation)")
            XCTAssertEqual(String(mask.map { $0 ? "1" : "0" }), item.mask, "\(item.format) conversation \(item.conversation)")
        }
    }
}
