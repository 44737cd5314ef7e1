import ArgumentParser

@main
struct Charter: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "charter",
        abstract: "Align language models: RLHF, Constitutional AI, DPO — on a CPU or against inference servers.",
        subcommands: [
            GenerateCommand.self,
            ChatCommand.self,
            LogprobsCommand.self,
            TokenizeCommand.self,
            SFTCommand.self,
            DPOCommand.self,
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
            Bench.self,
        ])
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
