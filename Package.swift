// swift-tools-version:6.0
import PackageDescription

// Layers, imports pointing down only:
// Runtime (Foundation only: item logs, job runner, progress, atomic files, seeded randomness) sits under everything.
// CKernels (C, runtime CPU dispatch) → Tensors (tensor + tape autodiff) → NeuralNetworks (layers, optimizers)
// → LanguageModels → (Probes) Alignment → Constitutional → Pipelines → Experiments → Quickstart → charter (CLI).
// Reports (results.json, HTML pages, SVG charts) depends on nothing; experiments and the quickstart write through it.
// ModelEvaluation (`charter evaluate`) sits on Constitutional's AI feedback, Pipelines' resumable stages and Reports.
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
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.0.0"),
        // Already in Hummingbird's graph; named so that Endpoints and its tests declare the modules they import.
        .package(url: "https://github.com/apple/swift-nio", from: "2.65.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.5.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.0.0"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.0.0"),
        // SQLite (the system's libsqlite3, WAL mode) for the web apps' stores.
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
    ],
    targets: [
        .target(name: "Runtime", dependencies: ["Settings", "JSON", "Checksums"]),
        .target(name: "CKernels", cSettings: [.define("_GNU_SOURCE")]),
        .target(name: "Tensors", dependencies: ["CKernels", "Runtime"]),
        .target(name: "NeuralNetworks", dependencies: ["Tensors", "CKernels"]),
        // One JSON value type, parser and serializer (order-preserving, exact numbers), shared by every file format.
        .target(name: "JSON"),
        // The language-model layer: tokenizers and checkpoint formats are standalone targets (no tensor dependency).
        .target(name: "Tokenizers", dependencies: ["JSON"]),
        // A Jinja interpreter for Hugging Face chat templates (jinja2 as transformers configures it).
        .target(name: "Templates", dependencies: ["JSON"]),
        .target(name: "SafeTensors", dependencies: ["JSON", "Runtime"]),
        // GGUF (llama.cpp's format): a bounds-checked reader, the tokenizer its metadata describes; tensors are
        // dequantised by CKernels' decoder of ggml's formats (the one the quantized kernels use).
        .target(name: "GGUF", dependencies: ["CKernels", "Runtime", "JSON", "Tokenizers"]),
        // The system zlib (module map in Sources/CZlib) behind the Gzip module's streaming reader and writer.
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"]), .brew(["zlib"])]),
        .target(name: "Gzip", dependencies: ["CZlib", "Runtime"]),
        .target(name: "Checksums"),
        // Settings types whose every key (recipe, config.json, request) is declared once: decoding, encoding, checks.
        .target(name: "Settings"),
        // Alignment layer: TRL-format datasets (standalone so the data readers build and test on their own).
        .target(name: "Datasets", dependencies: ["Gzip", "JSON", "Runtime"]),
        .target(name: "LanguageModels", dependencies: ["NeuralNetworks", "Tensors", "Tokenizers", "Templates", "SafeTensors", "GGUF", "JSON", "Settings", "Runtime"]),
        .target(name: "Alignment", dependencies: ["LanguageModels", "Datasets", "NeuralNetworks", "Tensors", "Tokenizers", "Runtime", "Settings", "Yams", "SafeTensors", "JSON", "Checksums"]),
        // Constitutional AI: constitutions, critique→revision (SL-CAI), AI feedback labels (RLAIF).
        .target(name: "Constitutional", dependencies: ["LanguageModels", "Datasets", "Alignment", "Checksums", "JSON", "Settings", "Runtime", "Yams"]),
        // Declarative pipelines: recipes, cached and resumable stages, and the trainers that run SFT, reward, DPO and PPO stages.
        .target(name: "Pipelines", dependencies: ["Constitutional", "Alignment", "LanguageModels", "Datasets", "Tensors", "Checksums", "JSON", "Runtime", "Settings", "Yams"]),
        // The report toolkit: results.json, self-contained HTML pages and SVG charts (no ML dependencies).
        .target(name: "Reports", dependencies: ["Runtime"]),
        // Experiments with a known ground truth (the reward/KL frontier) and the pieces they share with the quickstart.
        .target(name: "Experiments", dependencies: ["Pipelines", "Reports", "Alignment", "LanguageModels", "SafeTensors", "Tokenizers", "Tensors", "Runtime", "Datasets", "JSON"]),
        // OpenAI-compatible HTTP: a balancing, retrying, caching client (Foundation's URLSession, so the system's
        // TLS serves https:// without building one) and the `charter serve` server (Hummingbird, plain HTTP).
        .target(
            name: "Endpoints",
            dependencies: [
                "LanguageModels", "Tokenizers", "Checksums", "Runtime", "Settings",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
            ]),
        // Activation probes: hidden states of labelled texts, linear probes swept over layers, and the safety circuit
        // that watches a generation (a GenerationMonitor) and stops it.
        .target(name: "Probes", dependencies: ["LanguageModels", "Datasets", "Reports", "SafeTensors", "Tokenizers", "Tensors", "Runtime", "JSON"]),
        // The quickstart's toy assistant world (requests, ground-truth judge, corpora) and its orchestration.
        .target(name: "ToyWorld", dependencies: ["Tensors"]),
        .target(name: "Quickstart", dependencies: ["Constitutional", "Pipelines", "Experiments", "Reports", "LanguageModels", "Tensors", "ToyWorld", "Runtime", "JSON", "Audit", "Alignment", "Datasets", "Probes"]),
        // Scalable oversight with ground truth: weak-to-strong generalisation (a weak supervisor's labels, the
        // auxiliary confidence loss) on toy-world tasks; debate, consultancy and blind judging over hidden passages.
        .target(name: "Oversight", dependencies: ["Experiments", "Alignment", "Datasets", "JSON", "Runtime", "LanguageModels", "Reports", "Tensors", "Tokenizers", "ToyWorld", "Constitutional", "Pipelines", "Probes", "Checksums"]),
        // The audit of preference data (duplicates, contradictions, biases, agreement; cross-fitted reward-model ensembles) and the policy-driven clean.
        .target(name: "Audit", dependencies: ["Datasets", "Constitutional", "Alignment", "LanguageModels", "Reports", "Checksums", "JSON", "Runtime", "Settings", "Yams"]),
        // Model evaluation: pairwise AI-judge win rates (length-controlled), Bradley–Terry ratings, multiple-choice
        // preference accuracy by log-probability and holistic rubrics.
        .target(name: "ModelEvaluation", dependencies: ["Constitutional", "Pipelines", "Reports", "LanguageModels", "Datasets", "Checksums", "JSON", "Runtime", "Settings", "Yams"]),
        // The foundation of Charter's browser apps: an SQLite database (GRDB, WAL), escaped pages, participant tokens,
        // CSRF, body-size and rate limits over Hummingbird.
        .target(
            name: "WebApp",
            dependencies: [
                "Reports", "Checksums",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
            ]),
        // Collective constitutions: statements and votes collected in a browser (or a Polis export), opinion groups
        // (PCA, k-means), group-informed consensus, and the constitution the consensus statements make.
        .target(
            name: "Collective",
            dependencies: [
                "WebApp", "Constitutional", "Reports", "Runtime",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]),
        // Human preference labelling: comparison tasks imported from preference data, invited annotators with
        // k-way overlap and gold questions, agreement statistics (Krippendorff's alpha, Cohen's kappa), TRL export.
        .target(
            name: "Annotation",
            dependencies: [
                "WebApp", "Datasets", "Constitutional", "LanguageModels", "JSON", "Runtime", "Checksums",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]),
        .executableTarget(
            name: "CharterCLI",
            dependencies: [
                "CKernels", "Tensors", "NeuralNetworks", "LanguageModels", "Tokenizers", "SafeTensors", "Gzip", "Alignment", "Constitutional", "Pipelines", "Endpoints", "Settings", "Datasets",
                "ToyWorld", "Experiments", "Quickstart", "Runtime", "JSON", "Audit", "Probes", "ModelEvaluation", "Collective", "Oversight", "Annotation",
                "Reports", .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]),
        .testTarget(name: "RuntimeTests", dependencies: ["Runtime"], exclude: ["Fixtures"]),
        .testTarget(name: "KernelsTests", dependencies: ["CKernels", "Runtime"]),
        .testTarget(name: "SettingsTests", dependencies: ["Settings"]),
        .testTarget(name: "JSONTests", dependencies: ["JSON"]),
        // Tests find their fixtures next to their sources (#filePath), so no resource bundles are needed.
        .testTarget(name: "TensorsTests", dependencies: ["Tensors", "CKernels"], exclude: ["Fixtures"]),
        .testTarget(name: "NeuralNetworksTests", dependencies: ["NeuralNetworks", "Tensors"]),
        .testTarget(name: "TemplatesTests", dependencies: ["Templates", "JSON"], exclude: ["Fixtures"]),
        .testTarget(name: "TokenizersTests", dependencies: ["Tokenizers", "JSON", "Runtime"], exclude: ["Fixtures"]),
        .testTarget(name: "SafeTensorsTests", dependencies: ["SafeTensors", "Runtime"], exclude: ["Fixtures"]),
        .testTarget(name: "GGUFTests", dependencies: ["GGUF", "CKernels", "LanguageModels", "Tokenizers", "Tensors", "JSON", "Runtime"], exclude: ["Fixtures"]),
        .testTarget(name: "GzipTests", dependencies: ["Gzip", "Runtime"], exclude: ["Fixtures"]),
        .testTarget(name: "DatasetsTests", dependencies: ["Datasets", "Gzip", "JSON", "Runtime"], exclude: ["Fixtures"]),
        .testTarget(name: "AlignmentTests", dependencies: ["Alignment", "JSON", "Settings", "Datasets", "LanguageModels", "NeuralNetworks", "Tensors", "Tokenizers", "Runtime"], exclude: ["Fixtures"]),
        .testTarget(name: "CharterCLITests", dependencies: ["CharterCLI", "LanguageModels", "Runtime", "Tensors"]),
        .testTarget(name: "LanguageModelsTests", dependencies: ["LanguageModels", "NeuralNetworks", "SafeTensors", "Tensors", "Tokenizers", "JSON", "Runtime"], exclude: ["Fixtures"]),
        .testTarget(name: "ToyWorldTests", dependencies: ["ToyWorld"]),
        .testTarget(name: "QuickstartTests", dependencies: ["Quickstart", "ToyWorld", "Constitutional", "Pipelines", "Reports", "Tensors", "TestSupport"]),
        // Tiny model folders and call-budget models shared by the Constitutional and Pipelines tests.
        .target(name: "TestSupport", dependencies: ["LanguageModels", "Tensors"], path: "Tests/TestSupport"),
        .testTarget(name: "ConstitutionalTests",
                    dependencies: ["Constitutional", "Pipelines", "TestSupport", "LanguageModels", "Datasets", "Alignment", "Tensors", "Endpoints", "Checksums", "Runtime"],
                    exclude: ["Fixtures"]),
        .testTarget(name: "PipelinesTests", dependencies: ["Pipelines", "Constitutional", "TestSupport", "LanguageModels", "Datasets", "Alignment", "Tensors", "Runtime", "Settings"]),
        .testTarget(name: "ReportsTests", dependencies: ["Reports"]),
        .testTarget(name: "ProbesTests", dependencies: ["Probes", "LanguageModels", "Tensors", "Tokenizers", "TestSupport"]),
        .testTarget(name: "AuditTests", dependencies: ["Audit", "Alignment", "Datasets", "JSON", "LanguageModels", "Tensors", "TestSupport"]),
        .testTarget(name: "ModelEvaluationTests", dependencies: ["ModelEvaluation", "Constitutional", "LanguageModels", "Reports", "Runtime", "TestSupport"]),
        .testTarget(name: "OversightTests", dependencies: ["Oversight", "Alignment", "Experiments", "LanguageModels", "Reports", "Runtime", "Tensors", "ToyWorld"], exclude: ["Fixtures"]),
        .testTarget(name: "ExperimentsTests", dependencies: ["Experiments", "Pipelines", "Reports", "Alignment", "LanguageModels", "Tensors", "Tokenizers", "Datasets"]),
        .testTarget(
            name: "CollectiveTests",
            dependencies: [
                "Collective", "WebApp", "Constitutional", "Reports", "Runtime", "TestSupport",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            exclude: ["Fixtures"]),
        .testTarget(
            name: "AnnotationTests",
            dependencies: [
                "Annotation", "WebApp", "Audit", "Datasets", "JSON", "TestSupport", "Constitutional", "LanguageModels",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            exclude: ["Fixtures"]),
        .testTarget(
            name: "EndpointsTests",
            dependencies: [
                "Endpoints", "LanguageModels", "Checksums", "TestSupport", "Runtime",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]),
    ],
    swiftLanguageModes: [.v5]
)
