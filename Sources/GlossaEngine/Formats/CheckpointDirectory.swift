import Foundation

/// A Hugging Face model directory: config.json plus one or several safetensors files
/// (`model.safetensors`, or shards listed in `model.safetensors.index.json`).
public struct CheckpointDirectory: Sendable {
    public let path: String
    public let config: ModelConfig
    private let files: [String: SafetensorsFile]     // file name -> file
    private let location: [String: String]           // tensor -> file name

    public init(path: String) throws(EngineError) {
        self.path = path
        config = try ModelConfig(huggingFace: path + "/config.json")
        let index = path + "/model.safetensors.index.json"
        var files: [String: SafetensorsFile] = [:]
        var location: [String: String] = [:]
        if FileManager.default.fileExists(atPath: index) {
            guard let data = FileManager.default.contents(atPath: index),
                  let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
                  let map = object["weight_map"] as? [String: String]
            else { throw .invalidFile(path: index, reason: "no weight_map") }
            for file in Set(map.values).sorted() { files[file] = try SafetensorsFile(path: path + "/" + file) }
            for (tensor, file) in map {
                guard files[file]?.tensors[tensor] != nil else { throw .missingTensor(name: tensor, path: path + "/" + file) }
                location[tensor] = file
            }
        } else {
            let file = try SafetensorsFile(path: path + "/model.safetensors")
            files["model.safetensors"] = file
            for name in file.tensors.keys { location[name] = "model.safetensors" }
        }
        self.files = files
        self.location = location
    }

    /// A checkpoint of one safetensors file already opened (built from bytes by tests).
    init(path: String, config: ModelConfig, file: SafetensorsFile) {
        self.path = path
        self.config = config
        files = ["model.safetensors": file]
        location = Dictionary(uniqueKeysWithValues: file.tensors.keys.map { ($0, "model.safetensors") })
    }

    public func contains(_ name: String) -> Bool { location[name] != nil }

    public func floats(_ name: String, shape: [Int]) throws(EngineError) -> [Float] {
        guard let file = location[name].flatMap({ files[$0] }) else { throw .missingTensor(name: name, path: path) }
        return try file.floats(name, shape: shape)
    }
}
