import Foundation
import Testing

/// `glossa generate` with a constraint: the answer printed is one the constraint allows, and a
/// bad constraint is refused before the model runs.
@Suite(.serialized) struct GenerateCommandTests {
    @Test func constrainedAnswersFollowTheirConstraint() throws {
        let choice = try runGlossa(["generate", "--prompt", "Is the sky blue? Answer yes or no.", "--choice", "yes", "--choice", "no", "--max-tokens", "4"])
        #expect(choice.status == 0, "\(choice.stderr)")
        #expect(["yes", "no"].contains(choice.stdout.trimmingCharacters(in: .whitespacesAndNewlines)), "\(choice.stdout)")
        let scratch = try Scratch()
        try #"{"type":"object","additionalProperties":false,"required":["colour"],"properties":{"colour":{"enum":["red","green","blue"]}}}"#
            .write(toFile: scratch.path("s.json"), atomically: true, encoding: .utf8)
        let json = try runGlossa(["generate", "--prompt", "What colour is the sky? Reply in JSON.", "--json-schema", scratch.path("s.json"), "--max-tokens", "20", "--json"])
        #expect(json.status == 0, "\(json.stderr)")
        let printed = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any]
        let content = try #require(printed?["content"] as? String)
        let object = try JSONSerialization.jsonObject(with: Data(content.utf8)) as? [String: String]
        #expect(["red", "green", "blue"].contains(object?["colour"] ?? ""), "\(content)")
        let bad = try runGlossa(["generate", "--prompt", "x", "--regex", "(?=a)"])
        #expect(bad.status != 0 && bad.stderr.contains("look-around"), "\(bad.stderr)")
        let two = try runGlossa(["generate", "--prompt", "x", "--regex", "a", "--json-object"])
        #expect(two.status != 0 && two.stderr.contains("at most one"), "\(two.stderr)")
    }
}
