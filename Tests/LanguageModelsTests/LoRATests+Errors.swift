import Foundation
import XCTest
@testable import LanguageModels
import JSON
import SafeTensors
import Tensors

/// LoRA configuration and adapter-folder errors: each names the field, file or tensor at fault.
extension LoRATests {
    // MARK: Errors

    func testConfigurationErrorsAreClear() throws {
        func decode(_ json: String) throws -> LoRAConfiguration {
            try JSONDecoder().decode(LoRAConfiguration.self, from: Data(json.utf8))
        }
        func assertRefused(_ json: String, mentions text: String, file: StaticString = #filePath, line: UInt = #line) {
            XCTAssertThrowsError(try decode(json).validate(), file: file, line: line) { error in
                XCTAssertTrue("\(error)".contains(text), "\(error) should mention \(text)", file: file, line: line)
            }
        }
        assertRefused(#"{"r": 4, "bias": "all"}"#, mentions: "bias \"all\"")
        assertRefused(#"{"r": 4, "modules_to_save": ["lm_head"]}"#, mentions: "modules_to_save")
        assertRefused(#"{"r": 4, "rank_pattern": {"q_proj": 8}}"#, mentions: "rank_pattern")
        assertRefused(#"{"r": 4, "alpha_pattern": {"q_proj": 8}}"#, mentions: "alpha_pattern")
        assertRefused(#"{"r": 4, "layers_to_transform": [0]}"#, mentions: "layers_to_transform")
        assertRefused(#"{"r": 4, "use_dora": true}"#, mentions: "DoRA")
        assertRefused(#"{"r": 4, "peft_type": "IA3"}"#, mentions: "peft_type")
        assertRefused(#"{"r": 0}"#, mentions: "r: must be at least 1 (got 0)")
        assertRefused(#"{"r": 100000}"#, mentions: "r: must be at most 1024 (got 100000)")
        assertRefused(#"{"r": 4, "lora_dropout": 1}"#, mentions: "lora_dropout: must be in [0.0, 1.0) (got 1.0)")
        XCTAssertThrowsError(try decode(#"{"r": 4, "init_lora_weights": "pissa"}"#)) { error in
            XCTAssertTrue("\(error)".contains("pissa"), "\(error)")
        }
        // PEFT's inactive defaults and unknown keys are fine, and kept.
        let configuration = try decode(#"{"r": 4, "use_dora": false, "loftq_config": {}, "megatron_core": "megatron.core", "future_key": [1, 2]}"#)
        XCTAssertNoThrow(try configuration.validate())
        XCTAssertEqual(configuration.otherFields["future_key"], .array([.number(1), .number(2)]))
        XCTAssertEqual(try decode(String(decoding: JSONEncoder().encode(configuration), as: UTF8.self)), configuration)

        let model = try Self.baseModel("llama_gqa")
        var generator = SeededGenerator(seed: 0)
        XCTAssertThrowsError(try LoRA.apply(LoRAConfiguration(targetModules: .names(["q_proj", "qkv_proj"])), to: model, generator: &generator)) { error in
            XCTAssertTrue("\(error)".contains("\"qkv_proj\" matches no module"), "\(error)")
            XCTAssertTrue("\(error)".contains("model.layers.<n>.self_attn.q_proj"), "\(error) lists the modules")
        }
        XCTAssertThrowsError(try LoRA.apply(LoRAConfiguration(targetModules: .pattern("lm_head")), to: model, generator: &generator))
        XCTAssertThrowsError(try LoRA.apply(LoRAConfiguration(targetModules: .pattern("(unclosed")), to: model, generator: &generator)) { error in
            XCTAssertTrue("\(error)".contains("not a valid regular expression"), "\(error)")
        }
        XCTAssertTrue(LoRA.adapters(in: model).isEmpty, "failed applies attach nothing")
        XCTAssertFalse(model.trainableParameters().isEmpty, "failed applies freeze nothing")
        try LoRA.apply(LoRAConfiguration(), to: model, generator: &generator)
        XCTAssertThrowsError(try LoRA.apply(LoRAConfiguration(), to: model, generator: &generator)) { error in
            XCTAssertTrue("\(error)".contains("already has LoRA adapters"), "\(error)")
        }
    }

    /// Writes a copy of a PEFT adapter folder with `edit` applied to its tensors, and returns the load error.
    private func loadError(editing adapter: String, base: String,
                           _ edit: (inout [(name: String, shape: [Int], values: [Float])]) -> Void) throws -> String {
        let source = Self.lora.appendingPathComponent("peft/\(adapter)")
        let folder = try temporaryDirectory()
        try FileManager.default.copyItem(at: source.appendingPathComponent(LoRA.configurationFileName),
                                         to: folder.appendingPathComponent(LoRA.configurationFileName))
        let file = try SafeTensorsFile(url: source.appendingPathComponent(LoRA.weightsFileName))
        var tensors = try file.names.map { (name: $0, shape: try file.info($0).shape, values: try file.floats($0)) }
        edit(&tensors)
        var writer = SafeTensorsWriter()
        for tensor in tensors { try writer.add(tensor.name, shape: tensor.shape, values: tensor.values) }
        try writer.write(to: folder.appendingPathComponent(LoRA.weightsFileName))
        let model = try Self.baseModel(base)
        do {
            try LoRA.load(from: folder, into: model)
        } catch {
            XCTAssertTrue(LoRA.adapters(in: model).isEmpty, "a failed load attaches nothing")
            return "\(error)"
        }
        XCTFail("loading the edited \(adapter) should fail")
        return ""
    }

    func testAdapterFolderErrorsNameFileAndTensor() throws {
        let unknown = try loadError(editing: "llama_gqa_regex", base: "llama_gqa") { tensors in
            tensors.append((name: "base_model.model.model.layers.0.mlp.up_proj.lora_A.weight", shape: [2, 32], values: .init(repeating: 0, count: 64)))
        }
        XCTAssertTrue(unknown.contains("adapter_model.safetensors") && unknown.contains("model.layers.0.mlp.up_proj.lora_A.weight"), unknown)
        let wrongShape = try loadError(editing: "llama_gqa_regex", base: "llama_gqa") { tensors in
            let index = tensors.firstIndex { $0.name.hasSuffix("layers.1.self_attn.v_proj.lora_B.weight") }!
            tensors[index] = (name: tensors[index].name, shape: [8, 2], values: Array(tensors[index].values.prefix(16)))
        }
        XCTAssertTrue(wrongShape.contains("layers.1.self_attn.v_proj.lora_B.weight") && wrongShape.contains("[8, 2]"), wrongShape)
        let missing = try loadError(editing: "gpt2", base: "gpt2") { tensors in
            tensors.removeAll { $0.name.hasSuffix("h.1.attn.c_attn.lora_A.weight") }
        }
        XCTAssertTrue(missing.contains("no tensor \"base_model.model.transformer.h.1.attn.c_attn.lora_A.weight\""), missing)
        // A config that is not usable is reported with its path.
        let folder = try temporaryDirectory()
        try Data(#"{"r": 4, "target_modules": ["q_proj"], "modules_to_save": ["lm_head"]}"#.utf8)
            .write(to: folder.appendingPathComponent(LoRA.configurationFileName))
        XCTAssertThrowsError(try LoRA.load(from: folder, into: try Self.baseModel("llama_gqa"))) { error in
            XCTAssertTrue("\(error)".contains(LoRA.configurationFileName) && "\(error)".contains("modules_to_save"), "\(error)")
        }
        XCTAssertThrowsError(try LoRA.load(from: folder.appendingPathComponent("missing"), into: try Self.baseModel("llama_gqa"))) { error in
            XCTAssertTrue("\(error)".contains("cannot read adapter_config.json"), "\(error)")
        }
    }
}
