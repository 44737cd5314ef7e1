import Foundation
import JSON
import XCTest

@testable import Templates

/// Every template in Fixtures/templates, on every conversation of Fixtures/references.json (made by
/// make_references.py with transformers' `render_jinja_template`), must render byte for byte as transformers does,
/// and raise where transformers raises (with the same message when the template called `raise_exception`).
final class ChatTemplateReferenceTests: XCTestCase {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")

    /// transformers' fixed clock in make_references.py: 2024-07-26 10:30:00 (naive, so UTC here).
    static let environment: TemplateEnvironment = {
        let utc = TimeZone(identifier: "UTC")!
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = utc
        let now = calendar.date(from: DateComponents(year: 2024, month: 7, day: 26, hour: 10, minute: 30))!
        return TemplateEnvironment(now: now, timeZone: utc)
    }()

    func testEveryTemplateMatchesTransformers() throws {
        let data = try Data(contentsOf: Self.fixtures.appendingPathComponent("references.json"))
        let references = try JSONParser.parse(data)
        guard let cases = references["cases"]?.arrayValue, let conversations = references["conversations"],
              let context = references["context"] else { return XCTFail("references.json lacks cases") }
        var templates: [String: Template] = [:]
        var matched = 0, raised = 0
        var families = Set<String>()
        for reference in cases {
            let family = try XCTUnwrap(reference["template"]?.stringValue)
            let name = try XCTUnwrap(reference["conversation"]?.stringValue)
            let addGenerationPrompt = try XCTUnwrap(reference["add_generation_prompt"]?.boolValue)
            let label = "\(family) × \(name) (add_generation_prompt=\(addGenerationPrompt))"
            if templates[family] == nil {
                let url = Self.fixtures.appendingPathComponent("templates/\(family).jinja")
                do {
                    templates[family] = try Template(String(decoding: try Data(contentsOf: url), as: UTF8.self))
                } catch {
                    XCTFail("\(family).jinja does not parse: \(error)")
                    continue
                }
            }
            let conversation = try XCTUnwrap(conversations[name])
            var variables: [String: TemplateValue] = [
                "messages": TemplateValue(try XCTUnwrap(conversation["messages"])),
                "tools": conversation["tools"].map(TemplateValue.init) ?? .none,
                "documents": .none,
                "add_generation_prompt": .boolean(addGenerationPrompt),
            ]
            for key in context.keys { variables[key] = context[key].map(TemplateValue.init) }

            let result = Result { try templates[family]!.render(variables, environment: Self.environment) }
            if let expected = reference["text"]?.stringValue {
                switch result {
                case let .success(text):
                    XCTAssertEqual(text, expected, label)
                    if text == expected { matched += 1 }
                case let .failure(error):
                    XCTFail("\(label): \(error)")
                }
            } else {
                let message = try XCTUnwrap(reference["error"]?.stringValue)
                switch result {
                case let .success(text):
                    XCTFail("\(label): transformers raises \"\(message)\" but the template rendered:\n\(text)")
                case let .failure(error):
                    let error = try XCTUnwrap(error as? TemplateError, label)
                    if reference["error_type"]?.stringValue == "TemplateError" {
                        XCTAssertEqual(error.kind, .raised, label)
                        XCTAssertEqual(error.message, message, label)
                    } else {
                        XCTAssertNotEqual(error.kind, .raised, label)
                    }
                    raised += 1
                }
            }
            families.insert(family)
        }
        XCTAssertGreaterThanOrEqual(families.count, 30)
        XCTAssertEqual(matched + raised, cases.count)
        print("ChatTemplateReferenceTests: \(families.count) templates, \(matched) renders identical, "
              + "\(raised) errors where transformers raises, of \(cases.count) cases")
    }

    /// One Jinja feature per snippet (whitespace control, scoping, filters, tests, methods, value formatting,
    /// errors), rendered by jinja2 in transformers' environment.
    func testSnippetsMatchJinja() throws {
        let data = try Data(contentsOf: Self.fixtures.appendingPathComponent("references.json"))
        let snippets = try XCTUnwrap(try JSONParser.parse(data)["snippets"]?.arrayValue)
        XCTAssertGreaterThan(snippets.count, 30)
        for snippet in snippets {
            let name = try XCTUnwrap(snippet["name"]?.stringValue)
            let source = try XCTUnwrap(snippet["source"]?.stringValue)
            var variables: [String: TemplateValue] = ["messages": .list([]), "tools": .none, "documents": .none,
                                                      "add_generation_prompt": .boolean(false)]
            for key in snippet["variables"]?.keys ?? [] { variables[key] = snippet["variables"]?[key].map(TemplateValue.init) }
            let result = Result { try Template(source).render(variables, environment: Self.environment) }
            switch (result, snippet["text"]?.stringValue) {
            case let (.success(text), expected?):
                XCTAssertEqual(text, expected, name)
            case let (.failure(error), expected?):
                XCTFail("\(name): expected \(expected.debugDescription), got \(error)")
            case let (.success(text), nil):
                XCTFail("\(name): jinja2 raises \(snippet["error"]?.stringValue ?? "") but this rendered \(text.debugDescription)")
            case let (.failure(error), nil):
                let error = try XCTUnwrap(error as? TemplateError, name)
                let message = try XCTUnwrap(snippet["error"]?.stringValue)
                // Python's exception messages are reproduced where templates show them to users.
                XCTAssertEqual(error.message, message, name)
                let kinds: [String: TemplateError.Kind] = ["TemplateError": .raised, "UndefinedError": .undefined,
                                                           "TypeError": .type, "SecurityError": .security,
                                                           "OverflowError": .security]
                XCTAssertEqual(error.kind, kinds[snippet["error_type"]?.stringValue ?? ""], name)
            }
        }
    }
}
