import Foundation

/// A loaded model with its tokenizer, template and stop tokens.
public final class LanguageModel: @unchecked Sendable {
    public let transformer: Transformer
    public let tokenizer: Tokenizer
    public let template: ChatTemplate
    public let stopTokens: Set<Int>

    public init(transformer: Transformer, tokenizer: Tokenizer, template: ChatTemplate, stopTokens: Set<Int>) {
        self.transformer = transformer
        self.tokenizer = tokenizer
        self.template = template
        self.stopTokens = stopTokens
    }

    /// A GGUF file: weights stay in their block formats; tokenizer and chat template come
    /// from its metadata.
    public convenience init(gguf path: String, options: EngineOptions = EngineOptions()) throws(EngineError) {
        let file = try GGUFFile(path: path)
        let transformer = try Transformer(gguf: file, options: options)
        let tokenizer = try Tokenizer(gguf: file)
        try Self.checkVocabulary(tokenizer, transformer, path: path)
        var stops = Set([151645, 151643].filter { $0 < tokenizer.vocabularySize })
        if let eos = file.metadata["tokenizer.ggml.eos_token_id"]?.int { stops.insert(eos) }
        self.init(transformer: transformer, tokenizer: tokenizer,
                  template: ChatTemplate.detect(jinja: file.metadata["tokenizer.chat_template"]?.string), stopTokens: stops)
    }

    /// Every token the tokenizer can produce must have an embedding row: a larger tokenizer
    /// (a crafted or mismatched file) would make the model read past its embedding matrix.
    private static func checkVocabulary(_ tokenizer: Tokenizer, _ transformer: Transformer, path: String) throws(EngineError) {
        guard tokenizer.vocabularySize <= transformer.config.vocabularySize else {
            throw .invalidFile(path: path, reason: "the tokenizer has \(tokenizer.vocabularySize) tokens, more than the model's "
                               + "\(transformer.config.vocabularySize) embedding rows")
        }
    }

    /// A model directory or a `.gguf` file, run as `options` say.
    public static func load(_ path: String, options: EngineOptions = EngineOptions()) throws(EngineError) -> LanguageModel {
        path.hasSuffix(".gguf") ? try LanguageModel(gguf: path, options: options) : try LanguageModel(directory: path, options: options)
    }

    /// The default model's path: `$GLOSSA_MODELS` or `models/`, as scripts/setup.sh installs it.
    public static func defaultModelPath(environment: [String: String]) -> String {
        (environment["GLOSSA_MODELS"] ?? "models") + "/qwen2.5-coder-0.5b-instruct-q4_k_m.gguf"
    }

    /// A Hugging Face model directory: config.json, safetensors, tokenizer.json (or
    /// vocab.json + merges.txt), tokenizer_config.json, generation_config.json.
    public convenience init(directory: String, options: EngineOptions = EngineOptions()) throws(EngineError) {
        let transformer = try Transformer(directory: directory, options: options)
        let fm = FileManager.default
        let tokenizer: Tokenizer
        let config = (fm.contents(atPath: directory + "/tokenizer_config.json")).flatMap { try? JSONSerialization.jsonObject(with: $0) as? [String: Any] }
        if fm.fileExists(atPath: directory + "/tokenizer.json") {
            tokenizer = try Tokenizer(tokenizerJSON: directory + "/tokenizer.json")
        } else if fm.fileExists(atPath: directory + "/vocab.json"), fm.fileExists(atPath: directory + "/merges.txt") {
            tokenizer = try Tokenizer(vocabJSON: directory + "/vocab.json", mergesTXT: directory + "/merges.txt",
                                      addedTokensDecoder: config?["added_tokens_decoder"] as? [String: [String: Any]] ?? [:])
        } else {
            throw .invalidFile(path: directory, reason: "no tokenizer.json or vocab.json + merges.txt")
        }
        try Self.checkVocabulary(tokenizer, transformer, path: directory)
        let jinja = (config?["chat_template"] as? String)
            ?? fm.contents(atPath: directory + "/chat_template.jinja").map { String(decoding: $0, as: UTF8.self) }
        let template = ChatTemplate.detect(jinja: jinja)
        var stops = Set([151645, 151643].filter { $0 < tokenizer.vocabularySize })
        for name in ["<|im_end|>", "<|endoftext|>"] { if let id = tokenizer.id(of: name) { stops.insert(id) } }
        if let data = fm.contents(atPath: directory + "/generation_config.json"),
           let g = try? JSONSerialization.jsonObject(with: data) as? [String: Any] {
            if let e = g["eos_token_id"] as? Int { stops.insert(e) }
            if let e = g["eos_token_id"] as? [Int] { stops.formUnion(e) }
        }
        self.init(transformer: transformer, tokenizer: tokenizer, template: template, stopTokens: stops)
    }
}
