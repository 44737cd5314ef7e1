/// Charter's version, recorded in pipeline manifests (and their cache keys), model cards and `charter --version`.
public enum CharterVersion {
    public static let current = "0.1.1"
}
