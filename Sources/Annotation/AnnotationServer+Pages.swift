import Foundation
import HTTPTypes
import Hummingbird
import JSON
import WebApp

@available(macOS 14, iOS 17, tvOS 17, *)
extension AnnotationServer {
    static func csrfField(_ token: String) -> String { "<input type=\"hidden\" name=\"csrf\" value=\"\(WebPage.escape(token))\">" }

    func startPage(_ request: Request) throws -> Response {
        if let token = WebRequest.cookie(Self.sessionCookie, in: request), let annotator = try store.annotator(token: token) {
            return WebResponse.redirect(to: annotator.role == .admin ? "/admin" : "/label")
        }
        return WebPage(title: "Compare responses", body: """
            <h1>Compare responses</h1>
            <p>Annotators compare two responses to a conversation and say which is better, whether it is a tie, or whether
            both are bad. Labelling is by invitation: open the link you were sent.</p>
            """).response()
    }

    /// A prompt or response as TRL stores it: a string, or a list of role/content messages.
    static func render(_ value: JSONValue) -> String {
        switch value {
        case let .string(text):
            return "<div class=\"text\">\(WebPage.escape(text))</div>"
        case let .array(messages):
            return messages.map { message -> String in
                guard case let .object(members) = message,
                      case let .string(role)? = members.first(where: { $0.key == "role" })?.value,
                      case let .string(content)? = members.first(where: { $0.key == "content" })?.value else {
                    return "<div class=\"text\">\(WebPage.escape(message.serialized()))</div>"
                }
                return "<div class=\"message\"><span class=\"role\">\(WebPage.escape(role))</span><div class=\"text\">\(WebPage.escape(content))</div></div>"
            }.joined()
        default:
            return "<div class=\"text\">\(WebPage.escape(value.serialized()))</div>"
        }
    }

    func labelPage(_ annotator: AnnotationStore.Annotator) throws -> Response {
        let (assignment, judged, remaining) = try store.next(for: annotator.id, overlap: configuration.overlap, goldEvery: configuration.goldEvery,
                                                             assistShare: configuration.assistShare)
        var body = """
            <h1>Compare responses</h1><p class="who">Signed in as \(WebPage.escape(annotator.name))</p>
            <progress id="progress" max="\(max(judged + remaining, 1))" value="\(judged)"></progress>
            <p class="count" id="count">\(judged) done, \(remaining) left in your queue</p>
            """
        guard let assignment else {
            body += "<p id=\"done\">Your queue is empty: every task has its annotators. Thank you!</p>"
            return WebPage(title: "Compare responses", body: body).response()
        }
        let task = assignment.task
        let (left, right) = assignment.swapped ? (task.second, task.first) : (task.first, task.second)
        // AI critiques, when this assignment was drawn for assistance, go under their responses.
        var critiques = ("", "")
        if let assistance = assignment.assistance {
            let (a, b) = assignment.swapped ? (assistance.second, assistance.first) : (assistance.first, assistance.second)
            func aside(_ text: String, _ side: String) -> String {
                "<aside class=\"critique\" id=\"critique-\(side)\"><h3>AI critique (principle \(WebPage.escape(assistance.principleID)); it may be wrong)</h3>"
                    + "<div class=\"text\">\(text.isEmpty ? "(the critic wrote nothing)" : WebPage.escape(text))</div></aside>"
            }
            critiques = (aside(a, "a"), aside(b, "b"))
        }
        let choices = [("a2", "A much better", "1"), ("a1", "A better", "2"), ("tie", "Tie", "3"), ("b1", "B better", "4"),
                       ("b2", "B much better", "5"), ("bad", "Both bad", "0")]
        let reasons = [("harmful", "Harmful", "H"), ("unhelpful", "Unhelpful", "U"), ("dishonest", "Dishonest", "D"), ("off-topic", "Off-topic", "O")]
        func ratingRow(_ criterion: String) -> String {
            let options = "<option value=\"\">–</option>" + (1...5).map { "<option value=\"\($0)\">\($0)</option>" }.joined()
            return "<tr><th>\(criterion.capitalized)</th>" + ["a", "b"].map { side in
                "<td><select name=\"\(criterion)-\(side)\" id=\"\(criterion)-\(side)\" aria-label=\"\(criterion) \(side.uppercased())\">\(options)</select></td>"
            }.joined() + "</tr>"
        }
        body += """
            <form method="post" action="/label" id="label-form" data-task="\(WebPage.escape(task.id))">\(Self.csrfField(annotator.csrf))
            <input type="hidden" name="task" value="\(WebPage.escape(task.id))">
            <section class="conversation" id="conversation"><h2>Conversation</h2>\(Self.render(task.prompt))</section>
            <div class="responses">
            <article id="response-a"><h2>Response A</h2>\(Self.render(left))\(critiques.0)</article>
            <article id="response-b"><h2>Response B</h2>\(Self.render(right))\(critiques.1)</article>
            </div>
            <fieldset class="choice"><legend>Which response is better?</legend>
            \(choices.map { value, label, key in
                "<label><input type=\"radio\" name=\"choice\" value=\"\(value)\" id=\"choice-\(value)\" required> \(label) <kbd>\(key)</kbd></label>"
            }.joined())
            </fieldset>
            <fieldset class="reasons"><legend>Reasons (for both bad)</legend>
            \(reasons.map { value, label, key in
                "<label><input type=\"checkbox\" name=\"reason-\(value)\" value=\"1\" id=\"reason-\(value)\"> \(label) <kbd>\(key)</kbd></label>"
            }.joined())
            </fieldset>
            <details class="ratings"><summary>Optional ratings, 1 (poor) to 5 (excellent) <kbd>T</kbd></summary>
            <table><tr><th></th><th>A</th><th>B</th></tr>\(ratingRow("helpful"))\(ratingRow("harmless"))\(ratingRow("honest"))</table></details>
            <label class="rationale">Rationale (optional) <kbd>R</kbd>
            <textarea name="rationale" id="rationale" rows="3" maxlength="\(configuration.maximumRationaleCharacters)"></textarea></label>
            <div class="actions">
            <button type="submit" name="action" value="submit" id="submit">Submit <kbd>Enter</kbd></button>
            <button type="submit" name="action" value="skip" id="skip" formnovalidate>Skip <kbd>S</kbd></button>
            </div></form>
            <p class="hint" id="keys">Keys: 1 A much better · 2 A better · 3 tie · 4 B better · 5 B much better · 0 both bad ·
            H U D O toggle the reasons · T ratings (Tab moves, digits choose) · R rationale (Esc leaves, Ctrl+Enter submits) ·
            Enter submit · S skip.</p>
            """
        return WebPage(title: "Compare responses", body: body).response()
    }

    func dashboardPage(_ admin: AnnotationStore.Annotator) throws -> Response {
        let statistics = LabelStatistics(try store.judgements())
        let tasks = try store.taskCount(), gold = try store.taskCount(gold: true)
        func number(_ value: Double?, _ digits: Int = 3) -> String { value.map { String(format: "%.\(digits)f", $0) } ?? "–" }
        func share(_ value: Double?, _ of: Int) -> String { value.map { String(format: "%.0f%% of %d", $0 * 100, of) } ?? "–" }
        var body = """
            <h1>Labelling dashboard</h1>
            <p>\(tasks) tasks (\(gold) gold questions), overlap \(configuration.overlap), a gold question every \(configuration.goldEvery) tasks.</p>
            <h2>Throughput</h2>
            <table id="throughput"><tr><th>Labels</th><th>Skips</th><th>Last hour</th><th>Per hour</th><th>Tasks with ≥ 2 labels</th></tr>
            <tr><td>\(statistics.labels)</td><td>\(statistics.skips)</td><td>\(statistics.lastHour)</td><td>\(number(statistics.perHour, 1))</td>
            <td>\(statistics.overlappingTasks)</td></tr></table>
            <h2>Reliability</h2>
            <table id="alpha"><tr><th>Krippendorff's alpha, ordinal (5-point strength; both bad left out)</th><td>\(number(statistics.ordinalAlpha))</td></tr>
            <tr><th>Krippendorff's alpha, nominal (first / second / tie / both bad)</th><td>\(number(statistics.nominalAlpha))</td></tr></table>
            <p class="hint">Alpha: 1 perfect agreement, 0 chance, below 0 systematic disagreement; over regular tasks with two or more labels.</p>
            <h2>Annotators</h2>
            <table id="annotators"><tr><th>Annotator</th><th>Labels</th><th>Skips</th><th>Median seconds</th><th>Agrees with majority</th><th>Gold correct</th></tr>
            """
        for annotator in statistics.annotators {
            body += "<tr><td>\(WebPage.escape(annotator.name))</td><td>\(annotator.judgements)</td><td>\(annotator.skips)</td>"
                + "<td>\(number(annotator.medianSeconds, 1))</td><td>\(share(annotator.majorityAgreement, annotator.majorityCompared))</td>"
                + "<td>\(share(annotator.goldAccuracy, annotator.goldAnswered))</td></tr>"
        }
        body += "</table><p class=\"hint\">Majority: the other annotators' most common label when it has more than half their labels. "
            + "Gold: prefers the known better response.</p><h2>Pairs of annotators</h2>"
            + "<table id=\"pairs\"><tr><th>Annotators</th><th>Shared tasks</th><th>Cohen's kappa (nominal labels)</th></tr>"
        for pair in statistics.pairs {
            body += "<tr><td>\(WebPage.escape(pair.first)) · \(WebPage.escape(pair.second))</td><td>\(pair.shared)</td><td>\(number(pair.kappa))</td></tr>"
        }
        body += "</table>"
        if !statistics.assistance.isEmpty {
            body += "<h2>AI assistance</h2><table id=\"assistance\"><tr><th>Critiques shown</th><th>Labels</th><th>Median seconds</th>"
                + "<th>Agrees with majority</th><th>Gold correct</th></tr>"
            for group in statistics.assistance {
                body += "<tr><td>\(group.assisted ? "yes" : "no")</td><td>\(group.labels)</td><td>\(number(group.medianSeconds, 1))</td>"
                    + "<td>\(share(group.majorityAgreement, group.majorityCompared))</td><td>\(share(group.goldAccuracy, group.goldAnswered))</td></tr>"
            }
            body += "</table><p class=\"hint\">Assignments of critiqued tasks show the critiques at random (the share set at start), "
                + "so the two rows differ only by chance and by the critiques.</p>"
        }
        return WebPage(title: "Labelling dashboard", body: body).response()
    }

    /// Keyboard labelling (see the keys line on the page); typing in the rationale or a rating is left alone.
    static let script = """
        document.addEventListener('keydown', function (event) {
          var form = document.getElementById('label-form');
          if (!form) return;
          var target = event.target || {};
          var tag = target.tagName || '';
          var submit = document.getElementById('submit');
          if ((event.ctrlKey || event.metaKey) && event.key === 'Enter') { event.preventDefault(); submit.click(); return; }
          if (event.ctrlKey || event.metaKey || event.altKey) return;
          if (tag === 'TEXTAREA' || tag === 'SELECT') { if (event.key === 'Escape') target.blur(); return; }
          var key = event.key.toLowerCase();
          var choices = { '1': 'a2', '2': 'a1', '3': 'tie', '4': 'b1', '5': 'b2', '0': 'bad', 'x': 'bad' };
          var reasons = { h: 'harmful', u: 'unhelpful', d: 'dishonest', o: 'off-topic' };
          var element = null;
          if (choices[key]) {
            element = document.getElementById('choice-' + choices[key]);
            element.checked = true;
          } else if (reasons[key]) {
            element = document.getElementById('reason-' + reasons[key]);
            element.checked = !element.checked;
          } else if (key === 'r') {
            element = document.getElementById('rationale'); element.focus();
          } else if (key === 't') {
            document.querySelector('details.ratings').open = true;
            element = document.getElementById('helpful-a'); element.focus();
          } else if (key === 's') {
            element = document.getElementById('skip'); element.click();
          } else if (key === 'enter') {
            element = submit; submit.click();
          }
          if (element) event.preventDefault();
        });
        """

    static let style = """
        body { font-family: system-ui, sans-serif; margin: 0; background: #f6f6f4; color: #222; }
        main { max-width: 72rem; margin: 1.5rem auto; padding: 0 1rem; }
        h1 { font-size: 1.5rem; } h2 { font-size: 1.05rem; margin: .25rem 0 .5rem; }
        .who, .count, .hint { color: #666; font-size: .9rem; }
        progress { width: 100%; }
        .conversation, article { background: #fff; padding: .75rem 1rem; border-radius: 4px; border: 1px solid #ddd; }
        .conversation { margin: 1rem 0; border-left: 4px solid #7f8c8d; }
        .responses { display: grid; grid-template-columns: 1fr 1fr; gap: 1rem; }
        #response-a { border-top: 4px solid #2980b9; } #response-b { border-top: 4px solid #8e44ad; }
        .text { white-space: pre-wrap; overflow-wrap: anywhere; }
        .critique { margin-top: .75rem; padding: .5rem .75rem; background: #fef9e7; border-left: 3px solid #f1c40f; font-size: .92rem; }
        .critique h3 { font-size: .8rem; margin: 0 0 .25rem; color: #7d6608; }
        .message { margin: .4rem 0; } .role { font-size: .8rem; color: #666; text-transform: uppercase; }
        fieldset { border: 1px solid #ccc; margin: 1rem 0; display: flex; flex-wrap: wrap; gap: .75rem; background: #fff; }
        fieldset label { padding: .3rem .5rem; border: 1px solid #ddd; border-radius: 4px; cursor: pointer; }
        fieldset label:has(input:checked) { background: #fdebd0; border-color: #e67e22; }
        kbd { font-size: .8rem; color: #555; border: 1px solid #bbb; border-radius: 3px; padding: 0 .25rem; background: #fafafa; }
        .ratings table td, .ratings table th { padding: .2rem .6rem; text-align: left; }
        .rationale { display: block; margin: 1rem 0; } textarea { width: 100%; font-size: 1rem; display: block; }
        .actions { display: flex; gap: .75rem; }
        button { font-size: 1rem; padding: .5rem 1rem; border-radius: 4px; border: 1px solid #888; background: #fff; cursor: pointer; }
        button:focus, input:focus, select:focus, textarea:focus { outline: 3px solid #f39c12; }
        table { border-collapse: collapse; background: #fff; margin: .5rem 0; }
        #throughput td, #throughput th, #annotators td, #annotators th, #pairs td, #pairs th, #alpha td, #alpha th, #assistance td, #assistance th { border: 1px solid #ddd; padding: .3rem .6rem; text-align: left; }
        .error { background: #fbeaea; padding: .5rem; }
        @media (max-width: 50rem) { .responses { grid-template-columns: 1fr; } }
        """
}
