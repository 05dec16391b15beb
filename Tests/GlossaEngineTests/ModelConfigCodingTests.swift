import Foundation
import Testing
@testable import GlossaEngine

/// `config.json` through Codable: Hugging Face's keys and defaults, and a clear EngineError
/// (never a trap, never a silent default) for anything unusable.
@Suite struct ModelConfigCodingTests {
    static let qwen3 = """
        {"architectures": ["Qwen3ForCausalLM"], "vocab_size": 512, "hidden_size": 64, "intermediate_size": 128,
         "num_hidden_layers": 2, "num_attention_heads": 4
        """

    static func decode(_ json: String) throws(EngineError) -> ModelConfig {
        try ModelConfig(huggingFaceJSON: Data(json.utf8), path: "m/config.json")
    }

    static func error(_ json: String) -> String? {
        do {
            _ = try decode(json)
            return nil
        } catch {
            return error.description
        }
    }

    @Test func optionalKeysTakeHuggingFaceDefaults() throws {
        let c = try Self.decode(Self.qwen3 + "}")
        #expect(c.architecture == .qwen3 && c.keyValueHeadCount == 4 && c.headDimension == 16 && c.ropeTheta == 10_000)
        #expect(c.rmsNormEpsilon == 1e-6 && !c.tiedEmbeddings && !c.qkvBias && c.qkNorm && c.maxPositions == 32_768)
        #expect(c.expertCount == 0 && c.format == .huggingFace)
        // null is the same as absent (configs write "head_dim": null).
        #expect(try Self.decode(Self.qwen3 + #", "head_dim": null, "num_key_value_heads": null}"#).headDimension == 16)
    }

    @Test func ropeThetaIsAnIntegerOrAFloatAtTheTopOrInRopeParameters() throws {
        #expect(try Self.decode(Self.qwen3 + #", "rope_theta": 1000000}"#).ropeTheta == 1e6)
        #expect(try Self.decode(Self.qwen3 + #", "rope_theta": 500000.0}"#).ropeTheta == 5e5)
        #expect(try Self.decode(Self.qwen3 + #", "rope_parameters": {"rope_theta": 250000, "rope_type": "default"}}"#).ropeTheta == 2.5e5)
        // rope_parameters wins over the top-level key; without rope_theta inside, the top-level one counts.
        #expect(try Self.decode(Self.qwen3 + #", "rope_theta": 7, "rope_parameters": {"rope_theta": 9.5}}"#).ropeTheta == 9.5)
        #expect(try Self.decode(Self.qwen3 + #", "rope_theta": 7, "rope_parameters": {"rope_type": "default"}}"#).ropeTheta == 7)
        #expect(try Self.decode(Self.qwen3 + #", "rope_theta": 7, "rope_parameters": null}"#).ropeTheta == 7)
    }

    @Test func moeKeysAndTheirOtherSpelling() throws {
        let moe = Self.qwen3.replacingOccurrences(of: "Qwen3ForCausalLM", with: "Qwen3MoeForCausalLM")
        let c = try Self.decode(moe + #", "num_local_experts": 8, "num_experts_per_tok": 2, "moe_intermediate_size": 32, "mlp_only_layers": [1]}"#)
        #expect(c.expertCount == 8 && c.expertsPerToken == 2 && c.expertIntermediateSize == 32 && c.denseLayers == [1])
        #expect(c.isMoE(layer: 0) && !c.isMoE(layer: 1) && !c.normalizeTopKProbabilities)
        #expect(try Self.decode(moe + #", "num_experts": 4, "num_local_experts": 8, "num_experts_per_tok": 2, "moe_intermediate_size": 32}"#).expertCount == 4)
        #expect(Self.error(moe + #", "num_experts": 4, "moe_intermediate_size": 32}"#)?.contains("missing key num_experts_per_tok") == true)
    }

    /// `tail` adds a key the base config does not have.
    @Test(arguments: [
        (#", "num_key_value_heads": 2.5}"#, "num_key_value_heads must be an integer"),
        (#", "tie_word_embeddings": "yes"}"#, "tie_word_embeddings must be true or false"),
        (#", "rope_parameters": {"rope_theta": "big"}}"#, "rope_parameters.rope_theta must be a number"),
        (#", "rope_theta": -1}"#, "rope_theta is -1.0; it must be a positive number"),
        (#", "max_position_embeddings": 100000000000000000000000}"#, "max_position_embeddings must be an integer"),
        (#", "rms_norm_eps": 1e300}"#, "rms_norm_eps is inf"),
        (#", "num_key_value_heads": 3}"#, "is not a multiple of"),
        (#", "head_dim": 15}"#, "head_dim is 15; it must be even"),
    ])
    func wrongValuesAreErrorsNamingTheKey(_ tail: String, _ message: String) {
        let text = Self.error(Self.qwen3 + tail)
        #expect(text?.hasPrefix("m/config.json: ") == true, "\(text ?? "no error")")
        #expect(text?.contains(message) == true, "\(text ?? "no error")")
    }

    @Test func aKeyOfTheWrongTypeIsNamed() {
        let text = Self.error(Self.qwen3.replacingOccurrences(of: #""hidden_size": 64"#, with: #""hidden_size": "64""#) + "}")
        #expect(text == "m/config.json: hidden_size must be an integer", "\(text ?? "no error")")
        let moe = Self.qwen3.replacingOccurrences(of: "Qwen3ForCausalLM", with: "Qwen3MoeForCausalLM")
        let layers = Self.error(moe + #", "num_experts": 4, "num_experts_per_tok": 2, "moe_intermediate_size": 32, "mlp_only_layers": "none"}"#)
        #expect(layers == "m/config.json: mlp_only_layers must be a list", "\(layers ?? "no error")")
    }

    @Test func missingOrNonsenseKeysAreErrors() {
        #expect(Self.error("{}")?.contains("missing key architectures") == true)
        #expect(Self.error(#"{"architectures": []}"#)?.contains("architectures is empty") == true)
        #expect(Self.error(Self.qwen3.replacingOccurrences(of: #""vocab_size": 512, "#, with: "") + "}")?.contains("missing key vocab_size") == true)
        #expect(Self.error(Self.qwen3.replacingOccurrences(of: #""num_attention_heads": 4"#, with: #""num_attention_heads": 0"#) + "}")?
            .contains("num_attention_heads is 0") == true)
        #expect(Self.error("not json") == "m/config.json: not valid JSON")
        #expect(Self.error("[1, 2]") != nil)
        #expect(throws: EngineError.unsupportedArchitecture("LlamaForCausalLM")) {
            try Self.decode(Self.qwen3.replacingOccurrences(of: "Qwen3ForCausalLM", with: "LlamaForCausalLM") + "}")
        }
    }

    /// Encoding writes Hugging Face's keys; decoding them gives the same config back.
    @Test func encodingRoundTrips() throws {
        for name in ["qwen3", "qwen3moe", "qwen2"] {
            let config = try ModelConfig(huggingFace: Fixtures.tiny.appendingPathComponent("\(name)/config.json").path)
            let data = try JSONEncoder().encode(config)
            let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
            #expect(object["num_hidden_layers"] as? Int == config.layerCount && object["architectures"] as? [String] == [config.architecture.rawValue])
            #expect(try ModelConfig(huggingFaceJSON: data, path: name) == config, "\(name)")
        }
    }

    /// The GGUF initializer marks its configs, which decides the default cache type: f16 for
    /// GGUF, f32 for Hugging Face checkpoints; EngineOptions overrides it.
    @Test func theCacheTypeIsAnEngineOption() throws {
        let gguf = try Transformer(gguf: GGUFFile(path: Fixtures.tiny.appendingPathComponent("qwen3.gguf").path))
        #expect(gguf.config.format == .gguf && gguf.kvCache == .f16 && gguf.makeCache(capacity: 4).precision == .f16)
        #expect(KVCache(config: gguf.config, capacity: 4).precision == .f16)
        let hf = try Transformer(directory: Fixtures.tiny.appendingPathComponent("qwen3").path)
        #expect(hf.kvCache == .f32 && hf.makeCache(capacity: 4).precision == .f32)
        let forced = try Transformer(gguf: GGUFFile(path: Fixtures.tiny.appendingPathComponent("qwen3.gguf").path),
                                     options: EngineOptions(kvCache: .f32))
        #expect(forced.kvCache == .f32 && forced.makeCache(capacity: 4).precision == .f32)
        #expect(forced.config == gguf.config)
    }
}
