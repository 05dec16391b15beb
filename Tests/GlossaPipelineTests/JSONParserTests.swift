import Testing
@testable import GlossaPipeline

@Suite struct JSONParserTests {
    @Test func roundTripKeepsOrderAndNumberText() throws {
        let text = #"{"z":1,"a":[true,false,null,-0.50,1e+3],"m":{"k":"v\n\"q\"\\"},"u":"\u00e9\u0000"}"#
        let (value, repairs) = try JSONParser.parse(text)
        #expect(repairs == 0)
        #expect(JSONWriter.string(value) == #"{"z":1,"a":[true,false,null,-0.50,1e+3],"m":{"k":"v\n\"q\"\\"},"u":"é\u0000"}"#)
    }

    @Test func surrogatePairsDecodeAndLoneSurrogatesAreRepaired() throws {
        let pair = try JSONParser.parse(#""\ud83d\ude00""#)
        #expect(pair.value == .string("😀"))
        #expect(pair.repairs == 0)
        let lone = try JSONParser.parse(#"["\ud800x", "\udc00", "\ud800\ud800\udc00"]"#)
        #expect(lone.value == .array([.string("\u{FFFD}x"), .string("\u{FFFD}"), .string("\u{FFFD}𐀀")]))
        #expect(lone.repairs == 3)
    }

    @Test func invalidUTF8InsideStringsIsRepairedAndCounted() throws {
        let bytes: [UInt8] = Array(#"{"t":"a"#.utf8) + [0xC3, 0x28, 0xFF] + Array(#"b"}"#.utf8)
        let (value, repairs) = try bytes.withUnsafeBufferPointer { try JSONParser.parse($0) }
        #expect(value.objectValue?["t"] == .string("a\u{FFFD}(\u{FFFD}b"))
        #expect(repairs == 2)
    }

    @Test(arguments: [
        (#"{"a":1"#, "unexpected end of input inside an object"),
        (#"{'a':1}"#, "expected a string key"),
        (#"[1,]"#, "unexpected character ']'"),
        (#"{"a":01}"#, "expected ',' or '}'"),
        (#"{"a":"\x"}"#, "invalid escape '\\x'"),
        (#"{"a":1} x"#, "unexpected data after the JSON value"),
        ("", "unexpected end of input"),
    ])
    func malformedInputNamesTheProblem(_ input: String, _ message: String) {
        #expect(throws: JSONParser.SyntaxError.self) { try JSONParser.parse(input) }
        do { _ = try JSONParser.parse(input) } catch { #expect(error.message == message) }
    }

    @Test func deepNestingIsAnErrorNotACrash() {
        let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        #expect(throws: JSONParser.SyntaxError.self) { try JSONParser.parse(deep) }
    }

    @Test func objectSubscriptReplacesInPlace() {
        var o = JSONObject(["a": .number("1"), "b": .null])
        o["a"] = .string("x")
        o["c"] = .bool(true)
        o["b"] = nil
        #expect(JSONWriter.string(.object(o)) == #"{"a":"x","c":true}"#)
    }
}
