import ArgumentParser
import Constitutional
import Foundation

/// `charter constitution …`: check, print, compare and import constitutions.
struct ConstitutionCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "constitution",
        abstract: "Validate, show, diff, import and collectively write constitutions (the principles of Constitutional AI).",
        subcommands: [Validate.self, Show.self, Diff.self, Import.self, CollectCommand.self])

    struct Validate: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Check a constitution YAML; errors name the field (principles[2].critique_request).")
        @Argument(help: "A constitution YAML file, or 'default'.") var file: String

        func run() throws {
            let constitution = try loadConstitution(file)
            print("\(file): valid — \(describe(constitution))")
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print a constitution as YAML ('default' prints Charter's own).")
        @Argument(help: "A constitution YAML file, or 'default'.") var file: String

        func run() throws {
            if file == "default" {
                print(Constitution.charterDefaultYAML)
            } else {
                print(try loadConstitution(file).yaml(), terminator: "")
            }
        }
    }

    struct Diff: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "What changed between two constitutions, principle by principle (matched by id).")
        @Argument(help: "The old constitution (file or 'default').") var old: String
        @Argument(help: "The new constitution (file or 'default').") var new: String

        func run() throws {
            print(ConstitutionDiff(from: try loadConstitution(old), to: try loadConstitution(new)).report)
        }
    }

    struct Import: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Convert another project's constitution files to a Charter constitution YAML.",
            discussion: """
            anthropic: the prompts/ folder of anthropics/ConstitutionalHarmlessnessPaper (CritiqueRevisionInstructions.json, \
            RLMadisonInstructions.json and, when present, the three few-shot files). llm-swarm: a constitution_*.json file \
            ({"constitutions": [{"critic", "revision"}], "system_chat": [[messages…]…]}).
            """)
        @Option(help: "anthropic or llm-swarm.") var format: String
        @Argument(help: "The source folder (anthropic) or file (llm-swarm).") var source: String
        @Option(help: "Where to write the YAML.") var output: String
        @Option(help: "The constitution's name (default: from the source).") var name: String?

        func run() throws {
            guard let format = ConstitutionImportFormat(rawValue: format) else {
                throw CommandError("--format \(format): use one of \(ConstitutionImportFormat.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            let constitution = try Constitution.importing(format, from: URL(fileURLWithPath: source), name: name)
            try constitution.write(to: URL(fileURLWithPath: output))
            print("wrote \(output): \(describe(constitution))")
        }
    }
}

/// "default" (Charter's constitution) or a YAML file.
func loadConstitution(_ specification: String) throws -> Constitution {
    specification == "default" ? try Constitution.charterDefault : try Constitution.load(from: URL(fileURLWithPath: specification))
}

func describe(_ constitution: Constitution) -> String {
    let categories = Dictionary(grouping: constitution.principles, by: \.category).map { "\($0.key) \($0.value.count)" }.sorted()
    return "\(constitution.label), \(constitution.principles.count) principles (\(constitution.critiquePrinciples.count) critique/revision, "
        + "\(constitution.comparisonPrinciples.count) comparison; \(categories.joined(separator: ", "))), "
        + "\(constitution.critiqueExamples.count) critique examples, \(constitution.comparisonExamples.count) comparison examples "
        + "(\(constitution.comparisonExamples.filter { $0.reasoning != nil }.count) with reasoning)"
}
