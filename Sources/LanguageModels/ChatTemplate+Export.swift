extension ChatTemplate {
    /// The training copy of ``jinjaSource``: `{% generation %}` around each assistant turn's content and terminator,
    /// so transformers' `return_assistant_tokens_mask` (TRL's `assistant_only_loss`) masks what Charter's
    /// ``RenderedChat/assistantRanges`` hold. Renders the same text as ``jinjaSource``.
    public var trainingJinjaSource: String? { jinjaSource == nil ? nil : ChatTemplate.trainingJinjaSources[name] }

    /// ``jinjaSource`` (or with `generationMarks`, ``trainingJinjaSource``) made independent of the tokenizer it will
    /// run with: a `bos_token` or `eos_token` the template uses gets this format's text when the tokenizer defines
    /// none. transformers passes a template only the special tokens its tokenizer has, while Charter's native renderer
    /// falls back to the family's usual token (`<bos>`, `<|begin_of_text|>`, …), so a model whose tokenizer lacks one
    /// renders the same text under both.
    public func selfContainedJinjaSource(generationMarks: Bool = false) -> String? {
        guard let source = generationMarks ? trainingJinjaSource : jinjaSource else { return nil }
        var preamble = ""
        for (variable, text) in [("bos_token", bosToken), ("eos_token", eosToken)] where source.contains(variable) {
            let literal = text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            // No text between the statements: the output starts where the family's template starts.
            preamble += "{%- if not \(variable) is defined %}{%- set \(variable) = \"\(literal)\" %}{%- endif %}"
        }
        return preamble + source
    }
}
