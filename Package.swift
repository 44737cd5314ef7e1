// swift-tools-version:6.0
import PackageDescription

// Layers, imports pointing down only:
// CKernels (C, runtime CPU dispatch) → Tensors (tensor + tape autodiff) → NeuralNetworks (layers, optimizers)
// → LanguageModels → Alignment → Constitutional → charter (CLI).
let package = Package(
    name: "Charter",
    platforms: [.macOS(.v13)],
    products: [
        .library(name: "Tensors", targets: ["Tensors"]),
        .library(name: "NeuralNetworks", targets: ["NeuralNetworks"]),
        .library(name: "LanguageModels", targets: ["LanguageModels"]),
        .executable(name: "charter", targets: ["CharterCLI"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "5.0.0"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.20.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.0.0"),
    ],
    targets: [
        .target(name: "CKernels", cSettings: [.define("_GNU_SOURCE")]),
        .target(name: "Tensors", dependencies: ["CKernels"]),
        .target(name: "NeuralNetworks", dependencies: ["Tensors"]),
        // The language-model layer: tokenizers and checkpoint formats are standalone targets (no tensor dependency).
        .target(name: "Tokenizers"),
        .target(name: "SafeTensors"),
        .target(name: "Gzip"),
        .target(name: "Checksums"),
        // Settings types whose every key (recipe, config.json, request) is declared once: decoding, encoding, checks.
        .target(name: "Settings"),
        // Alignment layer: TRL-format datasets (standalone so the data readers build and test on their own).
        .target(name: "Datasets", dependencies: ["Gzip"]),
        .target(name: "LanguageModels", dependencies: ["NeuralNetworks", "Tensors", "Tokenizers", "SafeTensors", "Settings"]),
        .target(name: "Alignment", dependencies: ["LanguageModels", "Datasets", "NeuralNetworks", "Tensors", "Tokenizers", "Settings", "Yams"]),
        // Constitutional AI: constitutions, critique→revision (SL-CAI), AI feedback labels (RLAIF), pipelines.
        .target(name: "Constitutional", dependencies: ["LanguageModels", "Datasets", "Alignment", "Checksums", "Settings", "Yams"]),
        // OpenAI-compatible HTTP: a balancing, retrying, caching client and the `charter serve` server.
        .target(
            name: "Endpoints",
            dependencies: [
                "LanguageModels", "Checksums",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Hummingbird", package: "hummingbird"),
            ]),
        // The quickstart's toy assistant world (requests, ground-truth judge, corpora) and its orchestration.
        .target(name: "ToyWorld", dependencies: ["Tensors"]),
        .target(name: "Quickstart", dependencies: ["Alignment", "Constitutional", "LanguageModels", "ToyWorld", "Datasets", "Tokenizers", "Tensors"]),
        .executableTarget(
            name: "CharterCLI",
            dependencies: [
                "CKernels", "Tensors", "NeuralNetworks", "LanguageModels", "Tokenizers", "SafeTensors", "Gzip", "Alignment", "Constitutional", "Endpoints", "Settings",
                "ToyWorld", "Quickstart",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]),
        .testTarget(name: "KernelsTests", dependencies: ["CKernels"]),
        .testTarget(name: "SettingsTests", dependencies: ["Settings"]),
        // Tests find their fixtures next to their sources (#filePath), so no resource bundles are needed.
        .testTarget(name: "TensorsTests", dependencies: ["Tensors", "CKernels"], exclude: ["Fixtures"]),
        .testTarget(name: "NeuralNetworksTests", dependencies: ["NeuralNetworks", "Tensors"]),
        .testTarget(name: "TokenizersTests", dependencies: ["Tokenizers"], exclude: ["Fixtures"]),
        .testTarget(name: "SafeTensorsTests", dependencies: ["SafeTensors"], exclude: ["Fixtures"]),
        .testTarget(name: "GzipTests", dependencies: ["Gzip"], exclude: ["Fixtures"]),
        .testTarget(name: "DatasetsTests", dependencies: ["Datasets"], exclude: ["Fixtures"]),
        .testTarget(name: "AlignmentTests", dependencies: ["Alignment", "Settings"], exclude: ["Fixtures"]),
        .testTarget(name: "CharterCLITests", dependencies: ["CharterCLI", "LanguageModels", "Tensors"]),
        .testTarget(name: "LanguageModelsTests", dependencies: ["LanguageModels"], exclude: ["Fixtures"]),
        .testTarget(name: "ToyWorldTests", dependencies: ["ToyWorld"]),
        .testTarget(name: "QuickstartTests", dependencies: ["Quickstart", "ToyWorld", "Constitutional"]),
        .testTarget(name: "ConstitutionalTests", dependencies: ["Constitutional", "LanguageModels", "Datasets", "Alignment", "Tensors", "Endpoints", "Checksums"],
                    exclude: ["Fixtures"]),
        .testTarget(
            name: "EndpointsTests",
            dependencies: [
                "Endpoints", "LanguageModels", "Checksums",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Hummingbird", package: "hummingbird"),
            ]),
    ],
    swiftLanguageModes: [.v5]
)
