import Foundation
import GlossaText
import Testing
@testable import GlossaPipeline

@Suite struct DetectLanguageStepTests {
    /// `$GLOSSA_MODELS/lid.176.ftz` when the variable moves the models folder.
    static var model: String { TestPaths.lidModel }

    @Test func sampleCorpusGetsLanguageAndScript() throws {
        let dir = try Scratch()
        // `glossa detect` as the command runs it: one stage into one file.
        let config = PipelineConfig.singleStage(DetectLanguageOptions(modelPath: Self.model),
                                                inputs: [NormalizeJobTests.corpora.appendingPathComponent("sample-documents.jsonl.zst").path],
                                                output: FileOutput(path: dir.path("detected.jsonl.zst")), metadataField: "meta")
        let report = try PipelineRunner(config: config, threads: 2).run()
        #expect(report.isConserved)
        #expect(report.rejected == 0)
        let records = try readAll(openByteSource(path: dir.path("detected.jsonl.zst"))).split(separator: 0x0A).map {
            try Array($0).withUnsafeBufferPointer { try JSONParser.parse($0) }.value.objectValue!
        }
        #expect(records.count == report.recordsOut)
        var agree = 0
        for record in records {
            let meta = record["meta"]!.objectValue!
            #expect(meta["language"]?.stringValue != nil)
            #expect(meta["script"] != nil)
            #expect(meta["source"] != nil)  // existing metadata is kept
            // The corpus' hints are BCP-47 tags; languages lid.176 separates should agree.
            if let hint = meta["lang_hint"]?.stringValue, let tag = meta["language"]?.stringValue,
               tag == hint || tag.hasPrefix(hint + "-") { agree += 1 }
        }
        #expect(Double(agree) / Double(records.count) > 0.8, "only \(agree) of \(records.count) agree with the hints")
        #expect(report.count("detect-language", "languages", "ja") >= 3)
    }

    @Test func metadataOfAnotherTypeIsRejected() throws {
        let step = DetectLanguageStage(identifier: try LanguageIdentifier(modelPath: Self.model))
        var stats = StageStats()
        var record = JSONObject(["text": .string("Bonjour à tous"), "metadata": .string("oops")])
        #expect(step.process(&record, repairs: 0, stats: &stats)?.reason == "metadata_not_object")
        var ok = JSONObject(["text": .string("Bonjour à tous, comment allez-vous ?")])
        #expect(step.process(&ok, repairs: 0, stats: &stats) == nil)
        #expect(ok["metadata"]?.objectValue?["language"] == .string("fr"))
        #expect(ok["metadata"]?.objectValue?["script"] == .string("Latn"))
    }
}
