import LanguageModels

extension PromptingStyle {
    /// The style `--prompting auto` picks, and why: chat when every model is a local folder with a chat template
    /// (instruct models write better in their own format, and the SFT data then comes out as conversations that match
    /// later conversational SFT); transcript otherwise — a base model has no template, and for endpoints the served
    /// model's template is unknown here.
    /// - Returns: the style and a clause saying why ("m has no chat template"), for the command's output.
    public static func automatic(for models: [any LanguageModel]) -> (style: PromptingStyle, reason: String) {
        let local = models.compactMap { $0 as? LocalLanguageModel }
        guard !models.isEmpty, local.count == models.count else {
            return (.transcript, "the chat templates of endpoint models are unknown here")
        }
        if let base = local.first(where: { !$0.hasChatTemplate }) {
            return (.transcript, "\(base.name) has no chat template")
        }
        return (.chat, "\(local[0].name) has a chat template")
    }
}
