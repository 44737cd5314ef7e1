import ArgumentParser
import Constitutional
import ModelEvaluation
import Foundation
import LanguageModels
import Pipelines
import Runtime
import Tensors

/// `charter evaluate …`: compare and score models (pairwise AI-judge win rates, Bradley–Terry ratings, multiple-choice
/// preference accuracy, holistic rubrics).
struct EvaluateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "evaluate",
        abstract: "Evaluate models: pairwise AI-judge win rates, Bradley–Terry ratings, multiple-choice preference accuracy, rubric scores.",
        subcommands: [EvaluatePairwise.self, EvaluateRatings.self, EvaluateChoice.self, EvaluateRubric.self])
}

/// `--judge PATH`: the judge model, a local folder or an endpoints file.
struct JudgeOptions: ParsableArguments {
    @Option(help: "The judge: a Hugging Face model folder, or a YAML/JSON endpoints file for OpenAI-compatible servers.") var judge: String
    @Option(help: "A built-in chat template family for a judge folder without one.") var judgeChatTemplate: String?
    @Option(help: "Kernel threads for local models (default: CHARTER_THREADS or every core).") var threads: Int?

    func makeJudges() throws -> [any LanguageModel] {
        if let threads { ComputeThreads.count = threads }
        return try makeLanguageModels(modelSource(judge, chatTemplate: judgeChatTemplate))
    }
}

/// A folder is run locally; anything else is an endpoints file.
func modelSource(_ path: String, chatTemplate: String? = nil) -> ModelSource {
    var isDirectory: ObjCBool = false
    let isFolder = FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) && isDirectory.boolValue
    return isFolder ? .local(path: path, chatTemplate: chatTemplate, lora: nil) : .endpoints(configuration: path)
}

/// The models under evaluation: their responses read from files, or generated from a prompt set.
struct ContestantOptions: ParsableArguments {
    @Option(name: .customLong("responses"), help: "NAME=FILE: a model's responses ({\"id\", \"prompt\", \"completion\"} or the sample stage's \"responses\" per line); repeat per model.")
    var responseFiles: [String] = []
    @Option(name: .customLong("model"), help: "NAME=PATH: a model folder or endpoints file whose greedy responses to --prompts are generated (into OUTPUT/responses/NAME.jsonl, resumable); repeat per model.")
    var modelPaths: [String] = []
    @Option(help: "Prompts ({\"id\"?, \"prompt\"} per line) for the --model models to answer.") var prompts: String?
    @Option(help: "Most new tokens per generated response.") var maxNewTokens = 256
    @Option(help: "How generating models are prompted: transcript, chat, or auto (chat when the model has a chat template).") var prompting = "auto"

    /// Splits NAME=VALUE.
    static func named(_ value: String, flag: String) throws -> (name: String, value: String) {
        guard let equals = value.firstIndex(of: "="), equals != value.startIndex, value.index(after: equals) != value.endIndex else {
            throw CommandError("\(flag) \(value): expected NAME=PATH")
        }
        return (String(value[..<equals]), String(value[value.index(after: equals)...]))
    }

    /// Reads or generates every model's responses, in the order given (files first, then generated ones).
    func load(output: URL, run: RunFlags) throws -> [ModelResponses] {
        var models = try responseFiles.map { entry -> ModelResponses in
            let (name, file) = try Self.named(entry, flag: "--responses")
            return try ModelResponses.read(name: name, url: URL(fileURLWithPath: file))
        }
        if !modelPaths.isEmpty {
            guard let prompts else { throw CommandError("--model NAME=PATH generates responses to --prompts FILE; give --prompts") }
            for entry in modelPaths {
                let (name, path) = try Self.named(entry, flag: "--model")
                let generators = try makeLanguageModels(modelSource(path))
                let style = try promptingStyle(prompting, flag: "--prompting", command: "evaluate", models: generators)
                let file = output.appendingPathComponent("responses").appendingPathComponent("\(name).jsonl")
                try run.prepare(file)
                let (promptsURL, maxNewTokens, options) = (URL(fileURLWithPath: prompts), maxNewTokens, run.options)
                let generated = try waitFor {
                    try await ModelResponses.generate(name: name, prompts: promptsURL, models: generators, prompting: style,
                                                      maximumTokens: maxNewTokens, output: file, run: options)
                }
                print("\(name): \(generated.report.summary); responses in \(file.path)")
                try exitIfItemsFailed([(generated.report, file, "prompts")])
                models.append(generated.responses)
            }
        }
        guard !models.isEmpty else { throw CommandError("give the models' responses (--responses NAME=FILE) or models to generate them (--model NAME=PATH --prompts FILE)") }
        return models
    }
}

/// The judge's AI-feedback settings, as `charter label` takes them.
struct FeedbackFlags: ParsableArguments {
    @Option(help: "A constitution YAML whose comparison principles the judge asks, or 'default'.") var constitution = "default"
    @Option(help: "Principles asked per battle and ensembled.") var principles = 4
    @Flag(help: "Reason step by step before answering (labels clamped to [0.4, 0.6]).") var chainOfThought = false
    @Flag(help: "Ask each question in one order only (no position-bias cancelling; no ties).") var singleOrder = false
    @Option(help: "Few-shot comparisons shown (default: all).") var fewShot: Int?
    @Option(help: "Seed for principle choice and bootstrap resampling.") var seed: UInt64 = 0

    func feedback() throws -> AIFeedback {
        var configuration = FeedbackConfiguration()
        configuration.principlesPerPair = principles
        configuration.chainOfThought = chainOfThought
        configuration.bothOrders = !singleOrder
        configuration.fewShot = fewShot
        configuration.seed = seed
        return try AIFeedback(constitution: try loadConstitution(constitution), configuration: configuration)
    }
}

/// The options `evaluate pairwise` and `evaluate ratings` share: who judges, who competes, and where the battles go.
struct ComparisonOptions: ParsableArguments {
    @OptionGroup var judge: JudgeOptions
    @OptionGroup var contestants: ContestantOptions
    @OptionGroup var feedback: FeedbackFlags
    @Option(help: "Bootstrap refits of the ratings.") var bootstrap = 1000
    @Option(help: "A quickstart seed folder (runs/NAME/seed-S): also judge the battles on its evaluation prompts by the toy world's ground truth and report the agreement.") var toyWorld: String?
    @Option(help: "The output folder.") var output: String
    @OptionGroup var runFlags: RunFlags
}

extension ComparisonOptions {
    /// The shared body of `pairwise` and `ratings`: judges every battle (resumably) and writes the results and report.
    func run(kind: String, modelCount: ClosedRange<Int>) throws {
        let output = URL(fileURLWithPath: self.output)
        let feedback = try self.feedback.feedback()
        let models = try contestants.load(output: output, run: runFlags)
        guard modelCount.contains(models.count) else {
            throw CommandError("evaluate \(kind) compares \(modelCount.upperBound == .max ? "at least \(modelCount.lowerBound)" : "exactly \(modelCount.lowerBound)") models; got \(models.count) (\(models.map(\.name).joined(separator: ", ")))")
        }
        let judges = try judge.makeJudges()
        let battlesFile = output.appendingPathComponent("battles.jsonl")
        try runFlags.prepare(battlesFile)
        let options = runFlags.options
        let judged = try waitFor {
            try await EvaluationRun.battles(models: models, judge: PairwiseJudge(feedback: feedback), judges: judges, output: battlesFile, run: options)
        }
        print("judge: \(judged.report.summary); battles in \(battlesFile.path)")
        let prompts = try ModelResponses.commonPrompts(models).count
        var results = try ComparisonResults(kind: kind, models: models.map(\.name), battles: judged.battles, judge: judges.map(\.name).joined(separator: ", "),
                                            feedback: feedback, prompts: prompts, run: judged.report, bootstrapRounds: bootstrap, seed: self.feedback.seed)
        if let toyWorld {
            let (description, verdicts) = try ToyWorldReference.verdicts(folder: toyWorld, battles: judged.battles, models: models)
            results.reference = try ReferenceAgreement(reference: description, battles: judged.battles, verdicts: verdicts, models: models.map(\.name),
                                                       ratings: results.ratings, bootstrapRounds: bootstrap, seed: self.feedback.seed)
        }
        let page = try EvaluationReport.write(results, battles: judged.battles, models: models, to: output)
        for summary in results.pairwise {
            print(String(format: "%@ vs %@: win rate %.1f%% [%.1f, %.1f], W/L/T %d/%d/%d, length-controlled %.1f%% (φ %+.2f)",
                         summary.modelA, summary.modelB, 100 * summary.winRate.mean, 100 * summary.winRate.lower, 100 * summary.winRate.upper,
                         summary.wins, summary.losses, summary.ties, 100 * summary.lengthControlled.winRate, summary.lengthControlled.lengthCoefficient))
        }
        if kind == "ratings" {
            for rating in results.ratings.ratings {
                print(String(format: "%@: %.0f [%.0f, %.0f]", rating.model, rating.rating.mean, rating.rating.lower, rating.rating.upper))
            }
        }
        if let reference = results.reference {
            print(String(format: "reference: %d decidable of %d battles; AI winner agrees %.1f%%, AI preference on its side %.1f%%; orders %@ (Kendall τ %.2f)",
                         reference.decidable, reference.battles, 100 * reference.agreement, 100 * reference.preferenceAgreement,
                         reference.orderMatches ? "match" : "differ", reference.kendallTau))
            for (group, value) in reference.byGroup.sorted(by: { $0.key < $1.key }) {
                print(String(format: "  %@: %d decidable, preference agreement %.1f%%", group, value.decidable, 100 * value.preferenceAgreement))
            }
            print("reference order: \(reference.referenceRatings.ratings.map(\.model).joined(separator: " > "))")
        }
        print("results.json and report.html in \(page.deletingLastPathComponent().path)")
        try exitIfItemsFailed([(judged.report, battlesFile, "battles")])
    }
}

struct EvaluatePairwise: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pairwise",
        abstract: "Win rate of model A against model B by an AI judge, with ties and a length-controlled win rate.",
        discussion: """
        Give two models as --responses NAME=FILE or --model NAME=PATH with --prompts (A is the first given). For each \
        shared prompt the judge (--judge) answers `charter label`'s multiple-choice question for the constitution's \
        comparison principles in both orders; p(A better) is the normalised probability of " (A)" vs " (B)". The win \
        rate is its mean; a tie is a battle whose orders disagree; the length-controlled win rate is AlpacaEval 2's \
        (a logistic regression on the length difference, read at zero difference). Writes OUTPUT/battles.jsonl \
        (resumable), results.json and report.html.
        """)
    @OptionGroup var comparison: ComparisonOptions

    func run() throws {
        try comparison.run(kind: "pairwise", modelCount: 2...2)
    }
}

struct EvaluateRatings: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ratings",
        abstract: "Bradley–Terry (Elo-scale) ratings of many models from AI-judged battles, with bootstrap 95% intervals.",
        discussion: """
        Every two models' responses to every shared prompt are judged as `evaluate pairwise` judges them; the ratings \
        are the Bradley–Terry MLE (a tie half a win), mean 1000, with percentile intervals over --bootstrap refits on \
        resampled battles (as Chatbot Arena computes them). Also reports every pair's win rates.
        """)
    @OptionGroup var comparison: ComparisonOptions

    func run() throws {
        try comparison.run(kind: "ratings", modelCount: 2...Int.max)
    }
}

struct EvaluateChoice: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "choice",
        abstract: "Multiple-choice preference accuracy by log-probability (Anthropic HHH / BIG-bench hhh_alignment, TRL preference pairs).",
        discussion: """
        --data: {"input", "targets": [{"text", "score"}]} per line (or {"targets": {"choices", "labels"}}, or \
        "target_scores"; a .json list or {"examples": [...]} too), or TRL standard preference pairs {"prompt", \
        "chosen", "rejected"}. The model chooses the target with the highest log-probability after the input; accuracy \
        is reported for the summed log-probability and for the mean per token. Writes OUTPUT/choices.jsonl (resumable), \
        results.json and report.html.
        """)
    @OptionGroup var model: ModelSourceOptions
    @Option(help: "The items (.jsonl or .json).") var data: String
    @Option(help: "hhh, preference, or auto (hhh when the first item has \"input\").") var format = "auto"
    @Option(help: "The output folder.") var output: String
    @OptionGroup var runFlags: RunFlags

    func run() throws {
        let format: ChoiceItem.Format?
        if self.format == "auto" { format = nil } else {
            guard let chosen = ChoiceItem.Format(rawValue: self.format) else { throw CommandError("--format \(self.format): use auto, hhh or preference") }
            format = chosen
        }
        let dataURL = URL(fileURLWithPath: data), output = URL(fileURLWithPath: self.output)
        let (detected, items) = try ChoiceItem.read(dataURL, format: format)
        let models = try model.makeModels()
        let recordsFile = output.appendingPathComponent("choices.jsonl")
        try FileManager.default.createDirectory(at: output, withIntermediateDirectories: true)
        try runFlags.prepare(recordsFile)
        let options = runFlags.options
        let scored = try waitFor { try await EvaluationRun.choices(items, models: models, input: dataURL, output: recordsFile, run: options) }
        let summary = ChoiceEvaluation.Summary(scored.records)
        let results = ChoiceResults(model: models.map(\.name).joined(separator: ", "), data: data, format: detected.rawValue, summary: summary, run: scored.report)
        let page = try EvaluationReport.write(results, records: scored.records, to: output)
        print(String(format: "choice: %d items; accuracy %.1f%% by summed log-probability, %.1f%% by mean per token (chance %.1f%%)",
                     summary.items, 100 * summary.accuracyBySum, 100 * summary.accuracyByMean, 100 * summary.chance))
        print("results.json and report.html in \(page.deletingLastPathComponent().path)")
        try exitIfItemsFailed([(scored.report, recordsFile, "items")])
    }
}

struct EvaluateRubric: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rubric",
        abstract: "Score models' responses on a holistic rubric (per-dimension 1–5 scores from a judge's log-probabilities).",
        discussion: """
        --rubric flourishing is the Flourishing AI Benchmark's seven dimensions (Hilliard et al. 2025); or a YAML file \
        {name, source?, dimensions: [{id, name, question}]}. For each response and dimension the judge's probabilities \
        of " 1" … " 5" after "Score:" give the expected score. Writes OUTPUT/rubric.jsonl (resumable), results.json \
        and report.html (a bar chart per dimension).
        """)
    @OptionGroup var judge: JudgeOptions
    @OptionGroup var contestants: ContestantOptions
    @Option(help: "'flourishing' or a rubric YAML file.") var rubric = "flourishing"
    @Option(help: "The output folder.") var output: String
    @OptionGroup var runFlags: RunFlags

    func run() throws {
        let rubric = try Rubric.load(self.rubric)
        let output = URL(fileURLWithPath: self.output)
        let models = try contestants.load(output: output, run: runFlags)
        let judges = try judge.makeJudges()
        let recordsFile = output.appendingPathComponent("rubric.jsonl")
        try FileManager.default.createDirectory(at: output, withIntermediateDirectories: true)
        try runFlags.prepare(recordsFile)
        let options = runFlags.options
        let scored = try waitFor {
            try await EvaluationRun.rubric(models: models, scorer: RubricScorer(rubric: rubric), judges: judges, output: recordsFile, run: options)
        }
        let results = RubricResults(rubric: rubric, judge: judges.map(\.name).joined(separator: ", "), models: models.map(\.name),
                                    records: scored.records, run: scored.report)
        let page = try EvaluationReport.write(results, to: output)
        for model in results.models {
            let cells = rubric.dimensions.map { String(format: "%@ %.2f", $0.id, model.dimensions[$0.id]?.mean ?? 0) }
            print("\(model.model): \(cells.joined(separator: ", ")); geometric mean \(String(format: "%.2f", model.geometricMean))")
        }
        print("results.json and report.html in \(page.deletingLastPathComponent().path)")
        try exitIfItemsFailed([(scored.report, recordsFile, "responses")])
    }
}
