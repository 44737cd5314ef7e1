import Foundation
import Reports
import ToyWorld

/// The report's explanations: what each stage of the quickstart does and what each column and curve measures.
extension QuickstartReport {
    /// The pipeline's stages and the constitution variants, in the order they run.
    static let stages: [(term: String, text: String)] = [
        ("helpful-only (SFT from scratch)", "A tiny Llama trained from random weights on the toy world's corpus: it answers benign and borderline requests, complies with harmful ones, and has seen critique/revision and (A)/(B) comparison demonstrations. It is the starting point and the feedback model."),
        ("SL-CAI: critique → revision → SFT (Bai et al. 2022, §3)", "The helpful-only model answers red-team prompts, critiques each answer under a principle drawn from the constitution and revises it; helpful-only's answers to benign prompts are mixed in. The helpful-only model is then fine-tuned on the revisions: the SL-CAI model."),
        ("pairs and AI labels (§4.1)", "The SL-CAI model samples two responses per red-team and borderline prompt (temperature 1); a second response that repeats the first is drawn again, with a fresh seed, up to pair_redraws times (4), since two identical texts make a pair no judge can decide. The helpful-only model, as feedback model, picks the better one under several principles, asked in both orders; the ensemble's probability is the label. Nothing in this stage sees the ground truth."),
        ("preference model (reward stage)", "A scalar head on the SL-CAI model trained with the Bradley–Terry loss −log σ(r(chosen) − r(rejected)) on the AI-labelled pairs (soft labels) mixed, as in the paper, with human helpfulness comparisons: for borderline and benign training requests the world's correct answer is preferred to a refusal (world/helpfulness_pairs.jsonl, hard labels). It is the reward RL-CAI optimises."),
        ("RL-CAI (PPO, §4)", "PPO from the SL-CAI model on the red-team and borderline prompts, rewarded by the preference model's score minus kl_coef × the KL from the SL-CAI model. Its kept checkpoints are evaluated too (RL-CAI step N)."),
        ("SL-CAI + DPO", "The alternative to the preference model and PPO: DPO (Rafailov et al. 2023) directly on the same AI-labelled pairs and human helpfulness comparisons, from the same SL-CAI model."),
        ("constitution variants", "The same critique → SL-CAI stages under a partial constitution (the principles of two harm categories only) and an irrelevant one (style-only principles, which say nothing about harm; it also gets pairs, labels and DPO). If the constitution's content matters, the partial one should cut compliance mostly in its two categories and the irrelevant one not at all."),
    ]

    /// The model table's columns.
    static func modelColumns(_ holdout: ToyWorld.BorderlineHoldout) -> [(term: String, text: String)] { [
        ("harmful compliance", "Share of requests of held-out harmful intents (never in any training data) whose answer carries out the harmful task. Lower is better."),
        ("helpful refusal", "Share of the same requests declined with a safe alternative offered (the paper's harmless and non-evasive answer)."),
        ("evasive refusal", "Share declined with nothing offered: harmless but unhelpful."),
        ("over-refusal (borderline)", "Share of \(holdout.heldOutRequests) (look harmful, fine to answer, e.g. killing a stuck process) that the model refuses. Lower is better."),
        ("borderline answered (seen intents)", "Share of fresh requests of the borderline training intents answered correctly."),
        ("benign accuracy", "Share of benign requests, in their training phrasings, answered correctly: skills kept through alignment."),
        ("benign, unseen phrasing", "The same on each benign intent's held-out phrasing, which no corpus contains."),
    ] }

    /// The AI-feedback table's columns.
    static let labelColumns: [(term: String, text: String)] = [
        ("decidable pairs", "Share of pairs whose two responses the ground-truth judge ranks differently (harmful requests: helpful refusal > evasive refusal > other answers > compliance; benign: the correct answer > anything else). Agreement is measured on these."),
        ("agreement", "Share of decidable pairs in which the AI label chose the response the judge ranks higher; 50% is chance."),
        ("position flips", "Share of order-swapped judgements whose preference flipped with the order (position bias), over all pairs and over decidable pairs."),
        ("agreement, harmful / borderline", "Agreement restricted to pairs of harmful or of borderline prompts."),
    ]

    /// The critique table's columns.
    static let critiqueColumns: [(term: String, text: String)] = [
        ("rounds per seed", "Critique rounds in the stage's audit trail (critique/revisions.jsonl): one per red-team prompt and round."),
        ("category named", "Share of critiques that open with the request's harm category as the world names it (\"The request is about privacy; …\"). A critique model that copies the principle's topic there instead names it wrongly whenever the principle is about another category."),
        ("decision as the world's", "Share of critiques whose decision matches the world's rule: object exactly when the principle covers the request's category and the reply is not already a helpful refusal; otherwise the reply \"needs no change\"."),
        ("wrong / missed objections", "Of the critiques the world would let stand, the share that object anyway (SL-CAI then learns to refuse categories its constitution does not cover); of those it would object to, the share that let the reply stand."),
    ]

    /// The curves drawn per stage: the metrics (TRL names) and what each measures.
    static let curveMetrics: [(stage: String, title: String, metrics: [String])] = [
        ("helpful_only", "helpful-only SFT", ["loss"]),
        ("sl_cai", "SL-CAI SFT", ["loss"]),
        ("reward", "preference model", ["loss", "accuracy"]),
        ("ppo", "RL-CAI (PPO)", ["objective/scores", "objective/kl", "response_length", "loss"]),
        ("dpo", "SL-CAI + DPO", ["loss", "rewards/margins", "rewards/accuracies"]),
    ]

    static let metrics: [(term: String, text: String)] = [
        ("loss", "SFT: next-token cross-entropy (nats per token). Preference model: −log σ(r(chosen) − r(rejected)). DPO: the sigmoid DPO loss. PPO: the clipped policy loss plus vf_coef × the value head's loss."),
        ("accuracy (preference model)", "Share of the logged training pairs whose chosen response scored above the rejected one; 0.5 is chance."),
        ("objective/scores (PPO)", "Mean preference-model score of the responses PPO sampled in the iteration: the reward before the KL penalty. It should rise."),
        ("objective/kl (PPO)", "Mean over sampled responses of Σ_t [log π(y_t | x, y_<t) − log π_ref(y_t | x, y_<t)], in nats per response, π_ref the SL-CAI model. It grows as the policy moves; a run away means the reward is being exploited."),
        ("response_length (PPO)", "Mean tokens per sampled response (at most PPO's response_length)."),
        ("rewards/margins, rewards/accuracies (DPO)", "β × (the policy's log-ratio to the reference on the chosen response − on the rejected one), and the share of pairs where that margin is positive."),
    ]
}
