import ArgumentParser
import Collective
import Constitutional
import Foundation

/// `charter constitution collect …`: a public writes a constitution (Collective Constitutional AI): a browser app
/// collects statements and votes, `analyze` finds the opinion groups and the statements every group agrees on.
struct CollectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "collect",
        abstract: "Collect statements and votes in a browser app, moderate them, and analyse them (or a Polis export) into a constitution.",
        subcommands: [Serve.self, Invite.self, Moderate.self, Analyze.self])

    struct Serve: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Serve the voting app (loopback by default); prints the moderator's link. SIGINT/SIGTERM stop it.",
            discussion: """
            Anyone who opens the start page may join (open join) unless --invite-only; then only links from \
            `collect invite` admit. Every vote, statement and moderation decision is committed in its own SQLite \
            transaction (WAL mode), so stopping or killing the server loses nothing already answered.
            """)
        @Option(help: "The SQLite database (created if absent).") var db: String
        @Option(help: "Address to bind. Anything but loopback exposes the app to the network.") var host = "127.0.0.1"
        @Option(help: "Port to listen on (0: any free port).") var port = 8080
        @Option(help: "The question participants answer (kept in the database; default: the stored one, or a question about AI principles).")
        var topic: String?
        @Flag(help: "Admit only invite links (`charter constitution collect invite`), not anyone who opens the start page.")
        var inviteOnly = false
        @Option(help: "A file of seed statements, one a line, accepted at once (skipped when the database already has statements).")
        var seed: String?
        @Option(help: "Largest form body in bytes.") var maxBodyBytes = 16 * 1024
        @Option(help: "Longest statement in characters.") var maxStatementCharacters = 500

        func run() async throws {
            let store = try CollectiveStore(path: db)
            var configuration = CollectiveServer.Configuration()
            configuration.host = host
            configuration.port = port
            configuration.openJoin = !inviteOnly
            configuration.maximumBodyBytes = maxBodyBytes
            configuration.maximumStatementCharacters = maxStatementCharacters
            if let topic { try store.setSetting("topic", topic) }
            configuration.topic = try store.setting("topic") ?? configuration.topic
            if let seed, try store.statements().isEmpty {
                let lines = try String(contentsOfFile: seed, encoding: .utf8).split(separator: "\n")
                    .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
                for line in lines { try store.submit(line, author: nil, status: .accepted) }
                print("seeded \(lines.count) statements from \(seed)")
            }
            let (token, _) = try store.addParticipant(role: .moderator)
            let host = self.host, mode = configuration.openJoin ? "open join" : "invite only"
            try await CollectiveServer(store: store, configuration: configuration).run { port in
                print("charter constitution collect: http://\(host):\(port)/ (\(mode); Ctrl-C stops)")
                print("moderator link (keep it private): http://\(host):\(port)/login?token=\(token)")
                fflush(stdout)
            }
        }
    }

    struct Invite: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create invite links (one per person); the database keeps only their hashes.")
        @Option(help: "The SQLite database.") var db: String
        @Option(help: "How many links.") var count = 1
        @Flag(help: "Moderator links instead of participant links.") var moderator = false
        @Option(help: "The server's address as participants reach it.") var baseURL = "http://127.0.0.1:8080"

        func run() throws {
            guard (1...10_000).contains(count) else { throw CommandError("--count must be 1 to 10000 (got \(count))") }
            let store = try CollectiveStore(path: db)
            for _ in 0..<count {
                let (token, _) = try store.addParticipant(role: moderator ? .moderator : .participant)
                print("\(baseURL)/login?token=\(token)")
            }
        }
    }

    struct Moderate: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List statements awaiting moderation, or accept and reject them by id.")
        @Option(help: "The SQLite database.") var db: String
        @Option(parsing: .upToNextOption, help: "Statement ids to accept.") var accept: [Int64] = []
        @Option(parsing: .upToNextOption, help: "Statement ids to reject.") var reject: [Int64] = []

        func run() throws {
            let store = try CollectiveStore(path: db)
            for (ids, status) in [(accept, CollectiveStore.Status.accepted), (reject, .rejected)] {
                for id in ids {
                    guard try store.moderate(id, status) else { throw CommandError("\(db): no statement \(id) (list them with `collect moderate --db \(db)`)") }
                    print("statement \(id): \(status.rawValue)")
                }
            }
            if accept.isEmpty && reject.isEmpty {
                let pending = try store.statements(status: .pending)
                print("\(pending.count) statement(s) awaiting moderation")
                for statement in pending { print("\(statement.id)\t\(statement.text)") }
            }
        }
    }

    struct Analyze: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Opinion groups (PCA, k-means) and group-informed consensus; the consensus statements become a constitution.",
            discussion: """
            Writes OUTPUT/results.json, OUTPUT/report.html (opinion map, consensus ranking) and OUTPUT/constitution.yaml, \
            whose principles carry their provenance and which `charter critique` and `charter label` read. --polis reads a \
            folder with Polis's comments.csv and participants-votes.csv.
            """)
        @Option(help: "The collection database.") var db: String?
        @Option(help: "A Polis export folder (comments.csv, participants-votes.csv) instead of --db.") var polis: String?
        @Option(help: "Output folder.") var output: String
        @Option(help: "Consensus a statement needs to enter the constitution (default: 0.6 to the power of the group count).")
        var threshold: Double?
        @Option(help: "Participants with fewer votes stay off the map and out of the groups (Polis: 7).") var minVotes = 7
        @Option(help: "Seed of the PCA start vector and k-means.") var seed: UInt64 = 0
        @Option(help: "The constitution's name.") var name = "collective"

        func run() throws {
            let matrix: VoteMatrix
            let conversation: String
            switch (db, polis) {
            case let (db?, nil):
                guard FileManager.default.fileExists(atPath: db) else { throw CommandError("\(db): no such database") }
                matrix = try CollectiveStore(path: db).voteMatrix()
                conversation = db
            case let (nil, polis?):
                matrix = try PolisExport.read(from: URL(fileURLWithPath: polis))
                conversation = polis
            default:
                throw CommandError("give exactly one of --db (a collection database) and --polis (a Polis export folder)")
            }
            var options = OpinionAnalysis.Options()
            options.minimumVotes = minVotes
            options.seed = seed
            let analysis = try OpinionAnalysis(matrix, options: options)
            let threshold = self.threshold ?? analysis.defaultThreshold
            let constitution = try analysis.constitution(name: name, threshold: threshold, conversation: conversation)
            let report = CollectiveReport(analysis: analysis, matrix: matrix, conversation: conversation, threshold: threshold, seed: seed)
            let files = try report.write(constitution: constitution, to: URL(fileURLWithPath: output))
            print("\(matrix.participants.count) participants, \(matrix.statements.count) statements, \(matrix.voteCount) votes; "
                + "\(analysis.groupCount) opinion groups (sizes \(report.groupSizes.map(String.init).joined(separator: ", ")))")
            for (rank, result) in analysis.ranking.prefix(10).enumerated() {
                print(String(format: "%2d. %.3f  %@", rank + 1, result.consensus, String(result.statement.text.prefix(90))))
            }
            print("\(constitution.principles.count) statements at consensus ≥ \(String(format: "%.3f", threshold)); wrote "
                + files.map(\.path).joined(separator: ", "))
        }
    }
}
