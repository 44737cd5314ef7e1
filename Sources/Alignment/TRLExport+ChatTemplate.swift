import Foundation
import LanguageModels

/// A recipe's chat template in an export. TRL 1.16 reads a template file only through `chat_template_path` (SFT and
/// reward); its other trainers take the model folder's own, so there the export adds the template to a linked copy
/// of the folder.
extension TRLExport {
    /// The Jinja source config.yaml's chat template gets, whether it goes into model/, and the note saying so.
    /// - Parameters:
    ///   - name: a built-in format (exported as ``ChatTemplate/selfContainedJinjaSource(generationMarks:)``) or a
    ///     `.jinja`/`.j2` file (copied as it is).
    ///   - hasPath: whether the trainer's TRL config has `chat_template_path`.
    ///   - marksAssistant: write the training copy (`{% generation %}` around the assistant turns Charter trains on).
    /// - Throws: `ChatTemplateError` for an unknown name, `TrainingError.io` for an unreadable file.
    static func chatTemplate(_ name: String, trainer: String, hasPath: Bool, marksAssistant: Bool) throws
        -> (source: String, inModelFolder: Bool, note: String) {
        let isFile = name.hasSuffix(".jinja") || name.hasSuffix(".j2")
        let source = isFile
            ? String(decoding: try read(URL(fileURLWithPath: name)), as: UTF8.self)
            : try ChatTemplate(named: name).selfContainedJinjaSource(generationMarks: marksAssistant)
        guard let source else { throw TrainingError.data("chat_template_name \(name) has no Jinja source to give TRL") }
        if hasPath {
            let marks = marksAssistant && !isFile ? "; with {% generation %} around the assistant turns Charter trains on, for assistant_only_loss" : ""
            return (source, false, "chat_template_name \(name) → chat_template_path: chat_template.jinja (the format's Jinja template, which Charter renders byte for byte\(marks))")
        }
        return (source, true, "chat_template_name \(name): TRL \(TRLConfigKeys.version)'s \(trainer) config has no chat_template_path, so model/ links the model's files and adds chat_template.jinja (transformers reads it before tokenizer_config.json's template)")
    }

    /// model/: a link to each file of the model folder but its chat template, and the recipe's chat_template.jinja.
    func linkModel(_ model: String, addingTemplate source: String, into folder: URL) throws {
        let manager = FileManager.default
        var isFolder: ObjCBool = false
        guard manager.fileExists(atPath: model, isDirectory: &isFolder), isFolder.boolValue else {
            throw TrainingError.data("model_name_or_path \(model) is not a local folder, so the export cannot add the recipe's chat template to it (TRL \(TRLConfigKeys.version)'s \(trainer) config has no chat_template_path); give a model folder, or put the template in the model's chat_template.jinja and leave chat_template_name out")
        }
        do {
            try? manager.removeItem(at: folder)
            try manager.createDirectory(at: folder, withIntermediateDirectories: true)
            let source = URL(fileURLWithPath: model).standardizedFileURL
            for name in try manager.contentsOfDirectory(atPath: source.path) where name != "chat_template.jinja" {
                try manager.createSymbolicLink(at: folder.appendingPathComponent(name), withDestinationURL: source.appendingPathComponent(name))
            }
        } catch { throw TrainingError.io("cannot link \(model)'s files into \(folder.path): \(error.localizedDescription)") }
        try write(source, to: folder.appendingPathComponent("chat_template.jinja"))
    }

    static func read(_ url: URL) throws -> Data {
        do { return try Data(contentsOf: url) } catch {
            throw TrainingError.io("cannot read the chat template \(url.path): \(error.localizedDescription)")
        }
    }
}
