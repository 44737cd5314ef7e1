import Foundation
import LanguageModels
import Runtime

/// Runs reading tasks through one oversight protocol: the debaters (or the consultant) read the passage and argue,
/// their quotes are checked against it, and the judge — who never sees the passage — answers after every round.
///
/// The judge's answer is a probability from the log-probabilities of " (A)" and " (B)", asked in both option orders
/// (``OptionScoring``, as `charter label` scores AI feedback).
public struct ProtocolSession: Sendable {
    public let settings: ProtocolSettings
    /// Who argues (language models through ``LanguageModelArguer``): debate pairs them round-robin over the tasks (every model meets every model, on both sides);
    /// a consultancy uses them in turn. Empty for blind.
    public let arguers: [any Arguer]
    public let judge: any LanguageModel
    /// Consultancy: the tasks whose consultant argues for the correct option.
    let honest: Set<String>

    /// - Parameter taskIDs: every task of the run, in order: a consultancy's honest half is drawn from them.
    /// - Throws: ``OversightError`` when a consultancy or debate has no debater or the rounds are not positive.
    public init(settings: ProtocolSettings, taskIDs: [String], debaters: [any LanguageModel], judge: any LanguageModel) throws {
        try self.init(settings: settings, taskIDs: taskIDs, arguers: debaters.map(LanguageModelArguer.init), judge: judge)
    }

    /// The same with any arguers (a fixed policy in experiments).
    public init(settings: ProtocolSettings, taskIDs: [String], arguers debaters: [any Arguer], judge: any LanguageModel) throws {
        if settings.protocolName != .blind {
            guard !debaters.isEmpty else { throw OversightError("\(settings.protocolName.rawValue) needs at least one debater model (--debaters)") }
            guard settings.rounds >= 1 else { throw OversightError("--rounds must be at least 1, got \(settings.rounds)") }
        }
        self.settings = settings
        arguers = settings.protocolName == .blind ? [] : debaters
        self.judge = judge
        honest = settings.protocolName == .consultancy ? Self.honestConsultancies(taskIDs, seed: settings.seed) : []
    }

    /// The consultancy's honest half: ⌈n/2⌉ of the task ids, chosen by a seeded shuffle (so exactly half the
    /// consultants argue for the truth, whatever the order of the file).
    public static func honestConsultancies(_ ids: [String], seed: UInt64) -> Set<String> {
        var shuffled = ids.sorted()
        var generator = SplitMix64(seed: seed ^ 0xC0_5017)
        shuffled.seededShuffle(using: &generator)
        return Set(shuffled.prefix((ids.count + 1) / 2))
    }

    /// Runs task `index` of the run (its position picks the debaters): the arguments, then the judge's verdict on
    /// the transcript up to each round.
    public func run(_ task: ReadingTask, index: Int) async throws -> ProtocolTranscript {
        var transcript = try await arguments(task, index: index, judgeName: judge.name)
        if settings.protocolName == .blind {
            transcript.verdicts = [try await verdict(task, round: 0, turns: [])]
        } else {
            for round in 1...settings.rounds {
                transcript.verdicts.append(try await verdict(task, round: round, turns: transcript.turns.filter { $0.round <= round }))
            }
        }
        return transcript
    }

    /// The transcript's arguments without verdicts (what a judge is trained on).
    func arguments(_ task: ReadingTask, index: Int, judgeName: String) async throws -> ProtocolTranscript {
        var transcript = ProtocolTranscript(id: task.id, protocolName: settings.protocolName, question: task.question, options: task.options,
                                            correctOption: task.correctOption, assignedOption: nil, openingOption: nil, debaters: [],
                                            judge: judgeName, turns: [], verdicts: [])
        switch settings.protocolName {
        case .blind:
            break
        case .consultancy:
            let assigned = honest.contains(task.id) ? task.correctOption : 1 - task.correctOption
            let consultant = arguers[index % arguers.count]
            transcript.assignedOption = assigned
            transcript.debaters = [consultant.name]
            for round in 1...settings.rounds {
                transcript.turns.append(try await argue(task, option: assigned, round: round, model: consultant, seen: transcript.turns))
            }
        case .debate:
            // Model i argues for the correct option against model j, for the pairs (i, j) in turn.
            let count = arguers.count
            var models = [arguers[0], arguers[0]]
            models[task.correctOption] = arguers[index % count]
            models[1 - task.correctOption] = arguers[(index / count) % count]
            var random = ItemRandom(seed: settings.seed, id: task.id, purpose: "opening-debater")
            let opening = Int(random.next() % 2)
            transcript.openingOption = opening
            transcript.debaters = models.map(\.name)
            for round in 1...settings.rounds {
                let earlier = transcript.turns
                let first = try await argue(task, option: opening, round: round, model: models[opening], seen: earlier)
                let second = try await argue(task, option: 1 - opening, round: round, model: models[1 - opening],
                                             seen: settings.simultaneous ? earlier : earlier + [first])
                transcript.turns += [first, second]
            }
        }
        return transcript
    }

    /// One argument for `option`, after the turns `seen`.
    func argue(_ task: ReadingTask, option: Int, round: Int, model: any Arguer, seen: [Turn]) async throws -> Turn {
        let seed = ItemRandom.seed(settings.seed, task.id, "round-\(round)-option-\(option)")
        let argument = try await model.argue(task, option: option, protocolName: settings.protocolName, seen: seen, sampling: settings.argument, seed: seed)
        return Turn(round: round, option: option, speaker: ProtocolPrompts.speaker(settings.protocolName, option: task.options[option]),
                    model: model.name, argument: argument, marked: QuoteVerification.marked(argument, source: task.passage),
                    quotes: QuoteVerification.quotes(in: argument, source: task.passage))
    }

    /// The judge's probabilities after `turns`.
    func verdict(_ task: ReadingTask, round: Int, turns: [Turn]) async throws -> JudgeVerdict {
        try await OptionScoring.verdict(judge, correctOption: task.correctOption, round: round, bothOrders: settings.bothOrders, taskID: task.id) {
            ProtocolPrompts.judge(task, protocolName: settings.protocolName, firstAsA: $0, transcript: turns, simultaneous: settings.simultaneous,
                                  consultancySlots: settings.consultancySlots)
        }
    }
}
