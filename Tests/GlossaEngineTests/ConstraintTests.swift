import Foundation
import GlossaIO
import Testing
@testable import GlossaEngine

/// The constraint compilers against hand-written accept / reject tables, and the token masks
/// against a brute-force check over the real Qwen vocabulary.
@Suite struct ConstraintTests {
    func expect(_ kind: Constraint.Kind, accepts: [String], rejects: [String], sourceLocation: SourceLocation = #_sourceLocation) throws {
        let c = try Constraint(kind)
        for text in accepts { #expect(c.matches(text), "\(kind) should accept \(text.debugDescription)", sourceLocation: sourceLocation) }
        for text in rejects { #expect(!c.matches(text), "\(kind) should reject \(text.debugDescription)", sourceLocation: sourceLocation) }
    }

    func expectError(_ kind: Constraint.Kind, mentioning words: [String], sourceLocation: SourceLocation = #_sourceLocation) {
        do {
            _ = try Constraint(kind)
            Issue.record("\(kind) compiled; expected an error mentioning \(words)", sourceLocation: sourceLocation)
        } catch {
            for w in words { #expect(error.message.contains(w), "\(error.message) should mention \(w)", sourceLocation: sourceLocation) }
        }
    }

    static func schema(_ text: String) throws -> JSONValue { try JSONParser.parse(text).value }

    @Test func regexTable() throws {
        try expect(.regex(#"[a-z]+@[a-z]+\.com"#), accepts: ["bob@x.com", "a@b.com"], rejects: ["bob@x.org", "@x.com", "bob@x.com ", ""])
        try expect(.regex(#"\d{3}-\d{4}"#), accepts: ["555-1234"], rejects: ["55-1234", "5555-1234", "555-12345", "abc-defg"])
        try expect(.regex("(cat|dog)s?"), accepts: ["cat", "dogs", "dog"], rejects: ["cats!", "", "cow"])
        try expect(.regex("[A-Z]{2,5}-[0-9]+"), accepts: ["AB-1", "ABCDE-42"], rejects: ["A-1", "ABCDEF-1", "AB-"])
        try expect(.regex("x{2,}y?"), accepts: ["xx", "xxxxy"], rejects: ["x", "xy", "y"])
        try expect(.regex("^abc$"), accepts: ["abc"], rejects: ["^abc$", "abcd"])
        try expect(.regex(#"a\.b\*c"#), accepts: ["a.b*c"], rejects: ["axb*c", "a.bbc"])
        try expect(.regex(#"[^"\\]*"#), accepts: ["", "abc", "日本"], rejects: ["a\"b", "a\\b"])
        try expect(.regex(#"\s\w\S\W"#), accepts: [" a1!", "\t_x "], rejects: ["aa1!", " !1!"])
        try expect(.regex("(?:ab)+|c"), accepts: ["ab", "abab", "c"], rejects: ["aba", "abc", ""])
        try expect(.regex("a{0}b"), accepts: ["b"], rejects: ["ab"])
        try expect(.regex("{x}"), accepts: ["{x}"], rejects: ["x"])
        // Unicode: classes and `.` work on characters, not bytes.
        try expect(.regex("[à-ÿ]+"), accepts: ["éè", "ÿ"], rejects: ["e", "Ā"])
        try expect(.regex(".{2}"), accepts: ["日本", "ab", "a😀"], rejects: ["日", "日本語", "\n\n"])
        try expect(.regex(#"\u00e9\x41\u{1F600}"#), accepts: ["éA😀"], rejects: ["eA😀"])
        try expect(.regex("[\\u4e00-\\u9fff]{1,3}"), accepts: ["中", "中文字"], rejects: ["中文字典", "a"])
        try expect(.regex("Straße|ΣΊΣΥΦΟΣ"), accepts: ["Straße", "ΣΊΣΥΦΟΣ"], rejects: ["Strasse"])
    }

    @Test func regexErrorsNameTheProblem() {
        expectError(.regex("(?=a)b"), mentioning: ["look-around"])
        expectError(.regex("a{3,1}"), mentioning: ["wrong way round"])
        expectError(.regex(#"(a)\1"#), mentioning: ["\\1"])
        expectError(.regex("(ab"), mentioning: ["missing ')'"])
        expectError(.regex("*a"), mentioning: ["nothing to repeat"])
        expectError(.regex("[a-"), mentioning: ["missing ']'"])
        expectError(.regex(#"\b"#), mentioning: ["word boundaries"])
        expectError(.regex("[^\\u0000-\\u{10FFFF}]"), mentioning: ["accepts no text"])
    }

    @Test func grammarTable() throws {
        let greeting = """
            # a greeting, then a capitalised name
            root ::= greeting " " name
            greeting ::= "hello"
                       | "hi"
            name ::= [A-Z] [a-z]*
            """
        try expect(.grammar(greeting), accepts: ["hello Bob", "hi A"], rejects: ["hey Bob", "hello bob", "hello  Bob", "hi"])
        try expect(.grammar(#"root ::= "(" root ")" | """#), accepts: ["", "()", "((()))"], rejects: ["(()", ")(", "(("])
        try expect(.grammar(#"root ::= "\x41\u00e9\n" [^a-z0-9]{2,3} ."#), accepts: ["Aé\nXY日", "Aé\n!!!z"], rejects: ["Aé\nab1", "Aé\nX"])
        try expect(.grammar("""
            root ::= item ("," item)*
            item ::= [0-9]+ | "\\"" [^"]* "\\""
            """), accepts: ["1,22,\"x,y\"", "7"], rejects: ["1,", ",1", "\"open"])
    }

    @Test func grammarErrorsNameTheProblem() {
        expectError(.grammar(#"root ::= root "a" | "b""#), mentioning: ["left-recursive", "root"])
        expectError(.grammar(#"root ::= x"#), mentioning: ["'x'", "never defined"])
        expectError(.grammar(#"start ::= "a""#), mentioning: ["root"])
        expectError(.grammar(#"root ::= "a"#), mentioning: ["unterminated"])
        expectError(.grammar("root ::= \"a\"\nroot ::= \"b\""), mentioning: ["twice", "line 2"])
        expectError(.grammar(#"root ::= a  a ::= b  b ::= a "x""#), mentioning: ["left-recursive"])
    }

    static let triage = """
        {"type": "object", "additionalProperties": false, "required": ["product", "severity"],
         "properties": {
           "product": {"type": "string", "maxLength": 8},
           "severity": {"enum": ["low", "medium", "high"]},
           "count": {"type": "integer"},
           "score": {"type": "number"},
           "ok": {"type": "boolean"},
           "tags": {"type": "array", "items": {"type": "string"}, "minItems": 1, "maxItems": 3},
           "note": {"type": ["string", "null"]}}}
        """

    @Test func jsonSchemaTable() throws {
        try expect(.jsonSchema(Self.schema(Self.triage)), accepts: [
            #"{"product":"x","severity":"low"}"#,
            #"{"product": "Glossa", "severity": "high", "count": -12, "score": 1.5e3, "ok": true, "tags": ["a", "b"], "note": null}"#,
            "{\n  \"product\": \"é\\n\\u00e9\",\n  \"severity\": \"medium\",\n  \"note\": \"n\"\n}",
            #"{"product":"","severity":"low","tags":["only"]}"#,
        ], rejects: [
            #"{"product":"x"}"#,                                     // required severity
            #"{"severity":"low","product":"x"}"#,                    // properties in schema order
            #"{"product":"x","severity":"low","extra":1}"#,          // additionalProperties false
            #"{"product":"x","severity":"urgent"}"#,                 // enum
            #"{"product":"123456789","severity":"low"}"#,            // maxLength 8
            #"{"product":"x","severity":"low","tags":[]}"#,          // minItems 1
            #"{"product":"x","severity":"low","tags":["a","b","c","d"]}"#,
            #"{"product":"x","severity":"low","count":1.5}"#,        // integer
            #"{"product":"x","severity":"low","count":01}"#,         // JSON numbers
            #"{"product":"x","severity":"low",}"#,                   // trailing comma
            #"{"product":"a"b","severity":"low"}"#,                  // unescaped quote
            "{\"product\":\"a\u{1}\",\"severity\":\"low\"}",         // control character
        ])
        try expect(.jsonSchema(Self.schema(#"{"type": "string", "pattern": "^[A-Z]{3}-\\d+$"}"#)), accepts: [#""ABC-12""#], rejects: [#""abc-12""#, "ABC-12"])
        // A pattern character that JSON must escape is produced escaped.
        try expect(.jsonSchema(Self.schema(#"{"type": "string", "pattern": "a\"b|c\\\\d"}"#)), accepts: [#""a\"b""#, #""c\\d""#], rejects: [#""a"b""#])
        try expect(.jsonSchema(Self.schema(#"{"const": {"a": [1, "x"]}}"#)), accepts: [#"{"a":[1,"x"]}"#], rejects: [#"{"a":[1]}"#])
        try expect(.jsonSchema(Self.schema(#"{"anyOf": [{"type": "integer"}, {"type": "boolean"}]}"#)), accepts: ["3", "false"], rejects: ["\"3\"", "null"])
        // Recursive definitions.
        let tree = ##"{"$ref": "#/$defs/node", "$defs": {"node": {"type": "object", "required": ["v"], "additionalProperties": false,"##
            + ##" "properties": {"v": {"type": "integer"}, "kids": {"type": "array", "items": {"$ref": "#/$defs/node"}}}}}}"##
        try expect(.jsonSchema(Self.schema(tree)), accepts: [#"{"v":1}"#, #"{"v":1,"kids":[{"v":2,"kids":[{"v":3}]},{"v":4}]}"#],
                   rejects: [#"{"v":1,"kids":[{"w":2}]}"#, #"{"kids":[]}"#])
    }

    @Test func jsonSchemaErrorsNameTheKeyword() throws {
        expectError(.jsonSchema(try Self.schema(#"{"type": "string", "format": "email"}"#)), mentioning: ["format"])
        expectError(.jsonSchema(try Self.schema(#"{"type": "object", "properties": {"n": {"type": "integer", "minimum": 0}}}"#)),
                    mentioning: ["minimum", "#/properties/n"])
        expectError(.jsonSchema(try Self.schema(#"{"type": "wat"}"#)), mentioning: ["wat"])
        expectError(.jsonSchema(try Self.schema(#"{"enum": []}"#)), mentioning: ["enum"])
        expectError(.jsonSchema(try Self.schema(##"{"$ref": "#/$defs/missing"}"##)), mentioning: ["missing"])
        expectError(.jsonSchema(try Self.schema(#"{"type": "object", "required": ["a"], "properties": {}}"#)), mentioning: ["'a'"])
        expectError(.jsonSchema(try Self.schema(#"{"type": "string", "minLength": 5, "maxLength": 2}"#)), mentioning: ["maxLength"])
        expectError(.choice([]), mentioning: ["at least one"])
    }

    @Test func anyJSON() throws {
        try expect(.json, accepts: [#"{"a":[1,2,{"b":null}],"c":"x"}"#, "[]", #""s""#, "-0.5e-3", "{ }", "[ 1 , 2 ]"],
                   rejects: [#"{"a":}"#, "{a:1}", "[1,]", "01", "", "tru"])
        try expect(.jsonObject, accepts: ["{}", #"{"k":[{}]}"#], rejects: ["[1]", "1"])
    }

    @Test func shortestCompletionsSatisfyTheConstraint() throws {
        let c = try Constraint(.jsonSchema(Self.schema(Self.triage)))
        for prefix in [#"{"product":"ab"#, #"{"#, #"{"product":"x","severity":"me"#, #"{"product":"x","severity":"low","tags":["é"#] {
            let state = c.advance(c.start, bytes: Array(prefix.utf8))
            #expect(state >= 0, "\(prefix) should be a live prefix")
            let rest = try #require(c.shortestCompletion(from: state))
            #expect(c.matches(prefix + String(decoding: rest, as: UTF8.self)), "\(prefix) + \(String(decoding: rest, as: UTF8.self))")
        }
        #expect(c.advance(c.start, bytes: Array(#"{"severity""#.utf8)) < 0)
    }

    /// On the real vocabulary: a token is in the mask exactly when it is an ordinary token whose
    /// bytes keep the automaton alive (checked token by token against the trie walk).
    @Test func masksMatchATokenByTokenCheck() throws {
        let tokenizer = DefaultModel.tokenizer
        let vocabulary = VocabularyTrie.of(tokenizer)
        let triage = try Constraint(.jsonSchema(Self.schema(Self.triage)))
        // (constraint, prefix, whether the state is narrow: outside a string few tokens fit).
        let cases: [(Constraint, String, Bool)] = [
            (triage, "", true), (triage, #"{"product":"G"#, false), (triage, #"{"product":"x","severity":"low","count":1"#, true),
            (try Constraint(.regex(#"[A-Z]{2,5}-\d{1,4}"#)), "AB", true), (try Constraint(.choice(["yes", "no", "maybe"])), "m", true),
            (try Constraint(.json), #"{"a": ["日本"#, false),
            // Free text with a span: almost everything fits, except what would start a
            // second URL or end too early; once begun, only the span's own bytes.
            (try Constraint(.requiredText([RequiredText("https://a.io/x", minimum: 1, maximum: 1, commitAfter: 6)])), "Voir ", false),
            (try Constraint(.requiredText([RequiredText("https://a.io/x", minimum: 1, maximum: 1, commitAfter: 6)])), "Voir https:/", true),
        ]
        for (c, prefix, narrow) in cases {
            let state = c.advance(c.start, bytes: Array(prefix.utf8))
            let mask = c.allowedTokens(state, vocabulary: vocabulary)
            var allowed = 0, mismatches: [Int] = []
            for id in 0..<tokenizer.vocabularySize {
                let alive = vocabulary.isOrdinary(id) && c.advance(state, bytes: tokenizer.bytes(of: id)) >= 0
                if alive != mask.contains(id) { mismatches.append(id) }
                if alive { allowed += 1 }
            }
            #expect(mismatches.isEmpty, "\(prefix): \(mismatches.prefix(10))")
            #expect(allowed > 0 && allowed == mask.count, "\(prefix): \(allowed) allowed")
            #expect(allowed < (narrow ? 5_000 : tokenizer.vocabularySize), "\(prefix): \(allowed) tokens allowed")
        }
        // Special tokens are never allowed, even where their text would fit (inside a string).
        let inside = triage.advance(triage.start, bytes: Array(#"{"product":""#.utf8))
        let mask = triage.allowedTokens(inside, vocabulary: vocabulary)
        for id in [151643, 151644, 151645] { #expect(!mask.contains(id)) }
        #expect(mask.contains(tokenizer.encode("abc", parseSpecialTokens: false)[0]))
    }

    // MARK: - Required text (protected spans, glossary terms)

    static let url = RequiredText("https://a.io/x?q=1", minimum: 1, maximum: 1, commitAfter: 6)

    @Test func requiredTextTable() throws {
        // A span exactly once, anywhere; not twice, not mangled once begun, not missing.
        try expect(.requiredText([Self.url]),
                   accepts: ["https://a.io/x?q=1", "See https://a.io/x?q=1.", "Siehe https://a.io/x?q=1 und http ist gut"],
                   rejects: ["", "See the page.", "https://a.io/x?q=1 https://a.io/x?q=1", "https://b.io https://a.io/x?q=1",
                             "https://a.io/x?q=12"])
        // Several spans in any order, one of them twice; a mention commits after "@" and a letter.
        let spans: [RequiredText] = [
            RequiredText("@bob", minimum: 2, maximum: 2, commitAfter: 2),
            RequiredText("`make test`", minimum: 1, maximum: 1, commitAfter: 1),
            RequiredText("ABC-12", minimum: 1, maximum: 1, commitAfter: 4),
        ]
        try expect(.requiredText(spans),
                   accepts: ["@bob, run `make test` for ABC-12, @bob.", "ABC-12`make test`@bob@bob", "日本語 @bob と @bob、`make test` で ABC-12。"],
                   rejects: ["@bob run `make test` for ABC-12", "@bob @bob @bob `make test` ABC-12",
                             "@bob @bob `make it` `make test` ABC-12", "@bob @bob `make test` ABC-1", "@bob @bob `make test` ABC-"])
        // Glossary terms: at least once, case-sensitive, no commit (ordinary words).
        try expect(.requiredText([RequiredText("Glossa", minimum: 1, maximum: nil)]),
                   accepts: ["Glossa", "Glossa und Glossa", "Das Glos ist Glossa"], rejects: ["glossa", "Glos sa", ""])
        // A span ending in a letter or digit counts only at a word boundary: @bob is not in @bobby.
        try expect(.requiredText([RequiredText("@bob", minimum: 1, maximum: 1, commitAfter: 2), RequiredText("@bobby", minimum: 1, maximum: 1, commitAfter: 2)]),
                   accepts: ["@bob and @bobby", "@bobby, @bob"], rejects: ["@bob and @bob", "@bobby", "@bob @bobby @bob"])
    }

    /// The counts the translate stage asks for come from `occurrences(in:)` on the source; the
    /// source itself must then satisfy the constraint, whatever the spans' neighbours.
    @Test func aSourceSatisfiesTheCountsTakenFromIt() throws {
        let texts = ["ABC-12 and ABC-123, ABC-12.", "@bob@bob @bobby_x @bob", "https://a.io/x?q=1 https://a.io/x?q=12",
                     "`a``a` `a`", "x ABC-12ABC-12 ABC-12_", "日本ABC-12語@bob。"]
        let spans = ["ABC-12", "@bob", "https://a.io/x?q=1", "`a`"]
        for text in texts {
            var needles: [RequiredText] = []
            for span in spans {
                var n = RequiredText(span, minimum: 0, maximum: 0, commitAfter: span.hasPrefix("`") ? 1 : 2)
                let count = n.occurrences(in: text)
                (n.minimum, n.maximum) = (count, count)
                needles.append(n)
            }
            #expect(try Constraint(.requiredText(needles)).matches(text), "\(text)")
        }
        #expect(RequiredText("ABC-12", minimum: 0, maximum: 0, commitAfter: 4).occurrences(in: "ABC-12 ABC-123 ABC-12") == 2)
        #expect(RequiredText("Glossa", minimum: 0, maximum: nil).occurrences(in: "Glossas Glossa") == 2)
    }

    @Test func requiredTextErrors() {
        expectError(.requiredText([RequiredText("", minimum: 1, maximum: 1)]), mentioning: ["empty"])
        expectError(.requiredText([RequiredText("a", minimum: 2, maximum: 1)]), mentioning: ["'a'", "wrong way round"])
        expectError(.requiredText([RequiredText("a", minimum: 1, maximum: 1), RequiredText("a", minimum: 1, maximum: 1)]), mentioning: ["twice"])
    }

    /// When tokens run out: the begun span is finished, the missing ones appended.
    @Test func requiredTextCompletions() throws {
        let c = try Constraint(.requiredText([Self.url, RequiredText("@bob", minimum: 1, maximum: 1, commitAfter: 2), RequiredText("Glossa", minimum: 1, maximum: nil)]))
        for prefix in ["", "Voir https://a.i", "Voir @b", "Glossa @bob https://a.io/x?q=1"] {
            let state = c.advance(c.start, bytes: Array(prefix.utf8))
            #expect(state >= 0, "\(prefix)")
            let rest = try #require(c.shortestCompletion(from: state), "\(prefix)")
            #expect(c.matches(prefix + String(decoding: rest, as: UTF8.self)), "\(prefix) + \(String(decoding: rest, as: UTF8.self))")
        }
        // A span inside another (code holding a mention that also stands alone): completed
        // from nothing and from inside the code span.
        let nested = try Constraint(.requiredText([RequiredText("@bob", minimum: 2, maximum: 2, commitAfter: 1),
                                                   RequiredText("`ask @bob now`", minimum: 1, maximum: 1, commitAfter: 1)]))
        // The closing backtick of one code span and a space are not the start of another code
        // span that begins with "` " (gettext's `quote' style pairs backticks oddly).
        let odd = try Constraint(.requiredText([RequiredText("`return') a de @dev `", minimum: 1, maximum: 1, commitAfter: 1),
                                                RequiredText("` f ou (com `", minimum: 1, maximum: 1, commitAfter: 1)]))
        let mid = odd.advance(odd.start, bytes: Array("It is (`return') a".utf8))
        let oddRest = try #require(odd.shortestCompletion(from: mid))
        #expect(odd.matches("It is (`return') a" + String(decoding: oddRest, as: UTF8.self)))
        #expect(odd.matches("(`return') a de @dev ` then ` f ou (com `"))
        for prefix in ["", "Frag `ask", "@bob sagt"] {
            let state = nested.advance(nested.start, bytes: Array(prefix.utf8))
            let rest = try #require(nested.shortestCompletion(from: state), "\(prefix)")
            #expect(nested.matches(prefix + String(decoding: rest, as: UTF8.self)), "\(prefix) + \(String(decoding: rest, as: UTF8.self))")
        }
    }
}
