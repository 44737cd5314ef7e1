import XCTest

@testable import Templates

/// What the references cannot show: error locations, syntax errors, and the `{% generation %}` spans that
/// transformers' `return_assistant_tokens_mask` reads.
final class TemplateTests: XCTestCase {
    func render(_ source: String, _ variables: [String: TemplateValue] = [:]) throws -> String {
        try Template(source).render(variables)
    }

    func testErrorsNameLineAndColumn() {
        XCTAssertThrowsError(try render("line one\n  {{ 'a' + 1 }}")) { error in
            let error = error as? TemplateError
            XCTAssertEqual(error?.kind, .type)
            XCTAssertEqual(error?.line, 2)
            XCTAssertEqual(error?.column, 3)
            XCTAssertEqual(error?.description,
                           "Template error: can only concatenate str (not \"int\") to str (template line 2, column 3)")
        }
        XCTAssertThrowsError(try render("{% for m in messages %}\n{% if m.role == 'x' %}\n{{ raise_exception('no x') }}"
                                        + "{% endif %}{% endfor %}", ["messages": .list([.dictionary({
                                            var message = TemplateDictionary()
                                            message["role"] = .string("x")
                                            return message
                                        }())])])) { error in
            let error = error as? TemplateError
            XCTAssertEqual(error?.kind, .raised)
            XCTAssertEqual(error?.message, "no x")
            XCTAssertEqual(error?.line, 3)
            XCTAssertEqual(error?.description, "The chat template raised: no x (template line 3, column 1)")
        }
    }

    func testSyntaxErrors() {
        let cases: [(String, String, Int)] = [
            ("{% if true %}open", "unexpected end of template: the 'if' block is not closed (expected 'elif' or 'else' or 'endif')", 1),
            ("ok\n{{ 1 + }}", "unexpected '}}'", 2),
            ("{% include 'x' %}", "unknown statement 'include' (chat templates can use if, for, set, macro, call, filter, generation, break and continue)", 1),
            ("{{ 'open }}", "unterminated string", 1),
            ("{% endif %}", "unexpected 'endif'", 1),
        ]
        for (source, message, line) in cases {
            XCTAssertThrowsError(try Template(source), source) { error in
                let error = error as? TemplateError
                XCTAssertEqual(error?.kind, .syntax, source)
                XCTAssertEqual(error?.message, message, source)
                XCTAssertEqual(error?.line, line, source)
            }
        }
    }

    func testGenerationBlocksMarkAssistantBytes() throws {
        let source = "{% for m in messages %}<{{ m }}>{% if loop.index is even %}{% generation %}é{{ m }}!"
            + "{% endgeneration %}{% endif %}{% endfor %}"
        let (text, ranges) = try Template(source).renderMarkingGenerations(
            ["messages": .list([.string("a"), .string("b"), .string("c"), .string("d")])])
        XCTAssertEqual(text, "<a><b>éb!<c><d>éd!")
        let bytes = Array(text.utf8)
        XCTAssertEqual(ranges.map { String(decoding: bytes[$0], as: UTF8.self) }, ["éb!", "éd!"])
        XCTAssertEqual(ranges, [6..<10, 16..<20])
    }

    func testEndlessRecursionIsAnError() {
        XCTAssertThrowsError(try render("{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}")) { error in
            XCTAssertEqual((error as? TemplateError)?.message, "macro calls nested more than 100 deep")
        }
        XCTAssertEqual(try render("{% macro count(n) %}{% if n > 0 %}{{ n }}{{ count(n - 1) }}{% endif %}{% endmacro %}"
                                  + "{{ count(5) }}"), "54321")
    }

    func testTemplatesCompareBySource() throws {
        XCTAssertEqual(try Template("{{ x }}"), try Template("{{ x }}"))
        XCTAssertNotEqual(try Template("{{ x }}"), try Template("{{ y }}"))
    }
}
