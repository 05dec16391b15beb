import GlossaText

/// Turning input lines into records and rejected lines into reject records, shared by the
/// pipeline runner for every job.
enum RecordLines {
    /// A JSONL line as an object (invalid UTF-8 and lone surrogates repaired and counted), or a
    /// text line as `{"id": "NAME:LINE", "text": ...}`.
    static func parse(_ bytes: UnsafeBufferPointer<UInt8>, isText: Bool, name: String, line: Int) -> PipelineRecord {
        if isText {
            let decoded = Normalizer(.formOnly(.none)).normalize(utf8: bytes)
            return PipelineRecord(object: JSONObject(["id": .string("\(name):\(line)"), "text": .string(decoded.text)]),
                                  rejection: nil, repairs: decoded.counts.repairEncoding)
        }
        // A UTF-8 byte-order mark at the start of a file is an editor's mark, not part of the
        // first record: dropped and counted as a repair, as the text reader drops it.
        let bom = line == 1 && bytes.starts(with: [0xEF, 0xBB, 0xBF]) ? 3 : 0
        let json = UnsafeBufferPointer(rebasing: bytes[(bytes.startIndex + bom)...])
        switch Result(catching: { () throws(JSONParser.SyntaxError) in try JSONParser.parse(json) }) {
        case let .failure(error):
            let reason = error.duplicateKey == nil ? Rejection.malformedJSON : Rejection.duplicateKey
            return PipelineRecord(object: JSONObject(), rejection: Rejection(reason, error.description), repairs: 0)
        case let .success((value, repairs)):
            guard case let .object(object) = value else {
                return PipelineRecord(object: JSONObject(), rejection: Rejection(Rejection.notAnObject, "record is \(value.kindName), not an object"), repairs: 0)
            }
            return PipelineRecord(object: object, rejection: nil, repairs: repairs + (bom > 0 ? 1 : 0))
        }
    }

    /// The original line travels with the reason (as hex when it is not UTF-8, as its length when
    /// it was too long to keep), so nothing is lost.
    static func reject(input: String, line: Int, offset: Int, _ rejection: Rejection, raw: [UInt8], tooLong: Int? = nil) -> [UInt8] {
        var object = JSONObject(["input": .string(input), "line": .number(String(line)), "offset": .number(String(offset)),
                                 "reason": .string(rejection.reason), "message": .string(rejection.message)])
        if let tooLong {
            object["length"] = .number(String(tooLong))
        } else if let text = String(validating: raw, as: UTF8.self) {
            object["record"] = .string(text)
        } else {
            object["record_hex"] = .string(raw.map(hexByte).joined())
        }
        var out: [UInt8] = []
        JSONWriter.write(.object(object), into: &out)
        out.append(0x0A)
        return out
    }
}

