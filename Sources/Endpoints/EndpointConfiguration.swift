import Settings

/// Where and how to call OpenAI-compatible servers; read from a recipe's YAML/JSON (snake_case keys).
///
/// ```yaml
/// urls: [http://10.0.0.5:8000/v1, http://10.0.0.6:8000/v1]
/// model: meta-llama/Llama-3.1-70B-Instruct
/// api_key_env: VLLM_API_KEY
/// max_concurrency: 64
/// ```
public struct EndpointConfiguration: KeyedSettings, Equatable, Sendable {
    /// Base URLs, each ending in `/v1` (a missing `/v1` is added); requests go to the least busy one.
    public var urls: [String]
    /// The served model's id (OpenAI's `model` field).
    public var model: String
    /// Name of the environment variable holding the bearer token (never the token itself); nil: no auth.
    public var apiKeyEnv: String?
    /// Requests in flight at once, over all endpoints.
    public var maxConcurrency: Int = 16
    /// Seconds one attempt may take, from sending the request to the last byte of the response.
    public var timeoutS: Double = 120
    /// Retries after the first attempt, on connection errors, timeouts, 429 and 5xx.
    public var maxRetries: Int = 4
    /// Where responses are cached (one file per request); nil: no cache.
    public var cacheDir: String?
    /// First backoff ceiling in seconds; the n-th retry waits uniform(0, min(max, base·2ⁿ)) ("full jitter").
    public var retryBaseDelayS: Double = 0.5
    public var retryMaxDelayS: Double = 30
    /// Seed of the backoff jitter, so that retry timing is reproducible.
    public var retrySeed: UInt64 = 0

    public init(urls: [String], model: String, apiKeyEnv: String? = nil, maxConcurrency: Int = 16,
                timeoutS: Double = 120, maxRetries: Int = 4, cacheDir: String? = nil,
                retryBaseDelayS: Double = 0.5, retryMaxDelayS: Double = 30, retrySeed: UInt64 = 0) {
        self.urls = urls
        self.model = model
        self.apiKeyEnv = apiKeyEnv
        self.maxConcurrency = maxConcurrency
        self.timeoutS = timeoutS
        self.maxRetries = maxRetries
        self.cacheDir = cacheDir
        self.retryBaseDelayS = retryBaseDelayS
        self.retryMaxDelayS = retryMaxDelayS
        self.retrySeed = retrySeed
    }

    public init() { self.init(urls: [], model: "") }

    /// The recipe keys; only `urls` and `model` are required, every other key falls back to its default.
    public static var fields: [SettingsField<Self>] {
        [required("urls", \.urls), required("model", \.model), .init("api_key_env", \.apiKeyEnv, omitsNil: true),
         .init("max_concurrency", \.maxConcurrency), .init("timeout_s", \.timeoutS), .init("max_retries", \.maxRetries),
         .init("cache_dir", \.cacheDir, omitsNil: true), .init("retry_base_delay_s", \.retryBaseDelayS),
         .init("retry_max_delay_s", \.retryMaxDelayS), .init("retry_seed", \.retrySeed)]
    }

    /// A key the configuration cannot do without: absent is an error naming it.
    private static func required<Value: Codable>(_ key: String, _ path: WritableKeyPath<Self, Value>) -> SettingsField<Self> {
        SettingsField(keys: [key], read: { configuration, container in
            configuration[keyPath: path] = try container.decode(Value.self, forKey: SettingsKey(key))
        }, write: { configuration, container in try container.encode(configuration[keyPath: path], forKey: SettingsKey(key)) })
    }

    /// Checks the values a typo would break, before any request is sent.
    /// - Throws: `EndpointError.invalidConfiguration` saying which field is wrong.
    func validate() throws {
        func fail(_ message: String) -> EndpointError { .invalidConfiguration(message) }
        if urls.isEmpty { throw fail("urls is empty: give at least one base URL such as http://127.0.0.1:8000/v1") }
        for url in urls where !(url.hasPrefix("http://") || url.hasPrefix("https://")) {
            throw fail("urls: '\(url)' is not an http:// or https:// URL")
        }
        if model.isEmpty { throw fail("model is empty: give the served model id (see GET /v1/models)") }
        if maxConcurrency < 1 { throw fail("max_concurrency must be at least 1 (got \(maxConcurrency))") }
        if !(timeoutS > 0) { throw fail("timeout_s must be positive (got \(timeoutS))") }
        if maxRetries < 0 { throw fail("max_retries must be 0 or more (got \(maxRetries))") }
        if retryBaseDelayS < 0 || retryMaxDelayS < 0 { throw fail("retry delays must not be negative") }
    }

    /// Base URLs normalised to end in `/v1` without a trailing slash.
    var baseURLs: [String] {
        urls.map { url in
            var base = url
            while base.hasSuffix("/") { base.removeLast() }
            return base.hasSuffix("/v1") ? base : base + "/v1"
        }
    }
}
