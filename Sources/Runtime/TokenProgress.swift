/// Where text generation reports the tokens it produces, so that a progress line can show the work inside an item
/// (`item 4: 112 tokens, 41.3 tok/s`) long before the item finishes. A job run binds a listener for each item (and a
/// trainer for each step) with `TokenProgress.$listener.withValue(…)`; generation only calls ``generated(_:)``, and
/// knows nothing about who listens. The binding is task-local, so it follows an item's task into a model's actor.
public enum TokenProgress {
    /// Receives the number of tokens generated since its previous call; nil (the default) means nobody listens.
    @TaskLocal public static var listener: (@Sendable (Int) -> Void)?

    /// Reports `count` new tokens to the current task's listener, if any.
    public static func generated(_ count: Int) {
        guard count > 0, let listener else { return }
        listener(count)
    }
}
