// swift-tools-version:6.1
import PackageDescription

// Data flows one way: GlossaText -> GlossaIO -> GlossaEngine -> GlossaPipeline -> glossa (CLI).
// System libraries sit underneath as .systemLibrary targets. ICU is only ever seen by the
// CICUShim C target: Swift Foundation on Linux carries its own ICU whose C types clash with
// the system headers, so Swift code talks to ICU through plain stdint signatures.
let package = Package(
    name: "Glossa",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "glossa", targets: ["glossa"]),
        .library(name: "GlossaText", targets: ["GlossaText"]),
        .library(name: "GlossaIO", targets: ["GlossaIO"]),
        .library(name: "GlossaEngine", targets: ["GlossaEngine"]),
        .library(name: "GlossaPipeline", targets: ["GlossaPipeline"]),
        .library(name: "GlossaServer", targets: ["GlossaServer"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        // Hummingbird and the HTTP client run on SwiftNIO; the server uses its channels directly.
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        // SHA-256 of shards, fingerprints and model files.
        .package(url: "https://github.com/apple/swift-crypto", from: "4.5.2"),
    ],
    targets: [
        .systemLibrary(name: "CICU", pkgConfig: "icu-i18n", providers: [.apt(["libicu-dev"])]),
        .systemLibrary(name: "COpenBLAS", pkgConfig: "openblas", providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CZstd", pkgConfig: "libzstd", providers: [.apt(["libzstd-dev"])]),
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        .target(
            name: "CICUShim",
            dependencies: ["CICU"],
            linkerSettings: [
                // Foundation's ICU first: five C++ symbols exist in both, and Foundation's
                // own case mapping must bind to its own copy.
                .linkedLibrary("_FoundationICU"),
                .linkedLibrary("icui18n"), .linkedLibrary("icuuc"), .linkedLibrary("icudata"),
            ]
        ),
        .target(name: "GlossaText", dependencies: ["CICUShim"]),
        // JSON (ordered objects, strict parsing), byte sources and sinks (files, zstd, atomic
        // publication), zip reading and SHA-256: shared by the engine, the pipeline and the server.
        .target(name: "GlossaIO", dependencies: ["GlossaText", "CZstd", "CZlib", .product(name: "Crypto", package: "swift-crypto")]),
        // Quantized kernels in C: per-ISA clones (AVX-512, AVX2, baseline) chosen at load time.
        .target(name: "CGlossaKernels", cSettings: [.unsafeFlags(["-O3", "-ffp-contract=off"])]),
        .target(name: "GlossaEngine", dependencies: ["GlossaText", "GlossaIO", "COpenBLAS", "CGlossaKernels"]),
        .target(name: "GlossaPipeline", dependencies: [
            "GlossaText", "GlossaIO", "GlossaEngine", .product(name: "Yams", package: "Yams"),
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
        ]),
        // The OpenAI-compatible HTTP front of the engine (`glossa serve`).
        .target(name: "GlossaServer", dependencies: [
            "GlossaIO", "GlossaEngine", .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "NIOCore", package: "swift-nio"),
        ]),
        .executableTarget(
            name: "glossa",
            dependencies: [
                "GlossaText", "GlossaIO", "GlossaEngine", "GlossaPipeline", "GlossaServer",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ]
        ),
        // Helpers the test targets share (not part of any product).
        .target(name: "GlossaTestSupport", path: "Tests/GlossaTestSupport"),
        // Fixtures are read from the source tree by path (#filePath), not bundled.
        .testTarget(name: "GlossaTextTests", dependencies: ["GlossaText", "GlossaTestSupport"], exclude: ["Fixtures"]),
        .testTarget(name: "GlossaEngineTests", dependencies: ["GlossaEngine", "GlossaIO", "CGlossaKernels", "GlossaTestSupport"], exclude: ["Fixtures"]),
        .testTarget(name: "GlossaPipelineTests", dependencies: ["GlossaPipeline", "GlossaEngine", "GlossaIO"]),
        // Starts the built `glossa serve` as a separate process and talks to it over loopback.
        .testTarget(name: "GlossaServerTests", dependencies: [
            "GlossaServer", "GlossaPipeline", "GlossaEngine", "GlossaIO", .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOHTTP1", package: "swift-nio"),
        ]),
    ]
)
