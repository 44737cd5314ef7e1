import Foundation
import Reports
import ToyWorld

extension DataQualityResults {
    /// Combines data-quality runs of one configuration on one kernel path and CPU, with different seeds, into one run
    /// at `directory` (`charter experiment audit --combine`): its seed folders link to the runs' own, and results.json
    /// and report.html cover every seed, as one invocation with all of them would have. Trains nothing.
    ///
    /// The runs may have tried different extra cleaning policies (`--policy`): the combined run keeps the ones every
    /// run has (same name, same text), so each set it reports has a value in every seed; `leftOut` names the rest.
    /// - Throws: `QuickstartError` naming the run whose results.json is unreadable, whose configuration (apart from
    ///   the extra policies) or machine differs from the first run's, or whose seed another run already has; or when
    ///   `directory` already has a seed folder.
    public static func combine(_ runs: [URL], into directory: URL) throws -> (results: DataQualityResults, leftOut: [String]) {
        func withoutPolicies(_ c: DataQualityConfiguration) -> DataQualityConfiguration { var c = c; c.policies = nil; return c }
        let combination = try RunCombination(runs: runs, read: { try read($0).fillingSeenCompliance(from: $0) }, machine: \.machine, seeds: { $0.seeds.map(\.seed) },
                                             configurationDiffers: { withoutPolicies($0.configuration) != withoutPolicies($1.configuration) })
        let parts = combination.parts
        let policySets = parts.map { Set(($0.configuration.policies ?? []).map { "\($0.name)\u{0}\($0.text)" }) }
        let shared = (parts[0].configuration.policies ?? []).filter { policy in policySets.allSatisfy { $0.contains("\(policy.name)\u{0}\(policy.text)") } }
        let sharedNames = Set(shared.map(\.name))
        let leftOut = Array(Set(parts.flatMap { ($0.configuration.policies ?? []).map(\.name) }).subtracting(sharedNames)).sorted()
        var configuration = parts[0].configuration
        configuration.policies = shared.isEmpty ? nil : shared

        var seeds: [DataQualitySeed] = [], links: [(link: URL, target: String)] = []
        for (run, part) in zip(runs, parts) {
            for var seed in part.seeds {
                links.append(try RunCombination<DataQualityResults>.seedLink(seed: seed.seed, of: run, into: directory))
                // A set of a policy not every run tried would have values in some seeds only.
                let dropped = Set((part.configuration.policies ?? []).map(\.name)).subtracting(sharedNames).map { "cleaned-\($0)" }
                for set in dropped {
                    seed.setSizes[set] = nil
                    seed.rewardAccuracy[set] = nil
                    seed.harmfulCompliance[set] = nil
                    seed.benignAccuracy[set] = nil
                    seed.overRefusal[set] = nil
                }
                seed.policyCleans = seed.policyCleans?.filter { sharedNames.contains($0.key) }
                if seed.policyCleans?.isEmpty == true { seed.policyCleans = nil }
                seeds.append(seed)
            }
        }
        try RunCombination<DataQualityResults>.createLinks(links, in: directory)
        seeds.sort { $0.seed < $1.seed }
        let results = DataQualityResults(name: directory.lastPathComponent, configuration: configuration, seeds: seeds,
                                         machine: parts[0].machine, totalSeconds: parts.reduce(0) { $0 + $1.totalSeconds },
                                         parameters: parts[0].parameters, combinedFrom: combination.sources)
        try DataQualityReport.write(results, to: directory)
        return (results, leftOut)
    }

    /// These results with every seed's `seenHarmfulCompliance` filled in from its evaluation files
    /// (`directory/seed-N/evaluation/<policy>.jsonl`, judged again by the seed's world), for results written before
    /// the field existed; seeds that have it are kept as they are.
    /// - Throws: `QuickstartError` naming the file whose held-out harmful compliance, judged again, differs from
    ///   results.json's (the evaluation files changed since the run); errors reading a file.
    public func fillingSeenCompliance(from directory: URL) throws -> DataQualityResults {
        var results = self
        for index in results.seeds.indices where results.seeds[index].seenHarmfulCompliance == nil {
            let seed = results.seeds[index].seed, folder = directory.appendingPathComponent("seed-\(seed)")
            lazy var requests = WorldFiles(world: configuration.world.world(seed: seed), configuration: configuration.world,
                                           directory: folder.appendingPathComponent("world")).evaluationRequests
            var seen: [String: Double] = [:]
            for policy in DataQualityRun.policies(configuration) {
                guard let stored = results.seeds[index].harmfulCompliance[policy] else { continue }
                let url = folder.appendingPathComponent("evaluation/\(DataQualityRun.evaluationFile(policy)).jsonl")
                let model = Evaluation.result(name: policy, judged: try Evaluation.judged(url, requests: requests))
                guard abs(model.rates.harmfulCompliance - stored) < 1e-9 else {
                    throw QuickstartError("\(url.path): judged again, its held-out harmful compliance is \(model.rates.harmfulCompliance), "
                                          + "results.json says \(stored); the evaluation files changed since the run")
                }
                seen[policy] = DataQualityRun.seenHarmfulCompliance(model.judged)
            }
            results.seeds[index].seenHarmfulCompliance = seen
        }
        return results
    }

    /// The results.json of the run in `directory`.
    /// - Throws: `QuickstartError` naming the file when it cannot be read.
    static func read(_ directory: URL) throws -> DataQualityResults {
        do {
            return try ResultsFile.read(DataQualityResults.self, in: directory, what: "the data-quality experiment's results")
        } catch {
            throw QuickstartError("\(error)")
        }
    }
}
