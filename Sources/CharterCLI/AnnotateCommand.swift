import Annotation
import ArgumentParser
import Foundation

/// `charter annotate …`: people label preference pairs in a browser app (two responses side by side, a 5-point
/// choice, tie, both bad), and the labels become TRL preference data.
struct AnnotateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "annotate",
        abstract: "Label preference pairs in a browser app (invited annotators, k-way overlap, gold questions) and export them as TRL preference data.",
        subcommands: [Serve.self, Invite.self, Export.self])

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
        @Option(help: "Address to bind. Anything but loopback exposes the app to the network.") var host = "127.0.0.1"
        @Option(help: "Port to listen on (0: any free port).") var port = 8080
        @Option(help: "Largest form body in bytes.") var maxBodyBytes = 32 * 1024

        func validate() throws {
            if let overlap, !(1...100).contains(overlap) { throw ValidationError("--overlap must be 1 to 100 (got \(overlap))") }
            guard goldEvery >= 0 else { throw ValidationError("--gold-every must be 0 or more (got \(goldEvery))") }
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
