import Datasets
import Foundation
import JSON
import LanguageModels

/// Formats a constitution can be imported from (`charter constitution import --format …`).
public enum ConstitutionImportFormat: String, CaseIterable, Sendable {
    /// The prompt files published with Bai et al. (2022), repository anthropics/ConstitutionalHarmlessnessPaper,
    /// folder `prompts/`: a folder with `CritiqueRevisionInstructions.json`, `RLMadisonInstructions.json` and,
    /// when present, the three few-shot files.
    case anthropic
    /// Hugging Face llm-swarm's `constitution_*.json`: `{"constitutions": [{"critic", "revision"}],
    /// "system_chat": [[{"role", "content"}, …], …]}`.
    case llmSwarm = "llm-swarm"
}

extension Constitution {
    /// Imports a constitution from another project's files.
    /// - Parameters:
    ///   - url: a folder (anthropic) or a JSON file (llm-swarm).
    ///   - name: the imported constitution's name (default: from the source).
    public static func importing(_ format: ConstitutionImportFormat, from url: URL, name: String? = nil) throws -> Constitution {
        switch format {
        case .anthropic: return try AnthropicImporter(directory: url).constitution(name: name ?? "anthropic-cai")
        case .llmSwarm: return try LLMSwarmImporter.constitution(file: url, name: name ?? url.deletingPathExtension().lastPathComponent)
        }
    }
}

/// Reads Anthropic's CAI prompt files.
struct AnthropicImporter {
    let directory: URL
    static let repository = "anthropics/ConstitutionalHarmlessnessPaper prompts/"

    func constitution(name: String) throws -> Constitution {
        var principles = try critiquePrinciples()
        principles += try comparisonPrinciples()
        var critiqueExamples: [CritiqueExample] = []
        var comparisonExamples: [ComparisonExample] = []
        if let transcripts = try optionalJSON("CritiqueRevisionFewShotPrompts.json") {
            critiqueExamples = try fewShotCritiques(transcripts)
        }
        if let examples = try optionalJSON("RLMadisonFewShotPrompts.json") {
            comparisonExamples += try fewShotComparisons(examples)
        }
        if let examples = try optionalJSON("RLMadisonPrecogFewShotPrompts.json") {
            comparisonExamples += try chainOfThoughtComparisons(examples)
        }
        let constitution = Constitution(
            name: name, version: "2022.12",
            description: "Imported from the prompt files of Bai et al. (2022), \"Constitutional AI: Harmlessness from AI Feedback\" (anthropics/ConstitutionalHarmlessnessPaper).",
            principles: principles, critiqueExamples: critiqueExamples, comparisonExamples: comparisonExamples)
        let problems = constitution.validate()
        guard problems.isEmpty else { throw ConstitutionError(file: directory.path, problems: problems) }
        return constitution
    }

    func file(_ name: String) -> URL { directory.appendingPathComponent(name) }

    func json(_ name: String) throws -> JSONValue {
        let url = file(name)
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw ConstitutionError(file: url.path, path: "", "missing: an Anthropic prompts folder has CritiqueRevisionInstructions.json and RLMadisonInstructions.json")
        }
        do {
            return try JSONParser.parse(Data(contentsOf: url))
        } catch let error as JSONSyntaxError {
            throw ConstitutionError(file: url.path, path: "", "not valid JSON at \(error)")
        } catch {
            throw ConstitutionError(file: url.path, path: "", "cannot read (\(error.localizedDescription))")
        }
    }

    func optionalJSON(_ name: String) throws -> JSONValue? {
        FileManager.default.fileExists(atPath: file(name).path) ? try json(name) : nil
    }

    /// `{"harmful0": {"prompt": ["\n\nCritiqueRequest: …\n\nCritique:"], "edit_request": "\n\nRevisionRequest: …\n\nRevision:"}, …}`.
    func critiquePrinciples() throws -> [Principle] {
        let name = "CritiqueRevisionInstructions.json"
        let object = try json(name)
        guard case .object = object else {
            throw ConstitutionError(file: file(name).path, path: "", "expected an object of {prompt, edit_request} entries")
        }
        return try object.keys.sorted(by: Self.naturalOrder).map { key in
            guard let entry = object[key], let prompt = entry["prompt"]?.stringArrayValue?.first,
                let edit = entry["edit_request"]?.stringValue
            else {
                throw ConstitutionError(file: file(name).path, path: key, "expected {\"prompt\": [text], \"edit_request\": text}")
            }
            guard let critique = Self.unwrap(prompt, open: "CritiqueRequest:", close: "Critique:") else {
                throw ConstitutionError(file: file(name).path, path: "\(key).prompt[0]", "expected \"\\n\\nCritiqueRequest: …\\n\\nCritique:\"")
            }
            guard let revision = Self.unwrap(edit, open: "RevisionRequest:", close: "Revision:") else {
                throw ConstitutionError(file: file(name).path, path: "\(key).edit_request", "expected \"\\n\\nRevisionRequest: …\\n\\nRevision:\"")
            }
            return Principle(id: key, category: .harmlessness, critiqueRequest: critique, revisionRequest: revision,
                             source: Self.repository + name + "#" + key)
        }
    }

    /// A list of 16 questions ending in "Options:".
    func comparisonPrinciples() throws -> [Principle] {
        let name = "RLMadisonInstructions.json"
        guard let list = try json(name).stringArrayValue else {
            throw ConstitutionError(file: file(name).path, path: "", "expected a list of texts")
        }
        return list.enumerated().map { index, text in
            var question = text.trimmingCharacters(in: .whitespacesAndNewlines)
            if question.hasSuffix("Options:") { question = String(question.dropLast("Options:".count)).trimmingCharacters(in: .whitespaces) }
            return Principle(id: "rl-madison-\(index)", category: .harmlessness, comparison: question,
                             source: Self.repository + name + "#\(index)")
        }
    }

    /// Transcripts "\n\nHuman: …\n\nAssistant: …\n\nCritiqueRequest: …\n\nCritique: …\n\nRevisionRequest: …\n\nRevision: …".
    func fewShotCritiques(_ value: JSONValue) throws -> [CritiqueExample] {
        let name = "CritiqueRevisionFewShotPrompts.json"
        guard let list = value.stringArrayValue else { throw ConstitutionError(file: file(name).path, path: "", "expected a list of transcripts") }
        return try list.enumerated().map { index, transcript in
            do {
                return try Self.critiqueExample(transcript, source: Self.repository + name + "#\(index)")
            } catch let reason as ConstitutionalError {
                throw ConstitutionError(file: file(name).path, path: "[\(index)]", reason.description)
            }
        }
    }

    static func critiqueExample(_ transcript: String, source: String) throws -> CritiqueExample {
        var sections = TranscriptSections.split(transcript, labels: ["Human", "Assistant", "CritiqueRequest", "Critique", "RevisionRequest", "Revision"])
        if let last = sections.last, last.label == "Human", last.text.isEmpty { sections.removeLast() }
        let tail = sections.suffix(4).map(\.label)
        guard sections.count >= 6, tail == ["CritiqueRequest", "Critique", "RevisionRequest", "Revision"] else {
            throw ConstitutionalError("expected Human/Assistant turns then CritiqueRequest, Critique, RevisionRequest, Revision; found \(sections.map(\.label).joined(separator: ", "))")
        }
        let conversation = sections.dropLast(4).map { ChatMessage(role: $0.label == "Human" ? "user" : "assistant", content: $0.text) }
        let texts = sections.suffix(4).map(\.text)
        return CritiqueExample(conversation: conversation, critiqueRequest: texts[0], critique: texts[1], revisionRequest: texts[2],
                               revision: texts[3], source: source)
    }

    /// `[{"prompt": "\n\nHuman: …\n\nAssistant:", "corrects": [...], "incorrects": [...]}]`. The better response is
    /// shown as (A) in even-numbered examples and (B) in odd ones, so the few-shot block has no position bias.
    func fewShotComparisons(_ value: JSONValue) throws -> [ComparisonExample] {
        let name = "RLMadisonFewShotPrompts.json"
        guard let list = value.arrayValue else { throw ConstitutionError(file: file(name).path, path: "", "expected a list of objects") }
        var examples: [ComparisonExample] = []
        for (index, entry) in list.enumerated() {
            guard let prompt = entry["prompt"]?.stringValue, let corrects = entry["corrects"]?.stringArrayValue,
                let incorrects = entry["incorrects"]?.stringArrayValue
            else {
                throw ConstitutionError(file: file(name).path, path: "[\(index)]", "expected {prompt, corrects, incorrects}")
            }
            let conversation: [ChatMessage]
            do {
                conversation = try HHTranscript.messages(from: prompt, dropTrailingEmptyAssistant: true)
                    .map { ChatMessage(role: $0.role.rawValue, content: $0.content) }
            } catch {
                throw ConstitutionError(file: file(name).path, path: "[\(index)].prompt", "not a Human/Assistant transcript: \(error)")
            }
            for correct in corrects {
                for incorrect in incorrects {
                    let correctFirst = examples.count % 2 == 0
                    examples.append(ComparisonExample(
                        conversation: conversation, responseA: correctFirst ? correct : incorrect,
                        responseB: correctFirst ? incorrect : correct, preferred: correctFirst ? "A" : "B",
                        source: Self.repository + name + "#\(index)"))
                }
            }
        }
        return examples
    }

    /// Chain-of-thought examples: "…conversation…\n\n{}\n (A) [[[…]]]\n (B) [[[…]]]\n\nAssistant: Let's think step by
    /// step: …\n\nHuman:\nSo the answer is: (B)"; `{}` marks where the live question's principle goes.
    func chainOfThoughtComparisons(_ value: JSONValue) throws -> [ComparisonExample] {
        let name = "RLMadisonPrecogFewShotPrompts.json"
        guard let list = value.arrayValue else { throw ConstitutionError(file: file(name).path, path: "", "expected a list of objects") }
        return try list.enumerated().map { index, entry in
            guard let prompt = entry["prompt"]?.stringValue else {
                throw ConstitutionError(file: file(name).path, path: "[\(index)]", "expected {\"prompt\": text}")
            }
            guard let example = Self.chainOfThoughtExample(prompt, source: Self.repository + name + "#\(index)") else {
                throw ConstitutionError(file: file(name).path, path: "[\(index)].prompt",
                                        "expected a conversation, \"{}\", (A) [[[…]]], (B) [[[…]]], \"Let's think step by step:\" reasoning and \"So the answer is: (A|B)\"")
            }
            return example
        }
    }

    static func chainOfThoughtExample(_ prompt: String, source: String) -> ComparisonExample? {
        guard let intro = prompt.range(of: "assistant (A):\n\n") ?? prompt.range(of: "an assistant:\n\n"),
            let placeholder = prompt.range(of: "\n\n{}\n", range: intro.upperBound..<prompt.endIndex),
            let a = between(prompt, "(A) [[[", "]]]", from: placeholder.upperBound),
            let b = between(prompt, "(B) [[[", "]]]", from: a.end),
            let thinking = prompt.range(of: "Let's think step by step:", range: b.end..<prompt.endIndex),
            let answer = prompt.range(of: "So the answer is: (", range: thinking.upperBound..<prompt.endIndex)
        else { return nil }
        let letter = String(prompt[answer.upperBound...].prefix(1))
        guard letter == "A" || letter == "B" else { return nil }
        var reasoning = String(prompt[thinking.upperBound..<answer.lowerBound])
        if let human = reasoning.range(of: "\n\nHuman:", options: .backwards) { reasoning = String(reasoning[..<human.lowerBound]) }
        let sections = TranscriptSections.split("\n\n" + prompt[intro.upperBound..<placeholder.lowerBound], labels: ["H", "A"])
        guard !sections.isEmpty else { return nil }
        let conversation = sections.map { ChatMessage(role: $0.label == "H" ? "user" : "assistant", content: $0.text) }
        return ComparisonExample(conversation: conversation, responseA: a.text, responseB: b.text, preferred: letter,
                                 reasoning: reasoning.trimmingCharacters(in: .whitespacesAndNewlines), source: source)
    }

    static func between(_ text: String, _ open: String, _ close: String, from start: String.Index) -> (text: String, end: String.Index)? {
        guard let opening = text.range(of: open, range: start..<text.endIndex),
            let closing = text.range(of: close, range: opening.upperBound..<text.endIndex)
        else { return nil }
        return (String(text[opening.upperBound..<closing.lowerBound]), closing.upperBound)
    }

    /// The text between "\n\n<open>" and a trailing "\n\n<close>", trimmed.
    static func unwrap(_ text: String, open: String, close: String) -> String? {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard trimmed.hasPrefix(open), trimmed.hasSuffix(close) else { return nil }
        let inner = trimmed.dropFirst(open.count).dropLast(close.count).trimmingCharacters(in: .whitespacesAndNewlines)
        return inner.isEmpty ? nil : inner
    }

    /// "harmful2" before "harmful10".
    static func naturalOrder(_ a: String, _ b: String) -> Bool {
        a.compare(b, options: .numeric) == .orderedAscending
    }
}

/// Splits "\n\nLabel: text\n\nOther: text" transcripts at blank-line-prefixed labels (labels inside a turn's text,
/// not preceded by a blank line, stay text).
enum TranscriptSections {
    static func split(_ transcript: String, labels: [String]) -> [(label: String, text: String)] {
        // Longest labels first so "CritiqueRequest:" is not read as "Critique:".
        let markers = labels.sorted { $0.count > $1.count }.map { (label: $0, marker: "\n\n\($0):") }
        var sections: [(label: String, text: String)] = []
        var current: String?
        var start = transcript.startIndex
        var index = transcript.startIndex
        while index < transcript.endIndex {
            if transcript[index] == "\n", let match = markers.first(where: { transcript[index...].hasPrefix($0.marker) }) {
                if let current { sections.append((current, transcript[start..<index].trimmingCharacters(in: .whitespacesAndNewlines))) }
                current = match.label
                index = transcript.index(index, offsetBy: match.marker.count)
                start = index
                continue
            }
            index = transcript.index(after: index)
        }
        if let current { sections.append((current, transcript[start...].trimmingCharacters(in: .whitespacesAndNewlines))) }
        return sections
    }
}

/// Reads llm-swarm's `constitution_*.json`.
enum LLMSwarmImporter {
    static func constitution(file url: URL, name: String) throws -> Constitution {
        let path = url.path
        let object: JSONValue
        do {
            object = try JSONParser.parse(Data(contentsOf: url))
        } catch let error as JSONSyntaxError {
            throw ConstitutionError(file: path, path: "", "not valid JSON at \(error)")
        } catch {
            throw ConstitutionError(file: path, path: "", "cannot read JSON (\(error.localizedDescription))")
        }
        guard case .object = object else {
            throw ConstitutionError(file: path, path: "", "expected an object with \"constitutions\" and \"system_chat\"")
        }
        guard let entries = object["constitutions"]?.arrayValue, !entries.isEmpty else {
            throw ConstitutionError(file: path, path: "constitutions", "missing or empty: expected a list of {\"critic\", \"revision\"}")
        }
        var principles: [Principle] = []
        for (index, entry) in entries.enumerated() {
            guard let critic = entry["critic"]?.stringValue, let revision = entry["revision"]?.stringValue else {
                throw ConstitutionError(file: path, path: "constitutions[\(index)]", "expected text fields \"critic\" and \"revision\"")
            }
            principles.append(Principle(id: "llm-swarm-\(index)", category: .harmlessness, critiqueRequest: critic,
                                        revisionRequest: revision, source: "\(url.lastPathComponent)#constitutions[\(index)]"))
        }
        var examples: [CritiqueExample] = []
        for (index, chat) in (object["system_chat"]?.arrayValue ?? []).enumerated() {
            let location = "system_chat[\(index)]"
            guard let messages = chat.arrayValue else {
                throw ConstitutionError(file: path, path: location, "expected a list of {\"role\", \"content\"} messages")
            }
            var turns: [ChatMessage] = []
            for (position, message) in messages.enumerated() {
                guard let role = message["role"]?.stringValue, let content = message["content"]?.stringValue else {
                    throw ConstitutionError(file: path, path: "\(location)[\(position)]", "expected {\"role\", \"content\"}")
                }
                turns.append(ChatMessage(role: role, content: content))
            }
            guard turns.count >= 6, turns.count % 2 == 0 else {
                throw ConstitutionError(file: path, path: location,
                                        "expected user/assistant turns ending with critique request, critique, revision request, revision (at least 6 messages, an even number); found \(turns.count)")
            }
            let tail = Array(turns.suffix(4))
            let example = CritiqueExample(conversation: Array(turns.dropLast(4)), critiqueRequest: tail[0].content, critique: tail[1].content,
                                          revisionRequest: tail[2].content, revision: tail[3].content,
                                          source: "\(url.lastPathComponent)#\(location)")
            for problem in Constitution.conversationProblems(turns, path: location, endsWith: "assistant") {
                throw ConstitutionError(file: path, problems: [problem])
            }
            examples.append(example)
        }
        let constitution = Constitution(name: name, version: "1", description: "Imported from the llm-swarm constitution file \(url.lastPathComponent).",
                                        principles: principles, critiqueExamples: examples)
        let problems = constitution.validate()
        guard problems.isEmpty else { throw ConstitutionError(file: path, problems: problems) }
        return constitution
    }
}
