import Foundation
import HTTPTypes
import Hummingbird
import WebApp

@available(macOS 14, iOS 17, tvOS 17, *)
extension CollectiveServer {
    /// The question, as a heading every page shows.
    var topicHeading: String { "<p class=\"topic\">\(WebPage.escape(configuration.topic))</p>" }

    func navigation(_ participant: CollectiveStore.Participant, current: String) -> String {
        var links = [("/vote", "Vote"), ("/submit", "Write a statement")]
        if participant.role == .moderator { links.append(("/moderate", "Moderate")) }
        return "<nav>" + links.map { path, name in
            path == current ? "<strong>\(name)</strong>" : "<a href=\"\(path)\">\(name)</a>"
        }.joined(separator: " · ") + "</nav>"
    }

    static func csrfField(_ token: String) -> String { "<input type=\"hidden\" name=\"csrf\" value=\"\(WebPage.escape(token))\">" }

    func startPage(_ request: Request) throws -> Response {
        if let token = WebRequest.cookie(Self.sessionCookie, in: request), try store.participant(token: token) != nil {
            return WebResponse.redirect(to: "/vote")
        }
        var body = "<h1>Collective constitution</h1>" + topicHeading
            + "<p>Write statements about how an AI assistant should behave, and vote on other people's: agree, disagree or "
            + "pass, one statement at a time. The statements most agreed on across every opinion group become a "
            + "constitution a model is trained with.</p>"
        guard configuration.openJoin else {
            body += "<p>This conversation is by invitation: open the link you were sent.</p>"
            return WebPage(title: "Collective constitution", body: body).response()
        }
        let nonce = AccessToken.generate()
        body += "<form method=\"post\" action=\"/join\">\(Self.csrfField(nonce))<button id=\"join\" type=\"submit\" autofocus>Join</button></form>"
        return WebPage(title: "Collective constitution", body: body)
            .response(headers: [.setCookie: WebRequest.setCookie(Self.joinCookie, nonce, maxAge: 3600)])
    }

    func votePage(_ participant: CollectiveStore.Participant) throws -> Response {
        let (statement, voted, total) = try store.nextStatement(for: participant.id)
        var body = "<h1>Vote</h1>" + topicHeading + navigation(participant, current: "/vote")
            + "<progress id=\"progress\" max=\"\(max(total, 1))\" value=\"\(voted)\"></progress>"
            + "<p class=\"count\">\(voted) of \(total) statements voted on</p>"
        if let statement {
            body += """
                <form method="post" action="/vote" id="vote-form">\(Self.csrfField(participant.csrf))
                <input type="hidden" name="statement" value="\(statement.id)">
                <blockquote id="statement" data-id="\(statement.id)">\(WebPage.escape(statement.text))</blockquote>
                <div class="choices">
                <button type="submit" name="vote" value="agree" id="agree" accesskey="a">Agree <kbd>A</kbd></button>
                <button type="submit" name="vote" value="disagree" id="disagree" accesskey="d">Disagree <kbd>D</kbd></button>
                <button type="submit" name="vote" value="pass" id="pass" accesskey="p">Pass / unsure <kbd>P</kbd></button>
                </div></form>
                <p class="hint">Keys: A agree, D disagree, P pass.</p>
                """
        } else {
            body += "<p id=\"done\">You have voted on every statement so far. Write one of your own, or come back later for new ones.</p>"
        }
        return WebPage(title: "Vote — collective constitution", body: body).response()
    }

    func submitPage(_ participant: CollectiveStore.Participant, request: Request) throws -> Response {
        var body = "<h1>Write a statement</h1>" + topicHeading + navigation(participant, current: "/submit")
        if request.uri.queryParameters["sent"] != nil {
            body += "<p id=\"sent\" class=\"notice\">Thank you: your statement awaits moderation, then others can vote on it.</p>"
        }
        body += """
            <form method="post" action="/submit">\(Self.csrfField(participant.csrf))
            <label for="text">One principle for the AI, in a sentence (at most \(configuration.maximumStatementCharacters) characters):</label>
            <textarea id="text" name="text" rows="3" maxlength="\(configuration.maximumStatementCharacters)" required></textarea>
            <button type="submit" id="send">Send for moderation</button></form>
            <p class="hint">Statements are moderated before anyone sees them: one idea each, no personal attacks.</p>
            """
        return WebPage(title: "Write — collective constitution", body: body).response()
    }

    func moderatePage(_ participant: CollectiveStore.Participant) throws -> Response {
        let pending = try store.statements(status: .pending)
        let decided = try store.statements().filter { $0.status != .pending }
        var body = "<h1>Moderate</h1>" + topicHeading + navigation(participant, current: "/moderate")
            + "<p>\(pending.count) statement(s) awaiting moderation; \(decided.filter { $0.status == .accepted }.count) accepted, "
            + "\(decided.filter { $0.status == .rejected }.count) rejected.</p>"
        if pending.isEmpty { body += "<p id=\"empty\">Nothing to moderate.</p>" }
        body += "<ul class=\"queue\">"
        for statement in pending {
            body += """
                <li><form method="post" action="/moderate" data-id="\(statement.id)">\(Self.csrfField(participant.csrf))
                <input type="hidden" name="statement" value="\(statement.id)">
                <span class="text">\(WebPage.escape(statement.text))</span>
                <button type="submit" name="decision" value="accepted" class="accept">Accept</button>
                <button type="submit" name="decision" value="rejected" class="reject">Reject</button></form></li>
                """
        }
        body += "</ul>"
        return WebPage(title: "Moderate — collective constitution", body: body).response()
    }

    /// Keyboard voting: A, D and P press the vote buttons (not while typing).
    static let script = """
        document.addEventListener('keydown', function (event) {
          if (event.ctrlKey || event.metaKey || event.altKey) return;
          var target = event.target;
          if (target && (target.tagName === 'TEXTAREA' || target.tagName === 'INPUT')) return;
          var ids = { a: 'agree', d: 'disagree', p: 'pass' };
          var id = ids[event.key.toLowerCase()];
          var button = id && document.getElementById(id);
          if (button) { event.preventDefault(); button.click(); }
        });
        """

    static let style = """
        body { font-family: system-ui, sans-serif; margin: 0; background: #f6f6f4; color: #222; }
        main { max-width: 44rem; margin: 2rem auto; padding: 0 1rem; }
        h1 { font-size: 1.5rem; }
        .topic { font-style: italic; color: #555; }
        nav { margin: 1rem 0; }
        blockquote { font-size: 1.35rem; background: #fff; border-left: 4px solid #2980b9; padding: 1rem 1.25rem; margin: 1rem 0; white-space: pre-wrap; overflow-wrap: anywhere; }
        .choices { display: flex; gap: .75rem; }
        button { font-size: 1rem; padding: .5rem 1rem; border-radius: 4px; border: 1px solid #888; background: #fff; cursor: pointer; }
        #agree { border-color: #27ae60; } #disagree { border-color: #c0392b; }
        button:focus { outline: 3px solid #f39c12; }
        kbd { font-size: .8rem; color: #666; }
        progress { width: 100%; }
        textarea { width: 100%; font-size: 1rem; display: block; margin: .5rem 0; }
        .queue li { background: #fff; margin: .5rem 0; padding: .5rem; list-style: none; }
        .queue .text { display: block; margin-bottom: .5rem; overflow-wrap: anywhere; }
        .notice { background: #e8f6ee; padding: .5rem; } .error { background: #fbeaea; padding: .5rem; }
        .hint, .count { color: #666; font-size: .9rem; }
        """
}
