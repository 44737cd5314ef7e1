import Foundation
import LanguageModels
import TestSupport
import XCTest
@testable import Constitutional

/// `--prompting auto` (issue 23): chat only when every model is a local folder with a chat template.
final class AutomaticPromptingTests: XCTestCase {
    func testChatOnlyWhenEveryLocalModelHasAChatTemplate() throws {
        let directory = try TinyModels.temporaryDirectory("auto-prompting")
        defer { try? FileManager.default.removeItem(at: directory) }
        let folder = try TinyModels.folder(in: directory, name: "m", seed: 2)
        let base = try LocalLanguageModel.load(directory: folder)
        let instruct = try LocalLanguageModel.load(directory: folder, chatTemplate: "chatml")
        XCTAssertFalse(base.hasChatTemplate)
        XCTAssertTrue(instruct.hasChatTemplate)
        XCTAssertEqual(PromptingStyle.automatic(for: [instruct]).style, .chat)
        XCTAssertEqual(PromptingStyle.automatic(for: [instruct]).reason, "m has a chat template")
        XCTAssertEqual(PromptingStyle.automatic(for: [base]).style, .transcript)
        XCTAssertEqual(PromptingStyle.automatic(for: [base]).reason, "m has no chat template")
        XCTAssertEqual(PromptingStyle.automatic(for: [instruct, base]).style, .transcript, "one model without a template decides")
        // Anything else (endpoint clients, wrappers) cannot say whether it has a template: the paper's transcripts.
        let wrapped = InterruptingModel(base: instruct, budget: CallBudget())
        XCTAssertEqual(PromptingStyle.automatic(for: [wrapped]).style, .transcript)
        XCTAssertEqual(PromptingStyle.automatic(for: []).style, .transcript)
    }
}
