import Foundation
import Runtime

extension AtomicFile {
    /// ``AtomicFile/write(to:_:)`` for the safetensors writers: every failure becomes
    /// ``SafeTensorsError/writeFailed(file:reason:)`` naming `url`.
    static func writeSafeTensors(to url: URL, _ body: (FileHandle) throws -> Void) throws {
        do {
            try write(to: url, body)
        } catch let error as RuntimeError {
            throw SafeTensorsError.writeFailed(file: url.path, reason: error.reason)
        } catch {
            throw SafeTensorsError.writeFailed(file: url.path, reason: error.localizedDescription)
        }
    }
}
