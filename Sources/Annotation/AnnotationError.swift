/// What went wrong setting up or exporting labels, with what to do.
public enum AnnotationError: Error, CustomStringConvertible, Equatable {
    case duplicateAnnotator(String)
    case invalidName(String)
    case noJudgements(path: String)
    case unknownPrinciple(String, available: [String])

    public var description: String {
        switch self {
        case let .duplicateAnnotator(name):
            return "\"\(name)\" is already invited (one link per person); pass --reissue to replace their link"
        case let .invalidName(name):
            return "annotator name \"\(name)\" must be 1 to 100 characters and not only spaces"
        case let .noJudgements(path):
            return "\(path): no judgements to export yet (label some pairs in `charter annotate serve` first)"
        case let .unknownPrinciple(id, available):
            return "the constitution has no critique principle \"\(id)\"; choose one of: \(available.joined(separator: ", "))"
        }
    }
}
