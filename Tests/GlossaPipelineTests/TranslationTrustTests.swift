import Foundation
import GlossaEngine
import GlossaIO
import GlossaText
import Testing
@testable import GlossaPipeline

/// What a user translating tickets relies on, on the default model: every record back, every
/// protected span verbatim and as often as in its source, glossary terms placed, and every
/// translated field checked (`metadata.qa`).
@Suite(.serialized) struct TranslationTrustTests {
    static let root = NormalizeJobTests.corpora.deletingLastPathComponent()

    /// A generated adversarial set: spans where small models lose them.
    static func adversarialTickets() -> [JSONObject] {
        let twenty = (0..<20).map { i -> String in
            switch i % 5 {
            case 0: return "OPS-\(100 + i)"
            case 1: return "@user\(i)"
            case 2: return "`flag_\(i)`"
            case 3: return "https://ci.example.com/build/\(i)"
            default: return "dev\(i)@example.org"
            }
        }
        let bodies: [(String, String)] = [
            ("start", "https://status.example.com/incidents/42 zeigt seit Montag einen Fehler beim Bezahlen."),
            ("end", "Bitte prüft die Logs des Gateways, die Meldung kam von OPS-4711"),
            ("adjacent", "@anna @bob OPS-12 `config.yaml` https://a.example.com/b sind betroffen."),
            ("japanese", "ログインできません。詳細は https://status.example.jp/i/7 を参照し、@tanaka さんに JP-88 について連絡してください。"),
            ("arabic", "لا يمكن تسجيل الدخول، راجع https://status.example.com/x وأبلغ @omar عن ABC-77 اليوم."),
            ("hindi", "लॉगिन काम नहीं कर रहा है, कृपया https://status.example.in/1 देखें और @ravi को OPS-9 के बारे में बताएं।"),
            ("chinese", "支付页面报错，请查看 `payment.log` 并联系 ops@example.cn 处理 PAY-301。"),
            ("twice", "Der Fehler OPS-42 tritt wieder auf; OPS-42 wurde schon einmal geschlossen."),
            ("twenty", "Betroffen sind: " + twenty.joined(separator: ", ") + ". Bitte alle prüfen."),
            ("fenced", "L'export échoue. Trace :\n```\nError: disk full. Retry later.\nat Export.run()\n```\nVoir MOB-5."),
        ]
        return bodies.map { id, body in JSONObject(["id": .string(id), "title": .string("Fehler"), "body": .string(body)]) }
    }

    static func write(_ records: [JSONObject], _ scratch: Scratch) throws -> String {
        let path = scratch.path("in.jsonl")
        var bytes: [UInt8] = []
        for r in records { JSONWriter.write(.object(r), into: &bytes); bytes.append(0x0A) }
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return path
    }

    static func run(_ input: String, _ scratch: Scratch, _ name: String, translate: String = "", maxTokens: Int = 200, batch: Int = 64,
                    fields: String = "[title, body, comments]") throws -> (PipelineRunner.Report, [JSONObject]) {
        let out = scratch.path(name)
        let config = try PipelineConfig.parse("""
            name: trust
            input:
              paths: [\(input)]
              fields: \(fields)
            stages:
              - normalize: {}
              - detect-language: {}
              - translate:
                  target: en
                  max_tokens: \(maxTokens)
                  \(translate)
            output:
              dir: \(out)
            engine:
              model: default
              batch_records: \(batch)
            """, file: scratch.path("trust.yaml"))
        let report = try PipelineRunner(config: config, environment: TestPaths.environment).run()
        var records: [JSONObject] = []
        let e = FileManager.default.enumerator(atPath: out)
        while let f = e?.nextObject() as? String {
            guard f.hasSuffix(".zst"), !f.hasPrefix(".glossa"), !f.hasPrefix("rejects") else { continue }
            for line in try readAll(openByteSource(path: out + "/" + f)).split(separator: 0x0A) {
                records.append(try #require(try Array(line).withUnsafeBufferPointer { try JSONParser.parse($0) }.value.objectValue))
            }
        }
        return (report, records.sorted { ($0["id"]?.stringValue ?? "") < ($1["id"]?.stringValue ?? "") })
    }

    /// Every span of every translated field, counted as the constraint counts, is in the
    /// translation as often as in the source, and the QA says so too.
    static func expectSpansKept(_ records: [JSONObject], sourceLocation: SourceLocation = #_sourceLocation) throws {
        var checked = 0
        for record in records {
            let translation = try #require(record["translation"]?.objectValue, sourceLocation: sourceLocation)
            let qa = record["metadata"]?.objectValue?["qa"]?.objectValue
            #expect(qa?["flags"]?.arrayValue?.contains(.string("spans")) == false, "\(record["id"] ?? .null)", sourceLocation: sourceLocation)
            for member in translation.members {
                let sources: [String], targets: [String]
                switch (record[member.key], member.value) {
                case let (.string(s)?, .string(t)): (sources, targets) = ([s], [t])
                case let (.array(s)?, .array(t)): (sources, targets) = (s.compactMap(\.stringValue), t.compactMap(\.stringValue))
                default: continue
                }
                for (source, target) in zip(sources, targets) {
                    for needle in ProtectedText(protecting: source).needles {
                        #expect(needle.occurrences(in: target) == needle.occurrences(in: source),
                                "\(record["id"] ?? .null): '\(needle.text)' in \(target.debugDescription)", sourceLocation: sourceLocation)
                        checked += 1
                    }
                }
            }
        }
        #expect(checked > 0, sourceLocation: sourceLocation)
    }

    @Test func everySampleTicketComesBackWithEverySpan() throws {
        let scratch = try Scratch()
        let input = NormalizeJobTests.corpora.appendingPathComponent("sample-tickets.jsonl.zst").path
        let (report, records) = try Self.run(input, scratch, "a")
        #expect(report.recordsIn == 64 && report.isConserved)
        #expect(report.rejected == 0, "\(report.rejectReasons)")
        #expect(records.count == 64)
        let stats = try #require(report.stages["translate"]?.objectValue)
        // The constraint was in use (the event this test is about).
        guard case let .number(constrained)? = stats["constrained_chunks"] else { Issue.record("no constrained_chunks"); return }
        #expect((Int(constrained) ?? 0) > 20)
        try Self.expectSpansKept(records)
        // Every translated record carries its checks.
        for record in records {
            let meta = try #require(record["metadata"]?.objectValue)
            #expect(meta["qa"]?.objectValue?["fields"] != nil, "\(record["id"] ?? .null)")
        }
    }

    @Test func adversarialSpansSurviveAndOutputIsBatchInvariant() throws {
        let scratch = try Scratch()
        let input = try Self.write(Self.adversarialTickets(), scratch)
        let (report, records) = try Self.run(input, scratch, "a", fields: "[title, body]")
        #expect(report.recordsIn == 10 && report.rejected == 0, "\(report.rejectReasons)")
        try Self.expectSpansKept(records)
        // One record per batch gives the same bytes: constraints keep greedy batch invariance.
        let (_, alone) = try Self.run(input, scratch, "b", batch: 1, fields: "[title, body]")
        #expect(alone == records)
    }

    @Test func glossaryTermsArePlacedAndReported() throws {
        let scratch = try Scratch()
        let tickets = [
            JSONObject(["id": .string("g1"), "text": .string("Die Kasse in Glossa Cloud zeigt einen falschen Lagerbestand an.")]),
            JSONObject(["id": .string("g2"), "text": .string("La caisse de Glossa Cloud est lente depuis hier.")]),
            JSONObject(["id": .string("g3"), "text": .string("Der Drucker im zweiten Stock druckt leere Seiten.")]),
        ]
        let terms = scratch.path("terms.tsv")
        try "# source\ttarget (and a line for another language)\nKasse\tcheckout\nfr\tcaisse\tcaisse-FR\nen\tcaisse\ttill\n".write(toFile: terms, atomically: true, encoding: .utf8)
        let (report, records) = try Self.run(try Self.write(tickets, scratch), scratch, "a", translate: """
            glossary_file: \(terms)
                  glossary: {"Glossa Cloud": "Glossa Cloud", "Lagerbestand": "stock level"}
            """, fields: "[text]")
        #expect(report.rejected == 0)
        let byID = Dictionary(uniqueKeysWithValues: records.map { ($0["id"]?.stringValue ?? "", $0) })
        let expected: [String: [String]] = ["g1": ["checkout", "Glossa Cloud", "stock level"], "g2": ["till", "Glossa Cloud"], "g3": []]
        for (id, targets) in expected {
            let record = try #require(byID[id])
            let text = record["translation"]?.objectValue?["text"]?.stringValue ?? ""
            let applied = record["metadata"]?.objectValue?["glossary"]?.arrayValue ?? []
            #expect(applied.count == targets.count, "\(id): \(applied)")
            for target in targets {
                #expect(text.contains(target), "\(id): '\(target)' not in \(text)")
                #expect(applied.contains { $0.objectValue?["target"] == .string(target) && $0.objectValue?["placed"] == .bool(true) }, "\(id)")
            }
        }
    }

    /// `qa: reject`: a failed check becomes a reject with its reason. A budget of 2 tokens cuts
    /// every translation short, which the length check catches.
    @Test func failedChecksRejectWhenAsked() throws {
        let scratch = try Scratch()
        let tickets = [JSONObject(["id": .string("q1"), "text": .string("Seit dem letzten Update stürzt die Anwendung beim Öffnen großer Dateien jedes Mal ab.")])]
        let (report, records) = try Self.run(try Self.write(tickets, scratch), scratch, "a", translate: "qa: reject", maxTokens: 2, fields: "[text]")
        #expect(records.isEmpty)
        #expect(report.rejectReasons == ["qa_length_ratio": 1])
        let (flagged, kept) = try Self.run(try Self.write(tickets, scratch), scratch, "b", maxTokens: 2, fields: "[text]")
        #expect(flagged.rejected == 0)
        let flags = kept.first?["metadata"]?.objectValue?["qa"]?.objectValue?["flags"]?.arrayValue
        #expect(flags == [.string("length_ratio")])
    }

    /// Low-confidence language detection is `und` with the guess kept, and translate never
    /// takes it for the target: filler text is translated (and checked), not copied as
    /// "already English".
    @Test func unsureDetectionIsTranslatedNotCopied() throws {
        let scratch = try Scratch()
        let filler = "Lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor incididunt ut labore"
        let (report, records) = try Self.run(try Self.write([JSONObject(["id": .string("f"), "text": .string(filler)])], scratch), scratch, "a", fields: "[text]")
        #expect(report.rejected == 0)
        let meta = try #require(records.first?["metadata"]?.objectValue)
        #expect(meta["language"] == .string("und"))
        #expect(meta["language_guess"]?.stringValue?.isEmpty == false)
        #expect(meta["translation_source"] == .string("unknown"))
        #expect(report.stages["translate"]?.objectValue?["chunks"] == .number("1"))
    }
}

/// The checks on their own, with the real language identifier.
@Suite struct TranslationQATests {
    static let qa: TranslationQA = {
        let path = LanguageIdentifier.defaultModelPath(environment: TestPaths.environment)
        return TranslationQA(target: "en", identifier: try! LanguageIdentifier(modelPath: path))
    }()

    func flags(_ source: String, _ translation: String, from language: String? = "de", spans: [RequiredText] = [],
               terms: [(String, Bool)] = [], repeated: Bool = false) -> [String] {
        Self.qa.check(source: source, translation: translation, sourceLanguage: language, spans: spans,
                      terms: terms.map { (target: $0.0, placed: $0.1) }, repeated: repeated).flags
    }

    @Test func eachCheckFlagsWhatItIsAbout() {
        let de = "Der Drucker im zweiten Stock druckt seit gestern nur noch leere Seiten."
        let en = "The printer on the second floor has only printed blank pages since yesterday."
        #expect(flags(de, en).isEmpty)
        #expect(flags(de, de) == ["language", "copy"])
        #expect(flags(de, de, from: "en").contains("copy") == false)
        #expect(flags(de, "Printer broken.") == ["length_ratio"])
        #expect(flags(de, en + " " + en + " " + en + " " + en) == ["length_ratio"])
        #expect(flags(de, en, repeated: true) == ["repetition"])
        #expect(flags(de, en, terms: [("printer", true), ("blank", false)]) == ["glossary"])
        let url = RequiredText("https://a.io/x", minimum: 0, maximum: 0, commitAfter: 6)
        #expect(flags(de + " https://a.io/x", en + " https://a.io/x", spans: [url]).isEmpty)
        #expect(flags(de + " https://a.io/x", en, spans: [url]) == ["spans"])
        // Short answers are checked by script: Cyrillic is not English; an id alone passes.
        #expect(flags("Drucker", "Принтер") == ["language"])
        #expect(flags("OPS-12", "OPS-12").isEmpty)
    }

    @Test func glossaryFilesAndMatchingRules() throws {
        let scratch = try Scratch()
        let path = scratch.path("g.tsv")
        try "a\tb\n# c\n\nde\tx\ty\nen\tp\tq\n".write(toFile: path, atomically: true, encoding: .utf8)
        let terms = try Glossary.read(path: path, target: "en")
        #expect(terms.map { "\($0.0)>\($0.1)" } == ["a>b", "p>q"])
        try "only-one-column\n".write(toFile: path, atomically: true, encoding: .utf8)
        #expect(throws: GlossaError.self) { try Glossary.read(path: path, target: "en") }
        #expect(Glossary.occurs("API", in: "the api is down"))
        #expect(!Glossary.occurs("API", in: "RAPID growth"))
        #expect(Glossary.occurs("会計", in: "この会計ソフト"))
    }
}
