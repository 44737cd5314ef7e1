import ArgumentParser

@main
struct Charter: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "charter",
        abstract: "Align language models: RLHF, Constitutional AI, DPO — on a CPU or against inference servers.",
        subcommands: [GEMMBenchmark.self])
}
