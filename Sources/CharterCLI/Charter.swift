import ArgumentParser
import Runtime
import Settings

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
            ConvertCommand.self,
            TokenizeCommand.self,
            SFTCommand.self,
            DPOCommand.self, ORPOCommand.self, KTOCommand.self,
            RewardCommand.self,
            PPOCommand.self, GRPOCommand.self, RLOOCommand.self, OnlineDPOCommand.self,
            ConstitutionCommand.self,
            CritiqueCommand.self,
            LabelCommand.self,
            OverseeCommand.self,
            EvaluateCommand.self,
            AuditCommand.self,
            CleanCommand.self,
            AnnotateCommand.self,
            PipelineCommand.self,
            ExportCommand.self,
            ImportCommand.self,
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
        let suggestion = Suggestion.phrase(for: first, among: names)
        return "unknown command '\(first)';\(suggestion) Commands: \(names.dropLast().joined(separator: ", ")) (charter help COMMAND for one)"
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
            AnnotateBenchmark.self,
        ])
}
