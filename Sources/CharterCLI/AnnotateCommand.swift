import Annotation
import ArgumentParser
import Constitutional
import Foundation
import LanguageModels

/// `charter annotate …`: people label preference pairs in a browser app (two responses side by side, a 5-point
/// choice, tie, both bad), and the labels become TRL preference data.
struct AnnotateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "annotate",
        abstract: "Label preference pairs in a browser app (invited annotators, k-way overlap, gold questions) and export them as TRL preference data.",
        subcommands: [Serve.self, Invite.self, Critique.self, Export.self])

    struct Serve: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Import tasks and serve the labelling app (loopback by default); prints the dashboard's admin link. SIGINT/SIGTERM stop it.",
            discussion: """
            --tasks reads any preference data Charter reads (prompt/chosen/rejected, implicit-prompt chosen/rejected, \
            HH transcripts; .jsonl or .jsonl.gz); a task's id is the hash of its prompt and both responses, so importing \
            again adds nothing. --gold reads pairs whose chosen response is the known answer. Annotators join with links \
            from `charter annotate invite`. Every judgement is committed in its own SQLite transaction (WAL mode), so \
            stopping or killing the server loses nothing already answered.
            """)
        @Option(help: "The SQLite database (created if absent).") var db: String
        @Option(help: "Preference pairs to import as tasks (may be omitted once the database holds tasks).") var tasks: String?
        @Option(help: "Gold questions: preference pairs whose chosen response is the known better one.") var gold: String?
        @Option(help: "Distinct annotators per task (k-way overlap; default: the stored value, else 1). Kept in the database.")
        var overlap: Int?
        @Option(help: "Every N-th task of a queue is a gold question (0: none).") var goldEvery = 10
        @Option(help: "The share of assignments of critiqued tasks (`charter annotate critique`) that show the AI critiques, drawn per annotator and task.")
        var assistShare = 0.5
        @Option(help: "Address to bind. Anything but loopback exposes the app to the network.") var host = "127.0.0.1"
        @Option(help: "Port to listen on (0: any free port).") var port = 8080
        @Option(help: "Largest form body in bytes.") var maxBodyBytes = 32 * 1024

        func validate() throws {
            if let overlap, !(1...100).contains(overlap) { throw ValidationError("--overlap must be 1 to 100 (got \(overlap))") }
            guard goldEvery >= 0 else { throw ValidationError("--gold-every must be 0 or more (got \(goldEvery))") }
            guard (0...1).contains(assistShare) else { throw ValidationError("--assist-share must be in [0, 1] (got \(assistShare))") }
        }

        func run() async throws {
            guard #available(macOS 14, iOS 17, tvOS 17, *) else { throw CommandError("charter annotate serve needs macOS 14 or newer (Hummingbird 2)") }
            let store = try AnnotationStore(path: db)
            for (path, isGold) in [(tasks, false), (gold, true)] {
                guard let path else { continue }
                let summary = try store.importTasks(from: URL(fileURLWithPath: path), gold: isGold)
                print("\(path): \(summary.read) \(isGold ? "gold questions" : "pairs"), \(summary.added) new")
            }
            guard try store.taskCount() > 0 else {
                throw CommandError("\(db) holds no tasks; pass --tasks pairs.jsonl (preference data: prompt/chosen/rejected)")
            }
            if let overlap { try store.setSetting("overlap", "\(overlap)") }
            var configuration = AnnotationServer.Configuration()
            configuration.host = host
            configuration.port = port
            configuration.overlap = try store.setting("overlap").flatMap(Int.init) ?? 1
            configuration.goldEvery = try store.taskCount(gold: true) > 0 ? goldEvery : 0
            configuration.maximumBodyBytes = maxBodyBytes
            let critiqued = try store.critiquedTaskCount()
            configuration.assistShare = critiqued > 0 ? assistShare : 0
            if critiqued > 0 { print("AI critiques for \(critiqued) tasks, shown to a share of \(assistShare) of their assignments") }
            let (token, _) = try store.invite("admin " + String(UUID().uuidString.prefix(8)).lowercased(), role: .admin)
            let host = self.host, overlap = configuration.overlap
            try await AnnotationServer(store: store, configuration: configuration).run { port in
                print("charter annotate: http://\(host):\(port)/ (overlap \(overlap); invite annotators with `charter annotate invite NAME --db …`; Ctrl-C stops)")
                print("dashboard link (keep it private): http://\(host):\(port)/login?token=\(token)")
                fflush(stdout)
            }
        }
    }

    struct Invite: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print an annotator's invite link (one per person); the database keeps only its hash.")
        @Argument(help: "The annotator's name (shown on the dashboard and in per-annotator exports).") var name: String
        @Option(help: "The SQLite database.") var db: String
        @Option(help: "The server's address as annotators reach it.") var baseURL = "http://127.0.0.1:8080"
        @Flag(help: "Replace the link of an annotator already invited (their old link stops working).") var reissue = false

        func run() throws {
            let store = try AnnotationStore(path: db)
            let (token, _) = try store.invite(name, reissue: reissue)
            print("\(baseURL)/login?token=\(token)")
        }
    }

    struct Critique: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Have a critic model critique both responses of every task under one constitution principle (AI assistance for annotators).",
            discussion: """
            Uses Constitutional AI's critique prompt (the principle's critique_request and the constitution's few-shot \
            critique examples). The critiques are stored with the tasks; `charter annotate serve --assist-share S` shows \
            them beside the responses in a random share S of assignments and records which judgements saw them, so the \
            dashboard compares agreement and speed with and without. Tasks already critiqued are skipped (a run resumes).
            """)
        @Option(help: "The SQLite database.") var db: String
        @OptionGroup var source: ModelSourceOptions
        @Option(help: "A constitution YAML, or 'default'.") var constitution = "default"
        @Option(help: "The id of the critique principle the critic applies.") var principle: String
        @Option(help: "auto, transcript or chat.") var prompting = "auto"
        @Option(help: "Few-shot critique examples shown (default: all of the constitution's).") var fewShot: Int?
        @Option(help: "Most new tokens per critique.") var maxNewTokens = 256
        @Option(help: "Sampling temperature (0: greedy).") var temperature: Float = 0.7
        @Option(help: "Seed of each critique's sampling (with the task id and side).") var seed: UInt64 = 0
        @Option(help: "At most this many tasks this run.") var limit: Int?

        func run() async throws {
            guard FileManager.default.fileExists(atPath: db) else { throw CommandError("\(db): no such database (import tasks with `charter annotate serve --tasks`)") }
            let store = try AnnotationStore(path: db)
            let models = try source.makeModels()
            guard let model = models.first else { throw CommandError("no model to critique with") }
            let style = try promptingStyle(prompting, flag: "--prompting", command: "annotate critique", models: models)
            let critic = try AssistantCritic(constitution: loadConstitution(constitution), principleID: principle, prompting: style,
                                             sampling: SamplingOptions(maximumTokens: maxNewTokens, temperature: temperature),
                                             fewShot: fewShot, seed: seed)
            let count = try await critic.run(store, model: model, limit: limit ?? .max) { done, total in
                if done == total || done % 10 == 0 { print("critiqued \(done)/\(total) tasks"); fflush(stdout) }
            }
            print("\(count) tasks critiqued under \(principle) by \(model.name); \(try store.critiquedTaskCount()) tasks have critiques")
        }
    }

    struct Export: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write the labels as TRL preference lines (prompt/chosen/rejected/chosen_probability) that dpo, reward and audit read.",
            discussion: """
            One line per task: chosen_probability is the mean over its labels of P(chosen) with much better = 1, better = \
            0.75, tie = 0.5 (the worse side 0.25 and 0). A task whose share is ½ is a tie; one that most labels call \
            both bad is both bad; both are flagged with "label" (or left out with --ties exclude). --per-annotator \
            writes one line per label with an "annotator" field, the multi-annotator format `charter audit` checks \
            for agreement. Gold questions and skips are not exported.
            """)
        @Option(help: "The SQLite database.") var db: String
        @Option(help: "The output file (.jsonl, or .jsonl.gz to compress).") var output: String
        @Option(help: "flag: write ties and both-bad pairs with a \"label\" field; exclude: leave them out.") var ties: LabelExport.Ties = .flag
        @Flag(help: "One line per annotator's label instead of one per task.") var perAnnotator = false

        func run() throws {
            guard FileManager.default.fileExists(atPath: db) else { throw CommandError("\(db): no such database") }
            let store = try AnnotationStore(path: db)
            let summary = try LabelExport(ties: ties, perAnnotator: perAnnotator).write(store, to: URL(fileURLWithPath: output))
            print("wrote \(summary.written) \(perAnnotator ? "labels" : "pairs") to \(output) (\(summary.preferences) preferences, "
                + "\(summary.ties) ties, \(summary.bothBad) both bad\(summary.excluded > 0 ? "; \(summary.excluded) left out by --ties exclude" : ""))")
        }
    }
}

extension LabelExport.Ties: ExpressibleByArgument {}
