import ArgumentParser
import Runtime

@main
struct Charter: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "charter",
        abstract: "Align language models: RLHF, Constitutional AI, DPO — on a CPU or against inference servers.",
        version: CharterVersion.current,
        subcommands: [
            GenerateCommand.self,
            ChatCommand.self,
            LogprobsCommand.self,
            MergeCommand.self,
            TokenizeCommand.self,
            SFTCommand.self,
            DPOCommand.self, ORPOCommand.self, KTOCommand.self,
            RewardCommand.self,
            PPOCommand.self,
            ConstitutionCommand.self,
            CritiqueCommand.self,
            LabelCommand.self,
            AuditCommand.self,
            CleanCommand.self,
            PipelineCommand.self,
            ServeCommand.self,
            QuickstartCommand.self,
            ExperimentCommand.self,
            ProbeCommand.self,
            Bench.self,
        ])

    /// Parses and runs as ArgumentParser does, after refusing a misspelled command by name (ArgumentParser would
    /// otherwise complain about the first option after it, e.g. "Unknown option '--model'").
    static func main() async {
        let arguments = Array(CommandLine.arguments.dropFirst())
        if let message = unknownCommand(arguments) { exit(withError: ValidationError(message)) }
        do {
            var command = try parseAsRoot(arguments)
            if var asynchronous = command as? AsyncParsableCommand { try await asynchronous.run() } else { try command.run() }
        } catch {
            exit(withError: error)
        }
    }

    /// "unknown command 'chta'; did you mean 'chat'? …" when the first argument is neither an option nor a command.
    static func unknownCommand(_ arguments: [String]) -> String? {
        guard let first = arguments.first, !first.hasPrefix("-") else { return nil }
        let names = configuration.subcommands.map { $0.configuration.commandName ?? String(describing: $0).lowercased() } + ["help"]
        guard !names.contains(first) else { return nil }
        let nearest = names.map { ($0, editDistance($0, first)) }.min { $0.1 < $1.1 }
        let suggestion = nearest.flatMap { $0.1 <= max(2, first.count / 3) ? " did you mean '\($0.0)'?" : nil } ?? ""
        return "unknown command '\(first)';\(suggestion) Commands: \(names.dropLast().joined(separator: ", ")) (charter help COMMAND for one)"
    }

    /// Levenshtein distance between two strings, by characters.
    static func editDistance(_ a: String, _ b: String) -> Int {
        let b = Array(b)
        var row = Array(0...b.count)  // distances from a's prefix so far to each prefix of b
        for (i, x) in a.enumerated() {
            var next = [i + 1]
            for (j, y) in b.enumerated() { next.append(min(row[j + 1] + 1, next[j] + 1, row[j] + (x == y ? 0 : 1))) }
            row = next
        }
        return row[b.count]
    }
}

/// `charter bench …`: measurements that the README's benchmark table reports next to PyTorch's.
struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure Charter's kernels and training speed (compare with Benchmarks/pytorch).",
        subcommands: [
            GEMMBenchmark.self,
            TrainingBenchmark.self,
            GenerationBenchmark.self,
            DPOBenchmark.self,
            ServeBenchmark.self,
            PPOBenchmark.self,
        ])
}
